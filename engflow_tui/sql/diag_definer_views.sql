-- diag_definer_views: views in the schemas $1 (text[]) that run with their owner's rights (no
-- security_invoker, PostgreSQL 15+; every view before 15): they bypass the caller's RLS.
-- Views that belong to an extension are left out. PostgreSQL 13-18.
SELECT n.nspname AS schema,
       c.relname AS view,
       pg_get_userbyid(c.relowner) AS owner
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'v'
   AND n.nspname = ANY($1::text[])
   AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(c.reloptions, '{}'::text[])) AS o(opt)
                    WHERE lower(o.opt) IN ('security_invoker=true', 'security_invoker=on',
                                           'security_invoker=1', 'security_invoker=yes'))
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2
