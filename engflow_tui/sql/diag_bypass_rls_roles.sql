-- diag_bypass_rls_roles: roles that can log in and ignore row-level security (superuser or
-- BYPASSRLS), except the bootstrap superuser (oid 10) every cluster has. PostgreSQL 13-18.
SELECT rolname AS role,
       rolsuper AS superuser,
       rolbypassrls AS bypassrls
  FROM pg_roles
 WHERE rolcanlogin
   AND (rolsuper OR rolbypassrls)
   AND oid <> 10
 ORDER BY rolname
