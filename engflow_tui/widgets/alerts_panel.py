"""AlertsPanel: the active alerts, worst first."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import DataTable

from ..model import Snapshot
from ..ui.messages import AlertSelected
from .render import alert_rows, alerts_summary
from .table_panel import TablePanel


class AlertsPanel(TablePanel):
    TITLE = "Alerts"
    BINDINGS = [
        Binding("a", "acknowledge", "Acknowledge", id="alerts.ack"),
    ]
    CHANGES = frozenset({"acknowledge"})
    COLUMNS = (("severity", 10, 0), ("alert", 20, 0), ("since", 7, 1), ("detail", None, 0))

    def show_alerts(self, snapshot: Snapshot) -> None:
        self.show(alerts_summary(snapshot.alerts), alert_rows(snapshot.alerts, snapshot.taken_at))

    def selected_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def action_acknowledge(self) -> None:
        key = self.selected_key()
        if key is not None:
            self.post_message(AlertSelected(key, acknowledge=True))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on an alert: its details (the table's own Enter binding selects the row)."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(AlertSelected(str(event.row_key.value)))
