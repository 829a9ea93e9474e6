"""Incident mode through the real keys at 80x24: declare -> bar on every screen -> deadlines turn
warning then alarm -> an alert, an action and a note in the timeline -> message -> resolve ->
report. Against a real database and, for the webhook, a real loopback HTTP server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.widgets import DataTable, Input, RadioSet, Static, TextArea

from engflow_tui.config import (
    Config,
    ConsoleConfig,
    IncidentsConfig,
    NotificationsConfig,
    TargetConfig,
)
from engflow_tui.incidents.log import IncidentLog, IncidentStore
from engflow_tui.screens.action_result_modal import ActionResultModal
from engflow_tui.screens.confirm_action_modal import ConfirmActionModal
from engflow_tui.screens.confirm_modal import ConfirmModal
from engflow_tui.screens.declare_incident_modal import DeclareIncidentModal
from engflow_tui.screens.escalation_screen import EscalationScreen
from engflow_tui.screens.incident_message_modal import IncidentMessageModal
from engflow_tui.screens.incident_screen import IncidentScreen
from engflow_tui.screens.message_modal import MessageModal
from engflow_tui.screens.table_picker_modal import TablePickerModal
from engflow_tui.screens.text_prompt_modal import TextPromptModal
from engflow_tui.ui.app import EngFlowApp
from engflow_tui.widgets.incident_bar import IncidentBar

from ..httpserver import Route, http_server
from ..pg import session, wait_for
from .helpers import static_text, table_text

T0 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


class Clock:
    """Fixed time (for the bar's figures), or real time moved by an offset (when the timeline
    mixes our entries with alert and audit timestamps, which are real)."""

    def __init__(self, now: datetime | None = T0) -> None:
        self.now = now
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC) + self.offset


def make_app(dsn: str, tmp_path: Path, clock: Clock, hook_env: str | None = None) -> EngFlowApp:
    """hook_env: incidents.webhook_url_env only, never an alert webhook: alerts that fire on the
    shared test server (a rollback burst from another test) must not post to the test's hook."""
    target = TargetConfig(name="prod", dsn=dsn)
    config = Config(
        console=ConsoleConfig(
            refresh_interval=0.3,
            catalog_interval=0.3,
            operator="ana",
            audit_log=str(tmp_path / "audit.jsonl"),
            state_dir=str(tmp_path / "state"),
        ),
        incidents=IncidentsConfig(
            state_file=str(tmp_path / "incident.json"),
            reports_dir=str(tmp_path / "reports"),
            webhook_url_env=hook_env,
        ),
        notifications=NotificationsConfig(bell=False),
        targets={"prod": target},
    )
    return EngFlowApp(config, target, incident_clock=clock)


async def started(app: EngFlowApp) -> None:
    await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)


async def screen_is(app: EngFlowApp, kind: type) -> None:
    """The screen is on top and mounted (composed: its widgets can be queried)."""
    await wait_for(lambda: isinstance(app.screen, kind) and app.screen.is_mounted)


async def dialog_ready(app: EngFlowApp, kind: type) -> None:
    """The dialog is up AND has its focus: a key typed before that goes to no widget (lost)."""
    await wait_for(lambda: isinstance(app.screen, kind) and app.focused is not None)


def bar_text(app: EngFlowApp) -> str:
    return static_text(app.screen.query_one(IncidentBar))


def timeline(app: EngFlowApp) -> list[list[str]]:
    return table_text(app.screen.query_one("#timeline", DataTable))


