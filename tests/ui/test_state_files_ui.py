"""Damaged state files through the real console: it starts, keeps polling and says which file
was set aside or which line was skipped — a bad audit line with an incident open, `L` on a log
with a `[1, 2]` line, `C` and a start with a run file that does not fit."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.widgets import DataTable, Static

from engflow_tui.checklists.loader import load_catalog
from engflow_tui.checklists.run import ChecklistRun
from engflow_tui.incidents.log import IncidentLog, IncidentStore
from engflow_tui.screens.audit_log_screen import AuditLogScreen
from engflow_tui.screens.table_picker_modal import TablePickerModal
from engflow_tui.ui.app import EngFlowApp

from ..pg import wait_for
from ..unit.test_state_files import audit_record
from .helpers import static_text, table_dicts
from .test_incident_ui import Clock
from .test_incident_ui import make_app as incident_app


def make_app(dsn: str, tmp_path: Path) -> EngFlowApp:
    """The incident-mode console of test_incident_ui, on real time."""
    return incident_app(dsn, tmp_path, Clock(None))


def toasts(app: EngFlowApp) -> list[str]:
    return [t.render().plain for t in app.screen.query("Toast")]


async def still_polling(app: EngFlowApp) -> None:
    """The console is up and its data path alive: more snapshots arrive."""
    assert app.dashboard is not None
    seen = app.dashboard.snapshots_applied
    await wait_for(lambda: app.dashboard.snapshots_applied >= seen + 2)
    assert app.is_running


def record(action: str, at: datetime, event: str = "finished") -> str:
    return audit_record(action, at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), event)


def a_run(notes: str = "") -> dict:
    checklist = load_catalog().checklists["daily-morning"]
    run = ChecklistRun.start(checklist, "prod", "ana", datetime.now(UTC))
    run.notes = notes
    return run.as_dict()


async def test_a_start_with_an_incident_open_and_a_bad_audit_line(db18, tmp_path: Path) -> None:
    log = IncidentLog(IncidentStore(tmp_path / "incident.json"))
    log.declare("Slow API", 2, "some users", "ana", "prod")
    after = datetime.now(UTC) + timedelta(seconds=1)
    audit = tmp_path / "audit.jsonl"
    lines = [record("Run ANALYZE", after), "[1, 2]", record("Run ANALYZE", after, "failed")]
    audit.write_text("\n".join(lines) + "\n")
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(120, 40), notifications=True):
        said = f"audit log {audit}: line 2 unreadable (not an object), skipped"
        await wait_for(lambda: any(said in t for t in toasts(app)))
        # The good records reach the open incident's timeline; the console goes on.
        incident = app.incidents.log.incident
        await wait_for(
            lambda: len([e for e in app.incidents.log.incident.timeline if e.kind == "action"]) == 2
        )
        assert incident is not None
        assert incident.title == "Slow API"
        await still_polling(app)
        # Another action is appended: the log is read again, the bad line is not said again.
        lines.append(record("Run ANALYZE", after + timedelta(seconds=1)))
        audit.write_text("\n".join(lines) + "\n")
        await wait_for(
            lambda: len([e for e in app.incidents.log.incident.timeline if e.kind == "action"]) == 3
        )
        assert sum(said in t for t in toasts(app)) == 1
    assert audit.read_text() == "\n".join(lines) + "\n", "the log is never rewritten"


async def test_L_with_a_line_that_is_not_a_record(db18, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    now = datetime.now(UTC)
    audit.write_text("\n".join([record("first", now), "[1,2]", record("third", now)]) + "\n")
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(140, 45), notifications=True) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        await pilot.press("L")
        await wait_for(lambda: isinstance(app.screen, AuditLogScreen))
        rows = table_dicts(app.screen.query_one("#audit-table", DataTable))
        assert [r["action"] for r in rows] == ["third", "first"]
        head = static_text(app.screen.query_one("#audit-path", Static))
        assert "2 recent records, newest first; 1 unreadable line(s) skipped" in head
        said = f"audit log {audit}: line 2 unreadable (not an object), skipped"
        await wait_for(lambda: any(said in t for t in toasts(app)))
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard)
        await still_polling(app)


async def test_C_with_a_run_file_that_does_not_fit(db18, tmp_path: Path) -> None:
    app = make_app(db18.dsn(), tmp_path)
    runs = tmp_path / "state" / "checklists"
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        await wait_for(lambda: app._checklists is not None)  # the start's offer to resume is done
        bad = runs / "daily-morning-20261129T080000-bad0.json"
        runs.mkdir(parents=True, exist_ok=True)
        bad.write_text(json.dumps({**a_run(), "items": "open-dashboard"}))
        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, TablePickerModal))
        said = (
            f"checklist run {bad} was unreadable (items must be a list, not str); "
            f"set aside as {bad.name}.corrupt-{os.getpid()}"
        )
        await wait_for(lambda: any(said in t for t in toasts(app)))
        await pilot.press("escape")
        await still_polling(app)
    assert not bad.exists()
    assert json.loads((runs / f"{bad.name}.corrupt-{os.getpid()}").read_text())["items"] == (
        "open-dashboard"
    )


async def test_a_start_with_a_bad_run_file_and_a_save_cut_short(db18, tmp_path: Path) -> None:
    runs = tmp_path / "state" / "checklists"
    runs.mkdir(parents=True)
    bad = runs / "daily-morning-20261129T080000-bad0.json"
    bad.write_text(json.dumps({**a_run(), "started_at": None}))
    # A run whose first save a kill cut short, complete: it is recovered, and offered.
    kept = a_run(notes="recovered")
    tmp = runs / f".{kept['run_id']}.json-k3x9q2w7.tmp"
    tmp.write_text(json.dumps(kept))
    then = datetime.now().timestamp() - 60
    os.utime(tmp, (then, then))
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(160, 40), notifications=True):
        set_aside = (
            f"checklist run {bad} was unreadable (started_at must be text, not null); "
            f"set aside as {bad.name}.corrupt-{os.getpid()}"
        )
        path = runs / f"{kept['run_id']}.json"
        recovered = f"checklist run {path}: recovered the save a kill interrupted ({tmp.name})"
        await wait_for(lambda: any(set_aside in t for t in toasts(app)))
        await wait_for(lambda: any(recovered in t for t in toasts(app)))
        await wait_for(lambda: any("1 unfinished checklist run(s)" in t for t in toasts(app)))
        await still_polling(app)
    assert json.loads(path.read_text())["notes"] == "recovered"
