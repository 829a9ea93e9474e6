"""ReplayApp: the console opened on a recording (``engflow-tui replay FILE``): wiring only."""

from __future__ import annotations

from .app import EngFlowApp
from .config import Config, TargetConfig
from .history.recording import Recording, ReplaySource
from .history.replay import ReplayMonitor
from .screens.replay_dashboard import ReplayDashboard


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

    def action_show_trends(self) -> None:
        self.notify(
            "Trends read the live history: open the console on the target", severity="warning"
        )
