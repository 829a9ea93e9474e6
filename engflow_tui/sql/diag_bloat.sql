-- diag_bloat: an estimate of each table's wasted space: its size against the pages its live rows
-- need (row estimate x (average width from pg_stats + tuple header), fillfactor). Tables of at
-- least $1 pages; tables whose statistics this role cannot read have no estimate. PostgreSQL 13-18.
WITH w AS (
    SELECT schemaname, tablename, sum(avg_width)::float8 AS width
      FROM pg_stats
     GROUP BY 1, 2
)
SELECT n.nspname AS schema,
       c.relname AS "table",
       c.relpages::int8 * current_setting('block_size')::int8 AS size_bytes,
       c.reltuples::float8 AS rows_estimate,
       w.width,
       CASE WHEN w.width IS NULL OR c.reltuples < 0 THEN NULL
            ELSE greatest(c.relpages::float8 - ceil(c.reltuples * (w.width + 28)
                   / ((current_setting('block_size')::float8 - 24)
                      * coalesce((SELECT split_part(o, '=', 2)::float8
                                    FROM unnest(c.reloptions) AS o
                                   WHERE o LIKE 'fillfactor=%'), 100) / 100.0)), 0)
                 * current_setting('block_size')::int8
       END::int8 AS bloat_bytes
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN w ON w.schemaname = n.nspname AND w.tablename = c.relname
 WHERE c.relkind IN ('r', 'm')
   AND c.relpages >= $1
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_toast%'
 ORDER BY bloat_bytes DESC NULLS LAST
 LIMIT 50
