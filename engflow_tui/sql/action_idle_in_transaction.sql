-- action_idle_in_transaction: client sessions idle in transaction (or aborted) for longer than
-- $1 seconds, oldest first, never this console's own sessions. PostgreSQL 13-18.
SELECT a.pid,
       a.usename AS "user",
       a.application_name AS application,
       host(a.client_addr) AS client_addr,
       a.state,
       a.backend_start,
       extract(epoch FROM now() - a.state_change)::float8 AS age_seconds,
       left(a.query, 2000) AS query
  FROM pg_stat_activity a
 WHERE a.backend_type = 'client backend'
   AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
   AND a.state_change < now() - make_interval(secs => $1)
   AND a.pid <> pg_backend_pid()
   AND a.application_name NOT LIKE 'engflow-tui%'
 ORDER BY a.state_change
