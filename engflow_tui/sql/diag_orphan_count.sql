-- diag_orphan_count: how many rows of one child table reference a parent row that does not exist
-- (MATCH SIMPLE: a row with a NULL key column references nothing). A template: {child}, {parent}
-- are quoted qualified names, {not_null} and {join} are built from quoted column names by
-- engflow_tui.diagnostics.integrity. Bounded by the caller's statement_timeout.
SELECT count(*)::int8 AS orphans
  FROM {child} AS c
 WHERE {not_null}
   AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {join})
