"""Checklist walkthrough by keys against a real database: tick, note, verify (fail), override
with a note, skip with a reason, sign through the dialog that lists what is left; the saved run
holds it all. A console killed mid-run (kill -9) loses nothing: the next start offers the run and
resumes it with its ticks and notes."""

from __future__ import annotations

import json
import os
import pty
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from textual.widgets import Button, Input, OptionList, Static

from engflow_tui.checklists.run import RunStore
from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.model import RlsStatus
from engflow_tui.screens.checklist_screen import ChecklistScreen
from engflow_tui.screens.sign_checklist_modal import SignChecklistModal
from engflow_tui.screens.table_picker_modal import TablePickerModal
from engflow_tui.screens.text_prompt_modal import TextPromptModal
from engflow_tui.ui.app import EngFlowApp

from ..pg import session, wait_for
from ..terminal import read_until as _read_until
from .helpers import result_shown, static_text


def make_app(dsn: str, state: Path) -> EngFlowApp:
    target = TargetConfig(name="prod", dsn=dsn)
    config = Config(
        console=ConsoleConfig(
            refresh_interval=0.3, catalog_interval=0.3, operator="alice", state_dir=str(state)
        ),
        targets={"prod": target},
    )
    return EngFlowApp(config, target)


def _state(screen: ChecklistScreen, item_id: str) -> str:
    return screen.session.state(item_id).status


async def _type(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def test_walkthrough_by_keys_is_saved_as_the_operator_left_it(db18, tmp_path: Path) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute("CREATE TABLE public.leaky (id int)")  # RLS off: the check fails
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.monitor.latest is not None)
        await wait_for(lambda: isinstance(app.dashboard.monitor.latest.rls, RlsStatus))
        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, TablePickerModal))
        await _type(pilot, "morning")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ChecklistScreen))
        screen = app.screen
        assert isinstance(screen, ChecklistScreen)
        head = static_text(screen.query_one("#checklist-head", Static))
        assert "Daily operations — morning (08:00)" in head and "run by alice on prod" in head

        await pilot.press("space")  # open-dashboard: manual, ticked
        assert _state(screen, "open-dashboard") == "done"
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, TextPromptModal))
        await _type(pilot, "all green")
        await pilot.press("enter")
        await wait_for(lambda: app.screen is screen)
        assert screen.session.state("open-dashboard").note == "all green"

        await pilot.press("j")  # tables-status: auto, verified when reached -> fails (leaky)
        await wait_for(lambda: _state(screen, "tables-status") == "fail")
        assert '"public"."leaky"' in (screen.session.state("tables-status").detail or "")
        detail = static_text(screen.query_one("#checklist-detail-text", Static))
        assert '"public"."leaky"' in detail and "Enter: open Show RLS status" in detail

        await pilot.press("space")  # a failed auto item: override only with a note
        await wait_for(lambda: isinstance(app.screen, TextPromptModal))
        await pilot.press("enter")  # empty: refused
        assert isinstance(app.screen, TextPromptModal)
        assert "cannot be empty" in static_text(app.screen.query_one("#prompt-error", Static))
        await _type(pilot, "scratch table")
        await pilot.press("enter")
        await wait_for(lambda: _state(screen, "tables-status") == "done")
        assert screen.session.state("tables-status").overridden

        await pilot.press("down")  # errors-24h: skipped, with a reason
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, TextPromptModal))
        await _type(pilot, "no log access")
        await pilot.press("enter")
        await wait_for(lambda: _state(screen, "errors-24h") == "skipped")

        await pilot.press("down", "down", "down", "down")  # past the section heading too
        await wait_for(lambda: _state(screen, "connections") == "pass")

        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, SignChecklistModal))
        listed = static_text(app.screen.query_one("#sign-outstanding", Static))
        assert "Skipped (1):" in listed and "no log access" in listed
        assert "Still open" in listed and "Run the integrity diagnosis" in listed
        # Typing goes to the notes; Enter moves to the buttons, on Cancel.
        assert app.screen.focused is app.screen.query_one("#sign-notes", Input)
        await _type(pilot, "db ok")
        await pilot.press("enter")
        assert app.screen.focused is app.screen.query_one("#cancel", Button)
        await pilot.press("enter")  # Cancel: nothing signed, the notes are not lost
        await wait_for(lambda: app.screen is screen)
        assert screen.session.run.finished_at is None
        assert screen.session.run.notes == "db ok"
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, SignChecklistModal))
        assert app.screen.query_one("#sign-notes", Input).value == "db ok"
        await pilot.press("enter", "tab")  # to the buttons, from Cancel to Sign
        assert app.screen.focused is app.screen.query_one("#sign", Button)
        await pilot.press("enter")
        await wait_for(lambda: screen.session.run.finished_at is not None)
        assert screen.session.run.notes == "db ok"

    saved = RunStore(tmp_path / "checklists").all()
    assert len(saved) == 1
    run = saved[0]
    assert run.signed_by == "alice" and run.operator == "alice" and run.target == "prod"
    by_id = {i.id: i for i in run.items}
    assert by_id["open-dashboard"].status == "done" and by_id["open-dashboard"].note == "all green"
    tables = by_id["tables-status"]
    assert tables.override_reason == "scratch table" and tables.overridden and tables.note == ""
    assert by_id["errors-24h"].skip_reason == "no log access"
    assert by_id["connections"].status == "pass" and by_id["connections"].value.endswith("%")
    assert by_id["fk-violations"].status == "pending"
    assert [e["kind"] for e in run.events][0] == "started" and run.events[-1]["kind"] == "signed"


