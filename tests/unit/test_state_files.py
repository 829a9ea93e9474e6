"""Damaged state files never stop the console. Every kind — checklist runs, the audit log, the
incident, the alert history — is validated on read: a file that does not fit is set aside as
NAME.corrupt-PID, byte for byte (the audit log, append-only, keeps its bad line and skips it),
and a message names the file and what was set aside or skipped. A save cut short by a kill
(atomic.write_text's ``.NAME-XXXXXXXX.tmp``) is recovered when it is complete and newer than the
file, else removed, and said."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engflow_tui.actions.audit import AuditLog
from engflow_tui.alerts.engine import AlertEngine, AlertStore
from engflow_tui.alerts.metrics import Metric
from engflow_tui.alerts.rules import load_rules
from engflow_tui.checklists.loader import load_catalog
from engflow_tui.checklists.run import ChecklistRun, RunStore
from engflow_tui.incidents.log import IncidentLog, IncidentStore, to_dict

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
DEEP = "[" * 100_000 + "]" * 100_000
"""Valid JSON nested past Python's recursion limit (RecursionError in json.loads)."""

# The shapes every JSON file kind must survive, besides its own field-by-field ones.
NOT_AN_OBJECT = [
    pytest.param("[1, 2]", id="a-list"),
    pytest.param('"x"', id="a-string"),
    pytest.param("null", id="null"),
    pytest.param("42", id="a-number"),
    pytest.param("", id="empty"),
    pytest.param('{"run_id": "daily-mor', id="truncated"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
    pytest.param(DEEP, id="nested-100000-deep"),
]


def write(path: Path, content: str | bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    path.write_bytes(data)
    return data


def assert_set_aside(path: Path, original: bytes, messages: list[str], what: str) -> None:
    """The file is gone from its place, kept whole beside it, and one message says so."""
    assert not path.exists()
    aside = path.with_name(f"{path.name}.corrupt-{os.getpid()}")
    assert aside.read_bytes() == original, "never data loss: the bad file is kept as it was"
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{what} {path} was unreadable ("), messages[0]
    assert messages[0].endswith(f"; set aside as {aside.name}"), messages[0]
    assert "Traceback" not in messages[0]


def leftover_save(path: Path, content: str | bytes, age: float, tag: str = "k3x9q2w7") -> Path:
    """A temporary file as atomic.write_text leaves it when killed before its rename."""
    tmp = path.parent / f".{path.name}-{tag}.tmp"
    write(tmp, content)
    then = time.time() - age
    os.utime(tmp, (then, then))
    return tmp


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


# ------------------------------------------------------------------------------ checklist runs


def good_run(run_id_suffix: str = "") -> dict[str, Any]:
    checklist = load_catalog().checklists["daily-morning"]
    run = ChecklistRun.start(checklist, "prod", "alice", NOW)
    run.run_id += run_id_suffix
    run.toggle("open-dashboard", "alice", NOW)
    return run.as_dict()


def run_with(**changes: Any) -> str:
    data = good_run()
    data.update(changes)
    return json.dumps(data)


def run_with_item(**changes: Any) -> str:
    data = good_run()
    data["items"][0].update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    "content",
    [
        *NOT_AN_OBJECT,
        pytest.param(run_with(items="open-dashboard"), id="items-a-string"),
        pytest.param(run_with(items=[1, 2]), id="items-numbers"),
        pytest.param(run_with(items=None), id="items-null"),
        pytest.param(run_with(started_at=None), id="started_at-null"),
        pytest.param(run_with(started_at="this morning"), id="started_at-not-a-time"),
        pytest.param(run_with(finished_at=20261129), id="finished_at-a-number"),
        pytest.param(run_with(run_id=5), id="run_id-a-number"),
        pytest.param(run_with(run_id="../../etc/x"), id="run_id-a-path"),
        pytest.param(run_with(title=["Daily"]), id="title-a-list"),
        pytest.param(run_with(mode="robot"), id="mode-unknown"),
        pytest.param(run_with(events="started"), id="events-a-string"),
        pytest.param(run_with(events=[1]), id="events-numbers"),
        pytest.param(run_with(events=[{"at": NOW.isoformat(), "text": 5}]), id="event-text-number"),
        pytest.param(run_with_item(status="maybe"), id="item-status-unknown"),
        pytest.param(run_with_item(status=None), id="item-status-null"),
        pytest.param(run_with_item(kind="robot"), id="item-kind-unknown"),
        pytest.param(run_with_item(id=None), id="item-id-null"),
        pytest.param(run_with_item(note=["x"]), id="item-note-a-list"),
        pytest.param(run_with_item(overridden="yes"), id="item-overridden-a-string"),
        pytest.param(run_with_item(checked_at="noon"), id="item-checked_at-not-a-time"),
    ],
)
def test_a_run_that_does_not_fit_is_set_aside_and_the_others_kept(
    tmp_path: Path, content: str | bytes
) -> None:
    store = RunStore(tmp_path)
    good = ChecklistRun.from_dict(good_run("-good"))
    store.save(good)
    bad = tmp_path / "daily-morning-20261129T080000-bad0.json"
    original = write(bad, content)
    runs = store.all()
    assert [r.run_id for r in runs] == [good.run_id]
    assert [r.run_id for r in store.unfinished("prod")] == [good.run_id]
    for run in runs:  # what the console then does with them
        run.counts()
        run.started()
    assert_set_aside(bad, original, store.problems, "checklist run")


def test_resuming_a_run_that_no_longer_fits_is_refused_clearly(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = ChecklistRun.from_dict(good_run())
    path = store.path(run.run_id)
    write(path, run_with_item(status="maybe"))
    with pytest.raises(ValueError, match=r"items\[0\]\.status 'maybe' is not one of"):
        store.load(run.run_id)


# ------------------------------------------------------------------------------ the audit log


def audit_record(
    action: str, ts: str = "2026-11-29T08:00:00.000000Z", event: str = "finished"
) -> str:
    """One line as AuditLog writes it."""
    return json.dumps(
        {
            "ts": ts,
            "event": event,
            "operator": "ana",
            "target": "prod",
            "action": action,
            "statement": "ANALYZE",
            "targets": [{"key": "t", "label": "t"}],
            "outcomes": [{"target": "t", "status": "ok", "message": ""}],
            "summary": "1 analyzed",
        }
    )


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("[1, 2]", "not an object"),
        ('"x"', "not an object"),
        ("null", "not an object"),
        ("42", "not an object"),
        ('{"ts": "2026-11-29T08:00:00Z", "event": "fini', "not JSON"),
        (DEEP, "nested too deeply"),
        ('{"ts": 5, "event": "finished"}', "ts must be text"),
        ('{"event": "finished"}', "ts must be text"),
        ('{"ts": "2026-11-29T08:00:00Z", "event": ["finished"]}', "event must be text"),
        ('{"ts": "2026-11-29T08:00:00Z", "event": "finished", "action": {"a": 1}}', "action"),
        ('{"ts": "2026-11-29T08:00:00Z", "event": "finished", "targets": "pid 1"}', "targets"),
        ('{"ts": "2026-11-29T08:00:00Z", "event": "failed", "outcomes": [1]}', "outcomes"),
        ('{"ts": "2026-11-29T08:00:00Z", "event": "failed", "error": 3}', "error"),
    ],
)
def test_an_audit_line_that_does_not_fit_is_skipped_and_said_the_rest_kept(
    tmp_path: Path, line: str, why: str
) -> None:
    path = tmp_path / "audit.jsonl"
    text = "\n".join([audit_record("first"), line, audit_record("third")]) + "\n"
    write(path, text)
    audit = AuditLog(path, "ana")
    records = audit.read_recent()
    assert [r["action"] for r in records] == ["third", "first"]
    problems = audit.take_problems()
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"audit log {path}: line 2 unreadable ("), problems[0]
    assert why in problems[0]
    assert problems[0].endswith("), skipped")
    assert path.read_text() == text, "the audit log is append-only: never rewritten"
    # Read again (the incident clock re-reads it on every change): said once, not every second.
    assert [r["action"] for r in audit.read_recent()] == ["third", "first"]
    assert audit.take_problems() == []
    # The incident timeline takes the good records.
    log = IncidentLog(None, lambda: NOW)
    log.declare("slow", 2, "", "ana", "prod", at=datetime(2026, 11, 29, 7, 0, tzinfo=UTC))
    assert log.sync_audit(reversed(records)) == 2


