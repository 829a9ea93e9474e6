-- diag_vacuum: every user table's live/dead tuples, changes since the last analyze and the age of
-- its last (auto)vacuum and (auto)analyze (NULL: never). PostgreSQL 13-18.
SELECT schemaname AS schema,
       relname AS "table",
       n_live_tup::int8 AS live,
       n_dead_tup::int8 AS dead,
       n_mod_since_analyze::int8 AS modified,
       extract(epoch FROM now() - greatest(last_vacuum, last_autovacuum))::float8 AS vacuum_age_s,
       extract(epoch FROM now() - greatest(last_analyze, last_autoanalyze))::float8 AS analyze_age_s
  FROM pg_stat_user_tables
 ORDER BY n_dead_tup DESC, 1, 2
