-- slow_queries: statements of this database (summed over users) whose mean execution time
-- exceeds $1 ms, slowest first, at most $2; no query text (it is fetched by queryid and cached).
-- pg_stat_statements 1.8+ (PostgreSQL 13-18). {pgss} is the extension's quoted schema.
SELECT s.queryid,
       sum(s.calls)::int8 AS calls,
       (sum(s.total_exec_time) / nullif(sum(s.calls), 0))::float8 AS mean_ms,
       sum(s.total_exec_time)::float8 AS total_ms,
       sum(s.rows)::int8 AS rows
  FROM {pgss}.pg_stat_statements(false) s
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 GROUP BY s.queryid
HAVING sum(s.total_exec_time) / nullif(sum(s.calls), 0) > $1
 ORDER BY mean_ms DESC
 LIMIT $2
