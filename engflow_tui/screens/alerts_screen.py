"""AlertsScreen: active alerts (firing, pending) and the recent history, filterable by severity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..durations import format_age
from ..model import Alert
from ..textsafe import inert
from ..units import format_figure
from ..widgets.render import SEVERITY_STYLE

FILTERS = {"0": None, "1": "critical", "2": "warning", "3": "info"}


def _figure(value: object, unit: object) -> str:
    """A stored peak (a history record of any version: a number, or not) with its unit."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_figure(float(value), unit if isinstance(unit, str) else "")
    return ""


class AlertsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back", id="alerts_screen.back"),
        Binding("0", "severity('0')", "All", id="alerts_screen.all"),
        Binding("1", "severity('1')", "Critical", id="alerts_screen.critical"),
        Binding("2", "severity('2')", "Warning", id="alerts_screen.warning"),
        Binding("3", "severity('3')", "Info", id="alerts_screen.info"),
        Binding("a", "acknowledge", "Acknowledge", id="alerts_screen.ack"),
    ]
    DEFAULT_CSS = """
    AlertsScreen #active { height: 1fr; }
    AlertsScreen #recent { height: 1fr; }
    AlertsScreen .heading { background: $panel; padding: 0 1; text-style: bold; }
    """

    def __init__(
        self,
        alerts: tuple[Alert, ...],
        history: list[dict[str, Any]],
        now: datetime,
        *,
        recorded: bool = False,
    ) -> None:
        super().__init__()
        self.alerts = alerts
        self.history = history
        self.now = now
        self.severity: str | None = None
        self.recorded = recorded
        """Alerts of a recording: "since" counts to the frame's time (given to refill), never
        the wall clock, and acknowledging is not offered."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.recorded and action == "acknowledge")

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="active-heading", classes="heading")
        yield DataTable(id="active", cursor_type="row", zebra_stripes=True)
        yield Static("Recent (fired / resolved / acknowledged), newest first", classes="heading")
        yield DataTable(id="recent", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        active = self.query_one("#active", DataTable)
        for column in ("severity", "state", "alert", "subject", "since", "value", "detail"):
            active.add_column(column, key=column)
        recent = self.query_one("#recent", DataTable)
        for column in ("time", "event", "severity", "alert", "subject", "peak", "detail"):
            recent.add_column(column, key=column)
        self.refill(self.alerts, self.history)
        active.focus()

    def refill(
        self,
        alerts: tuple[Alert, ...],
        history: list[dict[str, Any]],
        now: datetime | None = None,
    ) -> None:
        """``now``: the time "since" counts to (a replay's frame); live, the wall clock."""
        from datetime import UTC

        self.alerts, self.history = alerts, history
        if now is not None:
            self.now = now
        elif not self.recorded:
            self.now = datetime.now(UTC)
        active = self.query_one("#active", DataTable)
        cursor = active.cursor_row
        active.clear()
        shown = [a for a in alerts if self.severity is None or a.severity.value == self.severity]
        for a in shown:
            active.add_row(
                Text(f" {a.severity.value.upper()} ", style=SEVERITY_STYLE[a.severity]),
                a.state + (" ✓ack" if a.acknowledged else ""),
                Text(a.title, style="bold"),
                Text(inert(a.subject, one_line=True)),
                format_age((self.now - a.since).total_seconds()) if a.since else "-",
                "" if a.value is None else format_figure(a.value, a.unit),
                Text(inert(a.message, one_line=True)),
                key=a.key,
            )
        label = f"showing {self.severity} only" if self.severity else "showing all severities"
        self.query_one("#active-heading", Static).update(
            f"Active alerts: {len(shown)} · {label} · keys: 1 critical, 2 warning, 3 info, 0 all · "
            "Enter details · a acknowledge"
        )
        if active.row_count:
            active.move_cursor(row=min(cursor, active.row_count - 1), animate=False)
        recent = self.query_one("#recent", DataTable)
        recent.clear()
        for index, h in enumerate(history):
            if self.severity is not None and h.get("severity") != self.severity:
                continue
            recent.add_row(
                str(h.get("at", ""))[:19].replace("T", " "),
                Text(str(h.get("event", ""))),
                Text(str(h.get("severity", ""))),
                Text(inert(h.get("title", ""), one_line=True)),
                Text(inert(h.get("subject", ""), one_line=True)),
                _figure(h.get("peak"), h.get("unit")),
                Text(inert(h.get("message", ""), one_line=True)),
                key=str(index),
            )

    def action_severity(self, choice: str) -> None:
        self.severity = FILTERS[choice]
        self.refill(self.alerts, self.history)

    def selected(self) -> str | None:
        table = self.query_one("#active", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from ..ui.messages import AlertSelected

        if event.data_table.id == "active" and event.row_key.value is not None:
            self.post_message(AlertSelected(str(event.row_key.value)))

    def action_acknowledge(self) -> None:
        from ..ui.messages import AlertSelected

        key = self.selected()
        if key is not None:
            self.post_message(AlertSelected(key, acknowledge=True))
