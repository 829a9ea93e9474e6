-- pgss_extension: schema and version of pg_stat_statements in this database (0 rows: not
-- installed). Whether the library is loaded is learnt from the function's own error (55000):
-- reading shared_preload_libraries needs pg_read_all_settings.
SELECT n.nspname AS schema,
       e.extversion AS version
  FROM pg_extension e
  JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_stat_statements'
