-- diag_always_true_policies: permissive policies in the schemas $1 (text[]) whose USING or WITH
-- CHECK is literally true for a command that writes (ALL, INSERT, UPDATE, DELETE): anyone the
-- policy names may change every row. PostgreSQL 13-18.
SELECT schemaname AS schema,
       tablename AS "table",
       policyname AS policy,
       cmd,
       roles::text[] AS roles,
       qual,
       with_check
  FROM pg_policies
 WHERE schemaname = ANY($1::text[])
   AND permissive = 'PERMISSIVE'
   AND cmd <> 'SELECT'
   AND (lower(qual) = 'true' OR lower(with_check) = 'true')
 ORDER BY 1, 2, 3
