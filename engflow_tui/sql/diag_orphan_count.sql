-- diag_orphan_count: how many rows of one child table violate one foreign key: a reference to a
-- parent row that does not exist (a row with a NULL key column references nothing), and for MATCH
-- FULL keys a key that is partly NULL. A template: {child}, {parent} are quoted qualified names,
-- {not_null}, {join} and {partial} are built from quoted column names by
-- engflow_tui.diagnostics.integrity. Bounded by the caller's statement_timeout.
SELECT count(*)::int8 AS orphans
  FROM {child} AS c
 WHERE ({not_null} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {join}))
    OR {partial}
