"""An action run for real lands in the incident timeline (through the audit log) and the report;
an incident survives kill -9; incident messages reach a real HTTP server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engflow_tui.incidents import templates
from engflow_tui.incidents.log import IncidentLog, IncidentStore
from engflow_tui.incidents.report import markdown
from engflow_tui.incidents.webhook import incident_webhook_env, post_text

from ..httpserver import Route, http_server
from ..pg import session
from .test_actions import make_runner


async def test_enable_rls_run_for_real_is_in_the_timeline_and_report(db18, tmp_path: Path) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute("CREATE TABLE public.orcamentos (id int)")
    log = IncidentLog(IncidentStore(tmp_path / "incident.json"))
    log.declare("RLS off on orcamentos", 3, "data of every tenant readable", "ana", "prod")
    runner = make_runner(db18.dsn(), tmp_path)
    result = await runner.execute(await runner.plan_enable_rls("public", "orcamentos"))
    assert result.ok
    assert log.sync_audit(runner.audit.read_recent(50)) == 1
    entry = next(e for e in log.incident.timeline if e.kind == "action")
    assert entry.text == 'Enable RLS: RLS enabled on "public"."orcamentos"'
    assert entry.data["audit"]["operator"] == "ana"
    report = markdown(log.incident, datetime.now(UTC))
    assert 'ALTER TABLE "public"."orcamentos" ENABLE ROW LEVEL SECURITY' in report
    assert "Enable RLS: RLS enabled" in templates.incident_alert(log.incident, "EngFlow")
    # Resumed from the file, the action is still there.
    assert any(
        e.kind == "action" for e in IncidentLog(IncidentStore(log.store.path)).incident.timeline
    )


async def test_enable_rls_on_a_locked_table_is_a_failed_attempt_in_the_incident_alert(
    db, tmp_path: Path
) -> None:
    """A lock timeout is audited as "finished" with a failed target: the Incident Alert lists
    it as FAILED, never as an action taken; the retry that worked is listed as done."""
    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.orcamentos_historico (id int)")
    log = IncidentLog(IncidentStore(tmp_path / "incident.json"))
    log.declare("RLS off on orcamentos_historico", 2, "", "ana", "prod")
    runner = make_runner(db.dsn(), tmp_path, lock_timeout=0.3)
    plan = await runner.plan_enable_rls("public", "orcamentos_historico")
    async with session(db.dsn(), "long-reader") as reader:
        await reader.execute("BEGIN; SELECT * FROM public.orcamentos_historico")
        assert not (await runner.execute(plan)).ok
    assert (await runner.execute(plan)).ok
    assert log.sync_audit(reversed(runner.audit.read_recent(50))) == 2
    alert = templates.incident_alert(log.incident, "EngFlow")
    taken = alert.split("Actions Taken:\n")[1].split("\n\n")[0].splitlines()
    assert len(taken) == 2
    assert taken[0].startswith(
        '- FAILED: Enable RLS on "public"."orcamentos_historico" — not enabled: '
    )
    assert "lock" in taken[0], taken[0]  # the lock timeout, in the runner's words
    assert taken[1] == '- Enable RLS: RLS enabled on "public"."orcamentos_historico"'
    notice = templates.user_notification(log.incident, "https://status.example.com")
    assert "orcamentos_historico" not in notice


def test_an_incident_survives_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "incident.json"
    code = textwrap.dedent(
        f"""
        import sys, time
        from engflow_tui.incidents.log import IncidentLog, IncidentStore
        log = IncidentLog(IncidentStore(__import__("pathlib").Path({str(state)!r})))
        log.declare("Database unreachable", 1, "every user", "ana", "prod")
        log.acknowledge()
        log.note("failover started")
        print("ready", flush=True)
        while True:
            log.note("tick")  # keeps writing: the kill lands in the middle of saves
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    resumed = IncidentLog(IncidentStore(state))
    assert resumed.resumed
    assert resumed.problem is None
    incident = resumed.incident
    assert incident.title == "Database unreachable"
    assert incident.severity == 1
    assert incident.acknowledged_at is not None
    assert incident.timeline[1].text.startswith("acknowledged by ana after")
    assert [e.text for e in incident.timeline][:3] == [
        "declared SEV1: Database unreachable — impact: every user",
        incident.timeline[1].text,  # acknowledged by ana after Ns
        "failover started",
    ]


