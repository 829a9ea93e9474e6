"""SlowQueriesPanel: pg_stat_statements entries whose mean time exceeds the threshold."""

from __future__ import annotations

from ..model import SlowQueries, Unavailable
from .render import slow_queries_summary, slow_query_rows
from .table_panel import TablePanel


class SlowQueriesPanel(TablePanel):
    TITLE = "Slow queries"
    COLUMNS = (
        ("mean ms", 9, 0),
        ("calls", 7, 1),
        ("total ms", 10, 2),
        ("rows", 7, 3),
        ("query", None, 0),
    )

    def show_slow(self, slow: SlowQueries | Unavailable) -> None:
        if slow is getattr(self, "_last", None):
            return  # pg_stat_statements is read every slow_queries_interval: unchanged between reads
        self._last = slow
        if isinstance(slow, Unavailable):
            self.show_unavailable(slow)
        else:
            note = f"pg_stat_statements {slow.extension_version}" if slow.extension_version else ""
            self.show(slow_queries_summary(slow), slow_query_rows(slow), note)
