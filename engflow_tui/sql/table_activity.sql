-- table_activity: cumulative inserted / updated / deleted rows of the tables in the schemas
-- $1 (text[]), for the Feature Usage baselines. PostgreSQL 13-18. The three statistics
-- functions directly: the pg_stat_user_tables view computes some twenty per table (half the cost).
SELECT n.nspname AS schema,
       c.relname AS "table",
       pg_stat_get_tuples_inserted(c.oid) AS inserted,
       pg_stat_get_tuples_updated(c.oid) AS updated,
       pg_stat_get_tuples_deleted(c.oid) AS deleted
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm')
   AND n.nspname = ANY($1::text[])
