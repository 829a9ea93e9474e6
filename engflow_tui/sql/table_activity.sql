-- table_activity: cumulative inserted / updated / deleted rows of the tables in the schemas
-- $1 (text[]), for the Feature Usage baselines. PostgreSQL 13-18.
SELECT schemaname AS schema,
       relname AS "table",
       n_tup_ins::int8 AS inserted,
       n_tup_upd::int8 AS updated,
       n_tup_del::int8 AS deleted
  FROM pg_stat_user_tables
 WHERE schemaname = ANY($1::text[])
