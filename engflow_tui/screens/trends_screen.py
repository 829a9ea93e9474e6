"""TrendsScreen (palette: Show trends): per-metric trends over hours / days / weeks, the fastest
growing tables and the capacity projections, from the history store.

It receives a loader (window -> TrendsReport), never the store: the reading happens on the
store's own thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ..history.trends import TrendsReport
from ..widgets.trends_view import trends_renderable

Loader = Callable[[str], Awaitable[TrendsReport]]


class TrendsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="trends.back"),
        Binding("h", "window('hours')", "Hours", id="trends.hours"),
        Binding("d", "window('days')", "Days", id="trends.days"),
        Binding("w", "window('weeks')", "Weeks", id="trends.weeks"),
        Binding("r", "reload", "Reload", id="trends.reload"),
    ]

    def __init__(self, load: Loader, window: str = "hours") -> None:
        super().__init__()
        self.load = load
        self.window = window
        self.report: TrendsReport | None = None
        self.loads = 0

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with VerticalScroll():
            yield Static(Text("reading the history…", style="dim"), id="trends-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Trends"
        self.action_reload()

    def action_window(self, window: str) -> None:
        self.window = window
        self.action_reload()

    def action_reload(self) -> None:
        self.run_worker(
            self._load(self.window),
            group="trends",
            exclusive=True,
            description="read the history",
            exit_on_error=False,
        )

    async def _load(self, window: str) -> None:
        body = self.query_one("#trends-body", Static)
        try:
            report = await self.load(window)
        except Exception as exc:  # noqa: BLE001 - a store problem is shown, not raised
            body.update(Text(f"cannot read the history: {exc}", style="bold yellow"))
            return
        if report is None:  # the store thread could not open the file (it said why, once)
            body.update(
                Text(
                    "cannot read the history: the store could not be opened (see the notice "
                    "on the dashboard)",
                    style="bold yellow",
                )
            )
            return
        self.report = report
        try:
            body.update(trends_renderable(report, self.size.width or 80))
        except Exception as exc:  # noqa: BLE001 - a rendering bug is shown, not fatal
            body.update(Text(f"cannot show the trends: {type(exc).__name__}: {exc}", style="red"))
        self.loads += 1

    def on_resize(self) -> None:
        if self.report is not None:
            try:
                renderable = trends_renderable(self.report, self.size.width or 80)
            except Exception as exc:  # noqa: BLE001 - a rendering bug is shown, not fatal
                renderable = Text(f"cannot show the trends: {type(exc).__name__}: {exc}")
            self.query_one("#trends-body", Static).update(renderable)
