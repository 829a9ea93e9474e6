"""HealthPanel: the database state in one word, latency, version, uptime, size, cache hit rate."""

from __future__ import annotations

from textual.widgets import Static

from ..model import Snapshot
from .render import health_with_probes


class HealthPanel(Static):
    DEFAULT_CSS = """
    HealthPanel { border: round $primary-darken-1; height: 100%; padding: 0 1; overflow-y: auto; }
    """

    def on_mount(self) -> None:
        self.border_title = "Health"
        self.update("[dim]connecting…[/]")

    def show(self, snapshot: Snapshot) -> None:
        self.update(health_with_probes(snapshot))
