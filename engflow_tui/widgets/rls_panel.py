"""RlsPanel: every table in the exposed schemas, RLS on/off, forced, policies; RLS-off first."""

from __future__ import annotations

import json

from ..model import RlsStatus, Unavailable
from ..ui.action_keys import action_bindings
from ..ui.messages import ActionRequested
from .render import rls_rows, rls_summary
from .table_panel import TablePanel


class RlsPanel(TablePanel):
    TITLE = "RLS status"
    BINDINGS = action_bindings("rls panel", "table_action")  # e, a
    CHANGES = frozenset({"table_action"})
    # Small flags first, the name last: it takes what is left and is cropped at the edge.
    COLUMNS = (("RLS", 6, 0), ("policies", 8, 1), ("table", None, 0))

    def show_rls(self, rls: RlsStatus | Unavailable) -> None:
        last = getattr(self, "_last", None)
        if rls is last or rls == last:
            return  # unchanged since the last scan (the usual case): no rebuild of 2,000 rows
        self._last = rls
        if isinstance(rls, Unavailable):
            self.show_unavailable(rls)
        else:
            self.show(rls_summary(rls), rls_rows(rls), f"schemas: {', '.join(rls.schemas)}")

    def selected_table(self) -> tuple[str, str] | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        schema, name = json.loads(str(key))
        return schema, name

    def action_table_action(self, action: str) -> None:
        selected = self.selected_table()
        if selected is None:
            self.post_message(ActionRequested(action))  # no row: the picker asks
            return
        schema, name = selected
        self.post_message(ActionRequested(action, schema=schema, table=name))
