-- activity: one row; client-backend counts by state (all databases, this console excluded),
-- max_connections, the oldest idle-in-transaction age, how many sessions are idle in
-- transaction for longer than $3 seconds (with the pids of the five oldest) and how many
-- statements run for longer than $4 seconds — whole-server figures, never cut by the list's
-- filter or cap —, up to $1 sessions worst first among those whose text contains $2 (both
-- folded by the server's lower(); NULL: all), this database's counters, and a catalogue change
-- counter (PostgreSQL 15+). PostgreSQL 13-18.
-- Without pg_read_all_stats, other roles' sessions show backend_type NULL: those attached to a
-- database are counted as 'hidden'.
-- Cost (benchmark: 230 sessions, this runs every refresh): the counts compute nothing per row;
-- user names, addresses and ages are computed only for the sessions listed; they come back as
-- an array of binary records (json_agg looked every column's type up again for every row);
-- pg_get_userbyid() replaces the view's join to pg_authid; date_part() gives float8 where
-- extract() would go through numeric. 2.1 -> ~1.0 ms per call at 230 sessions.
WITH act AS MATERIALIZED (
    SELECT a.pid, a.usesysid, a.application_name, a.client_addr, a.backend_start,
           a.state_change, a.xact_start, a.query_start, a.wait_event_type, a.wait_event, a.query,
           coalesce(a.state, CASE WHEN a.backend_type IS NULL THEN 'hidden' END) AS state
      FROM pg_stat_activity a
     WHERE (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.datid IS NOT NULL))
       AND a.pid <> pg_backend_pid()
), counts AS MATERIALIZED (
    SELECT state, count(*) AS n, min(state_change) AS oldest_change FROM act GROUP BY state
), matching AS NOT MATERIALIZED (
    SELECT * FROM act
     WHERE $2::text IS NULL
        OR strpos(lower(concat_ws(' ', pid, pg_get_userbyid(usesysid), application_name,
                                  coalesce(host(client_addr), 'local'), state,
                                  wait_event_type || ':' || wait_event, query)), lower($2::text)) > 0
), listed AS (
    SELECT m.*,
           CASE m.state
                WHEN 'idle in transaction (aborted)' THEN 0
                WHEN 'idle in transaction' THEN 1
                WHEN 'active' THEN 2
                WHEN 'idle' THEN 4
                ELSE 3 END AS priority
      FROM matching m
     ORDER BY priority, m.state_change NULLS LAST
     LIMIT $1
)
SELECT (SELECT coalesce(sum(n), 0) FROM counts)::int AS total,
       (SELECT coalesce(sum(n), 0) FROM counts WHERE state = 'hidden')::int AS hidden,
       (SELECT count(*) FROM matching)::int AS matched,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved,
       (SELECT coalesce(json_object_agg(coalesce(state, 'unknown'), n), '{}'::json)::text
          FROM counts) AS by_state,
       (SELECT date_part('epoch', now() - min(oldest_change)) FROM counts
         WHERE state LIKE 'idle in transaction%') AS oldest_idle_in_transaction,
       (SELECT count(*) FROM act
         WHERE state LIKE 'idle in transaction%'
           AND state_change < now() - make_interval(secs => $3::float8))::int
         AS idle_in_transaction_over,
       (SELECT array_agg(pid ORDER BY state_change)
          FROM (SELECT pid, state_change FROM act
                 WHERE state LIKE 'idle in transaction%'
                   AND state_change < now() - make_interval(secs => $3::float8)
                 ORDER BY state_change LIMIT 5) oldest) AS idle_in_transaction_pids,
       (SELECT count(*) FROM act
         WHERE state = 'active' AND query_start < now() - make_interval(secs => $4::float8))::int
         AS long_running,
       -- One record per session, in this order: pid, user, application, client_addr, state,
       -- backend_start, state / transaction / query age (s), wait_event, query.
       (SELECT array_agg(ROW(l.pid,
                             pg_get_userbyid(l.usesysid)::text,
                             l.application_name,
                             host(l.client_addr),
                             l.state,
                             l.backend_start,
                             date_part('epoch', now() - l.state_change),
                             date_part('epoch', now() - l.xact_start),
                             date_part('epoch', now() - l.query_start),
                             CASE WHEN l.wait_event IS NULL THEN NULL
                                  ELSE l.wait_event_type || ':' || l.wait_event END,
                             left(l.query, 2000))
                         ORDER BY l.priority, l.state_change NULLS LAST)
          FROM listed l) AS sessions,
       d.blks_hit, d.blks_read, d.xact_commit, d.xact_rollback,
       date_part('epoch', now() - pg_postmaster_start_time()) AS uptime_seconds,
       current_database() AS database,
       current_setting('server_version') AS server_version,
       -- Rows written to the catalogues the RLS panel reads (tables, policies, schemas, roles):
       -- when it moves, DDL happened and the RLS scan runs at once. From the shared-memory
       -- statistics of PostgreSQL 15+; before 15 reading them loads a statistics file, so NULL.
       CASE WHEN current_setting('server_version_num')::int >= 150000 THEN
            (SELECT sum(pg_stat_get_tuples_inserted(t) + pg_stat_get_tuples_updated(t)
                        + pg_stat_get_tuples_deleted(t))::int8
               FROM unnest(ARRAY['pg_catalog.pg_class'::regclass, 'pg_catalog.pg_policy'::regclass,
                                 'pg_catalog.pg_namespace'::regclass,
                                 'pg_catalog.pg_authid'::regclass]::oid[]) t)
       END AS catalog_changes
  FROM pg_stat_database d
 WHERE d.datname = current_database()