def test_a_bad_line_far_into_a_big_audit_log_is_named_by_its_line(tmp_path: Path) -> None:
    # Only the last 2 MB are read: the line cut in half there is no bad line, and a bad line
    # after it still gets its number in the whole file.
    path = tmp_path / "audit.jsonl"
    lines = [audit_record(f"a{n}" + "x" * 20_000) for n in range(150)]  # ~3 MB
    lines.insert(140, "[1, 2]")
    write(path, "\n".join(lines) + "\n")
    audit = AuditLog(path, "ana")
    records = audit.read_recent(500)
    assert all(r["event"] == "finished" for r in records)
    assert records[0]["action"].startswith("a149x")
    assert audit.take_problems() == [
        f"audit log {path}: line 141 unreadable (not an object), skipped"
    ]


# ------------------------------------------------------------------------------ the incident


def good_incident() -> dict[str, Any]:
    log = IncidentLog(None, lambda: NOW)
    log.declare("Database unreachable", 1, "every user", "ana", "prod")
    log.note("looking")
    assert log.incident is not None
    return to_dict(log.incident)


def incident_with(**changes: Any) -> str:
    data = good_incident()
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    "content",
    [
        *NOT_AN_OBJECT,
        pytest.param("{}", id="no-field"),
        pytest.param(incident_with(severity="high"), id="severity-text"),
        pytest.param(incident_with(severity=7), id="severity-7"),
        pytest.param(incident_with(severity=True), id="severity-true"),
        pytest.param(incident_with(declared_at=None), id="declared_at-null"),
        pytest.param(incident_with(declared_at="soon"), id="declared_at-not-a-time"),
        pytest.param(incident_with(declared_at="2026-11-29T08:00:00"), id="declared_at-no-zone"),
        pytest.param(incident_with(title=5), id="title-a-number"),
        pytest.param(incident_with(status="PANIC"), id="status-unknown"),
        pytest.param(incident_with(timeline="x"), id="timeline-a-string"),
        pytest.param(incident_with(timeline=[1]), id="timeline-numbers"),
        pytest.param(
            incident_with(
                timeline=[{"at": NOW.isoformat(), "kind": "note", "text": "x", "data": [1]}]
            ),
            id="timeline-data-a-list",
        ),
        pytest.param(
            incident_with(escalations=[{"at": None, "levels": 5, "severity": 1, "note": ""}]),
            id="escalation-levels-a-number",
        ),
    ],
)
def test_an_incident_file_that_does_not_fit_is_set_aside(
    tmp_path: Path, content: str | bytes
) -> None:
    path = tmp_path / "incident.json"
    original = write(path, content)
    log = IncidentLog(IncidentStore(path), lambda: NOW)
    assert log.incident is None
    assert log.store is not None
    assert_set_aside(path, original, [log.store.problem or ""], "incident file")
    # The console goes on: the audit records are read into no incident, a new one can be declared.
    assert log.sync_audit([json.loads(audit_record("a"))]) == 0
    log.declare("again", 2, "", "ana", "prod")
    assert IncidentLog(IncidentStore(path)).resumed


