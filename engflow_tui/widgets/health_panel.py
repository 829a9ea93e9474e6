"""HealthPanel: the database state in one word, latency, version, uptime, size, cache hit rate,
and the last hour's sparklines (cache hit rate, TPS, errors) once the history has them."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..model import DbState, Snapshot
from .render import health_renderable, health_with_probes
from .sparkline import cache_spark, has_data, rate_line
from .steady_static import SteadyStatic

COMPACT_BELOW = 44
"""Panels narrower than this (80-column terminals) round the "1h" row's values."""


def spark_width(panel_width: int) -> int:
    """Sparkline width for a panel this wide: two of them share the "1h" row (border, padding,
    label and the values take the rest)."""
    fixed = 20 if panel_width < COMPACT_BELOW else 27
    return max(3, min(24, (panel_width - 7 - fixed) // 2 + 3))


SHED = ("1h", "size", "server")
"""The rows a short panel leaves out first (80x24 with the REST and app probes): the probes'
states and the database's state, latency and cache stay in sight."""


def health_body(snapshot: Snapshot, panel_width: int = 40, room: int | None = None) -> object:
    """The panel's content: health (+ cache sparkline), the "1h" rates row, the HTTP probes.
    The "1h" row is there from the first snapshot ("collecting…" until the history has a
    trend): the dashboard keeps its room, so nothing moves on screen when the trend arrives.
    ``room``: the lines the panel has; rows of SHED are left out until the rest fits."""
    lines = snapshot.sparklines
    if snapshot.health.state is DbState.DOWN:
        return health_with_probes(snapshot)
    needed = 5 + len(snapshot.http) + (snapshot.host is not None) + bool(snapshot.health.error)
    omit = frozenset(SHED[: max(0, needed - room)] if room else ())
    width = spark_width(panel_width)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="ellipsis", no_wrap=True)
    trend = lines if lines is not None and has_data(lines) else None
    if "1h" not in omit:
        grid.add_row(
            "1h",
            Text("collecting…", style="dim")
            if trend is None
            else rate_line(trend, width, compact=panel_width < COMPACT_BELOW),
        )
    probes = health_with_probes(snapshot)
    rest = list(probes.renderables)[1:] if isinstance(probes, Group) else []
    return Group(
        health_renderable(
            snapshot.health,
            snapshot.taken_at,
            cache_spark(trend, width) if trend else None,
            omit=omit,
        ),
        grid,
        *rest,
    )


class HealthPanel(SteadyStatic):
    DEFAULT_CSS = """
    HealthPanel { border: round $primary-darken-1; height: 100%; padding: 0 1; overflow-y: auto; }
    """

    def on_mount(self) -> None:
        self.border_title = "Health"
        self.update("[dim]connecting…[/]")

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        room = self.size.height or None  # the content area: inside the border
        self.show_content(health_body(snapshot, self.size.width or 40, room))

    def on_resize(self) -> None:
        snapshot = getattr(self, "_snapshot", None)
        if snapshot is not None:
            self.show(snapshot)
