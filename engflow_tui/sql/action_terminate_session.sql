-- action_terminate_session: terminate pid $1 only if it is still the confirmed session (same
-- backend_start $2) and a client backend that is not this console's. 0 rows: gone or reused.
SELECT pg_terminate_backend(a.pid) AS signalled
  FROM pg_stat_activity a
 WHERE a.pid = $1
   AND a.backend_start = $2
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND a.application_name NOT LIKE 'engflow-tui%'
