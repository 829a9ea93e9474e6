"""SlowQueriesPanel: pg_stat_statements entries whose mean time exceeds the threshold."""

from __future__ import annotations

from ..model import SlowQueries, Unavailable
from .render import slow_queries_summary, slow_query_rows
from .table_panel import TablePanel


class SlowQueriesPanel(TablePanel):
    TITLE = "Slow queries"
    COLUMNS = (("mean ms", 9), ("calls", 7), ("total ms", 10), ("rows", 7), ("query", None))

    def show_slow(self, slow: SlowQueries | Unavailable) -> None:
        if isinstance(slow, Unavailable):
            self.show_unavailable(slow)
        else:
            self.show(slow_queries_summary(slow), slow_query_rows(slow))
