"""AuditLogScreen: the recent audit records, newest first; the highlighted one in full below."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ..textsafe import dumps, inert
from ..widgets.render import highlighted

EVENT_STYLE = {"finished": "green", "failed": "bold red", "refused": "bold red", "started": "dim"}


class AuditLogScreen(Screen[None]):
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="audit.back")]
    DEFAULT_CSS = """
    AuditLogScreen #audit-table { height: 1fr; }
    AuditLogScreen #audit-detail-box { height: 1fr; border-top: solid $primary; }
    AuditLogScreen #audit-detail-box:focus { border-top: solid $accent; }
    """

    def __init__(self, records: list[dict[str, Any]], path: str, skipped: int = 0) -> None:
        super().__init__()
        self.records = records
        self.path = path
        self.skipped = skipped
        """Unreadable lines left out (the log itself is never rewritten)."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        skipped = f"; {self.skipped} unreadable line(s) skipped" if self.skipped else ""
        yield Static(
            Text(
                f" Audit log: {self.path}  "
                f"({len(self.records)} recent records, newest first{skipped})"
            ),
            id="audit-path",
        )
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="audit-detail-box", can_focus=True):  # Tab, then PgDn to read it all
            yield Static(id="audit-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        for column in ("time (UTC)", "event", "operator", "target", "action", "outcome"):
            table.add_column(column, key=column)
        for index, r in enumerate(self.records):
            table.add_row(
                str(r.get("ts", ""))[:19].replace("T", " "),
                Text(str(r.get("event", "")), style=EVENT_STYLE.get(str(r.get("event")), "")),
                Text(inert(r.get("operator", ""), one_line=True)),
                Text(inert(r.get("target", ""), one_line=True)),
                Text(inert(r.get("action", ""), one_line=True)),
                Text(inert(r.get("summary", r.get("error", "")), one_line=True)),
                key=str(index),
            )
        if not self.records:
            self.query_one("#audit-detail", Static).update(Text("No action has been recorded yet."))
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is None:
            return
        record = self.records[int(event.row_key.value)]
        self.query_one("#audit-detail", Static).update(
            highlighted(
                dumps(record, indent=2),
                "json",
                word_wrap=True,
                theme="ansi_dark",
            )
        )
