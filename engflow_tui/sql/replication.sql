-- replication: replay lag in seconds. On a standby, this server's (one row, 'self'): 0 while
-- it streams and has replayed all it received; else (replay behind, or no WAL receiver
-- streaming: the primary may have moved on without it) the age of the last replayed
-- transaction, NULL when none was replayed yet. On a primary, each connected standby's
-- (pg_stat_replication; NULL for a role without pg_read_all_stats or before the first reply).
-- No row: no replication. PostgreSQL 13-18.
SELECT 'self'::text AS name,
       CASE WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
                 AND pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
            THEN 0
            ELSE date_part('epoch', now() - pg_last_xact_replay_timestamp()) END AS lag_seconds
 WHERE pg_is_in_recovery()
UNION ALL
SELECT coalesce(application_name, '')::text, date_part('epoch', replay_lag)
  FROM pg_stat_replication
 WHERE NOT pg_is_in_recovery()
