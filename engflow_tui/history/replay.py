"""The replay monitor: the dashboard's Monitor interface over a recording. It shows what was
recorded (alerts and sparklines included) and evaluates, notifies and stores nothing.

Must not import Textual.
"""

from __future__ import annotations

from dataclasses import replace

from ..config import Config, TargetConfig
from ..model import PollResult, Snapshot
from ..monitor import Monitor
from .recording import Recording, ReplaySource


class ReplayMonitor(Monitor):
    def __init__(self, source: ReplaySource, config: Config, target: TargetConfig) -> None:
        super().__init__(source, config, target)
        self.replay = source

    async def poll(self, *, wait_for_http: bool = False) -> PollResult:
        snapshot = await self.source.collect()
        self.events = []
        # What a checklist verification reads on a live Monitor: the snapshot at the cursor.
        self.latest: Snapshot | None = replace(snapshot, target=self.target.name)
        return PollResult(self.latest)  # the recorded alerts, nothing evaluated

    def acknowledge(self, *keys: str) -> PollResult | None:
        return None  # a recording is read-only


def replay_setup(path: str, config: Config) -> tuple[Config, TargetConfig, Recording]:
    """The read-only config and target for replaying ``path`` (RecordingError when unreadable)."""
    from pathlib import Path

    recording = Recording(Path(path).expanduser())
    target = TargetConfig(name=f"{recording.target} (replay)", dsn=f"replay of {path}")
    config = replace(
        config,
        console=replace(config.console, read_only=True),
        history=replace(config.history, enabled=False),
        notifications=replace(config.notifications, bell=False, webhooks=()),
        targets={target.name: target},
    )
    return config, target, recording
