-- diag_orphan_sample: up to $1 child keys (as JSON arrays) that violate one foreign key; the same
-- template as diag_orphan_count plus {columns}, the child's key columns as c."col".
SELECT DISTINCT json_build_array({columns})::text AS sample
  FROM {child} AS c
 WHERE ({not_null} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {join}))
    OR {partial}
 LIMIT $1
