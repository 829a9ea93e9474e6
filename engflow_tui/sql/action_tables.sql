-- action_tables: ordinary and partitioned tables of the schemas $1 (text[]), for the ANALYZE picker.
SELECT n.nspname AS schema, c.relname AS "table"
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
 ORDER BY 1, 2
