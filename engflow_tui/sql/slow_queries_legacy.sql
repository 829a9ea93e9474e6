-- slow_queries_legacy: as slow_queries, for pg_stat_statements before 1.8 (total_time, not
-- total_exec_time), left behind by an upgrade without ALTER EXTENSION ... UPDATE.
SELECT s.queryid,
       sum(s.calls)::int8 AS calls,
       (sum(s.total_time) / nullif(sum(s.calls), 0))::float8 AS mean_ms,
       sum(s.total_time)::float8 AS total_ms,
       sum(s.rows)::int8 AS rows
  FROM {pgss}.pg_stat_statements(false) s
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 GROUP BY s.queryid
HAVING sum(s.total_time) / nullif(sum(s.calls), 0) > $1
 ORDER BY mean_ms DESC
 LIMIT $2
