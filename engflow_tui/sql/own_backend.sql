-- own_backend: this connection's backend_start (with its pid, what the console knows as its
-- own session: own_sessions). One row; pg_stat_get_activity(pid) reads only that backend.
-- PostgreSQL 13-18.
SELECT backend_start FROM pg_stat_get_activity(pg_backend_pid())
