-- diag_replication_slots: every replication slot, whether a consumer is attached, its WAL status
-- and the WAL it keeps the server from recycling. PostgreSQL 13-18.
SELECT slot_name AS slot,
       slot_type AS type,
       database,
       active,
       wal_status,
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()
                            ELSE pg_current_wal_lsn() END,
                       restart_lsn)::int8 AS retained_bytes
  FROM pg_replication_slots
 ORDER BY 1
