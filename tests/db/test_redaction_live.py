"""Secrets in other sessions' query text (issue 16, item 3): planted by real clients, read by
the real collector, actions and diagnosis — and found in none of the files the console writes
nor in what it shows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from engflow_tui.actions.audit import AuditLog
from engflow_tui.actions.runner import ActionRunner
from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import Config, ConsoleConfig, TargetConfig, Thresholds
from engflow_tui.diagnose import RENDERERS
from engflow_tui.diagnostics import run_diagnosis
from engflow_tui.incidents.log import IncidentLog, IncidentStore
from engflow_tui.incidents.report import markdown
from engflow_tui.model import ConnectionStats

from ..pg import session

SECRETS = {
    "comment-apikey": ("SELECT 1 /* apikey=AK-778899-secret */", "AK-778899-secret"),
    "comment-password": ("SELECT 1 -- password=Tr0ub4dor-secret", "Tr0ub4dor-secret"),
    "jwt": (
        "SELECT set_config('request.jwt.claims', "
        "'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZSJ9.c2lnbmF0dXJlLXNlY3JldA', true)",
        "eyJyb2xlIjoic2VydmljZSJ9",
    ),
    "uri": (
        "SELECT 'postgresql://svc:UriPassw0rd-secret@db.internal/app' AS dsn",
        "UriPassw0rd-secret",
    ),
    "role-password": ("ALTER ROLE current_user PASSWORD 'RolePw-secret'", "RolePw-secret"),
}


async def test_planted_secrets_are_never_persisted_or_shown(db, tmp_path: Path) -> None:
    dsn = db.dsn()
    target = TargetConfig(name="prod", dsn=dsn)
    config = Config(
        console=ConsoleConfig(operator="ana", state_dir=str(tmp_path / "state")),
        targets={"prod": target},
        thresholds=Thresholds(idle_in_transaction=0.3),
    )
    clients = [session(dsn, f"app-{name}") for name in SECRETS]
    conns = [await c.__aenter__() for c in clients]
    try:
        for conn, (query, _) in zip(conns, SECRETS.values(), strict=True):
            await conn.execute("BEGIN")
            await conn.execute(query)
        await asyncio.sleep(0.5)
        secrets = [secret for _, secret in SECRETS.values()]

        # What the panels and recordings get: the collector's snapshot.
        collector = PostgresCollector(target, config)
        snapshot = await collector.collect()
        await collector.close()
        assert isinstance(snapshot.connections, ConnectionStats)
        shown = " ".join(s.query or "" for s in snapshot.connections.sessions)
        assert "set_config" in shown
        for secret in secrets:
            assert secret not in shown

        # diagnose: every format.
        report = await run_diagnosis(config, target, quick=True)
        for render in RENDERERS.values():
            out = render(report)
            for secret in secrets:
                assert secret not in out

        # The audit log of Terminate idle transactions on them, and the incident that records it.
        incident_log = IncidentLog(
            IncidentStore(tmp_path / "state" / "incident.json", tmp_path / "reports")
        )
        incident_log.declare("secrets test", 2, "none", "ana", "prod")
        runner = ActionRunner(config, target, AuditLog(tmp_path / "audit.jsonl", "ana"))
        plan = await runner.plan_terminate_idle()
        assert len(plan.targets) == len(SECRETS)
        result = await runner.execute(plan)
        assert result.summary() == f"{len(SECRETS)} terminated"
        incident_log.sync_audit(runner.audit.read_recent())
        written = {
            "audit": (tmp_path / "audit.jsonl").read_text(),
            "incident": (tmp_path / "state" / "incident.json").read_text(),
            "report": markdown(incident_log.incident, datetime.now(UTC)),  # type: ignore[arg-type]
        }
        assert "app-jwt" in written["audit"]
        for where, text in written.items():
            for secret in secrets:
                assert secret not in text, (where, secret)
    finally:
        for client in clients:
            await client.__aexit__(None, None, None)