async def declare(app: EngFlowApp, pilot, title: str, severity: int, impact: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("I")
    await screen_is(app, DeclareIncidentModal)
    await pilot.press(*title, "enter")
    assert isinstance(app.focused, RadioSet)
    for _ in range(severity - 1):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.press("tab")
    assert app.focused is app.screen.query_one("#impact", Input)
    await pilot.press(*impact, "ctrl+s")
    await wait_for(lambda: not isinstance(app.screen, DeclareIncidentModal))


async def test_declare_bar_timeline_resolve_export(db18, tmp_path: Path) -> None:
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    app = make_app(db18.dsn(), tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app)
        assert not app.screen.query(IncidentBar), "no bar without an incident"

        # Declaring without a severity is refused, with a reason.
        await pilot.press("I")
        await screen_is(app, DeclareIncidentModal)
        await pilot.press(*"x", "ctrl+s")
        assert isinstance(app.screen, DeclareIncidentModal)
        await pilot.press("escape")

        await declare(app, pilot, "RLS off on leaky", 2, "tenant data readable")
        await wait_for(lambda: type(app.screen).__name__ == "ChecklistScreen")  # the SEV2 procedure
        await pilot.press("escape")  # back to the dashboard; the run is kept
        await wait_for(lambda: app.screen is app.dashboard)
        text = bar_text(app)
        assert "SEV2" in text
        assert "INVESTIGATING" in text
        assert "acknowledge in 15m00s" in text
        assert "RLS off on leaky" in text
        bar = app.screen.query_one(IncidentBar)
        assert bar.has_class("-ok")

        # The deadline nears, then passes: warning, then alarm.
        declared_at = app.incidents.log.incident.declared_at
        clock.now = declared_at + timedelta(minutes=12)
        app.incidents.tick()
        assert bar.has_class("-warning")
        assert "acknowledge in 3m00s" in bar_text(app)
        clock.now = declared_at + timedelta(minutes=16)
        app.incidents.tick()
        assert bar.has_class("-alarm")
        assert "acknowledge OVERDUE 1m00s" in bar_text(app)
        clock.now = None  # back to real time: alerts and actions carry real timestamps

        # An alert fires during the incident (a table without RLS, made for real).
        async with session(db18.dsn()) as admin:
            await admin.execute("CREATE TABLE public.leaky (id int)")
        await wait_for(lambda: any(e.kind == "alert" for e in app.incidents.log.incident.timeline))

        # A note: one key, one line.
        await pilot.press("N")
        await screen_is(app, TextPromptModal)
        await pilot.press(*"owner says a migration dropped RLS", "enter")

        # An action, run for real, comes in from the audit log.
        app.start_action("Enable RLS", schema="public", table="leaky")
        await screen_is(app, ConfirmActionModal)
        await pilot.press("y")
        await screen_is(app, ActionResultModal)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard)
        app.incidents.tick()

        # The Incident screen: the bar is there too, the timeline newest first.
        await pilot.press("I")
        await screen_is(app, IncidentScreen)
        await wait_for(lambda: len(timeline(app)) >= 4)
        assert app.screen.query(IncidentBar), "the bar is on every full screen"
        rows = [(r[1], r[2]) for r in timeline(app)]

        def where(kind: str, start: str) -> int:
            found = [i for i, (k, t) in enumerate(rows) if k == kind and t.startswith(start)]
            assert found, (kind, start, rows)
            return found[0]

        # Newest first: declared < alert fired < note < action (< the alert resolving, maybe).
        assert rows[-1][0] == "declared"
        fired = where("alert", 'FIRED RLS Violation (critical): "public"."leaky"')
        note = where("note", "owner says a migration dropped RLS")
        action = where("action", 'Enable RLS: RLS enabled on "public"."leaky"')
        assert action < note < fired < len(rows) - 1

        # Enter on a row: the whole entry, here the action with its audit record.
        for _ in range(action):
            await pilot.press("down")
        await pilot.press("enter")
        await screen_is(app, MessageModal)
        detail = static_text(app.screen.query_one("#message-body"))
        assert 'ALTER TABLE "public"."leaky" ENABLE ROW LEVEL SECURITY' in detail
        assert "operator: ana" in detail
        await pilot.press("escape")
        await screen_is(app, IncidentScreen)

        # Status and severity, picked by typing.
        await pilot.press("s")
        await screen_is(app, TablePickerModal)
        await pilot.press(*"FIX", "enter")
        await wait_for(lambda: "FIXING" in bar_text(app))
        await pilot.press("v")
        await screen_is(app, TablePickerModal)
        await pilot.press(*"SEV1", "enter")
        await wait_for(lambda: "SEV1" in bar_text(app))
        assert timeline(app)[0][2] == "severity SEV2 -> SEV1"
        assert timeline(app)[1][2] == "status INVESTIGATING -> FIXING"

        # Acknowledge, escalate (to whom), then resolve.
        await pilot.press("k")
        await wait_for(lambda: app.incidents.log.incident.acknowledged_at is not None)
        await pilot.press("e")
        await screen_is(app, TablePickerModal)
        await pilot.press("enter")  # the matrix's levels for SEV1: Level 2 + Level 3
        await screen_is(app, TextPromptModal)
        await pilot.press(*"paged bob", "enter")
        await wait_for(lambda: timeline(app)[0][2] == "escalated to Level 2 + Level 3: paged bob")
        deadlines_text = static_text(app.screen.query_one("#incident-deadlines"))
        assert "escalate" not in deadlines_text
        assert "send a status update in" in deadlines_text
        await pilot.press("R")
        await screen_is(app, TextPromptModal)
        await pilot.press(*"RLS enabled again", "enter")
        await wait_for(lambda: not app.incidents.log.open)
        assert "RESOLVED" in bar_text(app)
        assert app.screen.query_one(IncidentBar).has_class("-resolved")

        await pilot.press("x")
        report = tmp_path / "reports" / f"{app.incidents.log.incident.id}.md"
        await wait_for(report.exists)
        text = report.read_text()
        assert "| Status | RESOLVED |" in text
        assert "| Resolution time | " in text
        assert 'ALTER TABLE "public"."leaky" ENABLE ROW LEVEL SECURITY' in text
        assert "FIRED RLS Violation" in text
        assert "owner says a migration dropped RLS" in text
        assert "escalated to Level 2 + Level 3: paged bob" in text

    saved = json.loads((tmp_path / "incident.json").read_text())
    assert saved["status"] == "RESOLVED"


