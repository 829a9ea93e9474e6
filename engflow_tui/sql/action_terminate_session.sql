-- action_terminate_session: terminate pid $1 only if it is still the confirmed session (same
-- backend_start $2), a client backend that is not this console's, and its state has not changed
-- since the confirmation (state_change $3): a session that committed and moved on is left alone.
SELECT pg_terminate_backend(a.pid) AS signalled
  FROM pg_stat_activity a
 WHERE a.pid = $1
   AND a.backend_start = $2
   AND a.state_change IS NOT DISTINCT FROM $3
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND a.application_name NOT LIKE 'engflow-tui%'
