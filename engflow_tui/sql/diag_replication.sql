-- diag_replication: connected standbys (pg_stat_replication) with their replay lag in seconds
-- and bytes (bytes only on a primary). PostgreSQL 13-18.
SELECT application_name AS standby,
       host(client_addr) AS client_addr,
       state,
       sync_state,
       extract(epoch FROM replay_lag)::float8 AS replay_lag_s,
       CASE WHEN pg_is_in_recovery() THEN NULL
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::int8 END AS lag_bytes
  FROM pg_stat_replication
 ORDER BY 1
