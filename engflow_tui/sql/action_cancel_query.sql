-- action_cancel_query: cancel the running statement of pid $1 only if it is still the confirmed
-- session (same backend_start $2) running the confirmed statement (same query_start $3), and a
-- client backend that is not one of this console's own (the pid/backend_start pairs $4, $5:
-- own_sessions, never a name a client can set): a statement started since is never cancelled,
-- and a session that runs nothing (idle: its last statement has ended) is not signalled.
SELECT CASE WHEN a.state = 'active' THEN pg_cancel_backend(a.pid) ELSE false END AS signalled,
       a.state
  FROM pg_stat_activity a
 WHERE a.pid = $1
   AND a.backend_start = $2
   AND a.query_start IS NOT DISTINCT FROM $3
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND NOT EXISTS (SELECT 1 FROM unnest($4::int[], $5::timestamptz[]) AS own(pid, started)
                    WHERE own.pid = a.pid AND own.started = a.backend_start)
