-- activity: one row; client-backend counts by state (all databases, this console excluded),
-- max_connections, the oldest idle-in-transaction age, up to $1 sessions as JSON (worst first),
-- and this database's counters. PostgreSQL 13-18. Without pg_read_all_stats, other roles'
-- sessions show backend_type NULL: those attached to a database are counted as 'hidden'.
WITH act AS (
    SELECT a.pid,
           a.usename AS "user",
           a.application_name AS application,
           host(a.client_addr) AS client_addr,
           coalesce(a.state, CASE WHEN a.backend_type IS NULL THEN 'hidden' END) AS state,
           a.backend_start,
           extract(epoch FROM now() - a.state_change)::float8 AS state_age_seconds,
           extract(epoch FROM now() - a.xact_start)::float8 AS xact_age_seconds,
           extract(epoch FROM now() - a.query_start)::float8 AS query_age_seconds,
           CASE WHEN a.wait_event IS NULL THEN NULL
                ELSE a.wait_event_type || ':' || a.wait_event END AS wait_event,
           left(a.query, 2000) AS query,
           CASE a.state
                WHEN 'idle in transaction (aborted)' THEN 0
                WHEN 'idle in transaction' THEN 1
                WHEN 'active' THEN 2
                WHEN 'idle' THEN 4
                ELSE 3 END AS priority
      FROM pg_stat_activity a
     WHERE (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.datid IS NOT NULL))
       AND a.pid <> pg_backend_pid()
)
SELECT (SELECT count(*) FROM act)::int AS total,
       (SELECT count(*) FROM act WHERE state = 'hidden')::int AS hidden,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved,
       (SELECT coalesce(json_object_agg(s.state, s.n), '{}'::json)::text
          FROM (SELECT coalesce(state, 'unknown') AS state, count(*) AS n
                  FROM act GROUP BY 1) s) AS by_state,
       (SELECT max(state_age_seconds) FROM act
         WHERE state LIKE 'idle in transaction%') AS oldest_idle_in_transaction,
       (SELECT coalesce(json_agg(x ORDER BY x.priority, x.state_age_seconds DESC NULLS LAST),
                        '[]'::json)::text
          FROM (SELECT * FROM act
                 ORDER BY priority, state_age_seconds DESC NULLS LAST
                 LIMIT $1) x) AS sessions,
       d.blks_hit, d.blks_read, d.xact_commit, d.xact_rollback,
       extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_seconds,
       current_database() AS database,
       current_setting('server_version') AS server_version
  FROM pg_stat_database d
 WHERE d.datname = current_database()
