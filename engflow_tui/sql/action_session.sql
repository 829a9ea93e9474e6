-- action_session: the session $1 with its details, if it is a client backend that is not this
-- console's (the target of Terminate session / Cancel query).
SELECT a.pid,
       a.usename AS "user",
       a.application_name AS application,
       host(a.client_addr) AS client_addr,
       a.state,
       a.backend_start,
       a.state_change,
       a.query_start,
       extract(epoch FROM now() - a.state_change)::float8 AS age_seconds,
       left(a.query, 2000) AS query
  FROM pg_stat_activity a
 WHERE a.pid = $1
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND a.application_name NOT LIKE 'engflow-tui%'
