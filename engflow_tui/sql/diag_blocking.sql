-- diag_blocking: sessions that wait for a lock another session holds and the sessions they wait
-- for, each with the pids blocking it (pg_blocking_pids). Only sessions waiting on a lock are
-- asked (pg_blocking_pids is not free), plus those whose wait this role cannot see (needs
-- pg_read_all_stats). PostgreSQL 13-18.
WITH w AS (
    SELECT a.pid, pg_blocking_pids(a.pid) AS blocked_by
      FROM pg_stat_activity a
     WHERE a.pid <> pg_backend_pid()
       AND (a.wait_event_type = 'Lock' OR (a.backend_type IS NULL AND a.datid IS NOT NULL))
)
SELECT a.pid,
       coalesce(w.blocked_by, '{}'::int[]) AS blocked_by,
       a.usename AS "user",
       a.application_name AS application,
       host(a.client_addr) AS client_addr,
       a.state,
       a.backend_start,
       extract(epoch FROM now() - a.state_change)::float8 AS state_seconds,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_seconds,
       CASE WHEN a.wait_event IS NULL THEN NULL
            ELSE a.wait_event_type || ':' || a.wait_event END AS wait_event,
       left(a.query, 500) AS query
  FROM pg_stat_activity a
  LEFT JOIN w ON w.pid = a.pid
 WHERE cardinality(w.blocked_by) > 0
    OR a.pid IN (SELECT unnest(blocked_by) FROM w)
 ORDER BY a.pid
