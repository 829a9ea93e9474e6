-- authority: who holds the alerting lock (engflow_tui/authority.py: an advisory lock, key $1 =
-- classid, $2 = objid) on this database, if anyone: its pid, whether it is this connection,
-- its application_name, connection start, address and role, and whether that role may be
-- trusted with it (a superuser or a member of pg_monitor: any session can take an advisory
-- lock and name itself a watcher). pg_stat_get_activity(pid) reads the one backend, not all.
-- PostgreSQL 13-18.
SELECT l.pid,
       l.pid = pg_backend_pid() AS mine,
       a.application_name,
       a.backend_start,
       host(a.client_addr) AS client_addr,
       r.rolname::text AS role,
       coalesce(r.rolsuper OR pg_has_role(r.oid, 'pg_monitor', 'MEMBER'), false) AS trusted
  FROM pg_locks l
  LEFT JOIN LATERAL pg_stat_get_activity(l.pid) a ON true
  LEFT JOIN pg_roles r ON r.oid = a.usesysid
 WHERE l.locktype = 'advisory'
   AND l.granted
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.classid = $1::oid
   AND l.objid = $2::oid
   AND l.objsubid = 1
 LIMIT 1