# ------------------------------------------------------------------------------ the alert history


def good_alerts(**active: Any) -> dict[str, Any]:
    item = {
        "key": "connection_pool_full",
        "since": NOW.isoformat(),
        "value": 98.0,
        "peak": 98.0,
        "message": "98 %",
        "acknowledged": False,
    }
    item.update(active)
    return {"active": [item], "history": [{"event": "fired", "at": NOW.isoformat()}]}


@pytest.mark.parametrize(
    "content",
    [
        *NOT_AN_OBJECT,
        pytest.param('{"active": "x"}', id="active-a-string"),
        pytest.param('{"active": [1]}', id="active-numbers"),
        pytest.param('{"history": [1]}', id="history-numbers"),
        pytest.param(json.dumps({"history": [{"at": 5}]}), id="history-at-a-number"),
        pytest.param(json.dumps(good_alerts(key=5)), id="key-a-number"),
        pytest.param(json.dumps(good_alerts(since="soon")), id="since-not-a-time"),
        pytest.param(json.dumps(good_alerts(since="2026-11-29T08:00:00")), id="since-no-zone"),
        pytest.param(json.dumps(good_alerts(value=[1])), id="value-a-list"),
        pytest.param(json.dumps(good_alerts(value="98")), id="value-text"),
        pytest.param(json.dumps(good_alerts(peak="inf")), id="peak-text"),  # null: +inf
        pytest.param(json.dumps(good_alerts(acknowledged="no")), id="acknowledged-text"),
        pytest.param(json.dumps(good_alerts(message=["x"])), id="message-a-list"),
    ],
)
def test_an_alert_history_that_does_not_fit_is_set_aside(
    tmp_path: Path, content: str | bytes
) -> None:
    path = tmp_path / "alerts-prod.json"
    original = write(path, content)
    store = AlertStore(path)
    engine = AlertEngine(load_rules(), store, repeat_interval=600)
    assert engine.alerts() == ()
    assert_set_aside(path, original, [store.problem or ""], "alert history")
    # The next poll runs and saves a fresh history.
    engine.evaluate({"connections.usage_pct": {"": Metric(50, "50 %")}}, NOW)


