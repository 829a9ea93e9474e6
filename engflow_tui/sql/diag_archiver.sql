-- diag_archiver: WAL archiving: archive_mode, counts and the ages of the last archived and the
-- last failed WAL (pg_stat_archiver). PostgreSQL 13-18.
SELECT current_setting('archive_mode') AS archive_mode,
       archived_count::int8 AS archived_count,
       failed_count::int8 AS failed_count,
       last_archived_wal,
       last_failed_wal,
       extract(epoch FROM now() - last_archived_time)::float8 AS last_archived_age_s,
       extract(epoch FROM now() - last_failed_time)::float8 AS last_failed_age_s
  FROM pg_stat_archiver
