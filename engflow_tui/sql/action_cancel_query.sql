-- action_cancel_query: cancel the running statement of pid $1 only if it is still the confirmed
-- session (same backend_start $2) running the confirmed statement (same query_start $3), and a
-- client backend that is not this console's: a statement started since is never cancelled.
SELECT pg_cancel_backend(a.pid) AS signalled
  FROM pg_stat_activity a
 WHERE a.pid = $1
   AND a.backend_start = $2
   AND a.query_start IS NOT DISTINCT FROM $3
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND a.application_name NOT LIKE 'engflow-tui%'
