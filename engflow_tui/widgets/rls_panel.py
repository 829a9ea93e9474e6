"""RlsPanel: every table in the exposed schemas, RLS on/off, forced, policies; RLS-off first."""

from __future__ import annotations

from ..model import RlsStatus, Unavailable
from .render import rls_rows, rls_summary
from .table_panel import TablePanel


class RlsPanel(TablePanel):
    TITLE = "RLS status"
    # Small flags first, the name last: it takes what is left and is cropped at the edge.
    COLUMNS = (("RLS", 6, 0), ("policies", 8, 1), ("table", None, 0))

    def show_rls(self, rls: RlsStatus | Unavailable) -> None:
        if isinstance(rls, Unavailable):
            self.show_unavailable(rls)
        else:
            self.show(rls_summary(rls), rls_rows(rls), f"schemas: {', '.join(rls.schemas)}")
