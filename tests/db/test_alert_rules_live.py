"""The alert rules against real situations: a real server, real sessions, real HTTP servers."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace
from datetime import timedelta

import asyncpg

from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.monitor import Monitor
from engflow_tui.pgserver import temporary_server

from ..httpserver import Route, http_server
from ..pg import session


def monitor_for(dsn: str, **target_kw) -> Monitor:  # type: ignore[no-untyped-def]
    target = TargetConfig(name="t", dsn=dsn, **target_kw)
    config = Config(
        console=ConsoleConfig(refresh_interval=0.5, catalog_interval=0.2, http_interval=0.0),
        targets={"t": target},
    )
    return Monitor(PostgresCollector(target, config), config, target)


def as_if_watched_for(monitor: Monitor, seconds: float) -> None:
    """What the monitor has seen so far was seen ``seconds`` earlier: its rate windows (5 min)
    are covered without the test waiting for them (rates are unknown until they are)."""
    shift = timedelta(seconds=seconds)
    monitor.history.samples = deque(
        replace(sample, t=sample.t - shift) for sample in monitor.history.samples
    )


def firing(snapshot) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {a.key: a for a in snapshot.alerts if a.state == "firing"}


async def test_connection_pool_full_with_real_connections() -> None:
    server = temporary_server(prefix="engflow-test-pool-", extra_settings={"max_connections": "25"})
    conns: list[asyncpg.Connection] = []
    try:
        monitor = monitor_for(server.dsn())
        assert "connection_pool_full" not in firing((await monitor.poll()).snapshot)
        conns = [await asyncpg.connect(server.dsn()) for _ in range(24)]  # + the console = 25 of 25
        snap = (await monitor.poll()).snapshot
        alert = firing(snap)["connection_pool_full"]
        assert alert.severity.value == "critical" and alert.value == 96.0
        assert [e.kind for e in monitor.events if e.alert.rule == "connection_pool_full"] == [
            "fired"
        ]
        for conn in conns[:10]:
            await conn.close()
        await monitor.poll()
        await asyncio.sleep(0.6)
        snap = (
            await monitor.poll()
        )  # 56 %: below the clear threshold, but not yet for clear_for (30 s)
        assert "connection_pool_full" in firing(snap), "hysteresis: it does not resolve at once"
        await monitor.close()
    finally:
        for conn in conns:
            if not conn.is_closed():
                await conn.close()
        server.remove()


async def test_rls_violation_fires_and_resolves(db) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.orcamentos (id int)")
        monitor = monitor_for(db.dsn())
        first = (await monitor.poll()).snapshot  # activity only: first data on screen sooner
        assert "rls_violation:public.orcamentos" not in firing(first)
        snap = (await monitor.poll()).snapshot
        alert = firing(snap)["rls_violation:public.orcamentos"]
        assert alert.title == "RLS Violation" and "RLS is OFF in an exposed schema" in alert.message
        await admin.execute("ALTER TABLE public.orcamentos ENABLE ROW LEVEL SECURITY")
        monitor.force_refresh()
        snap = (await monitor.poll()).snapshot
        assert "rls_violation:public.orcamentos" not in firing(snap)
        assert [e.kind for e in monitor.events] == ["resolved"]
        # Turned off again: the message says it was on before.
        await admin.execute("ALTER TABLE public.orcamentos DISABLE ROW LEVEL SECURITY")
        monitor.force_refresh()
        snap = (await monitor.poll()).snapshot
        assert "RLS was turned OFF" in firing(snap)["rls_violation:public.orcamentos"].message
        await monitor.close()


async def test_high_error_rate_from_rolled_back_transactions(db) -> None:
    monitor = monitor_for(db.dsn())
    await monitor.poll()
    as_if_watched_for(monitor, 300)
    async with session(db.dsn()) as app:
        for i in range(150):  # over thresholds.min_transactions (100)
            try:
                async with app.transaction():
                    await app.execute("SELECT 1")
                    if i % 3 == 0:
                        await app.execute("SELECT 1/0")
            except asyncpg.DivisionByZeroError:
                pass
    await asyncio.sleep(0.6)  # pg_stat_database counters are flushed by the backends
    snap = (await monitor.poll()).snapshot
    for _ in range(20):
        if "high_error_rate:database" in firing(snap):
            break
        await asyncio.sleep(0.3)
        snap = (await monitor.poll()).snapshot
    alert = firing(snap)["high_error_rate:database"]
    assert alert.severity.value == "critical" and "rolled back in the last 5 min" in alert.message
    await monitor.close()


async def test_http_probes_feed_error_rate_and_health(db) -> None:
    with http_server() as server:
        server.routes["/health"] = Route(503, {"error": "db"})
        monitor = monitor_for(db.dsn(), app_health_url=f"{server.base}/health")
        for _ in range(10):  # thresholds.min_probes; one probe round per poll here
            snap = (await monitor.poll(wait_for_http=True)).snapshot
            as_if_watched_for(monitor, 35)  # probes every 10 s or so: 10 cover 5 minutes
        snap = (await monitor.poll(wait_for_http=True)).snapshot
        assert [p.state for p in snap.http] == ["http_error"]
        assert "high_error_rate:app" in firing(snap)
        server.routes["/health"] = Route(
            200,
            {
                "status": "healthy",
                "database": "connected",
                "version": "2.0.0",
                "timestamp": "2025-11-03T15:30:00Z",
            },
        )
        snap = (await monitor.poll(wait_for_http=True)).snapshot
        assert snap.http[0].state == "ok" and snap.http[0].version == "2.0.0"
        await monitor.close()


async def test_database_down_fires_when_the_server_stops() -> None:
    server = temporary_server(prefix="engflow-test-down-")
    try:
        monitor = monitor_for(server.dsn())
        await monitor.poll()
        await asyncio.to_thread(server.stop)
        snap = (await monitor.poll()).snapshot
        assert firing(snap)["database_down"].severity.value == "critical"
        assert [e.kind for e in monitor.events] == ["fired"]
        await asyncio.to_thread(server.start)
        monitor.force_refresh()
        snap = (await monitor.poll()).snapshot
        assert "database_down" not in firing(snap)
        await monitor.close()
    finally:
        server.remove()


def test_overrides_reach_the_engine() -> None:
    config = Config(alerts={"connection_pool_full": {"threshold": 50}})
    target = TargetConfig(name="t", dsn="postgresql://h/db")
    monitor = Monitor(PostgresCollector(target, config), config, target)
    rule = next(r for r in monitor.engine.rules if r.id == "connection_pool_full")
    assert rule.threshold == 50


async def test_one_failed_probe_is_one_sample_not_one_per_snapshot(db) -> None:
    """Probes run every http_interval, snapshots every refresh: one failure must count once."""
    from engflow_tui.pgserver import free_port

    target = TargetConfig(
        name="t", dsn=db.dsn(), app_health_url=f"http://127.0.0.1:{free_port()}/health"
    )
    config = Config(
        console=ConsoleConfig(refresh_interval=0.5, http_interval=60.0), targets={"t": target}
    )
    monitor = Monitor(PostgresCollector(target, config), config, target)
    for _ in range(4):
        snap = (await monitor.poll()).snapshot
    assert snap.http[0].state == "connect_error"  # shown in every snapshot...
    assert "high_error_rate:app" not in firing(snap)  # ...but one probe is not a 5-minute rate
    await monitor.close()


async def test_high_error_rate_and_pool_full_resolve(db) -> None:
    from datetime import timedelta

    from engflow_tui.alerts.metrics import Metric

    monitor = monitor_for(db.dsn())
    now = (await monitor.poll()).snapshot.taken_at
    engine = monitor.engine
    engine.evaluate(
        {
            "error_rate_pct": {"database": Metric(12, "12 %")},
            "connections.usage_pct": {"": Metric(97, "97 %")},
        },
        now,
    )
    assert {"high_error_rate:database", "connection_pool_full"} <= {a.key for a in engine.alerts()}
    calm = {
        "error_rate_pct": {"database": Metric(0.5, "0.5 %")},
        "connections.usage_pct": {"": Metric(20, "20 %")},
    }
    engine.evaluate(calm, now + timedelta(seconds=1))
    events = engine.evaluate(calm, now + timedelta(minutes=2))
    assert {("resolved", "high_error_rate:database"), ("resolved", "connection_pool_full")} <= {
        (e.kind, e.alert.key) for e in events
    }
    await monitor.close()
