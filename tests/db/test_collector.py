"""The collector against a real server, on every PostgreSQL version available here."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import Config, ConsoleConfig, TargetConfig, Thresholds
from engflow_tui.model import ConnectionStats, DbState, RlsStatus, SlowQueries, Unavailable
from engflow_tui.monitor import Monitor

from ..pg import session


def make_collector(dsn: str, **console: object) -> PostgresCollector:
    target = TargetConfig(name="t", dsn=dsn, exposed_schemas=("public", "api"))
    config = Config(
        console=ConsoleConfig(**console),
        targets={"t": target},
        thresholds=Thresholds(idle_in_transaction=0.3),
    )  # type: ignore[arg-type]
    return PostgresCollector(target, config, light_first_cycle=False)


async def test_sessions_by_state_and_idle_in_transaction(db) -> None:
    collector = make_collector(db.dsn())
    async with session(db.dsn(), "stuck-client") as stuck, session(db.dsn(), "idle-client"):
        await stuck.execute("BEGIN; SELECT 1")
        stuck_pid = await stuck.fetchval("SELECT pg_backend_pid()")
        await asyncio.sleep(0.4)
        snap = await collector.collect()
        await collector.close()
    assert snap.health.state is DbState.CONNECTED
    conns = snap.connections
    assert isinstance(conns, ConnectionStats)
    mine = [s for s in conns.sessions if s.application in ("stuck-client", "idle-client")]
    assert {s.application for s in mine} == {"stuck-client", "idle-client"}
    stuck_row = next(s for s in conns.sessions if s.pid == stuck_pid)
    assert stuck_row.state == "idle in transaction"
    assert stuck_row.state_age_seconds is not None and stuck_row.state_age_seconds >= 0.3
    assert conns.by_state.get("idle in transaction", 0) >= 1
    assert conns.oldest_idle_in_transaction_seconds is not None
    assert conns.oldest_idle_in_transaction_seconds >= 0.3
    # Worst first: the idle-in-transaction session heads the list.
    assert conns.sessions[0].state.startswith("idle in transaction")
    assert conns.max_connections == 100


async def test_console_excludes_its_own_backend(db) -> None:
    collector = make_collector(db.dsn())
    snap = await collector.collect()
    own_pid = await collector._conn.fetchval("SELECT pg_backend_pid()")
    await collector.close()
    assert isinstance(snap.connections, ConnectionStats)
    assert own_pid not in {s.pid for s in snap.connections.sessions}
    assert all(s.application != "engflow-tui" for s in snap.connections.sessions)


async def test_monitoring_session_is_read_only_and_bounded(db) -> None:
    collector = make_collector(db.dsn(), refresh_interval=2.0)
    await collector.collect()
    conn = collector._conn
    assert await conn.fetchval("SHOW default_transaction_read_only") == "on"
    assert await conn.fetchval("SHOW statement_timeout") == "1500ms"
    assert await conn.fetchval("SHOW application_name") == "engflow-tui"
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await conn.execute("CREATE TABLE should_fail (id int)")
    await collector.close()


async def test_session_list_is_capped_but_counts_are_complete(db) -> None:
    collector = make_collector(db.dsn(), max_sessions=2)
    async with session(db.dsn()), session(db.dsn()), session(db.dsn()), session(db.dsn()):
        snap = await collector.collect()
    await collector.close()
    conns = snap.connections
    assert isinstance(conns, ConnectionStats)
    assert len(conns.sessions) == 2
    assert conns.total >= 4
    assert conns.sessions_truncated == conns.total - 2


async def test_session_filter_runs_on_the_server_so_it_finds_sessions_past_the_cap(db) -> None:
    collector = make_collector(db.dsn(), max_sessions=2)
    async with (
        session(db.dsn(), "busy-1") as busy,
        session(db.dsn(), "busy-2"),
        session(db.dsn(), "busy-3"),
        session(db.dsn(), "Needle_App 100%"),
        session(db.dsn(), "accents") as accents,
    ):
        await accents.execute("SELECT 'ORÇAMENTOS pendentes'")  # its last query, shown while idle
        await busy.execute("BEGIN; SELECT 1")  # worst first: it is listed, the needle is not
        snap = await collector.collect()
        conns = snap.connections
        assert isinstance(conns, ConnectionStats)
        assert "Needle_App 100%" not in {s.application for s in conns.sessions}
        # Case-insensitive; "%" and "_" are plain characters, not patterns.
        collector.set_session_filter("needle_app 100%")
        snap = await collector.collect()
        filtered = snap.connections
        assert isinstance(filtered, ConnectionStats)
        assert [s.application for s in filtered.sessions] == ["Needle_App 100%"]
        assert filtered.matched == 1 and filtered.sessions_truncated == 0
        assert filtered.session_filter == "needle_app 100%"
        assert filtered.total == conns.total, "the counts stay those of every session"
        assert filtered.by_state == conns.by_state
        # Typed as the data is written, non-ASCII letters included, whatever the server's ctype
        # (Python's lower() would fold the Ç that a C-locale server's lower() leaves alone).
        collector.set_session_filter("ORÇAMENTOS")
        snap = await collector.collect()
        assert isinstance(snap.connections, ConnectionStats)
        assert [s.application for s in snap.connections.sessions] == ["accents"]
        # A filter matching more than the cap: the cap applies to the matches.
        collector.set_session_filter("BUSY-")
        snap = await collector.collect()
        busy_only = snap.connections
        assert isinstance(busy_only, ConnectionStats)
        assert busy_only.matched == 3 and len(busy_only.sessions) == 2
        assert busy_only.sessions_truncated == 1
        assert busy_only.sessions[0].application == "busy-1", "worst first among the matches"
        collector.set_session_filter("")
        snap = await collector.collect()
        assert isinstance(snap.connections, ConnectionStats)
        assert snap.connections.matched == snap.connections.total
    await collector.close()


async def test_rls_status_lists_tables_without_rls_first(db) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute(
            """
            CREATE SCHEMA api;
            CREATE TABLE public.secure (id int);
            ALTER TABLE public.secure ENABLE ROW LEVEL SECURITY;
            CREATE POLICY p1 ON public.secure USING (true);
            CREATE TABLE public.forced (id int);
            ALTER TABLE public.forced ENABLE ROW LEVEL SECURITY;
            ALTER TABLE public.forced FORCE ROW LEVEL SECURITY;
            CREATE TABLE api."Orçamentos Antigos" (id int);
            CREATE SCHEMA hidden;
            CREATE TABLE hidden.not_exposed (id int);
            """
        )
    collector = make_collector(db.dsn())
    snap = await collector.collect()
    await collector.close()
    rls = snap.rls
    assert isinstance(rls, RlsStatus)
    names = [(t.schema, t.table) for t in rls.tables]
    assert names[0] == ("api", "Orçamentos Antigos")
    assert ("hidden", "not_exposed") not in names
    by_name = {t.table: t for t in rls.tables}
    assert by_name["secure"].rls_enabled and by_name["secure"].policy_count == 1
    assert by_name["forced"].rls_forced and by_name["forced"].policy_count == 0
    assert not by_name["Orçamentos Antigos"].rls_enabled
    assert by_name["Orçamentos Antigos"].qualified == '"api"."Orçamentos Antigos"'
    assert [t.table for t in rls.disabled] == ["Orçamentos Antigos"]


async def test_slow_queries_from_pg_stat_statements(db) -> None:
    async with session(db.dsn()) as client:
        await client.execute("SELECT pg_sleep(0.15)")
        await client.execute("SELECT 1 + 1")
    collector = make_collector(db.dsn())
    snap = await collector.collect()
    await collector.close()
    slow = snap.slow_queries
    assert isinstance(slow, SlowQueries)
    texts = [q.query for q in slow.queries]
    assert any("pg_sleep" in t for t in texts), texts
    assert not any("1 + 1" in t or "$1 + $2" in t for t in texts)
    top = next(q for q in slow.queries if "pg_sleep" in q.query)
    assert top.calls == 1 and top.mean_ms >= 150
    # The console's own statements never count as the database's slow queries.
    assert not any("engflow-tui" in t for t in texts)


async def test_missing_pg_stat_statements_says_how_to_enable(pg_server) -> None:
    from ..pg import create_database, drop_database

    name = await create_database(pg_server, pgss=False)
    try:
        collector = make_collector(pg_server.dsn(name))
        snap = await collector.collect()
        await collector.close()
    finally:
        await drop_database(pg_server, name)
    slow = snap.slow_queries
    assert isinstance(slow, Unavailable)
    assert "not installed" in slow.reason
    assert slow.fix is not None and "CREATE EXTENSION pg_stat_statements" in slow.fix
    # The other panels keep working.
    assert snap.health.state is DbState.CONNECTED
    assert isinstance(snap.connections, ConnectionStats)
    assert isinstance(snap.rls, RlsStatus)


async def test_unprivileged_role_sees_other_sessions_without_detail(db) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute("DROP ROLE IF EXISTS plain_watcher; CREATE ROLE plain_watcher LOGIN")
        async with session(db.dsn(), "secret-app") as other:
            await other.execute("BEGIN; SELECT 42")
            collector = make_collector(db.dsn(user="plain_watcher"))
            snap = await collector.collect()
            await collector.close()
        await admin.execute("DROP OWNED BY plain_watcher; DROP ROLE plain_watcher")
    assert snap.health.state is DbState.CONNECTED
    conns = snap.connections
    assert isinstance(conns, ConnectionStats)
    # The count is complete even though the role cannot read the other session's details,
    # and the panel is told why (and which grant fixes it).
    assert conns.total >= 2
    assert conns.hidden >= 2
    assert conns.by_state.get("hidden", 0) >= 2
    from engflow_tui.config import Thresholds as T
    from engflow_tui.widgets.render import connections_summary

    assert "GRANT pg_read_all_stats" in connections_summary(conns, T()).plain


async def test_bad_password_and_unreachable_server_are_down_not_exceptions(db) -> None:
    from engflow_tui.pgserver import free_port

    collector = make_collector(
        f"postgresql://nobody@127.0.0.1:{free_port()}/x", connect_timeout=2.0
    )
    snap = await collector.collect()
    assert snap.health.state is DbState.DOWN
    assert "refused" in (snap.health.error or "") or "reach" in (snap.health.error or "")
    assert isinstance(snap.connections, Unavailable)

    missing_db = make_collector(db.server.dsn("no_such_database"))
    snap = await missing_db.collect()
    assert snap.health.state is DbState.DOWN
    assert "no_such_database" in (snap.health.error or "")


async def test_monitor_raises_alerts_from_thresholds(db) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.open_table (id int)")
    collector = make_collector(db.dsn())
    monitor = Monitor(collector, collector.config, collector.target)
    async with session(db.dsn(), "stuck") as stuck:
        await stuck.execute("BEGIN; SELECT 1")
        await asyncio.sleep(0.4)
        snap = (await monitor.poll()).snapshot
    await monitor.close()
    keys = {a.key for a in snap.alerts if a.state == "firing"}
    assert "rls_violation:public.open_table" in keys
    assert "idle_in_transaction" in keys
    assert snap.alerts[0].severity.value == "critical"


async def test_statement_timeout_marks_degraded_then_recovers(db) -> None:
    """A catalogue probe slower than statement_timeout: state degraded, panels keep data."""
    collector = make_collector(db.dsn(), refresh_interval=0.5)
    first = await collector.collect()
    assert first.health.state is DbState.CONNECTED
    # The RLS catalogue scan reads pg_policy: a lock on it makes that probe wait past its timeout.
    async with session(db.dsn()) as locker:
        await locker.execute("BEGIN; LOCK TABLE pg_catalog.pg_policy IN ACCESS EXCLUSIVE MODE")
        collector.force_refresh()
        snap = await collector.collect()
        assert snap.health.state is DbState.DEGRADED
        assert "timed out" in (snap.health.error or "")
        assert isinstance(snap.connections, ConnectionStats)
        await locker.execute("ROLLBACK")
    collector.force_refresh()
    snap = await collector.collect()
    assert snap.health.state is DbState.CONNECTED
    await collector.close()


async def test_permission_denied_on_a_probe_names_the_grant(db) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute(
            "DROP ROLE IF EXISTS narrow_watcher; CREATE ROLE narrow_watcher LOGIN;"
            "REVOKE EXECUTE ON FUNCTION pg_stat_statements(boolean) FROM PUBLIC;"
        )
        try:
            collector = make_collector(db.dsn(user="narrow_watcher"))
            snap = await collector.collect()
            await collector.close()
        finally:
            await admin.execute("DROP OWNED BY narrow_watcher; DROP ROLE narrow_watcher")
    slow = snap.slow_queries
    assert isinstance(slow, Unavailable)
    assert slow.reason.startswith("permission denied")
    assert (
        slow.fix is not None
        and "GRANT EXECUTE ON FUNCTION" in slow.fix
        and "pg_read_all_stats" in slow.fix
    )
    assert snap.health.state is DbState.CONNECTED  # one dead probe does not take the others down
    assert isinstance(snap.rls, RlsStatus)


async def test_pg_stat_statements_installed_but_not_preloaded() -> None:
    from engflow_tui.pgserver import temporary_server

    server = temporary_server(
        prefix="engflow-test-nopreload-", extra_settings={"shared_preload_libraries": ""}
    )
    try:
        async with session(server.dsn()) as admin:
            await admin.execute("CREATE EXTENSION pg_stat_statements")
        collector = make_collector(server.dsn())
        snap = await collector.collect()
        await collector.close()
    finally:
        server.remove()
    slow = snap.slow_queries
    assert isinstance(slow, Unavailable)
    assert slow.reason == "pg_stat_statements is installed but not loaded"
    assert slow.fix is not None and "shared_preload_libraries" in slow.fix
    assert snap.health.state is DbState.CONNECTED


async def test_activity_probe_refused_is_degraded_not_down(db) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute(
            "DROP ROLE IF EXISTS blind_watcher; CREATE ROLE blind_watcher LOGIN;"
            "REVOKE SELECT ON pg_catalog.pg_stat_activity FROM PUBLIC"
        )
        try:
            collector = make_collector(db.dsn(user="blind_watcher"))
            snap = await collector.collect()
            await collector.close()
        finally:
            await admin.execute(
                "GRANT SELECT ON pg_catalog.pg_stat_activity TO PUBLIC;"
                "DROP OWNED BY blind_watcher; DROP ROLE blind_watcher"
            )
    assert snap.health.state is DbState.DEGRADED
    assert isinstance(snap.connections, Unavailable)
    assert "permission denied" in snap.connections.reason
    assert snap.connections.fix is not None and "pg_monitor" in snap.connections.fix
    assert isinstance(snap.rls, RlsStatus), "the other panels keep working"


async def test_other_roles_statements_are_not_merged_into_a_fake_row(db) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute("DROP ROLE IF EXISTS stats_less; CREATE ROLE stats_less LOGIN")
        await admin.execute("SELECT pg_sleep(0.12)")
        try:
            collector = make_collector(db.dsn(user="stats_less"))
            snap = await collector.collect()
            await collector.close()
        finally:
            await admin.execute("DROP OWNED BY stats_less; DROP ROLE stats_less")
    slow = snap.slow_queries
    assert isinstance(slow, SlowQueries)
    assert all(q.queryid is not None for q in slow.queries)
    assert slow.note is not None and "GRANT pg_read_all_stats" in slow.note


async def test_old_pg_stat_statements_version_uses_the_legacy_columns(pg_server) -> None:
    """An extension left at 1.7 by an upgrade (total_time, not total_exec_time)."""
    from ..pg import create_database, drop_database

    name = await create_database(pg_server, pgss=False)
    try:
        async with session(pg_server.dsn(name)) as admin:
            await admin.execute("CREATE EXTENSION pg_stat_statements VERSION '1.7'")
            await admin.execute("SELECT pg_sleep(0.12)")
        collector = make_collector(pg_server.dsn(name))
        snap = await collector.collect()
        await collector.close()
    finally:
        await drop_database(pg_server, name)
    slow = snap.slow_queries
    assert isinstance(slow, SlowQueries), slow
    assert slow.extension_version == "1.7"
    assert any("pg_sleep" in q.query and q.mean_ms >= 120 for q in slow.queries)


async def test_first_cycle_is_light_and_the_next_brings_the_costly_probes(db) -> None:
    async with session(db.dsn()) as client:
        await client.execute("SELECT pg_sleep(0.12)")
    target = TargetConfig(name="t", dsn=db.dsn())
    collector = PostgresCollector(target, Config(targets={"t": target}))
    first = await collector.collect()
    assert isinstance(first.connections, ConnectionStats)
    assert isinstance(first.rls, Unavailable) and isinstance(first.slow_queries, Unavailable)
    assert first.health.database_size_bytes is None
    second = await collector.collect()
    assert isinstance(second.slow_queries, SlowQueries) and second.health.database_size_bytes
    assert isinstance(second.rls, RlsStatus)
    await collector.close()


async def test_a_table_locked_by_a_migration_does_not_stall_or_degrade_the_console(db) -> None:
    """The history's table-size probe needs a lock on every table: behind a migration's ACCESS
    EXCLUSIVE it gives up at once (lock_timeout) and keeps its last value; the database is not
    reported degraded and the snapshot does not wait for the statement timeout."""
    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.migrating (id int)")
    collector = make_collector(db.dsn())
    try:
        collector.force_refresh()  # the history's sizes wait one interval after a start
        first = await collector.collect()
        assert first.table_sizes is not None
        async with session(db.dsn(), application="migration") as migration:
            await migration.execute("BEGIN")
            await migration.execute("LOCK TABLE public.migrating IN ACCESS EXCLUSIVE MODE")
            collector.force_refresh()  # every slow probe due again, table sizes included
            snapshot = await collector.collect()
            await migration.execute("ROLLBACK")
        assert snapshot.health.state is DbState.CONNECTED, snapshot.health.error
        assert snapshot.table_sizes == first.table_sizes  # the last good value, kept
    finally:
        await collector.close()


async def test_the_historys_costly_probes_wait_one_interval_after_start(db) -> None:
    """Start-up stays light: table sizes and statement totals (for the history store) are not
    read by the first cycles, only after history.size_interval (or at once on `r`)."""
    collector = make_collector(db.dsn())
    try:
        first = await collector.collect()
        second = await collector.collect()
        assert first.table_sizes is None and second.table_sizes is None
        assert second.statement_totals is None
        collector.force_refresh()
        third = await collector.collect()
        assert third.table_sizes is not None
    finally:
        await collector.close()


async def test_rls_scan_runs_when_ddl_is_seen_not_on_every_refresh(db) -> None:
    """PostgreSQL 15+ counts catalogue writes: the RLS scan follows DDL within a refresh,
    is skipped while nothing changed, is throttled under churn, and has a safety net."""
    clock = [1000.0]
    target = TargetConfig(name="t", dsn=db.dsn(), exposed_schemas=("public",))
    config = Config(
        console=ConsoleConfig(catalog_interval=300.0, slow_queries_interval=3600.0),
        targets={"t": target},
    )
    collector = PostgresCollector(
        target, config, light_first_cycle=False, monotonic=lambda: clock[0]
    )

    async def ddl(admin: asyncpg.Connection, statement: str) -> None:
        await admin.execute(statement)
        # Make the DDL's statistics visible now (a backend flushes them within seconds).
        await admin.execute("SELECT pg_stat_force_next_flush()")
        await admin.execute("SELECT 1")

    async def scans(admin: asyncpg.Connection) -> int:
        return int(
            await admin.fetchval(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                "WHERE query LIKE '%FROM pg_policy GROUP BY polrelid%' "
                "AND query NOT LIKE '%pg_stat_statements%' "
                "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )

    async def guarded_rls() -> bool:
        snap = await collector.collect()
        assert isinstance(snap.rls, RlsStatus)
        return next(t for t in snap.rls.tables if t.table == "guarded").rls_enabled

    async with session(db.dsn()) as admin:
        await ddl(
            admin, "CREATE TABLE guarded (id int); ALTER TABLE guarded ENABLE ROW LEVEL SECURITY"
        )
        assert await guarded_rls() is True
        assert await scans(admin) == 1
        clock[0] += 101  # past catalog_interval / 3: nothing changed, no scan
        assert await guarded_rls() is True
        assert await scans(admin) == 1
        await ddl(admin, "ALTER TABLE guarded DISABLE ROW LEVEL SECURITY")
        assert await guarded_rls() is False, "the DDL is seen at the next refresh"
        assert await scans(admin) == 2
        await ddl(admin, "ALTER TABLE guarded ENABLE ROW LEVEL SECURITY")
        clock[0] += 50  # churn: at most one scan per catalog_interval / 3
        assert await guarded_rls() is False
        clock[0] += 51
        assert await guarded_rls() is True
        assert await scans(admin) == 3
        clock[0] += 4 * 300  # the safety net, without any change
        await guarded_rls()
        assert await scans(admin) == 4
    await collector.close()


async def test_a_client_writing_the_consoles_marker_is_not_hidden_from_slow_queries(db) -> None:
    """The marker in a statement's text is anybody's to write: only this role's statements with
    it are the console's own."""
    async with session(db.dsn()) as admin:
        await admin.execute("DROP ROLE IF EXISTS sneaky_app; CREATE ROLE sneaky_app LOGIN")
    try:
        async with session(db.dsn(user="sneaky_app")) as client:
            await client.execute("SELECT pg_sleep(0.15) AS hide_me /* engflow-tui */")
        collector = make_collector(db.dsn())
        snap = await collector.collect()
        await collector.close()
        slow = snap.slow_queries
        assert isinstance(slow, SlowQueries)
        assert any("hide_me" in q.query for q in slow.queries), [q.query for q in slow.queries]
    finally:
        async with session(db.dsn()) as admin:
            await admin.execute("DROP OWNED BY sneaky_app; DROP ROLE sneaky_app")
