-- diag_fk_triggers_disabled: tables where a foreign key's internal triggers are disabled
-- (ALTER TABLE ... DISABLE TRIGGER ALL): the key is not enforced for new rows. PostgreSQL 13-18.
SELECT n.nspname AS schema,
       c.relname AS "table",
       array_agg(DISTINCT con.conname::text ORDER BY con.conname::text) AS constraints,
       count(*)::int AS triggers
  FROM pg_trigger t
  JOIN pg_constraint con ON con.oid = t.tgconstraint AND con.contype = 'f'
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE t.tgenabled = 'D'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 GROUP BY 1, 2
 ORDER BY 1, 2
