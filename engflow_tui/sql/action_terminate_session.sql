-- action_terminate_session: terminate pid $1 only if it is still the confirmed session (same
-- backend_start $2: a pid reused by a new session is left alone), a client backend, and not
-- one of this console's own backends (the pid/backend_start pairs $3, $4: own_sessions).
-- Whatever the session does meanwhile (a runaway session runs statement after statement), it
-- is the one the operator confirmed: the dialog showed what it was doing up to the confirm.
SELECT pg_terminate_backend(a.pid) AS signalled
  FROM pg_stat_activity a
 WHERE a.pid = $1
   AND a.backend_start = $2
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND NOT EXISTS (SELECT 1 FROM unnest($3::int[], $4::timestamptz[]) AS own(pid, started)
                    WHERE own.pid = a.pid AND own.started = a.backend_start)
