"""What alerts, diagnose and checklists compute is never a view (issue 16, items 5 and 8): the
panel's filter and console.max_sessions do not resolve an alert, and a role that cannot see
other roles' sessions gets *unknown* — with the GRANT —, never 0, OK or pass."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime

from engflow_tui.checklists.loader import load_catalog
from engflow_tui.checklists.verify import Facts, verdict
from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import Config, ConsoleConfig, TargetConfig, Thresholds
from engflow_tui.diagnostics import run_diagnosis
from engflow_tui.model import ConnectionStats
from engflow_tui.monitor import Monitor
from engflow_tui.widgets.render import connections_summary

from ..pg import session

STUCK = 4


def _monitor(dsn: str, max_sessions: int = 50) -> Monitor:
    target = TargetConfig(name="t", dsn=dsn)
    config = Config(
        console=ConsoleConfig(refresh_interval=0.5, max_sessions=max_sessions),
        targets={"t": target},
        thresholds=Thresholds(idle_in_transaction=0.3),
    )
    return Monitor(PostgresCollector(target, config), config, target)


async def _stuck_sessions(stack: AsyncExitStack, dsn: str, n: int) -> list[int]:
    pids = []
    for i in range(n):
        conn = await stack.enter_async_context(session(dsn, f"stuck-worker-{i}"))
        await conn.execute("BEGIN; SELECT 1")
        pids.append(await conn.fetchval("SELECT pg_backend_pid()"))
    await asyncio.sleep(0.5)
    return pids


def _idle_alert(monitor: Monitor):  # type: ignore[no-untyped-def]
    return next(
        (a for a in monitor.engine.alerts() if a.rule == "idle_in_transaction"), None
    )


async def test_a_filter_that_hides_every_stuck_session_keeps_the_alert_firing(db) -> None:
    monitor = _monitor(db.dsn())
    async with AsyncExitStack() as stack:
        await _stuck_sessions(stack, db.dsn(), STUCK)
        await monitor.poll()
        alert = _idle_alert(monitor)
        assert alert is not None and alert.state == "firing" and alert.value == STUCK
        monitor.set_session_filter("no session matches this text")
        for _ in range(3):
            snapshot = (await monitor.poll()).snapshot
        assert isinstance(snapshot.connections, ConnectionStats)
        assert snapshot.connections.sessions == ()  # the view: nothing listed
        assert not [e for e in monitor.events if e.kind == "resolved"]
        alert = _idle_alert(monitor)
        assert alert is not None and alert.state == "firing" and alert.value == STUCK
    await monitor.close()


async def test_more_stuck_sessions_than_max_sessions_are_all_counted(db) -> None:
    monitor = _monitor(db.dsn(), max_sessions=2)
    async with AsyncExitStack() as stack:
        pids = await _stuck_sessions(stack, db.dsn(), STUCK + 2)
        snapshot = (await monitor.poll()).snapshot
        assert isinstance(snapshot.connections, ConnectionStats)
        assert len(snapshot.connections.sessions) == 2
        alert = _idle_alert(monitor)
        assert alert is not None and alert.value == STUCK + 2
        assert f"pid {pids[0]}" in alert.message
    await monitor.close()


async def test_a_role_that_cannot_see_gets_unknown_never_zero(db) -> None:
    dsn = db.dsn()
    async with session(dsn) as admin:
        await admin.execute(
            "DROP ROLE IF EXISTS blind_ops; CREATE ROLE blind_ops LOGIN;"
            "DROP ROLE IF EXISTS app_writer; CREATE ROLE app_writer LOGIN"
        )
    try:
        async with AsyncExitStack() as stack:
            await _stuck_sessions(stack, db.dsn(user="app_writer"), 3)
            blind = db.dsn(user="blind_ops")
            monitor = _monitor(blind)
            snapshot = (await monitor.poll()).snapshot
            conns = snapshot.connections
            assert isinstance(conns, ConnectionStats)
            assert conns.hidden >= 3
            # Alerts: the figure is absent (unknown), not 0.
            assert "connections.idle_in_transaction_over" not in monitor.metrics
            # The dashboard: "idle in tx ?", and the GRANT.
            summary = connections_summary(conns, monitor.config.thresholds).plain
            assert "idle in tx ?" in summary
            assert "idle in tx 0" not in summary
            assert "GRANT pg_read_all_stats" in summary
            # The SEV2 checklist item "no idle transactions" stays pending with the fix.
            catalog = load_catalog(None)
            item = next(
                i
                for i in catalog.get("sev2").items  # type: ignore[union-attr]
                if any(c.metric == "connections.idle_in_transaction_over" for c in i.verify)
            )
            facts = Facts(snapshot, monitor.metrics, snapshot.alerts, monitor.history)
            result = verdict(item, facts, datetime.now(UTC))
            assert result.status == "pending"
            assert "pg_read_all_stats" in result.detail
            await monitor.close()
            # diagnose: unknown with the GRANT, never OK.
            report = await run_diagnosis(
                Config(thresholds=Thresholds(idle_in_transaction=0.3)),
                TargetConfig(name="t", dsn=blind),
                quick=True,
            )
            checks = {c.id: c for c in report.checks}
            for check_id in ("connections.idle_in_transaction", "queries.long_running"):
                assert checks[check_id].status == "unknown", check_id
                assert "pg_read_all_stats" in (checks[check_id].fix or "")
    finally:
        async with session(dsn) as admin:
            await admin.execute("DROP ROLE IF EXISTS blind_ops; DROP ROLE IF EXISTS app_writer")
