-- diag_foreign_keys: every foreign key outside the system schemas, validated or NOT VALID, with
-- child and parent columns in key order and the child's row estimate. PostgreSQL 13-18. A FK of a
-- partitioned table is listed once (on the partitioned table), not once per partition.
SELECT con.conname AS constraint_name,
       cn.nspname AS child_schema,
       cc.relname AS child_table,
       pn.nspname AS parent_schema,
       pc.relname AS parent_table,
       con.convalidated AS validated,
       con.confmatchtype = 'f' AS match_full,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
              ORDER BY k.n) AS child_columns,
       ARRAY(SELECT a.attname::text
               FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
              ORDER BY k.n) AS parent_columns,
       greatest(cc.reltuples, 0)::float8 AS child_rows
  FROM pg_constraint con
  JOIN pg_class cc ON cc.oid = con.conrelid
  JOIN pg_namespace cn ON cn.oid = cc.relnamespace
  JOIN pg_class pc ON pc.oid = con.confrelid
  JOIN pg_namespace pn ON pn.oid = pc.relnamespace
 WHERE con.contype = 'f'
   AND con.conparentid = 0
   AND cn.nspname NOT IN ('pg_catalog', 'information_schema')
   AND cn.nspname NOT LIKE 'pg\_toast%'
 ORDER BY cn.nspname, cc.relname, con.conname
