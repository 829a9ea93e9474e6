-- pgss_extension: schema and version of pg_stat_statements in this database (0 rows: not installed),
-- and whether the library is preloaded.
SELECT n.nspname AS schema,
       e.extversion AS version,
       current_setting('shared_preload_libraries') AS preload
  FROM pg_extension e
  JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_stat_statements'
