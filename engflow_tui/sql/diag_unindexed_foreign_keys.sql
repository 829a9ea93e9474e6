-- diag_unindexed_foreign_keys: foreign keys whose columns are not the leading columns of any
-- index of the child table: every DELETE/UPDATE of a parent row scans the child. PostgreSQL 13-18.
SELECT n.nspname AS schema,
       c.relname AS "table",
       con.conname AS constraint_name,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.ord) AS columns,
       greatest(c.reltuples, 0)::float8 AS rows_estimate
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE con.contype = 'f'
   AND con.conparentid = 0
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND NOT EXISTS (
       SELECT 1
         FROM pg_index i
        WHERE i.indrelid = con.conrelid
          AND i.indpred IS NULL
          AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)] @> con.conkey
          AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(con.conkey)] <@ con.conkey)
 ORDER BY 1, 2, 3