async def test_message_copy_and_post_to_a_real_webhook(db18, tmp_path: Path, monkeypatch) -> None:
    clock = Clock()
    with http_server() as server:
        server.routes["/hook"] = Route(500, "channel_is_archived", content_type="text/plain")
        monkeypatch.setenv("ENGFLOW_TEST_SLACK", server.base + "/hook")
        app = make_app(db18.dsn(), tmp_path, clock, hook_env="ENGFLOW_TEST_SLACK")
        async with app.run_test(size=(80, 24)) as pilot:
            await started(app)
            await declare(app, pilot, "API slow", 2, "pages take 5 s")
            await pilot.press("M")
            await dialog_ready(app, TablePickerModal)
            await pilot.press("enter")  # Incident alert
            await dialog_ready(app, IncidentMessageModal)
            area = app.screen.query_one(TextArea)
            assert area.text.startswith("🚨 INCIDENT ALERT - SEVERITY 2")
            assert "Issue: API slow" in area.text
            assert "Assigned: @ana" in area.text
            area.move_cursor(area.document.end)
            await pilot.press("enter", *"Next update at 14:30")
            await pilot.press("f2")
            await wait_for(lambda: "Next update at 14:30" in app.clipboard)
            assert app.clipboard.startswith("🚨 INCIDENT ALERT")

            # Post: confirmation first; the receiver refuses; the text comes back.
            await pilot.press("M")
            await dialog_ready(app, TablePickerModal)
            await pilot.press("enter")
            await dialog_ready(app, IncidentMessageModal)
            await pilot.press(*"EDITED ")  # the cursor starts at the top
            await pilot.press("f4")
            await dialog_ready(app, ConfirmModal)
            await pilot.press("y")
            await dialog_ready(app, MessageModal)
            assert "HTTP 500: channel_is_archived" in static_text(
                app.screen.query_one("#message-body")
            )
            await pilot.press("enter")
            await dialog_ready(app, IncidentMessageModal)
            assert app.screen.query_one(TextArea).text.startswith("EDITED ")

            server.routes["/hook"] = Route(200, "ok", content_type="text/plain")
            await pilot.press("f4")
            await dialog_ready(app, ConfirmModal)
            await pilot.press("y")
            sent = "Incident alert sent via webhook $ENGFLOW_TEST_SLACK: HTTP 200"
            # Found, not read at [-1]: the timeline is in time order, and alert entries carry real
            # timestamps, later than this test's fixed clock.
            await wait_for(lambda: sent in [e.text for e in app.incidents.log.incident.timeline])
            assert len(server.requests) == 2, server.requests
            assert json.loads(server.requests[1]["body"])["text"].startswith("EDITED 🚨")
            texts = [e.text for e in app.incidents.log.incident.timeline]
            assert (
                "Incident alert NOT sent via webhook $ENGFLOW_TEST_SLACK: "
                "HTTP 500: channel_is_archived" in texts
            )
            assert "Incident alert sent via clipboard: copied (OSC 52)" in texts


