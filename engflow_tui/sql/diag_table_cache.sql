-- diag_table_cache: buffer-cache hit rate of each table's heap (pg_statio_user_tables), the
-- tables with the most block reads first; only tables with at least $1 block accesses.
-- PostgreSQL 13-18.
SELECT schemaname AS schema,
       relname AS "table",
       heap_blks_hit::int8 AS hits,
       heap_blks_read::int8 AS reads,
       round(100.0 * heap_blks_hit / nullif(heap_blks_hit + heap_blks_read, 0), 1)::float8 AS hit_pct
  FROM pg_statio_user_tables
 WHERE heap_blks_hit + heap_blks_read >= $1
 ORDER BY heap_blks_read DESC
 LIMIT 20
