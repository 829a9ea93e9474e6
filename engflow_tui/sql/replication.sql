-- replication: replay lag in seconds. On a standby, this server's (one row, 'self': 0 when it
-- has replayed all it received, else the age of the last replayed transaction); on a primary,
-- each connected standby's (pg_stat_replication; NULL for a role without pg_read_all_stats or
-- before the first reply). No row: no replication. PostgreSQL 13-18.
SELECT 'self'::text AS name,
       CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE date_part('epoch', now() - pg_last_xact_replay_timestamp()) END AS lag_seconds
 WHERE pg_is_in_recovery()
UNION ALL
SELECT coalesce(application_name, '')::text, date_part('epoch', replay_lag)
  FROM pg_stat_replication
 WHERE NOT pg_is_in_recovery()
