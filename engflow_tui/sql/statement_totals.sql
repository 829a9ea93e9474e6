-- statement_totals: the $1 statements of this database with the most total execution time, their
-- cumulative calls and time summed over users (the history's "statements that got slower").
-- pg_stat_statements 1.8+ (PostgreSQL 13-18). {pgss} is the extension's quoted schema.
SELECT queryid,
       sum(calls)::int8 AS calls,
       sum(total_exec_time)::float8 AS total_ms
  FROM {pgss}.pg_stat_statements(false)
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND queryid IS NOT NULL
 GROUP BY queryid
 ORDER BY total_ms DESC
 LIMIT $1
