"""A monitor = one target's collector + the alert rules: what the dashboard and ``diagnose`` poll.

Must not import Textual.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from .alerts.basic import AlertTracker, evaluate
from .config import Config, TargetConfig
from .model import Snapshot


class SnapshotSource(Protocol):
    """Anything that yields snapshots: the live collector, or a fixed one for layout tests."""

    async def collect(self) -> Snapshot: ...

    async def close(self) -> None: ...

    def force_refresh(self) -> None: ...


class Monitor:
    def __init__(self, source: SnapshotSource, config: Config, target: TargetConfig) -> None:
        self.source = source
        self.config = config
        self.target = target
        self._tracker = AlertTracker()

    async def poll(self) -> Snapshot:
        snapshot = await self.source.collect()
        alerts = self._tracker.update(evaluate(snapshot, self.config.thresholds), snapshot.taken_at)
        return replace(snapshot, alerts=alerts)

    def force_refresh(self) -> None:
        self.source.force_refresh()

    async def close(self) -> None:
        await self.source.close()


def live_monitor(config: Config, target: TargetConfig, **kwargs: object) -> Monitor:
    from .collectors.postgres import PostgresCollector

    return Monitor(PostgresCollector(target, config, **kwargs), config, target)  # type: ignore[arg-type]
