-- diag_orphan_access: what this role may read of each table the orphan counts would read, from the
-- catalogue alone, so a count that the server would refuse (and log as an ERROR) is never sent.
-- $1: a JSON array of {"schema", "table", "columns"}. Per table: found, schema_usage, the columns
-- it does not have (no_column) or may not SELECT (no_select), and rls_hides: row-level security on and the role neither superuser,
-- BYPASSRLS, nor a member of the owner's role on a table that does not FORCE it (with row_security
-- off such a count fails). PostgreSQL 13-18.
SELECT t.schema,
       t."table",
       c.oid IS NOT NULL AS found,
       n.oid IS NOT NULL AND has_schema_privilege(n.oid, 'USAGE') AS schema_usage,
       ARRAY(SELECT col
               FROM unnest(t.columns) AS col
              WHERE NOT EXISTS (SELECT 1
                                  FROM pg_attribute a
                                 WHERE a.attrelid = c.oid AND a.attname = col
                                   AND a.attnum > 0 AND NOT a.attisdropped)
              ORDER BY col) AS no_column,
       ARRAY(SELECT a.attname::text
               FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attname = ANY (t.columns)
                AND a.attnum > 0 AND NOT a.attisdropped
                AND NOT has_column_privilege(c.oid, a.attnum, 'SELECT')
              ORDER BY a.attname) AS no_select,
       coalesce(c.relrowsecurity, false)
         AND NOT (r.rolsuper
                  OR r.rolbypassrls
                  OR (NOT c.relforcerowsecurity
                      AND pg_has_role(current_user, c.relowner, 'USAGE'))) AS rls_hides,
       coalesce(c.relforcerowsecurity, false) AS rls_forced
  FROM jsonb_to_recordset($1::jsonb) AS t(schema text, "table" text, columns text[])
  JOIN pg_roles r ON r.rolname = current_user
  LEFT JOIN pg_namespace n ON n.nspname = t.schema
  LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t."table"
