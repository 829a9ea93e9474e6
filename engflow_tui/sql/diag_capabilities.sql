-- diag_capabilities: what the connected role is and may see: superuser, membership of the
-- monitoring roles, pg_stat_statements (schema, version) and track_io_timing. PostgreSQL 13-18.
SELECT current_user AS role,
       r.rolsuper AS superuser,
       pg_has_role(current_user, 'pg_monitor', 'USAGE') AS pg_monitor,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS pg_read_all_stats,
       pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS pg_signal_backend,
       (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'pg_stat_statements') AS pgss_schema,
       (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements') AS pgss_version,
       current_setting('track_io_timing') AS track_io_timing,
       current_database() AS database
  FROM pg_roles r
 WHERE r.rolname = current_user