async def run_palette(app: EngFlowApp, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await pilot.press(*name)
    await wait_for(
        lambda: (
            bool(app.screen.query("CommandList"))
            and name in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt)
        )
    )
    await pilot.press("enter")


async def test_a_restarted_console_resumes_the_open_incident(db18, tmp_path: Path) -> None:
    clock = Clock()
    log = IncidentLog(IncidentStore(tmp_path / "incident.json"), clock)
    log.declare("Database unreachable", 1, "every user", "ana", "prod")
    clock.now = T0 + timedelta(minutes=20)
    app = make_app(db18.dsn(), tmp_path, clock)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await started(app)
        await wait_for(lambda: bool(app.screen.query(IncidentBar)))
        text = bar_text(app)
        assert "SEV1" in text
        assert "20m00s" in text
        assert "acknowledge OVERDUE 15m00s" in text
        assert app.screen.query_one(IncidentBar).has_class("-alarm")

        # Every passed deadline is announced once, the status update as a reminder.
        def toasts() -> list[str]:
            return [t.render().plain for t in app.screen.query("Toast")]

        await wait_for(lambda: any("send a status update OVERDUE" in t for t in toasts()))
        app.incidents.tick()
        app.incidents.tick()
        await pilot.pause()
        shown = toasts()
        assert sum("acknowledge OVERDUE" in t for t in shown) == 1, shown
        assert sum("escalate to Level 2 + Level 3 OVERDUE" in t for t in shown) == 1, shown
        assert any("resumed the open incident" in t for t in shown)

        # Other features' screens get the bar too.
        await pilot.press("A")
        await wait_for(lambda: type(app.screen).__name__ == "AlertsScreen")
        await wait_for(lambda: bool(app.screen.query(IncidentBar)))
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard)
        await run_palette(app, pilot, "Show escalation")
        await screen_is(app, EscalationScreen)
        levels = app.screen.query_one("#levels", Static).content.plain
        assert "Level 1 — Application Support" in levels
        assert "contact: [support-email]" in levels, "config text is never read as markup"
        assert "Level 3 — Infrastructure (Supabase)" in levels
        matrix = table_text(app.screen.query_one("#matrix", DataTable))
        assert matrix[0] == ["1 - Critical", "< 5 min", "15 min", "Level 2 + Level 3"]
        assert matrix[3] == ["4 - Low", "< 4 h", "next business day", "Level 1"]
        assert "escalate to Level 2 + Level 3 OVERDUE 5m00s" in static_text(
            app.screen.query_one("#escalation-now")
        )
        assert app.screen.query(IncidentBar)


