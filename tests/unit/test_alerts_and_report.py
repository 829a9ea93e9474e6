"""The first alert rules and the diagnose report, from known records."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from engflow_tui.alerts.basic import AlertTracker, evaluate
from engflow_tui.config import Thresholds
from engflow_tui.diagnose import build_report, render_json, render_markdown, render_text
from engflow_tui.model import DbState, Health, Severity, Unavailable

from ..fixed_source import TAKEN_AT, sample_snapshot


def test_rules_fire_on_the_runbook_thresholds() -> None:
    snap = sample_snapshot()  # 84 % of connections, one idle in tx for 45 min, one table without RLS
    alerts = evaluate(snap, Thresholds())
    by_rule = {a.rule: a for a in alerts}
    assert by_rule["rls.disabled"].severity is Severity.CRITICAL
    assert by_rule["connections.high"].severity is Severity.WARNING
    assert by_rule["connections.high"].value == 84.0
    assert "connections.idle_in_transaction" in by_rule  # 2712 s > 30 min
    assert "4242" in by_rule["connections.idle_in_transaction"].message
    assert "4250" not in by_rule["connections.idle_in_transaction"].message  # only 95 s
    assert [a.severity for a in alerts] == sorted((a.severity for a in alerts), key=lambda s: s.rank)


def test_pool_full_and_database_down() -> None:
    snap = sample_snapshot()
    full = replace(snap, connections=replace(snap.connections, total=96))
    assert "connections.pool_full" in {a.rule for a in evaluate(full, Thresholds())}
    assert "connections.high" not in {a.rule for a in evaluate(full, Thresholds())}
    down = replace(snap, health=Health(state=DbState.DOWN, error="connection refused"),
                   connections=Unavailable("down"), rls=Unavailable("down"), slow_queries=Unavailable("down"))
    alerts = evaluate(down, Thresholds())
    assert [a.rule for a in alerts] == ["database.down"]
    assert alerts[0].message == "connection refused"


def test_tracker_keeps_first_seen_time_and_forgets_cleared_alerts() -> None:
    tracker = AlertTracker()
    snap = sample_snapshot()
    first = tracker.update(evaluate(snap, Thresholds()), TAKEN_AT)
    later = tracker.update(evaluate(snap, Thresholds()), TAKEN_AT + timedelta(minutes=5))
    assert all(a.since == TAKEN_AT for a in later)
    assert len(first) == len(later)
    tracker.update([], TAKEN_AT + timedelta(minutes=6))
    again = tracker.update(evaluate(snap, Thresholds()), TAKEN_AT + timedelta(minutes=7))
    assert all(a.since == TAKEN_AT + timedelta(minutes=7) for a in again)


def test_report_json_contract_and_exit_codes() -> None:
    report = build_report(sample_snapshot(), Thresholds())
    data = json.loads(render_json(report))
    assert data["status"] == "critical" and report.exit_code == 2
    assert data["target"] == "production"
    assert data["generated_at"] == "2026-11-29T03:12:00Z"
    checks = {c["id"]: c for c in data["checks"]}
    assert set(checks) == {"database.reachable", "connections.usage", "connections.idle_in_transaction",
                           "cache.hit_rate", "rls.disabled", "queries.slow"}
    assert checks["connections.usage"]["value"] == 84.0 and checks["connections.usage"]["unit"] == "%"
    assert checks["connections.usage"]["status"] == "warning"
    iit = checks["connections.idle_in_transaction"]
    assert iit["value"] == 1 and iit["details"][0]["pid"] == 4242 and iit["details"][0]["seconds"] == 2712.0
    assert set(iit["details"][0]) >= {"pid", "user", "application", "seconds", "query"}
    assert checks["rls.disabled"]["details"] == [{"schema": "public", "table": "Orçamentos Antigos", "policies": 0}]
    assert checks["queries.slow"]["details"][0]["mean_ms"] == 2450.5
    assert set(checks["queries.slow"]["details"][0]) >= {"query", "calls", "mean_ms", "total_ms"}
    assert checks["cache.hit_rate"]["value"] == 97.4
    assert checks["database.reachable"]["unit"] == "ms"
    # Quick leaves out the pg_stat_statements read.
    assert "queries.slow" not in {c.id for c in build_report(sample_snapshot(), Thresholds(), quick=True).checks}


def test_report_ok_warning_unknown() -> None:
    snap = sample_snapshot()
    calm = replace(
        snap,
        connections=replace(snap.connections, total=10, sessions=()),
        rls=replace(snap.rls, tables=snap.rls.tables[1:]),
        slow_queries=replace(snap.slow_queries, queries=()),
    )
    assert build_report(calm, Thresholds()).status == "ok"
    assert build_report(calm, Thresholds()).exit_code == 0
    cold = replace(calm, health=replace(calm.health, cache_hit_pct=60.0))
    assert build_report(cold, Thresholds()).exit_code == 1
    down = replace(snap, health=Health(state=DbState.DOWN, error="timed out"))
    report = build_report(down, Thresholds())
    assert report.status == "unknown" and report.exit_code == 3
    assert json.loads(render_json(report))["checks"][0]["summary"] == "cannot connect: timed out"


def test_text_and_markdown_renderings_name_the_findings() -> None:
    report = build_report(sample_snapshot(), Thresholds())
    text = render_text(report)
    assert "overall: CRITICAL" in text
    assert text.index("CRITICAL  rls.disabled") < text.index("OK ")
    assert '"public"."Orçamentos Antigos"' in text
    md = render_markdown(report)
    assert "| critical | `rls.disabled` |" in md
    assert "pid: `4242`" in md
