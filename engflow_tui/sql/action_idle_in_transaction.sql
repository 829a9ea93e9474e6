-- action_idle_in_transaction: client sessions idle in transaction (or aborted) for longer than
-- $1 seconds, oldest first, never one of this console's own backends (the pid/backend_start
-- pairs $2, $3: own_sessions — never recognised by a name a client can set). PostgreSQL 13-18.
SELECT a.pid,
       a.usename AS "user",
       a.application_name AS application,
       host(a.client_addr) AS client_addr,
       a.state,
       a.backend_start,
       extract(epoch FROM now() - a.state_change)::float8 AS age_seconds,
       left(a.query, 2000) AS query,
       coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = a.usesysid), false) AS superuser
  FROM pg_stat_activity a
 WHERE a.backend_type = 'client backend'
   AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
   AND a.state_change < now() - make_interval(secs => $1)
   AND a.pid <> pg_backend_pid()
   AND NOT EXISTS (SELECT 1 FROM unnest($2::int[], $3::timestamptz[]) AS own(pid, started)
                    WHERE own.pid = a.pid AND own.started = a.backend_start)
 ORDER BY a.state_change
