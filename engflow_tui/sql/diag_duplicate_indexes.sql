-- diag_duplicate_indexes: sets of indexes of one table with the same columns, operator classes,
-- collations, options, expressions and predicate (one of each set is enough). PostgreSQL 13-18.
SELECT n.nspname AS schema,
       t.relname AS "table",
       array_agg(ic.relname::text ORDER BY (con.oid IS NULL), ic.relname) AS indexes,
       array_agg((con.oid IS NOT NULL) ORDER BY (con.oid IS NULL), ic.relname) AS backs_constraint,
       sum(pg_relation_size(i.indexrelid))::int8 AS size_bytes
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
 GROUP BY n.nspname, t.relname, i.indrelid, i.indkey::text, i.indclass::text,
          i.indcollation::text, i.indoption::text, i.indisunique,
          coalesce(pg_get_expr(i.indexprs, i.indrelid), ''),
          coalesce(pg_get_expr(i.indpred, i.indrelid), '')
HAVING count(*) > 1
 ORDER BY 1, 2
