-- action_terminate_idle: terminate pid $1 only if it is still the confirmed session (same
-- backend_start $2), a client backend, idle in transaction for longer than $3 seconds, and not
-- one of this console's own backends (the pid/backend_start pairs $4, $5: own_sessions).
-- 0 rows: gone or changed since the confirmation (left alone).
SELECT pg_terminate_backend(a.pid) AS signalled
  FROM pg_stat_activity a
 WHERE a.pid = $1
   AND a.backend_start = $2
   AND a.backend_type = 'client backend'
   AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
   AND a.state_change < now() - make_interval(secs => $3)
   AND a.pid <> pg_backend_pid()
   AND NOT EXISTS (SELECT 1 FROM unnest($4::int[], $5::timestamptz[]) AS own(pid, started)
                    WHERE own.pid = a.pid AND own.started = a.backend_start)