def test_a_good_alert_history_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "alerts-prod.json"
    write(path, json.dumps(good_alerts()))
    store = AlertStore(path)
    engine = AlertEngine(load_rules(), store, repeat_interval=600)
    assert [a.key for a in engine.alerts()] == ["connection_pool_full"]
    assert store.problem is None


# ------------------------------------------------------------------- saves cut short by a kill


def incident_file(tmp_path: Path) -> tuple[Path, str, str, Any]:
    """(path, good content, another good content, reader -> (title or None, messages))"""

    def read(path: Path) -> tuple[Any, list[str]]:
        store = IncidentStore(path)
        log = IncidentLog(store, lambda: NOW)
        return (log.incident.title if log.incident else None), [
            store.problem
        ] if store.problem else []

    return tmp_path / "incident.json", incident_with(title="old"), incident_with(title="new"), read


def alert_file(tmp_path: Path) -> tuple[Path, str, str, Any]:
    def read(path: Path) -> tuple[Any, list[str]]:
        store = AlertStore(path)
        engine = AlertEngine(load_rules(), store, repeat_interval=600)
        alerts = engine.alerts()
        return (alerts[0].message if alerts else None), [store.problem] if store.problem else []

    return (
        tmp_path / "alerts-prod.json",
        json.dumps(good_alerts(message="old")),
        json.dumps(good_alerts(message="new")),
        read,
    )


def run_file(tmp_path: Path) -> tuple[Path, str, str, Any]:
    data = good_run()

    def read(path: Path) -> tuple[Any, list[str]]:
        store = RunStore(path.parent)
        runs = store.all()
        return (runs[0].notes if runs else None), list(store.problems)

    old, new = dict(data, notes="old"), dict(data, notes="new")
    return tmp_path / f"{data['run_id']}.json", json.dumps(old), json.dumps(new), read


KINDS = [
    pytest.param(incident_file, "incident file", id="incident"),
    pytest.param(alert_file, "alert history", id="alerts"),
    pytest.param(run_file, "checklist run", id="checklist-run"),
]


@pytest.mark.parametrize(("kind", "what"), KINDS)
def test_a_complete_newer_save_left_by_a_kill_is_recovered(tmp_path: Path, kind, what: str) -> None:  # type: ignore[no-untyped-def]
    path, old, new, read = kind(tmp_path)
    write(path, old)
    age(path, 120)
    tmp = leftover_save(path, new, age=60)
    value, messages = read(path)
    assert value == "new"
    assert not tmp.exists()
    assert messages == [f"{what} {path}: recovered the save a kill interrupted ({tmp.name})"]


@pytest.mark.parametrize(("kind", "what"), KINDS)
def test_a_first_save_left_by_a_kill_is_recovered(tmp_path: Path, kind, what: str) -> None:  # type: ignore[no-untyped-def]
    path, _, new, read = kind(tmp_path)
    tmp = leftover_save(path, new, age=60)
    value, messages = read(path)
    assert value == "new"
    assert messages == [f"{what} {path}: recovered the save a kill interrupted ({tmp.name})"]


@pytest.mark.parametrize(("kind", "what"), KINDS)
@pytest.mark.parametrize(
    ("tmp_content", "tmp_age", "reason"),
    [
        pytest.param('{"id": "INC-', 60, "incomplete", id="cut-in-half"),
        pytest.param("", 60, "incomplete", id="empty"),
        pytest.param("[1, 2]", 60, "incomplete", id="complete-json-wrong-shape"),
        pytest.param(None, 300, "older than the file", id="older-than-the-file"),
    ],
)
def test_an_incomplete_or_older_save_is_removed_and_the_file_kept(  # type: ignore[no-untyped-def]
    tmp_path: Path, kind, what: str, tmp_content: str | None, tmp_age: float, reason: str
) -> None:
    path, old, new, read = kind(tmp_path)
    write(path, old)
    age(path, 120)
    tmp = leftover_save(path, new if tmp_content is None else tmp_content, age=tmp_age)
    value, messages = read(path)
    assert value == "old"
    assert not tmp.exists()
    assert len(messages) == 1
    assert messages[0].startswith(f"{what} {path}: removed {tmp.name}, a save cut short ({reason}")


@pytest.mark.parametrize(("kind", "what"), KINDS)
def test_a_save_in_flight_in_another_console_is_left_alone(tmp_path: Path, kind, what: str) -> None:  # type: ignore[no-untyped-def]
    path, old, new, read = kind(tmp_path)
    write(path, old)
    age(path, 120)
    tmp = leftover_save(path, new[: len(new) // 2], age=0)  # being written right now
    value, messages = read(path)
    assert value == "old"
    assert tmp.exists()
    assert messages == []
