"""EngFlowApp: wiring only — screens, bindings, palette."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from .. import exit_guard, startup_gc
from ..config import Config, TargetConfig, incident_reports_dir
from ..monitor import Monitor, console_monitor
from ..screens.dashboard import DashboardScreen
from ..textsafe import inert
from ..widgets.inert_filter import InertFilter
from .commands import palette_commands
from .messages import ActionRequested, AlertSelected, ChecklistRequested, SnapshotReady

MonitorFactory = Callable[[Config, TargetConfig], Monitor]

class EngFlowApp(App[None]):
    TITLE = "EngFlow Ops Console"
    CSS_PATH = "styles/app.tcss"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit_ctrl"),
        # At 3 a.m. Ctrl+C means "get me out": quit (the demo then stops its server).
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit_ctrl_c"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("I", "incident('incident_key')", "Incident", show=False, id="app.incident"),
        # From any screen: back to the checklist being walked (or the picker).
        Binding("C", "run_checklist", "Checklists", show=False, id="app.checklist"),
        Binding("N", "incident('note')", "Note", show=False, id="app.incident_note"),
        Binding("M", "incident('message')", "Message", show=False, id="app.incident_message"),
    ]

    def __init__(
        self,
        config: Config,
        target: TargetConfig | None,
        *,
        monitor_factory: MonitorFactory = console_monitor,
        incident_clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.target = target
        self.monitor_factory = monitor_factory
        self.dashboard: DashboardScreen | None = None
        self._flows: Any = None
        self._checklists: Any = None
        self.incident_clock = incident_clock
        self.incidents: Any = None
        self._inert_filter = InertFilter()

    def get_line_filters(self) -> Sequence[LineFilter]:
        # Every line drawn passes through InertFilter: data that reached a widget without
        # being made inert still never reaches the terminal as control bytes.
        return [*super().get_line_filters(), self._inert_filter]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # Toasts carry server messages and names from the data: never read as markup (a name
        # like "[@click=app.quit]" would otherwise become a link that runs an action), their
        # control characters shown (Rich would silently drop some and keep ESC).
        super().notify(
            inert(message), title=title, severity=severity, timeout=timeout, markup=False
        )

    def on_mount(self) -> None:
        if not self.is_headless:
            self._exit_on_signals()
            # A terminal that hung up while SIGHUP was ignored (nohup) or never sent: Textual's
            # reader would spin on it; one cheap check a second ends the console instead.
            self.set_interval(1.0, self._check_terminal, name="terminal check")
        # The garbage collector, paused by the command for the start-up (startup_gc): by then
        # the first data is on screen, or the target picker waits for a choice.
        self.set_timer(1.0, startup_gc.settle)
        if self.target is not None:
            self._open(self.target)  # incident mode starts once the dashboard shows
        else:
            # Incidents belong to a target: incident mode starts once one is picked.
            from ..screens.target_picker import TargetPickerScreen

            self.push_screen(TargetPickerScreen(list(self.config.targets.values())), self._picked)

    def _exit_on_signals(self) -> None:
        """SIGTERM and SIGHUP end the console the way q does — terminal restored, history
        closed, the demo's server removed — from the event loop, never by an exception raised
        in the middle of whatever was running (that could leave Textual's threads alive and the
        process hanging at exit)."""
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(sig, lambda code=128 + sig: self.exit(return_code=code))
            except (NotImplementedError, RuntimeError, ValueError):  # not on this platform
                continue

    def _check_terminal(self) -> None:
        import sys

        stream = sys.__stdin__
        if stream is not None and exit_guard.terminal_lost(stream.fileno()):
            self.exit(return_code=129)

    def exit(self, result: None = None, return_code: int = 0, message: Any = None) -> None:
        # Whatever asked (q, a signal, a lost terminal, a panic): the process ends within
        # exit_guard.GRACE even if restoring a terminal that is gone blocks Textual's shutdown.
        if not self.is_headless:
            exit_guard.arm(return_code)
        super().exit(result, return_code, message)

    def run(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        try:
            return super().run(*args, **kwargs)
        finally:
            exit_guard.disarm()

    def _start_incidents(self) -> None:
        """Incident mode: the open incident's bar on every screen, its clock and reminders."""
        if self.incidents is not None:
            return
        from .flows.incidents import IncidentFlows

        self.incidents = IncidentFlows(self, clock=self.incident_clock)
        self.incidents.checklist_results = lambda incident: self.checklists.results_between(
            incident.target, incident.declared_at, incident.resolved_at
        )
        self.incidents.recording = self._incident_recording
        self.incidents.start()

    def _picked(self, name: str | None) -> None:
        if name is not None:
            self._open(self.config.targets[name])

    def _open(self, target: TargetConfig) -> None:
        self.target = target
        self.sub_title = target.name
        read_only = self.config.console.read_only or target.read_only
        dashboard = DashboardScreen(
            self.monitor_factory(self.config, target), self.config, read_only=read_only
        )
        self.dashboard = dashboard
        # Before the first poll's message reaches the app (its alert events go to the open
        # incident's timeline).
        self._start_incidents()
        # Shown at once: CONNECTING until its first poll (the collector started reading before
        # the UI loaded) arrives as every poll does, a SnapshotReady.
        self.push_screen(dashboard)
        # After the first data: reading the run store and the checklist screens can wait.
        self.set_timer(1.0, lambda: self.checklists.offer_resume())

    @property
    def flows(self) -> Any:
        """The actions' UI path, built on first use (it is not needed for the first screen)."""
        if self._flows is None and self.target is not None:
            from ..actions.audit import AuditLog
            from ..actions.runner import ActionRunner
            from .flows.actions import ActionFlows

            audit = AuditLog.from_setting(
                self.config.console.audit_log, self.config.console.operator
            )
            self._flows = ActionFlows(self, ActionRunner(self.config, self.target, audit))
        return self._flows

    def _incident_recording(self, incident: Any) -> str | None:
        """The incident's window of a recording of its target, beside its report."""
        from datetime import UTC
        from pathlib import Path

        from ..history.recording import attach_window

        end = incident.resolved_at or datetime.now(UTC)
        reports = incident_reports_dir(self.config)
        return attach_window(
            Path(self.config.console.state_dir).expanduser() / "recordings",
            incident.target,
            incident.declared_at,
            end,
            reports / f"{incident.id}.rec",
        )

    @property
    def checklists(self) -> Any:
        """The checklists' UI path (ChecklistFlows), built on first use."""
        if self._checklists is None:
            from ..checklists.run import RunStore
            from .flows.checklists import ChecklistFlows

            self._checklists = ChecklistFlows(
                self, RunStore.for_state_dir(self.config.console.state_dir)
            )
            if self.incidents is not None:  # checklist steps go to the open incident's timeline
                self._checklists.listeners.append(self.incidents.on_checklist_step)
            self._checklists.diagnose = self._diagnose_checks
        return self._checklists

    async def _diagnose_checks(self, ids: set[str], snapshot: Any) -> dict[str, Any]:
        """Auto items that name a diagnose check run it, on the dashboard's latest snapshot."""
        from ..diagnostics import checks_for

        if self.target is None:
            return {}
        return await checks_for(self.config, self.target, ids, snapshot)

    def action_run_checklist(self) -> None:
        if self.dashboard is None:
            self.notify("open a target first", severity="warning")
            return
        self.checklists.pick()

    def on_action_requested(self, message: ActionRequested) -> None:
        self.start_action(message.action, **message.target)

    def start_action(self, action: str, **target: object) -> None:
        if self.flows is None:
            self.notify("open a target first", severity="warning")
            return
        self.flows.start(action, **target)

    def action_finished(self, action: str, result: Any, why: str = "") -> None:
        """An action flow ended: ``result`` (an ActionResult), or None (not run, ``why``). A
        checklist item that asked for it ticks itself, or says it failed."""
        if self._checklists is not None:
            self._checklists.action_finished(action, result, why)

    def action_show_alerts(self) -> None:
        from datetime import UTC, datetime

        from ..screens.alerts_screen import AlertsScreen

        result = self._latest()
        if result is None:
            return
        self.push_screen(AlertsScreen(result.alerts, list(result.recent), datetime.now(UTC)))

    def _latest(self) -> Any:
        """The dashboard's last PollResult (None before the first poll): what the app reads."""
        return self.dashboard.result if self.dashboard is not None else None

    def on_alert_selected(self, message: AlertSelected) -> None:
        result = self._latest()
        if self.dashboard is None or result is None:
            return
        if ":*" in message.key:  # a grouped panel row: one rule, many subjects
            rule = message.key.split(":*", 1)[0]
            if message.acknowledge:
                self.dashboard.acknowledge(
                    *(a.key for a in result.alerts if a.rule == rule and a.state == "firing")
                )
                self.refresh_alerts_screen()
            else:
                self.action_show_alerts()
            return
        if message.acknowledge:
            self.dashboard.acknowledge(message.key)
            self.refresh_alerts_screen()
            return
        alert = next((a for a in result.alerts if a.key == message.key), None)
        if alert is None:
            self.notify("that alert is no longer active", severity="warning")
            return
        from datetime import UTC, datetime

        from ..actions import registry
        from ..alerts.rules import action_target, runbook_sections
        from ..screens.alert_detail_modal import AlertDetailModal

        def chosen(name: str | None) -> None:
            if name == "__acknowledge__":
                self.dashboard.acknowledge(alert.key)  # type: ignore[union-attr]
                self.refresh_alerts_screen()
                return
            if not name:
                return
            # Enable RLS from an RLS Violation: the confirmation of the table it names. Only a
            # registered action takes it; a screen (Show RLS status) opens as from the palette.
            target = action_target(alert, result.snapshot)
            if target and registry.find(name) is not None:
                self.start_action(name, **target)
            else:
                self.run_palette_name(name)

        section = runbook_sections().get(alert.runbook or "")
        self.push_screen(AlertDetailModal(alert, section, datetime.now(UTC)), chosen)

    def refresh_alerts_screen(self) -> None:
        """Keep an open Alerts screen live (called with every snapshot and acknowledgement)."""
        from ..screens.alerts_screen import AlertsScreen

        result = self._latest()
        if isinstance(self.screen, AlertsScreen) and result is not None:
            self.screen.refill(result.alerts, list(result.recent))

    def has_command(self, name: str) -> bool:
        return any(command.title == name for command in palette_commands(self))

    def run_palette_name(self, name: str) -> None:
        """Run an action or open a screen by its palette name (alert details link to them)."""
        for command in palette_commands(self):
            if command.title == name:
                command.callback()
                return
        self.notify(f"no command named {name!r}", severity="warning", markup=False)

    def back_to(self, kind: type[Screen[Any]]) -> bool:
        """A screen of this kind already open below: pop back to it (one of each, never two
        stacked copies) and say True."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, kind):
                while self.screen is not screen:
                    self.pop_screen()
                return True
        return False

    def action_show_diagnose(self) -> None:
        """The Diagnose screen: the full diagnosis of the open target, in a worker."""
        from ..diagnostics import run_diagnosis
        from ..screens.diagnose_screen import DiagnoseScreen

        target = self.target
        if target is None:
            self.notify("open a target first", severity="warning")
            return
        if not self.back_to(DiagnoseScreen):
            self.push_screen(
                DiagnoseScreen(lambda: run_diagnosis(self.config, target), target.name)
            )

    def action_show_audit_log(self) -> None:
        if self.flows is not None:
            self.flows.show_audit_log()

    def selected_session(self) -> tuple[int, str | None] | None:
        return self.dashboard.selected_session() if self.dashboard is not None else None

    def refresh_dashboard(self) -> None:
        if self.dashboard is not None:
            self.dashboard.action_refresh_now()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from palette_commands(self)
        for command in super().get_system_commands(screen):
            if command.title != "Keys":  # our Help lists every key of the console
                yield command

    def action_show_trends(self) -> None:
        """Trends screen (issue 9): read on the history store's thread, never here."""
        from ..history.trends import load_trends
        from ..screens.trends_screen import TrendsScreen

        store = self.dashboard.monitor.history_store if self.dashboard is not None else None
        if store is None:
            self.notify(
                "no history for this target: [history] enabled = false, or no target open",
                severity="warning",
                markup=False,
            )
            return
        limit = self.config.capacity.storage_limit
        if not self.back_to(TrendsScreen):
            self.push_screen(TrendsScreen(lambda window: load_trends(store, window, limit)))

    def action_help(self) -> None:
        from ..screens.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_dashboard(self) -> None:
        while (
            self.dashboard is not None
            and self.screen is not self.dashboard
            and len(self.screen_stack) > 2
        ):
            self.pop_screen()

    def focus_panel(self, panel_id: str) -> None:
        self.action_show_dashboard()
        if self.dashboard is not None:
            self.dashboard.focus_panel(panel_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # One place for anything a worker let slip: say it, keep the app up.
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(
                f"{event.worker.description or event.worker.name}: {event.worker.error}",
                severity="error",
                timeout=10,
                markup=False,
            )

    # ------------------------------------------------------------------ incident mode

    def action_incident(self, verb: str) -> None:
        """Keys and palette entries of incident mode (see incident_flows.py)."""
        if self.incidents is not None:
            self.incidents.run(verb)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        # Bubbled up from the dashboard: alert events go to the open incident's timeline.
        if self.incidents is not None:
            self.incidents.on_alert_events(message.events)

    def on_checklist_requested(self, message: ChecklistRequested) -> None:
        # Incident mode asks for the procedure of the declared severity (sev1..3, incident-response).
        if self.dashboard is None:
            self.notify("open a target first", severity="warning")
            return
        incident = self.incidents.log.incident if self.incidents is not None else None
        if incident is None:
            self.checklists.start(message.name)
        else:
            self.checklists.open_procedure(message.name, incident.id, incident.declared_at)
