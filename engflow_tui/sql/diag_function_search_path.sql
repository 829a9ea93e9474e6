-- diag_function_search_path: functions and procedures in the schemas $1 (text[]) without a fixed
-- search_path (SET search_path): a caller's search_path can redirect what they call. Extension
-- members are left out. PostgreSQL 13-18.
SELECT n.nspname AS schema,
       p.proname AS function,
       pg_get_function_identity_arguments(p.oid) AS arguments,
       p.prosecdef AS security_definer
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = ANY($1::text[])
   AND p.prokind IN ('f', 'p')
   AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, '{}'::text[])) AS s(setting)
                    WHERE s.setting LIKE 'search_path=%')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
 ORDER BY 1, 2, 3
