-- authority_claim: a watcher takes the alerting lock (engflow_tui/authority.py) for its
-- session, without waiting: true when it holds it now (already held by it: true again, and
-- the lock is counted twice, released with the connection all the same). PostgreSQL 13-18.
SELECT pg_try_advisory_lock($1::int8)
