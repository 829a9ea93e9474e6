-- diag_table_estimates: every user table with its row estimate (pg_class.reltuples; -1 when
-- never analyzed), for comparing a test restore with the live database. PostgreSQL 13-18.
SELECT n.nspname AS schema,
       c.relname AS "table",
       c.reltuples::float8 AS rows_estimate
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
 ORDER BY 1, 2
