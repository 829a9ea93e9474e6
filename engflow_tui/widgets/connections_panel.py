"""ConnectionsPanel: total vs max_connections, counts by state, and the session table."""

from __future__ import annotations

from ..config import Thresholds
from ..model import ConnectionStats, Sparklines, Unavailable
from ..ui.action_keys import action_bindings
from ..ui.messages import ActionRequested
from .render import connections_summary, session_rows
from .sparkline import connections_spark
from .table_panel import TablePanel


class ConnectionsPanel(TablePanel):
    TITLE = "Connections"
    BINDINGS = action_bindings("connections panel", "session")  # x, c
    CHANGES = frozenset({"session"})
    MIN_FLEX = 12  # at 80 columns, the application matters more than the tail of the query
    COLUMNS = (
        ("pid", 7, 0),
        ("user", 12, 2),
        ("application", 16, 1),
        ("client", 15, 3),
        ("state", 20, 0),
        ("age", 7, 0),
        ("wait", 16, 4),
        ("query", None, 0),
    )

    def show_stats(
        self,
        stats: ConnectionStats | Unavailable,
        thresholds: Thresholds,
        sparklines: Sparklines | None = None,
    ) -> None:
        if isinstance(stats, Unavailable):
            self.show_unavailable(stats)
        else:
            summary = connections_summary(stats, thresholds)
            # The sparkline takes what the first line leaves (never a line of its own).
            first_line = summary.plain.split("\n", 1)[0]
            room = (self.size.width or 120) - 4 - len(first_line) - 5
            if room >= 4:
                spark = connections_spark(sparklines, min(room, 16))
                if "\n" in summary.plain:
                    cut = summary.plain.index("\n")
                    summary = summary[:cut] + spark + summary[cut:]
                else:
                    summary.append_text(spark)
            note = (
                f"+{stats.sessions_truncated} sessions not listed: / to filter"
                if stats.sessions_truncated
                else ""
            )
            if stats.session_filter and stats.matched is not None:
                # Filtered by the server: the counts are of every session, the table of matches.
                note = f"{stats.matched} of {stats.total} sessions match"
                if stats.sessions_truncated:
                    note += f", {stats.sessions_truncated} not listed"
            self.show(summary, session_rows(stats, thresholds), note)

    def selected_session(self) -> tuple[int, str | None] | None:
        """The highlighted session as (pid, backend_start): the pair that names it."""
        table = self.table
        if not table.row_count:
            return None
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        pid, _, started = key.partition(":")
        return int(pid), started or None

    def action_session(self, action: str) -> None:
        selected = self.selected_session()
        if selected is None:
            self.notify("no session selected", severity="warning")
            return
        pid, backend_start = selected
        self.post_message(ActionRequested(action, pid=pid, backend_start=backend_start))
