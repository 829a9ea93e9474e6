-- diag_count_rows: the exact row count of one table ({table}: a quoted qualified name), used on
-- the scratch server of a test restore only.
SELECT count(*)::int8 AS n FROM {table}
