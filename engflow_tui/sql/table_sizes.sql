-- table_sizes: total size in bytes (heap + indexes + TOAST) of the largest user tables, at most $1,
-- for the history's growth trends. PostgreSQL 13-18.
SELECT n.nspname AS schema,
       c.relname AS "table",
       pg_total_relation_size(c.oid)::int8 AS size_bytes
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
   AND n.nspname NOT LIKE 'pg\_temp%'
 ORDER BY size_bytes DESC
 LIMIT $1
