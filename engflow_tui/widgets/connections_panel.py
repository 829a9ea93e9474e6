"""ConnectionsPanel: total vs max_connections, counts by state, and the session table."""

from __future__ import annotations

from ..config import Thresholds
from ..model import ConnectionStats, Unavailable
from .render import connections_summary, session_rows
from .table_panel import TablePanel


class ConnectionsPanel(TablePanel):
    TITLE = "Connections"
    COLUMNS = (
        ("pid", 8),
        ("user", 12),
        ("application", 16),
        ("client", 15),
        ("state", 21),
        ("age", 7),
        ("wait", 16),
        ("query", None),
    )

    def show_stats(self, stats: ConnectionStats | Unavailable, thresholds: Thresholds) -> None:
        if isinstance(stats, Unavailable):
            self.show_unavailable(stats)
        else:
            self.show(connections_summary(stats, thresholds), session_rows(stats, thresholds))

    def selected_pid(self) -> int | None:
        """The pid of the highlighted session, if any."""
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(str(key).split(":", 1)[0])
