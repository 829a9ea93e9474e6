-- authority_end_ghost: a watcher ends a session of its own process (same application_name,
-- with its pid; the same role) that the server still keeps after a network break and that
-- still holds the alerting lock. $1 = that backend's pid. True when it was signalled.
-- PostgreSQL 13-18.
SELECT pg_terminate_backend($1::int)
