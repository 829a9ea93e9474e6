-- EngFlow-like demo schema: Supabase-style roles and auth schema, RLS with policies on most
-- tables, one exposed table without RLS, and a NOT VALID foreign key hiding orphan rows.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN CREATE ROLE service_role NOLOGIN BYPASSRLS; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'engflow_api') THEN CREATE ROLE engflow_api LOGIN IN ROLE authenticated; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'engflow_reports') THEN CREATE ROLE engflow_reports LOGIN BYPASSRLS IN ROLE service_role; END IF;  -- BYPASSRLS is not inherited
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ops_monitor') THEN CREATE ROLE ops_monitor LOGIN IN ROLE pg_monitor; END IF;
END $$;

CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE auth.users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz
);
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;

CREATE TABLE public.clientes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nome text NOT NULL,
    cnpj text,
    owner_id uuid REFERENCES auth.users (id),
    criado_em timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.projetos (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cliente_id bigint NOT NULL REFERENCES public.clientes (id),
    nome text NOT NULL,
    status text NOT NULL DEFAULT 'ativo',
    owner_id uuid REFERENCES auth.users (id),
    criado_em timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.orcamentos (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    projeto_id bigint NOT NULL REFERENCES public.projetos (id),
    descricao text NOT NULL,
    valor numeric(14, 2) NOT NULL,
    aprovado boolean NOT NULL DEFAULT false,
    atualizado_em timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.itens_orcamento (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    orcamento_id bigint NOT NULL REFERENCES public.orcamentos (id),
    material text NOT NULL,
    quantidade numeric(12, 3) NOT NULL,
    preco_unitario numeric(12, 2) NOT NULL
);
CREATE TABLE public.anexos (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    projeto_id bigint NOT NULL,
    arquivo text NOT NULL,
    tamanho_bytes bigint NOT NULL,
    enviado_em timestamptz NOT NULL DEFAULT now()
);
-- The table someone forgot: exposed through the REST API, no RLS.
CREATE TABLE public.orcamentos_historico (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    orcamento_id bigint NOT NULL,
    valor_anterior numeric(14, 2),
    alterado_em timestamptz NOT NULL DEFAULT now()
);

INSERT INTO auth.users (id, email, last_sign_in_at)
SELECT md5('user' || g)::uuid, 'user' || g || '@engflow.example', now() - (g % 72) * interval '1 hour'
  FROM generate_series(1, 300) g;
INSERT INTO public.clientes (nome, cnpj, owner_id)
SELECT 'Cliente ' || g, lpad((g * 7919)::text, 14, '0'), md5('user' || (g % 300 + 1))::uuid
  FROM generate_series(1, 200) g;
INSERT INTO public.projetos (cliente_id, nome, status, owner_id)
SELECT g % 200 + 1, 'Projeto ' || g, (ARRAY['ativo', 'pausado', 'concluido'])[g % 3 + 1],
       md5('user' || (g % 300 + 1))::uuid
  FROM generate_series(1, 1000) g;
INSERT INTO public.orcamentos (projeto_id, descricao, valor, aprovado)
SELECT g % 1000 + 1, 'Orçamento ' || g, round((random() * 100000)::numeric, 2), g % 4 = 0
  FROM generate_series(1, 5000) g;
INSERT INTO public.itens_orcamento (orcamento_id, material, quantidade, preco_unitario)
SELECT g % 5000 + 1, (ARRAY['cimento', 'aço', 'areia', 'brita', 'madeira'])[g % 5 + 1],
       round((random() * 100)::numeric, 3), round((random() * 500)::numeric, 2)
  FROM generate_series(1, 20000) g;
-- Attachments, 25 of them pointing at projects that were deleted long ago (orphans).
INSERT INTO public.anexos (projeto_id, arquivo, tamanho_bytes)
SELECT CASE WHEN g <= 25 THEN 100000 + g ELSE g % 1000 + 1 END,
       'planta-' || g || '.pdf', 10000 + g * 37
  FROM generate_series(1, 3000) g;
ALTER TABLE public.anexos
    ADD CONSTRAINT anexos_projeto_id_fkey FOREIGN KEY (projeto_id) REFERENCES public.projetos (id) NOT VALID;
INSERT INTO public.orcamentos_historico (orcamento_id, valor_anterior)
SELECT g % 5000 + 1, round((random() * 100000)::numeric, 2) FROM generate_series(1, 2000) g;

ALTER TABLE public.clientes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.projetos ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.orcamentos ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.itens_orcamento ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.anexos ENABLE ROW LEVEL SECURITY;

CREATE POLICY clientes_owner ON public.clientes FOR ALL TO authenticated
    USING (owner_id = auth.uid()) WITH CHECK (owner_id = auth.uid());
CREATE POLICY projetos_owner ON public.projetos FOR ALL TO authenticated
    USING (owner_id = auth.uid()) WITH CHECK (owner_id = auth.uid());
CREATE POLICY orcamentos_via_projeto ON public.orcamentos FOR ALL TO authenticated
    USING (EXISTS (SELECT 1 FROM public.projetos p WHERE p.id = projeto_id AND p.owner_id = auth.uid()));
CREATE POLICY itens_via_orcamento ON public.itens_orcamento FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM public.orcamentos o WHERE o.id = orcamento_id));
CREATE POLICY anexos_via_projeto ON public.anexos FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM public.projetos p WHERE p.id = projeto_id AND p.owner_id = auth.uid()));
-- The workload's API user reads everything it is allowed to (it plays the PostgREST role).
CREATE POLICY api_all_clientes ON public.clientes FOR ALL TO engflow_api USING (true) WITH CHECK (true);
CREATE POLICY api_all_projetos ON public.projetos FOR ALL TO engflow_api USING (true) WITH CHECK (true);
CREATE POLICY api_all_orcamentos ON public.orcamentos FOR ALL TO engflow_api USING (true) WITH CHECK (true);
CREATE POLICY api_all_itens ON public.itens_orcamento FOR ALL TO engflow_api USING (true) WITH CHECK (true);
CREATE POLICY api_all_anexos ON public.anexos FOR ALL TO engflow_api USING (true) WITH CHECK (true);

GRANT USAGE ON SCHEMA public, auth TO anon, authenticated, service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO authenticated, service_role;
GRANT SELECT ON auth.users TO service_role;
-- The console counts active users (last sign-in within 24 h): least privilege, one column.
GRANT USAGE ON SCHEMA auth TO ops_monitor;
GRANT SELECT (last_sign_in_at) ON auth.users TO ops_monitor;
ANALYZE;
