"""ReplayApp: the console opened on a recording (``engflow-tui replay FILE``): wiring only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from textual.app import SystemCommand
from textual.screen import Screen

from ..config import Config, TargetConfig
from ..history.recording import Recording, ReplaySource
from ..history.replay import ReplayMonitor
from ..model import Alert
from ..screens.replay_dashboard import ReplayDashboard
from .app import EngFlowApp
from .messages import AlertSelected

WORKS_IN_A_REPLAY = frozenset(
    {"Show connections", "Show slow queries", "Show RLS status", "Show alerts", "Refresh now"}
)
"""The palette names an alert's runbook links to that a replay can do (it only shows panels);
every other one (Enable RLS, Emergency fallback, Trends…) needs a live console."""


class ReplayApp(EngFlowApp):
    def __init__(
        self, config: Config, target: TargetConfig, recording: Recording, speed: float = 1.0
    ) -> None:
        self.replay_source = ReplaySource(recording)
        self.replay_source.set_speed(speed)
        super().__init__(
            config,
            target,
            monitor_factory=lambda c, t: ReplayMonitor(self.replay_source, c, t),
        )

    def _open(self, target: TargetConfig) -> None:
        self.target = target
        self.sub_title = target.name
        self.dashboard = ReplayDashboard(
            self.monitor_factory(self.config, target), self.config, read_only=True
        )
        self.push_screen(self.dashboard)

    def start_action(self, action: str, **target: object) -> None:
        self.notify(
            f"{action}: a replay is read-only (it shows what was recorded)", severity="warning"
        )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        dash = self.dashboard
        if isinstance(dash, ReplayDashboard):
            yield SystemCommand(
                "Replay: play / pause", "Play the recording at its speed", dash.action_play
            )
            yield SystemCommand(
                "Replay: step forward", "The next recorded snapshot", lambda: dash.action_step(1)
            )
            yield SystemCommand(
                "Replay: step back", "The previous recorded snapshot", lambda: dash.action_step(-1)
            )
            yield SystemCommand(
                "Replay: seek", "Go to a time (03:12) or an offset (+5m)", dash.action_seek
            )
        yield from super().get_system_commands(screen)

    def _recorded_alerts(self) -> tuple[Alert, ...]:
        snapshot = self.dashboard.snapshot if self.dashboard is not None else None
        return snapshot.alerts if snapshot is not None else ()

    def action_show_alerts(self) -> None:
        """The alerts as recorded at the cursor (the engine does not run on a replay)."""
        from ..screens.alerts_screen import AlertsScreen

        self.push_screen(
            AlertsScreen(self._recorded_alerts(), [], self._frame_time(), recorded=True)
        )

    def refresh_alerts_screen(self) -> None:
        """After each poll: the alerts of the frame at the cursor, "since" counted to its time
        (a paused replay shows the same figures however long it stays paused)."""
        from ..screens.alerts_screen import AlertsScreen

        if isinstance(self.screen, AlertsScreen):
            self.screen.refill(self._recorded_alerts(), [], self._frame_time())

    def _frame_time(self) -> datetime:
        snapshot = self.dashboard.snapshot if self.dashboard is not None else None
        return snapshot.taken_at if snapshot is not None else datetime.now(UTC)

    def on_alert_selected(self, message: AlertSelected) -> None:
        message.prevent_default()  # not the live console's handler (EngFlowApp's) as well
        if message.acknowledge:
            self.notify("a replay is read-only: nothing to acknowledge", severity="warning")
            return
        from ..alerts.rules import runbook_sections
        from ..screens.alert_detail_modal import AlertDetailModal

        alert = next((a for a in self._recorded_alerts() if a.key == message.key), None)
        if alert is None:
            self.action_show_alerts()
            return
        section = runbook_sections().get(alert.runbook or "")
        if section is not None:  # the actions of a live console are not offered here
            actions = [a for a in section.get("actions", []) if a in WORKS_IN_A_REPLAY]
            section = {**section, "actions": actions}
        self.push_screen(AlertDetailModal(alert, section, self._frame_time()))

    def action_show_trends(self) -> None:
        self.notify(
            "Trends read the live history: open the console on the target", severity="warning"
        )
