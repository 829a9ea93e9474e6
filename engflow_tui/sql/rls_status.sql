-- rls_status: every ordinary or partitioned table in the schemas $1 (text[]) with its RLS flags,
-- policy count and owner; tables without RLS first. PostgreSQL 13-18.
SELECT n.nspname AS schema,
       c.relname AS "table",
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int AS policy_count,
       pg_get_userbyid(c.relowner) AS owner
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname = ANY($1::text[])
 ORDER BY c.relrowsecurity, n.nspname, c.relname
