-- action_lock_holders: the sessions holding a lock on table $1.$2 (what a lock_timeout waited
-- for), longest-held first: pid, user, application, state, backend_start, how long their
-- transaction has been open, the lock mode, and whether the role is a superuser (who may end
-- it). PostgreSQL 13-18.
SELECT a.pid,
       a.usename AS "user",
       a.application_name AS application,
       a.state,
       a.backend_start,
       extract(epoch FROM now() - coalesce(a.xact_start, a.state_change))::float8 AS held_seconds,
       string_agg(DISTINCT l.mode, ', ') AS modes,
       coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = a.usesysid), false) AS superuser
  FROM pg_locks l
  JOIN pg_class c ON c.oid = l.relation
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE n.nspname = $1 AND c.relname = $2
   AND l.granted
   AND l.pid <> pg_backend_pid()
 GROUP BY a.pid, a.usename, a.application_name, a.state, a.backend_start, a.xact_start,
          a.state_change, a.usesysid
 ORDER BY held_seconds DESC NULLS LAST
 LIMIT 5
