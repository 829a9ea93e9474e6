-- diag_unused_indexes: indexes never scanned since the statistics were reset that back no
-- constraint (not unique, not a primary key), largest first, with when the stats were reset.
-- PostgreSQL 13-18.
SELECT s.schemaname AS schema,
       s.relname AS "table",
       s.indexrelname AS index,
       pg_relation_size(s.indexrelid)::int8 AS size_bytes,
       (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset
  FROM pg_stat_user_indexes s
  JOIN pg_index i ON i.indexrelid = s.indexrelid
 WHERE s.idx_scan = 0
   AND NOT i.indisunique
   AND NOT i.indisprimary
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
 ORDER BY size_bytes DESC, 1, 2, 3
 LIMIT 200
