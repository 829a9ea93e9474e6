-- diag_orphan_settings: the session settings the orphan counts run under: $1 statement_timeout
-- (ms), $2 lock_timeout (ms), and row_security off, so that RLS policies hiding rows from this
-- role raise an error instead of producing a false "no orphans". Undone by diag_orphan_reset.
SELECT set_config('statement_timeout', $1, false),
       set_config('lock_timeout', $2, false),
       set_config('row_security', 'off', false)