async def test_declaring_opens_the_severity_procedure_and_its_steps_reach_the_timeline(
    db18, tmp_path: Path
) -> None:
    from engflow_tui.screens.checklist_screen import ChecklistScreen

    app = make_app(db18.dsn(), tmp_path, Clock(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app)
        await declare(app, pilot, "Orders page fails", 3, "no new orders")
        await screen_is(app, ChecklistScreen)
        await wait_for(lambda: bool(app.screen.query(IncidentBar)))
        assert "SEV3" in bar_text(app), "the bar is on the checklist screen too"
        await pilot.press("space")
        await wait_for(
            lambda: sum(e.kind == "checklist" for e in app.incidents.log.incident.timeline) >= 2
        )
        steps = [e.text for e in app.incidents.log.incident.timeline if e.kind == "checklist"]
        assert steps[0] == "ana started SEV3 — functional problems (respond < 30 min)", steps
        assert len(steps) >= 2, "the tick is recorded too"
        # The report's checklist section holds the run itself: its boxes and who ticked them.
        app.incidents.do_export()
        report = tmp_path / "reports" / f"{app.incidents.log.incident.id}.md"
        await wait_for(report.exists)
        section = report.read_text().split("## Checklist results", 1)[1].split("## Messages", 1)[0]
        assert "### SEV3 — functional problems (respond < 30 min)" in section
        assert "- [x] Isolate the problem" in section and "- [ ] Implement the fix" in section


async def test_showing_the_incident_again_goes_back_to_it_never_a_second_copy(
    db18, tmp_path: Path
) -> None:
    """I from a screen opened over the Incident screen (the procedure's checklist, the
    Escalation screen, an entry's detail) returns to that Incident screen; E likewise."""
    from engflow_tui.screens.checklist_screen import ChecklistScreen

    app = make_app(db18.dsn(), tmp_path, Clock(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app)
        await declare(app, pilot, "Login fails", 2, "nobody can log in")
        await screen_is(app, ChecklistScreen)

        def incident_screens() -> list[IncidentScreen]:
            return [s for s in app.screen_stack if isinstance(s, IncidentScreen)]

        checklist = app.screen
        await pilot.press("I")
        await screen_is(app, IncidentScreen)
        await pilot.press("c")  # the procedure's checklist: the one already open, not a copy
        await screen_is(app, ChecklistScreen)
        assert app.screen is checklist
        assert sum(isinstance(s, ChecklistScreen) for s in app.screen_stack) == 1
        await pilot.press("I")
        await screen_is(app, IncidentScreen)
        first = app.screen
        assert incident_screens() == [first]

        await pilot.press("E")
        await screen_is(app, EscalationScreen)
        escalation = app.screen
        await pilot.press("I")
        await screen_is(app, IncidentScreen)
        assert app.screen is first
        assert incident_screens() == [first]
        assert escalation not in app.screen_stack

        await pilot.press("E")
        await screen_is(app, EscalationScreen)
        await pilot.press("escape")
        await screen_is(app, IncidentScreen)
        app.action_incident("show_escalation")  # as the palette's Show escalation does
        await screen_is(app, EscalationScreen)
        app.action_incident("show_escalation")
        await pilot.pause()
        assert sum(isinstance(s, EscalationScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await screen_is(app, IncidentScreen)

        await wait_for(lambda: len(timeline(app)) >= 1)
        await pilot.press("enter")  # an entry's detail
        await screen_is(app, MessageModal)
        detail = app.screen
        await pilot.press("I")  # a dialog takes no console keys
        await pilot.pause()
        assert app.screen is detail
        # The palette runs over dialogs: Show incident opens over it, and the dialog (which
        # may hold typed text) is still there below.
        await run_palette(app, pilot, "Show incident")
        await screen_is(app, IncidentScreen)
        assert app.screen is not first
        await pilot.press("escape")
        await wait_for(lambda: app.screen is detail)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is first)
        await pilot.press("I")
        await pilot.pause()
        assert app.screen is first
        assert incident_screens() == [first]
        assert app.is_running


async def test_a_malformed_webhook_url_keeps_the_text_and_esc_asks_before_discarding_edits(
    db18, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("ENGFLOW_TEST_SLACK", "http://[::1")  # httpx.InvalidURL
    app = make_app(db18.dsn(), tmp_path, Clock(), hook_env="ENGFLOW_TEST_SLACK")
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app)
        await declare(app, pilot, "API slow", 2, "pages take 5 s")

        async def open_editor() -> TextArea:
            await pilot.press("M")
            await dialog_ready(app, TablePickerModal)
            await pilot.press("enter")  # Incident alert
            await dialog_ready(app, IncidentMessageModal)
            return app.screen.query_one(TextArea)

        # Unchanged: Esc closes at once, nothing to lose.
        await open_editor()
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, IncidentMessageModal))
        assert not isinstance(app.screen, ConfirmModal)

        await open_editor()
        await pilot.press(*"TYPED ")
        await pilot.press("f4")
        await dialog_ready(app, ConfirmModal)
        await pilot.press("y")
        await dialog_ready(app, MessageModal)
        body = static_text(app.screen.query_one("#message-body"))
        assert "did not take the message: InvalidURL" in body
        assert "[::1" not in body
        texts = [e.text for e in app.incidents.log.incident.timeline]
        assert any(
            t.startswith("Incident alert NOT sent via webhook $ENGFLOW_TEST_SLACK: InvalidURL")
            for t in texts
        ), texts
        await pilot.press("enter")
        await dialog_ready(app, IncidentMessageModal)
        editor = app.screen
        assert app.screen.query_one(TextArea).text.startswith("TYPED 🚨")

        # Esc with edited text asks; n (or Esc) goes back to the text as it was.
        await pilot.press("escape")
        await dialog_ready(app, ConfirmModal)
        assert "Discard your edits" in static_text(app.screen.query_one("#confirm-title"))
        await pilot.press("n")
        await wait_for(lambda: app.screen is editor and app.focused is not None)
        assert app.screen.query_one(TextArea).text.startswith("TYPED 🚨")
        await pilot.press(*"AGAIN ")  # a reopened editor's cursor is at the top
        assert app.screen.query_one(TextArea).text.startswith("AGAIN TYPED 🚨")
        await pilot.press("escape")
        await dialog_ready(app, ConfirmModal)
        await pilot.press("y")
        await wait_for(lambda: not any(s is editor for s in app.screen_stack))
        assert not isinstance(app.screen, (ConfirmModal, IncidentMessageModal))


async def test_a_change_after_another_console_resolved_the_incident_is_refused_and_said(
    db18, tmp_path: Path
) -> None:
    clock = Clock()
    other = IncidentLog(IncidentStore(tmp_path / "incident.json"), clock)
    other.declare("Database unreachable", 1, "every user", "ana", "prod")
    app = make_app(db18.dsn(), tmp_path, clock)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await started(app)
        await wait_for(lambda: bool(app.screen.query(IncidentBar)))
        await pilot.press("N")
        await dialog_ready(app, TextPromptModal)
        other.resolve("fixed from the other console")  # meanwhile, in another console
        await pilot.press(*"pooler restarted", "enter")
        await wait_for(
            lambda: any(
                "not recorded: the note 'pooler restarted'" in t.render().plain
                and "is resolved" in t.render().plain
                for t in app.screen.query("Toast")
            )
        )
        assert app.is_running
        assert not app.incidents.log.open
        await wait_for(lambda: "RESOLVED" in bar_text(app))
    saved = json.loads((tmp_path / "incident.json").read_text())
    assert saved["status"] == "RESOLVED"
    assert all(e["text"] != "pooler restarted" for e in saved["timeline"])


async def test_an_incident_screen_refreshed_before_it_is_composed_shows_it_once_mounted(
    db18, tmp_path: Path
) -> None:
    """The one-second clock or an alert may refresh a just-pushed Incident screen before its
    widgets exist: no crash (NoMatches), and the screen shows the incident once they do."""
    clock = Clock()
    IncidentLog(IncidentStore(tmp_path / "incident.json"), clock).declare(
        "Database unreachable", 1, "every user", "ana", "prod"
    )
    app = make_app(db18.dsn(), tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app)
        app.push_screen(IncidentScreen())
        app.incidents.tick()  # before the screen has composed
        await screen_is(app, IncidentScreen)
        await pilot.pause()
        assert "Database unreachable" in static_text(app.screen.query_one("#incident-summary"))
        assert timeline(app)[0][2].startswith("declared SEV1")


async def test_an_incident_belongs_to_its_target_and_lives_in_the_state_dir(
    db18, tmp_path: Path
) -> None:
    """A SEV1 declared on production never shows in a console watching staging; its file is
    under console.state_dir (no incidents.* path set)."""
    state = tmp_path / "state"

    def console(name: str) -> EngFlowApp:
        target = TargetConfig(name=name, dsn=db18.dsn())
        config = Config(
            console=ConsoleConfig(
                refresh_interval=0.3,
                operator="ana",
                audit_log=str(tmp_path / "audit.jsonl"),
                state_dir=str(state),
            ),
            notifications=NotificationsConfig(bell=False),
            targets={name: target},
        )
        return EngFlowApp(config, target, incident_clock=Clock(None))

    production = console("production")
    async with production.run_test(size=(100, 30)) as pilot:
        await started(production)
        await declare(production, pilot, "Database unreachable", 1, "every user")
        await wait_for(lambda: production.incidents.log.open)
    assert (state / "incidents" / "production.json").exists()
    staging = console("staging")
    async with staging.run_test(size=(100, 30)) as pilot:
        await started(staging)
        await pilot.pause()
        assert staging.incidents is not None
        assert not staging.incidents.log.open
        assert not staging.screen.query(IncidentBar)
    again = console("production")
    async with again.run_test(size=(100, 30)) as pilot:
        await started(again)
        await wait_for(lambda: bool(again.screen.query(IncidentBar)))
        assert "SEV1" in bar_text(again)


async def test_a_post_to_a_hanging_webhook_shows_it_is_waiting_and_esc_gives_up(
    db18, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The receiver drips its answer a byte every half second (a per-read timeout never trips,
    the post hung over 40 s): the operator sees the wait and gives up; the text is kept."""
    from engflow_tui.screens.waiting_modal import WaitingModal

    with http_server() as server:
        server.routes["/hook"] = Route(200, "ok", drip=0.5, drip_head=True)
        monkeypatch.setenv("ENGFLOW_TEST_SLACK", server.base + "/hook")
        app = make_app(db18.dsn(), tmp_path, Clock(), hook_env="ENGFLOW_TEST_SLACK")
        async with app.run_test(size=(80, 24)) as pilot:
            await started(app)
            await declare(app, pilot, "API slow", 2, "pages take 5 s")
            await pilot.press("M")
            await dialog_ready(app, TablePickerModal)
            await pilot.press("enter")  # Incident alert
            await dialog_ready(app, IncidentMessageModal)
            await pilot.press(*"TYPED ")
            await pilot.press("f4")
            await dialog_ready(app, ConfirmModal)
            await pilot.press("y")
            await dialog_ready(app, WaitingModal)
            assert "$ENGFLOW_TEST_SLACK" in static_text(app.screen.query_one("#waiting-detail"))
            assert "gives up by itself after 10s" in static_text(
                app.screen.query_one("#waiting-elapsed")
            )
            await pilot.press("escape")
            await dialog_ready(app, MessageModal)
            body = static_text(app.screen.query_one("#message-body"))
            assert "did not take the message: gave up waiting after" in body
            await pilot.press("enter")
            await dialog_ready(app, IncidentMessageModal)
            assert app.screen.query_one(TextArea).text.startswith("TYPED ")
            texts = [e.text for e in app.incidents.log.incident.timeline]
            assert any(
                t.startswith(
                    "Incident alert NOT sent via webhook $ENGFLOW_TEST_SLACK: gave up waiting"
                )
                for t in texts
            ), texts
