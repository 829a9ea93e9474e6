-- action_session: the session $1 with its details, if it is a client backend that is not one
-- of this console's own (the pid/backend_start pairs $2, $3: own_sessions) — the target of
-- Terminate session / Cancel query, read when the dialog opens and again while it is open.
SELECT a.pid,
       a.usename AS "user",
       a.application_name AS application,
       host(a.client_addr) AS client_addr,
       a.state,
       a.backend_start,
       a.state_change,
       a.query_start,
       extract(epoch FROM now() - a.state_change)::float8 AS age_seconds,
       left(a.query, 2000) AS query,
       coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = a.usesysid), false) AS superuser
  FROM pg_stat_activity a
 WHERE a.pid = $1
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND NOT EXISTS (SELECT 1 FROM unnest($2::int[], $3::timestamptz[]) AS own(pid, started)
                    WHERE own.pid = a.pid AND own.started = a.backend_start)
