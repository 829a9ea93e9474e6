-- slow_queries: statements of this database (summed over users) whose mean execution time
-- exceeds $1 ms, slowest first, at most $2; no query text (it is fetched by queryid and cached);
-- plus one row with queryid NULL counting entries this role may not see.
-- pg_stat_statements 1.8+ (PostgreSQL 13-18). {pgss} is the extension's quoted schema.
WITH s AS MATERIALIZED (
    SELECT queryid, calls, total_exec_time AS total_ms, rows
      FROM {pgss}.pg_stat_statements(false)
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
), slow AS (
    SELECT queryid,
           sum(calls)::int8 AS calls,
           (sum(total_ms) / nullif(sum(calls), 0))::float8 AS mean_ms,
           sum(total_ms)::float8 AS total_ms,
           sum(rows)::int8 AS rows
      FROM s
     -- A queryid's mean over users exceeds $1 only if one of its entries' does: a float
     -- comparison keeps the (numeric) sums to those few, not to every entry (half the cost).
     WHERE queryid IN (SELECT queryid FROM s WHERE total_ms > $1::float8 * calls)
     GROUP BY queryid
    HAVING sum(total_ms) / nullif(sum(calls), 0) > $1
     ORDER BY mean_ms DESC
     LIMIT $2
)
SELECT queryid, calls, mean_ms, total_ms, rows FROM slow
UNION ALL
-- Without pg_read_all_stats other roles' entries have queryid NULL: one row counts them.
SELECT NULL, count(*)::int8, NULL, NULL, NULL FROM s WHERE queryid IS NULL HAVING count(*) > 0
