-- diag_client_addresses: client sessions by address, user and application (unix-socket sessions
-- have no address), plus how many sessions of other roles this role may not inspect.
-- PostgreSQL 13-18.
SELECT host(a.client_addr) AS address,
       a.usename AS "user",
       a.application_name AS application,
       count(*)::int AS sessions,
       min(a.pid) AS pid
  FROM pg_stat_activity a
 WHERE a.backend_type = 'client backend'
   AND a.client_addr IS NOT NULL
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3