def test_killed_console_loses_nothing_and_the_next_one_resumes_the_run(db18, tmp_path: Path) -> None:
    """The real console in a pty: tick and note, then kill -9; the file holds both."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "TERM": "xterm-256color"}
    env.pop("ENGFLOW_CONFIG", None)
    pid, fd = pty.fork()
    if pid == 0:  # child: the console
        os.execvpe(
            sys.executable,
            [sys.executable, "-m", "engflow_tui", "--dsn", db18.dsn(), "--refresh", "1s"],
            env,
        )
    try:
        _read_until(fd, r"\d+/\d+ \(\d+ %\)", 30)
        os.write(fd, b"C")
        _read_until(fd, "Run checklist", 10)
        os.write(fd, b"evening")
        time.sleep(0.3)
        os.write(fd, b"\r")
        _read_until(fd, "run by ", 10)
        os.write(fd, b"jjjj")  # to "Tomorrow's maintenance planned" (manual), past the heading
        time.sleep(0.5)
        store = RunStore(tmp_path / "engflow-tui" / "checklists")
        os.write(fd, b" ")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            runs = store.all()
            if runs and any(i.status == "done" for i in runs[0].items):
                break
            time.sleep(0.1)
        os.write(fd, b"n")
        _read_until(fd, "Note on", 10)
        os.write(fd, b"planned with Bob\r")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            runs = store.all()
            if runs and any(i.note for i in runs[0].items):
                break
            time.sleep(0.1)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
    runs = RunStore(tmp_path / "engflow-tui" / "checklists").all()
    assert len(runs) == 1 and runs[0].finished_at is None
    done = [i for i in runs[0].items if i.status == "done"]
    assert [i.id for i in done] == ["maintenance-planned"]
    assert done[0].note == "planned with Bob"
    assert not list((tmp_path / "engflow-tui" / "checklists").glob(".*.tmp"))

    # The next console on that state offers the run, and resuming it shows the tick and note.
    async def resume() -> None:
        target = TargetConfig(name=runs[0].target, dsn=db18.dsn())
        config = Config(
            console=ConsoleConfig(refresh_interval=0.3, state_dir=str(tmp_path / "engflow-tui")),
            targets={target.name: target},
        )
        app = EngFlowApp(config, target)
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(lambda: app.dashboard is not None)
            await wait_for(
                lambda: any("1 unfinished checklist" in str(n.message) for n in app._notifications)
            )
            await pilot.press("C")
            await wait_for(lambda: isinstance(app.screen, TablePickerModal))
            await pilot.press("enter")
            await wait_for(lambda: isinstance(app.screen, ChecklistScreen) and app.screen.is_mounted)
            state = app.screen.session.state("maintenance-planned")
            assert state.status == "done" and state.note == "planned with Bob"

    import asyncio

    asyncio.run(resume())


async def test_resume_offers_the_unfinished_run_with_its_ticks(db18, tmp_path: Path) -> None:
    first = make_app(db18.dsn(), tmp_path)
    async with first.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: first.dashboard is not None)
        first.checklists.start("pre-deployment")
        await wait_for(lambda: isinstance(first.screen, ChecklistScreen))
        await pilot.press("space", "j", "space")
        await wait_for(lambda: first.screen.session.run.counts()["done"] == 2)
    # A new console on the same state: told about the run, and "Run checklist" lists it first.
    second = make_app(db18.dsn(), tmp_path)
    async with second.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: second.dashboard is not None)
        await wait_for(
            lambda: any("1 unfinished checklist" in str(n.message) for n in second._notifications)
        )
        await pilot.press("C")
        await wait_for(lambda: isinstance(second.screen, TablePickerModal))
        options = second.screen.query_one(OptionList)
        first_label = str(options.get_option_at_index(0).prompt)
        assert first_label.startswith("Resume: Pre-deployment") and "(2/5 done)" in first_label
        await pilot.press("enter")
        await wait_for(lambda: isinstance(second.screen, ChecklistScreen))
        states = {i.id: i.status for i in second.screen.session.run.items}
        assert states["tests"] == "done" and states["performance"] == "done"
        assert states["security"] == "pending"
        lst = second.screen.query_one("#checklist-items", OptionList)
        assert lst.highlighted_option is not None and lst.highlighted_option.id == "security"


async def test_enter_opens_the_items_screen_or_action_and_c_comes_back(db18, tmp_path: Path) -> None:
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.monitor.latest is not None)
        app.checklists.start("weekly-operations")
        await wait_for(lambda: isinstance(app.screen, ChecklistScreen) and app.screen.is_mounted)
        await pilot.pause()
        screen = app.screen
        run_id = screen.session.run.run_id
        lst = screen.query_one("#checklist-items", OptionList)
        lst.highlighted = lst.get_option_index("analyze")
        await pilot.press("enter")  # Run ANALYZE: the action's own picker / confirmation
        await wait_for(lambda: app.screen.__class__.__name__ in ("TablePickerModal", "ConfirmActionModal"))
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen)
        lst.highlighted = lst.get_option_index("slow-queries")
        await pilot.press("enter")  # Show slow queries: the dashboard, that panel focused
        await wait_for(lambda: app.screen is app.dashboard)
        await wait_for(
            lambda: any("C brings you back" in str(n.message) for n in app._notifications)
        )
        await pilot.pause()
        assert app.focused is not None and any(
            "slow" in (node.id or "") for node in app.focused.ancestors_with_self
        )
        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, ChecklistScreen))
        assert app.screen.session.run.run_id == run_id
        await pilot.press("escape")  # leaving on purpose: C now offers the picker (run first)
        await wait_for(lambda: app.screen is app.dashboard)
        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, TablePickerModal))
        first = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert first.startswith("Resume: Weekly operations")


async def test_a_run_that_cannot_be_saved_is_never_dropped(db18, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state directory should be")
    app = make_app(db18.dsn(), blocker / "state")
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: app.dashboard is not None)
        app.checklists.start("quarterly")
        await wait_for(lambda: isinstance(app.screen, ChecklistScreen) and app.screen.is_mounted)
        await pilot.pause()
        screen = app.screen
        await pilot.press("space")
        assert screen.session.state("major-versions").status == "done"
        assert screen.session.save_problem and "cannot save" in screen.session.save_problem
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard)
        assert not any("run kept" in str(n.message) for n in app._notifications)
        await pilot.press("C")  # straight back to the unsaved run, its tick intact
        await wait_for(lambda: isinstance(app.screen, ChecklistScreen))
        assert app.screen.session is screen.session
        assert app.screen.session.state("major-versions").status == "done"


async def test_resuming_a_run_whose_checklist_file_changed_keeps_it_walkable(
    db18, tmp_path: Path
) -> None:
    from dataclasses import replace

    lists = tmp_path / "checklists"
    lists.mkdir()
    gate = lists / "gate.toml"
    gate.write_text(
        'title = "Gate"\n[[sections]]\ntitle = "S"\n'
        '[[sections.items]]\nid = "a"\ntext = "first"\n[[sections.items]]\nid = "b"\ntext = "second"\n'
    )

    def app_with_config() -> EngFlowApp:
        app = make_app(db18.dsn(), tmp_path / "state")
        app.config = replace(app.config, path=tmp_path / "config.toml")
        return app

    first = app_with_config()
    async with first.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: first.dashboard is not None)
        first.checklists.start("gate")
        await wait_for(lambda: isinstance(first.screen, ChecklistScreen) and first.screen.is_mounted)
        await pilot.pause()
        await pilot.press("space")
        await wait_for(lambda: first.screen.session.run.counts()["done"] == 1)
    gate.write_text(gate.read_text().replace('id = "b"', 'id = "b2"'))
    second = app_with_config()
    async with second.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: second.dashboard is not None)
        await pilot.press("C")
        await wait_for(lambda: isinstance(second.screen, TablePickerModal))
        await pilot.press("enter")  # "Resume: Gate"
        await wait_for(lambda: isinstance(second.screen, ChecklistScreen) and second.screen.is_mounted)
        await pilot.pause()
        assert any("changed since this run started" in str(n.message) for n in second._notifications)
        await pilot.press("space")  # the highlighted item: "second", kept as saved
        states = {i.id: i.status for i in second.screen.session.run.items}
        assert states == {"a": "done", "b": "done"}


async def test_an_incident_procedure_is_one_run_timed_from_the_declaration(
    db18, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from engflow_tui.ui.messages import ChecklistRequested

    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.incidents is not None)
        declared = datetime.now(UTC) - timedelta(minutes=7)
        incident = app.incidents.log.declare("API 500", 2, "every user", "alice", "prod", at=declared)
        app.post_message(ChecklistRequested("sev2"))
        await wait_for(lambda: isinstance(app.screen, ChecklistScreen) and app.screen.is_mounted)
        await pilot.pause()
        run = app.screen.session.run
        assert run.incident == incident.id
        head = static_text(app.screen.query_one("#checklist-head", Static))
        assert "T+07:0" in head and f"since {incident.id} was declared" in head
        assert "OVERDUE" in str(
            app.screen.query_one("#checklist-items", OptionList).get_option("quick-check").prompt
        )  # the 0-5 min box passed two minutes ago
        await pilot.press("space")
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard)
        app.post_message(ChecklistRequested("sev2"))  # again (I -> c): the same run
        await wait_for(lambda: isinstance(app.screen, ChecklistScreen) and app.screen.is_mounted)
        assert app.screen.session.run.run_id == run.run_id
        assert app.screen.session.run.counts()["done"] == 1
    assert len(RunStore(tmp_path / "checklists").all()) == 1


async def test_every_screen_or_action_a_shipped_item_opens_is_in_the_palette(
    db18, tmp_path: Path
) -> None:
    from engflow_tui.checklists.loader import load_catalog

    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(100, 32)):
        await wait_for(lambda: app.dashboard is not None)
        opens = {
            i.open for c in load_catalog().checklists.values() for i in c.items if i.open
        }
        assert sorted(name for name in opens if not app.has_command(name)) == []


async def test_an_item_opening_a_screen_already_open_goes_back_to_it(db18, tmp_path: Path) -> None:
    """Diagnose (D) or Trends (H) open, then a checklist over it whose item opens the same
    screen: back to that screen, never a second copy (two copies used to crash the console)."""
    from engflow_tui.screens.diagnose_screen import DiagnoseScreen
    from engflow_tui.screens.trends_screen import TrendsScreen

    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.monitor.latest is not None)
        for key, kind, checklist, item in (
            ("D", DiagnoseScreen, "daily-morning", "fk-violations"),
            ("H", TrendsScreen, "weekly-operations", "data-growth"),
        ):
            await pilot.press(key)
            await wait_for(lambda kind=kind: isinstance(app.screen, kind))
            below = app.screen
            app.checklists.start(checklist)
            await wait_for(lambda: isinstance(app.screen, ChecklistScreen) and app.screen.is_mounted)
            await pilot.pause()
            lst = app.screen.query_one("#checklist-items", OptionList)
            lst.highlighted = lst.get_option_index(item)
            await pilot.press("enter")
            await wait_for(lambda below=below: app.screen is below)
            assert sum(isinstance(s, kind) for s in app.screen_stack) == 1
            await pilot.press("escape")
            await wait_for(lambda: app.screen is app.dashboard)


async def test_an_action_run_from_an_item_ticks_it_or_fails_it(db18, tmp_path: Path) -> None:
    """Enter on "Refresh planner statistics" -> Run ANALYZE -> confirmed: the item is ticked
    with the audit record's id and the outcome; refused (read-only): failed, with why."""
    from engflow_tui.screens.confirm_action_modal import ConfirmActionModal

    for read_only in (False, True):
        app = make_app(db18.dsn(), tmp_path / str(read_only))
        if read_only:
            app.config = replace(
                app.config, console=replace(app.config.console, read_only=True)
            )
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(lambda: app.dashboard is not None and app.dashboard.monitor.latest)
            app.checklists.start("weekly-operations")
            await wait_for(lambda: isinstance(app.screen, ChecklistScreen) and app.screen.is_mounted)
            await pilot.pause()
            screen = app.screen
            lst = screen.query_one("#checklist-items", OptionList)
            lst.highlighted = lst.get_option_index("analyze")
            await pilot.press("enter")
            await wait_for(lambda: isinstance(app.screen, TablePickerModal))
            await pilot.press("enter")  # the whole database
            if not read_only:
                await wait_for(lambda: isinstance(app.screen, ConfirmActionModal))
                await pilot.press("y")
            await wait_for(lambda: result_shown(app))
            await pilot.press("enter")
            await wait_for(lambda: app.screen is screen)
            state = screen.session.state("analyze")
            audit_ids = [
                json.loads(line).get("id")
                for line in Path(app.config.console.audit_log).read_text().splitlines()
            ]
            if read_only:
                assert state.status == "fail"
                assert "read-only" in (state.detail or "")
            else:
                assert state.status == "done"
                assert state.value is not None and state.value.endswith(" analyzed")
                assert state.value.split(":")[0] in audit_ids
            saved = RunStore(tmp_path / str(read_only) / "checklists").load(
                screen.session.run.run_id
            )
            assert saved.item("analyze").status == state.status

