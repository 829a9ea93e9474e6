-- diag_orphan_reset: back to the connection's own settings after the orphan counts.
RESET statement_timeout; RESET lock_timeout; RESET row_security;
