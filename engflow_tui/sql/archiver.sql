-- archiver: WAL archiving figures (Daily Backup alert); 0 rows when archive_mode is off.
SELECT archived_count::int8 AS archived_count,
       failed_count::int8 AS failed_count,
       last_failed_wal,
       extract(epoch FROM now() - last_archived_time)::float8 AS last_archived_age_s,
       extract(epoch FROM now() - last_failed_time)::float8 AS last_failed_age_s
  FROM pg_stat_archiver
 WHERE current_setting('archive_mode') <> 'off'
