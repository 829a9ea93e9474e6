-- diag_not_valid_constraints: foreign-key and check constraints created NOT VALID and never
-- validated (existing rows were not checked). PostgreSQL 13-18.
SELECT n.nspname AS schema,
       c.relname AS "table",
       con.conname AS constraint_name,
       CASE con.contype WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' ELSE con.contype::text END AS kind
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT con.convalidated
   AND con.contype IN ('f', 'c')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY 1, 2, 3