@pytest.mark.parametrize(
    ("route", "ok", "outcome"),
    [
        (Route(200, "ok", content_type="text/plain"), True, "HTTP 200"),
        (
            Route(500, "invalid_payload", content_type="text/plain"),
            False,
            "HTTP 500: invalid_payload",
        ),
    ],
)
async def test_post_to_a_real_webhook(monkeypatch, route: Route, ok: bool, outcome: str) -> None:
    with http_server() as server:
        server.routes["/hook"] = route
        monkeypatch.setenv("ENGFLOW_INCIDENT_HOOK", server.base + "/hook")
        delivered, what = await post_text("ENGFLOW_INCIDENT_HOOK", "🚨 INCIDENT ALERT", 5)
    assert (delivered, what) == (ok, outcome)
    assert server.requests[0]["method"] == "POST"
    assert json.loads(server.requests[0]["body"]) == {"text": "🚨 INCIDENT ALERT"}


async def test_webhook_unset_or_unreachable_is_said(monkeypatch) -> None:
    monkeypatch.delenv("ENGFLOW_INCIDENT_HOOK", raising=False)
    assert await post_text("ENGFLOW_INCIDENT_HOOK", "x") == (
        False,
        "environment variable ENGFLOW_INCIDENT_HOOK is not set",
    )
    with http_server() as server:
        base = server.base
    monkeypatch.setenv("ENGFLOW_INCIDENT_HOOK", base + "/hook")  # the server is gone
    delivered, what = await post_text("ENGFLOW_INCIDENT_HOOK", "x", 2)
    assert not delivered
    assert "ConnectError" in what
    assert base not in what, "the URL (it may embed a secret) is never shown"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",  # httpx.InvalidURL, which is no httpx.HTTPError
        "https://hooks.example.com:x/services/T0SECRET/B0SECRET/XXSECRETXX",
        "ftp://hooks.example.com/services/T0SECRET/XXSECRETXX",  # UnsupportedProtocol
    ],
)
async def test_a_malformed_webhook_url_is_a_failure_said_never_a_raise(
    url: str, monkeypatch
) -> None:
    monkeypatch.setenv("ENGFLOW_INCIDENT_HOOK", url)
    delivered, what = await post_text("ENGFLOW_INCIDENT_HOOK", "x", 2)
    assert not delivered
    assert what.split(":")[0] in ("InvalidURL", "UnsupportedProtocol"), what
    assert "SECRET" not in what, "the URL (it may embed a secret) is never shown"


def test_an_error_text_that_quotes_the_url_is_masked() -> None:
    from engflow_tui.httpbounded import mask_url

    url = "https://hooks.example.com/services/T0SECRET/XXSECRETXX"
    assert "SECRET" not in mask_url(f"Bad: {url!r}", url)
    assert "SECRET" not in mask_url("Bad path '/services/T0SECRET/XXSECRETXX'", url)
    assert mask_url("Invalid port: 'x'", url) == "Invalid port: 'x'"


def test_the_incident_webhook_defaults_to_the_first_slack_receiver() -> None:
    from engflow_tui.config import parse_config

    config = parse_config(
        {
            "notifications": {
                "webhooks": [
                    {"kind": "alertmanager", "url_env": "AM"},
                    {"kind": "slack", "url_env": "SLACK"},
                ]
            }
        }
    )
    assert incident_webhook_env(config) == "SLACK"
    assert incident_webhook_env(parse_config({"incidents": {"webhook_url_env": "INC"}})) == "INC"
    assert incident_webhook_env(parse_config({})) is None
