-- statement_totals_legacy: as statement_totals, for pg_stat_statements before 1.8 (total_time,
-- not total_exec_time).
SELECT queryid,
       sum(calls)::int8 AS calls,
       sum(total_time)::float8 AS total_ms
  FROM {pgss}.pg_stat_statements(false)
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND queryid IS NOT NULL
 GROUP BY queryid
 ORDER BY total_ms DESC
 LIMIT $1
