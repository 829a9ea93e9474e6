"""The first alert rules and the diagnose report, from known records."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from engflow_tui.alerts.engine import AlertEngine
from engflow_tui.alerts.metrics import MetricHistory, derive
from engflow_tui.alerts.rules import load_rules
from engflow_tui.config import Thresholds
from engflow_tui.diagnose import build_report, render_json, render_markdown, render_text
from engflow_tui.model import DbState, Health, Severity, Unavailable

from ..fixed_source import TAKEN_AT, sample_snapshot


def fire(*snapshots, thresholds: Thresholds | None = None):  # type: ignore[no-untyped-def]
    """Feed snapshots through derive() and the engine; the alerts after the last one."""
    history = MetricHistory()
    engine = AlertEngine(load_rules())
    for snap in snapshots:
        history.add(snap)
        engine.evaluate(derive(history, snap, thresholds or Thresholds()), snap.taken_at)
    return engine.alerts()


def test_rules_fire_on_the_runbook_thresholds() -> None:
    snap = (
        sample_snapshot()
    )  # 84 % of connections, one idle in tx for 45 min, one table without RLS
    later = replace(snap, taken_at=TAKEN_AT + timedelta(minutes=2))
    alerts = fire(snap, later)
    by_rule = {a.rule: a for a in alerts}
    assert by_rule["rls_violation"].severity is Severity.CRITICAL
    assert by_rule["rls_violation"].subject == "public.Orçamentos Antigos"
    assert (
        by_rule["connections_high"].severity is Severity.WARNING
        and by_rule["connections_high"].state == "firing"
    )
    assert by_rule["connections_high"].value == 84.0
    assert "4242" in by_rule["idle_in_transaction"].message
    assert "4250" not in by_rule["idle_in_transaction"].message  # only 95 s
    firing = [a for a in alerts if a.state == "firing"]
    assert [a.severity for a in firing] == sorted(
        (a.severity for a in firing), key=lambda s: s.rank
    )


def test_connections_high_is_pending_for_its_first_minute() -> None:
    alerts = fire(sample_snapshot())
    assert {a.rule: a.state for a in alerts}["connections_high"] == "pending"


def test_pool_full_and_database_down() -> None:
    snap = sample_snapshot()
    full = replace(snap, connections=replace(snap.connections, total=96))
    assert "connection_pool_full" in {a.rule for a in fire(full) if a.state == "firing"}
    down = replace(
        snap,
        health=Health(state=DbState.DOWN, error="connection refused"),
        connections=Unavailable("down"),
        rls=Unavailable("down"),
        slow_queries=Unavailable("down"),
    )
    alerts = fire(down)
    assert [a.rule for a in alerts] == ["database_down"]
    assert "connection refused" in alerts[0].message


def test_rls_turned_off_and_policies_without_rls_are_named() -> None:
    snap = sample_snapshot()
    on = replace(
        snap,
        rls=replace(snap.rls, tables=tuple(replace(t, rls_enabled=True) for t in snap.rls.tables)),
    )
    off = replace(
        snap,
        taken_at=TAKEN_AT + timedelta(seconds=2),
        rls=replace(
            snap.rls,
            tables=(
                replace(snap.rls.tables[1], rls_enabled=False),  # anexos: was on, 2 policies
            ),
        ),
    )
    alerts = {a.subject: a for a in fire(on, off) if a.rule == "rls_violation"}
    assert "RLS was turned OFF" in alerts["public.anexos"].message
    with_policies = replace(
        snap, rls=replace(snap.rls, tables=(replace(snap.rls.tables[0], policy_count=3),))
    )
    message = next(a.message for a in fire(with_policies) if a.rule == "rls_violation")
    assert "has 3 policies: they do not apply" in message


def test_report_json_contract_and_exit_codes() -> None:
    report = build_report(sample_snapshot(), Thresholds())
    data = json.loads(render_json(report))
    assert data["status"] == "critical" and report.exit_code == 2
    assert data["target"] == "production"
    assert data["generated_at"] == "2026-11-29T03:12:00Z"
    checks = {c["id"]: c for c in data["checks"]}
    assert set(checks) == {
        "database.reachable",
        "connections.usage",
        "connections.idle_in_transaction",
        "cache.hit_rate",
        "rls.disabled",
        "queries.slow",
    }
    assert (
        checks["connections.usage"]["value"] == 84.0 and checks["connections.usage"]["unit"] == "%"
    )
    assert checks["connections.usage"]["status"] == "warning"
    iit = checks["connections.idle_in_transaction"]
    assert (
        iit["value"] == 1
        and iit["details"][0]["pid"] == 4242
        and iit["details"][0]["seconds"] == 2712.0
    )
    assert set(iit["details"][0]) >= {"pid", "user", "application", "seconds", "query"}
    assert checks["rls.disabled"]["details"] == [
        {"schema": "public", "table": "Orçamentos Antigos", "policies": 0}
    ]
    assert checks["queries.slow"]["details"][0]["mean_ms"] == 2450.5
    assert set(checks["queries.slow"]["details"][0]) >= {"query", "calls", "mean_ms", "total_ms"}
    assert checks["cache.hit_rate"]["value"] == 97.4
    assert checks["database.reachable"]["unit"] == "ms"
    # Quick leaves out the pg_stat_statements read.
    assert "queries.slow" not in {
        c.id for c in build_report(sample_snapshot(), Thresholds(), quick=True).checks
    }


def test_report_ok_warning_unknown() -> None:
    snap = sample_snapshot()
    calm = replace(
        snap,
        connections=replace(
            snap.connections,
            total=10,
            sessions=(),
            idle_in_transaction_over=0,
            idle_in_transaction_pids=(),
        ),
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


def test_an_hour_of_history_holds_one_copy_of_the_per_table_counters() -> None:
    """The snapshot carries the last per-table read between its cadences: the history's
    samples share it (at 2,000 tables a copy per poll held ~0.3 MB for an hour: 660 MB at a
    2 s refresh), and a new read makes a new one."""
    from dataclasses import replace as _replace
    from datetime import timedelta

    from engflow_tui.alerts.metrics import MetricHistory
    from engflow_tui.model import TableActivity

    from ..fixed_source import sample_snapshot

    first = tuple(TableActivity("public", f"t_{i}", i, 0, 0) for i in range(2000))
    second = tuple(TableActivity("public", f"t_{i}", i + 1, 0, 0) for i in range(2000))
    history = MetricHistory()
    base = sample_snapshot()
    for n in range(120):
        activity = first if n < 60 else second
        history.add(
            _replace(base, taken_at=base.taken_at + timedelta(seconds=n), table_activity=activity)
        )
    copies = {id(s.writes) for s in history.samples}
    assert len(copies) == 2
    assert history.samples[-1].writes["public.t_5"] == 6
