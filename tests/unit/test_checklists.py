"""Checklists as data: every shipped list parses and carries the runbook's items and thresholds;
bad user files are reported by file and field without stopping the others; runs, verdicts and
exports behave as an operator expects."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engflow_tui.checklists.export import render_json, render_markdown
from engflow_tui.checklists.loader import RUNBOOK_ORDER, load_catalog, shipped_files
from engflow_tui.checklists.model import Condition, Item
from engflow_tui.checklists.run import ChecklistRun, RunStore
from engflow_tui.checklists.verify import METRICS, Facts, Verdict, verdict
from engflow_tui.model import (
    Alert,
    ConnectionStats,
    DbState,
    Health,
    RlsStatus,
    Severity,
    SlowQueries,
    Snapshot,
    TableRls,
)

RUNBOOK = (Path(__file__).resolve().parents[1] / "data" / "engflow-runbook.md").read_text()
NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)

# checklist id -> blocks of the runbook (start marker, end marker) and the line patterns that
# are items there (checkboxes, printed boxes, sub-bullets, numbered steps, script comments).
BOX = r"^\s*- \[ \] (.+)$"
PRINTED = r"^\s*□ (.+)$"
SUB = r"^\s{2,}- (.+)$"
STEP = r"^\d+\. \*\*[^*]+\*\*: (.+)$"
COMMENT = r"^\s*#+ (?!\d+\.)(?!!)([A-ZÀ-Úa-z].+)$"
SQL_COMMENT = r"^-- (.+)$"
NUMBERED_COMMENT = r"^# \d+\. (.+)$"
SPEC: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "daily-morning": [
        ("#### Manhã", "#### Tarde", (BOX, SUB)),
        ("Morning Check (08:00):", "Afternoon Check", (PRINTED,)),
    ],
    "daily-afternoon": [
        ("#### Tarde", "#### Noite", (BOX, SUB)),
        ("Afternoon Check (14:00):", "Evening Check", (PRINTED,)),
    ],
    "daily-evening": [
        ("#### Noite", "### Weekly Operations", (BOX, SUB)),
        ("Evening Check (18:00):", "Notes:", (PRINTED,)),
    ],
    "weekly-operations": [
        ("#### Performance Review", "### Monthly Operations", (COMMENT, SQL_COMMENT))
    ],
    "monthly-operations": [("### Monthly Operations", "## 📊", (BOX,))],
    "weekly-maintenance": [
        ("#### Weekly (Domingo", "#### Monthly (1º", (BOX,)),
        ("#### Weekly Maintenance", "#### Pre-Deployment", (NUMBERED_COMMENT,)),
    ],
    "monthly-maintenance": [("#### Monthly (1º", "#### Quarterly", (BOX,))],
    "quarterly": [("#### Quarterly", "### Maintenance Scripts", (BOX,))],
    "pre-deployment": [("#### Pre-Deployment Checklist", "## 📞", (NUMBERED_COMMENT,))],
    "incident-response": [("### Incident Response Checklist", "Incident Lead", (PRINTED,))],
    "sev1": [("#### SEVERITY 1", "#### SEVERITY 2", (STEP, SUB, COMMENT))],
    "sev2": [("#### SEVERITY 2", "#### SEVERITY 3", (STEP, SUB, COMMENT))],
    "sev3": [("#### SEVERITY 3", "### Rollback Procedures", (STEP, SUB))],
}


def _clean(text: str) -> str:
    return text.replace("**", "").replace("`", "").strip()


def runbook_items(checklist_id: str) -> list[str]:
    found: list[str] = []
    lines = RUNBOOK.splitlines()
    for start, end, patterns in SPEC[checklist_id]:
        i = next(n for n, line in enumerate(lines) if line.startswith(start) or line == start)
        indicators = False
        for line in lines[i + 1 :]:
            if line.startswith(end):
                break
            if line.startswith("**Indicadores"):
                indicators = True  # the SEV indicators describe the situation, not steps
            elif line.startswith("**Ações"):
                indicators = False
            if indicators:
                continue
            for pattern in patterns:
                m = re.match(pattern, line)
                if m:
                    found.append(_clean(m.group(1)))
                    break
    return found


CATALOG = load_catalog()


def test_every_shipped_checklist_loads_in_runbook_order() -> None:
    assert CATALOG.problems == ()
    assert list(CATALOG.checklists) == list(RUNBOOK_ORDER)
    assert {p.stem for p in shipped_files()} == set(RUNBOOK_ORDER)


@pytest.mark.parametrize("checklist_id", list(SPEC))
def test_checklist_has_every_runbook_item(checklist_id: str) -> None:
    expected = runbook_items(checklist_id)
    assert expected, "the runbook block was not found"
    checklist = CATALOG.checklists[checklist_id]
    words = {_clean(w) for item in checklist.items for w in item.runbook} | set(checklist.sections)
    missing = [e for e in expected if e not in words]
    assert missing == []


def test_thresholds_are_the_runbooks() -> None:
    """A condition's number is written in the item's text, and in the runbook's words when those
    carry one (so 80 % stays 80 %)."""
    for checklist in CATALOG.checklists.values():
        for item in checklist.items:
            for c in item.verify:
                if c.value is None or c.op == "==":
                    continue
                number = f"{c.value:g}"
                assert number in item.text.replace(" ", ""), (checklist.id, item.id)
                runbook_numbers = [w for w in item.runbook if re.search(r"\d", w)]
                if runbook_numbers and checklist.id != "sev2":
                    assert any(number in w for w in runbook_numbers), (checklist.id, item.id)


def test_sev_checklists_are_time_boxed() -> None:
    sev1 = CATALOG.checklists["sev1"]
    assert sev1.timed
    assert [i.timebox for i in sev1.items][:2] == ["0-2 min", "2-5 min"]
    assert sev1.items[0].open == "Emergency fallback"


def test_a_bad_user_file_names_file_and_field_and_the_others_load(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text(
        'title = "Mine"\n[[sections]]\ntitle = "S"\n[[sections.items]]\nid = "a"\ntext = "x"\n'
        'verify = [{ metric = "connections.usage", op = "<", value = 80 }]\n'
    )
    (tmp_path / "syntax.toml").write_text("title = \n")
    (tmp_path / "typo.toml").write_text(
        'title = "T"\n[[sections]]\ntitle = "S"\n[[sections.items]]\nid = "a"\ntxt = "x"\n'
    )
    (tmp_path / "good.toml").write_text(
        'title = "Release gate"\n[[sections]]\ntitle = "Gate"\n[[sections.items]]\nid = "conn"\n'
        'text = "connections < 50 %"\nverify = [{ metric = "connections.usage_pct", op = "<", value = 50 }]\n'
    )
    catalog = load_catalog(tmp_path)
    assert "good" in catalog.checklists and "daily-morning" in catalog.checklists
    problems = "\n".join(catalog.problems)
    assert (
        f"{tmp_path / 'broken.toml'}: sections[0].items[0].verify[0].metric: unknown metric "
        in problems
    )
    assert "did you mean 'connections.usage_pct'?" in problems
    assert "syntax.toml: TOML syntax error" in problems
    assert "typo.toml: sections[0].items[0].txt: unknown field (did you mean 'text'?)" in problems
    assert len(catalog.problems) == 3


def _snapshot(**over: object) -> Snapshot:
    base = {
        "target": "prod",
        "taken_at": NOW,
        "health": Health(
            DbState.CONNECTED, latency_ms=3.0, cache_hit_pct=99.0, xact_commit=1000, xact_rollback=0
        ),
        "connections": ConnectionStats(85, 100, 3, {"active": 85}, None, ()),
        "slow_queries": SlowQueries(100.0, ()),
        "rls": RlsStatus(
            schemas=("public",),
            tables=(
                TableRls("public", "a", True, False, 2),
                TableRls("public", "b", False, False, 0),
            ),
        ),
    }
    base.update(over)
    return Snapshot(**base)  # type: ignore[arg-type]


def _item(*conditions: Condition) -> Item:
    return Item("x", "x", "S", verify=conditions)


@pytest.mark.parametrize(
    ("condition", "status", "value"),
    [
        (Condition(metric="connections.usage_pct", op="<", value=80), "fail", "85 %"),
        (Condition(metric="connections.usage_pct", op="<", value=90), "pass", "85 %"),
        (Condition(metric="rls.tables_without_rls", op="==", value=0), "fail", "1"),
        (Condition(metric="cache.hit_rate_pct", op=">", value=80), "pass", "99.0 %"),
        (Condition(metric="api.response_ms", op="<", value=500), "pending", None),
        (Condition(metric="db.reachable", op="==", value=1), "pass", "reachable"),
        (Condition(diagnose="integrity.orphans"), "pending", None),
    ],
)
def test_verdicts(condition: Condition, status: str, value: str | None) -> None:
    v = verdict(_item(condition), Facts(_snapshot(), target="prod"), NOW)
    assert (v.status, v.value) == (status, value)
    if status == "pending":
        assert v.detail  # says why it could not be measured
    if condition.metric == "api.response_ms":
        assert "targets.prod.rest_url" in v.detail


def test_one_failing_condition_fails_the_item_and_down_database_is_not_a_pass() -> None:
    item = _item(
        Condition(metric="db.reachable", op="==", value=1),
        Condition(metric="connections.usage_pct", op="<", value=80),
    )
    assert verdict(item, Facts(_snapshot()), NOW).status == "fail"
    down = _snapshot(health=Health(DbState.DOWN, error="connection refused"))
    v = verdict(item, Facts(down), NOW)
    assert v.status == "fail" and "connection refused" in v.detail


def test_critical_alerts_counted() -> None:
    alert = Alert("db.down", "db.down", Severity.CRITICAL, "Database Down", "m")
    v = verdict(
        _item(Condition(metric="alerts.critical", op="==", value=0)),
        Facts(_snapshot(), alerts=(alert,)),
        NOW,
    )
    assert v.status == "fail" and "Database Down" in v.detail


def test_every_metric_named_by_shipped_lists_exists() -> None:
    named = {
        c.metric
        for cl in CATALOG.checklists.values()
        for i in cl.items
        for c in i.verify
        if c.metric
    }
    assert named <= set(METRICS)


def test_run_operations_and_the_rules_an_operator_relies_on(tmp_path: Path) -> None:
    checklist = CATALOG.checklists["daily-morning"]
    run = ChecklistRun.start(checklist, "prod", "alice", NOW)
    run.toggle("open-dashboard", "alice", NOW)
    with pytest.raises(ValueError, match="verified"):
        run.toggle("connections", "alice", NOW)
    with pytest.raises(ValueError, match="why"):
        run.skip("errors-24h", "  ", "alice", NOW)
    run.skip("errors-24h", "no access to the logs tonight", "alice", NOW)
    v = verdict(checklist.item("connections"), Facts(_snapshot()), NOW)
    run.record("connections", v, "console")
    assert run.item("connections").status == "fail"
    with pytest.raises(ValueError, match="only with a note"):
        run.override("connections", "", "alice", NOW)
    run.override("connections", "batch import until 09:00", "alice", NOW)
    assert run.item("connections").status == "done" and run.item("connections").overridden
    # A re-check keeps the operator's override (failing, or unmeasurable with the database down)
    # but updates the measured value; only a pass clears it.
    run.record("connections", v, "console")
    assert run.item("connections").status == "done"
    down = Verdict("pending", None, "cannot measure: the database does not answer", NOW)
    run.record("connections", down, "console")
    item = run.item("connections")
    assert (
        item.status == "done"
        and item.overridden
        and item.override_reason == "batch import until 09:00"
    )
    assert "does not answer" in (item.detail or "")
    # The same verdict twice is one event, not two.
    before = len(run.events)
    run.record("cache-hit", Verdict("pass", "99 %", "", NOW), "console")
    run.record("cache-hit", Verdict("pass", "98 %", "", NOW), "console")
    assert len(run.events) == before + 1 and run.item("cache-hit").value == "98 %"
    # A skipped auto item can be taken back.
    run.skip("error-rate", "metrics lag tonight", "alice", NOW)
    run.unskip("error-rate", "alice", NOW)
    assert run.item("error-rate").status == "pending" and run.item("error-rate").skip_reason is None
    assert {i.id for i in run.outstanding()} >= {"errors-24h", "cpu-memory"}
    assert "connections" not in {i.id for i in run.outstanding()}

    store = RunStore(tmp_path)
    store.save(run)
    again = store.load(run.run_id)
    assert again.item("errors-24h").skip_reason == "no access to the logs tonight"
    assert store.unfinished("prod")[0].run_id == run.run_id
    again.finish("alice", NOW + timedelta(minutes=20), "quiet morning")
    store.save(again)
    assert store.unfinished("prod") == []
    assert (tmp_path / f"{run.run_id}.json").stat().st_mode & 0o777 == 0o600


def test_an_unreadable_run_file_is_set_aside_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "daily-morning-x.json").write_text("{not json")
    store = RunStore(tmp_path)
    assert store.all() == []
    assert "set aside" in store.problems[0]
    assert (tmp_path / f"daily-morning-x.json.corrupt-{os.getpid()}").read_text() == "{not json"


def test_markdown_export_has_the_printed_layout_and_json_the_contract() -> None:
    checklist = CATALOG.checklists["daily-morning"]
    run = ChecklistRun.start(checklist, "prod", "alice", NOW)
    run.toggle("open-dashboard", "alice", NOW)
    run.set_note("open-dashboard", "all green", "alice", NOW)
    run.record(
        "connections", verdict(checklist.item("connections"), Facts(_snapshot()), NOW), "console"
    )
    run.finish("alice", NOW + timedelta(minutes=9), "ok")
    md = render_markdown(run)
    assert md.startswith("# Daily Operations - 2026-11-29\n")
    assert "Morning Check (08:00):" in md
    assert "- [x] Open the Supabase Dashboard" in md and "  - Note: all green" in md
    assert "- [ ] Database connections < 80 % of the limit — **FAILED**: 85 %" in md
    assert "Completed by: alice" in md and "Finished: 2026-11-29T08:09:00Z" in md
    data = json.loads(render_json(run))
    item = next(i for i in data["items"] if i["id"] == "connections")
    assert {k: item[k] for k in ("id", "kind", "status", "value")} == {
        "id": "connections",
        "kind": "auto",
        "status": "fail",
        "value": "85 %",
    }
    assert data["auto_status"] == "fail"
    assert {i["status"] for i in data["items"]} <= {"pass", "fail", "pending", "done", "skipped"}


async def test_afternoon_items_read_the_7_day_baselines_of_the_history_store(
    tmp_path: Path,
) -> None:
    """Active users and CRUD per hour against their stored baselines; data growth as a trend."""
    from dataclasses import replace

    from engflow_tui.checklists.session import ChecklistSession
    from engflow_tui.config import Config, TargetConfig
    from engflow_tui.history.store import HistorySample, HistoryStore
    from engflow_tui.history.worker import StoreThread
    from engflow_tui.monitor import Monitor

    from ..fixed_source import FixedSource, sample_snapshot

    start = datetime(2026, 11, 1, tzinfo=UTC)
    now = start + timedelta(days=8)
    clock = [start]
    path = tmp_path / "history-prod.sqlite"
    store = HistoryStore(path, clock=lambda: clock[0])
    t = start
    while t <= now:  # 40 users and 120 inserts/hour for a week; 100 and 600 in the last hour
        recent = now - t < timedelta(hours=1)
        days = (t - start).total_seconds() / 86400
        store.write(
            HistorySample(
                t,
                600.0,
                {
                    ("users.active", ""): 100.0 if recent else 40.0,
                    ("table.ins", "public.orders"): 100.0 if recent else 20.0,
                    ("db.size", ""): 1e9 + days * 1e8,
                },
            )
        )
        if t.minute == 0:
            clock[0] = t
            store.maintain()
        t += timedelta(minutes=10)
    clock[0] = now
    store.maintain()
    store.conn.close()

    target = TargetConfig(name="prod", dsn="postgresql://unused@127.0.0.1/x")
    snap = replace(sample_snapshot(), taken_at=now, active_users=100)
    snap = replace(snap, health=replace(snap.health, database_size_bytes=int(1.8e9)))
    thread = StoreThread(path, clock=lambda: now)
    monitor = Monitor(
        FixedSource(snap), Config(targets={"prod": target}), target, history_store=thread
    )
    try:
        await monitor.poll()
        checklist = CATALOG.checklists["daily-afternoon"]
        run = ChecklistRun.start(checklist, "prod", "ana", now)
        session = ChecklistSession(
            checklist, run, RunStore(tmp_path / "runs"), monitor, "ana", clock=lambda: now
        )
        await session.verify(["active-users", "crud-per-hour", "data-growth"])
    finally:
        await monitor.close()
    users = run.item("active-users")
    assert users.status == "pass" and users.value == "100"
    assert "vs a 7-day baseline of 40 (x2.5)" in (users.detail or "")
    crud = run.item("crud-per-hour")
    assert crud.value == "600/h" and "public.orders 600/h" in (crud.detail or "")
    assert "7-day baseline 120/h" in (crud.detail or "")
    growth = run.item("data-growth")
    assert growth.value == "1.80 GB" and "+3.000 GB/month" in (growth.detail or "")


def test_a_printed_heading_with_an_unknown_placeholder_is_refused_by_the_loader(
    tmp_path: Path,
) -> None:
    (tmp_path / "release.toml").write_text(
        'title = "Release"\nprinted_heading = "Release {version} - {date}"\n'
        '[[sections]]\ntitle = "S"\n[[sections.items]]\nid = "a"\ntext = "x"\n'
    )
    catalog = load_catalog(tmp_path)
    assert "release" not in catalog.checklists
    assert "release.toml: printed_heading: unknown placeholder {version}" in catalog.problems[0]


def test_a_run_file_from_a_newer_version_stays_readable(tmp_path: Path) -> None:
    run = ChecklistRun.start(CATALOG.checklists["quarterly"], "prod", "ana", NOW)
    data = run.as_dict()
    data["signature_v2"] = "future"
    data["items"][0]["evidence"] = ["screenshot.png"]
    (tmp_path / f"{run.run_id}.json").write_text(json.dumps(data))
    store = RunStore(tmp_path)
    assert [r.run_id for r in store.all()] == [run.run_id] and store.problems == []


def test_a_run_whose_checklist_changed_is_walked_as_saved() -> None:
    from dataclasses import replace as dc_replace

    from engflow_tui.checklists.model import for_run

    checklist = CATALOG.checklists["pre-deployment"]
    run = ChecklistRun.start(checklist, "prod", "ana", NOW)
    changed = dc_replace(checklist, items=checklist.items[1:] + (Item("new", "New step", "S"),))
    walked, warning = for_run(changed, run)
    assert [i.id for i in walked.items] == [s.id for s in run.items]
    assert warning and "1 item(s) kept as saved" in warning and "1 new item(s)" in warning
    gone, warning = for_run(None, run)
    assert len(gone.items) == 5 and "no longer installed" in (warning or "")
