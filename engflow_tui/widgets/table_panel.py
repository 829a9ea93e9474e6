"""A bordered panel: a one-line summary above a DataTable, with a text filter.

Subclasses declare their columns and turn a record into (summary, rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from ..model import Unavailable
from .render import unavailable_text
from .table_sync import Row, matches, sync_rows


class TablePanel(Vertical):
    """Base of the dashboard's table panels."""

    COLUMNS: ClassVar[Sequence[tuple[str, int | None]]] = ()
    TITLE: ClassVar[str] = ""

    DEFAULT_CSS = """
    TablePanel { border: round $primary-darken-1; height: 1fr; }
    TablePanel:focus-within { border: round $accent; }
    TablePanel > .panel-summary { height: auto; max-height: 4; }
    TablePanel > DataTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter_text = ""
        self._rows: list[Row] = []
        self.border_title = self.TITLE

    def on_resize(self) -> None:
        self.fit_flex_column()
        self.call_after_refresh(self.fit_flex_column)

    def fit_flex_column(self) -> None:
        """Give the one auto-width column (width None) what the others leave, so long text is
        cropped at the panel edge instead of pushing a horizontal scrollbar."""
        table = self.table
        # The panel's inner width, less the table's vertical scrollbar (kept reserved).
        available = self.scrollable_content_region.width - 2
        padding = 2 * table.cell_padding
        fixed = sum((w or 0) + padding for _, w in self.COLUMNS if w is not None)
        flex = [label for label, w in self.COLUMNS if w is None]
        if not flex or available <= 0:
            return
        width = max(available - fixed - padding, 8)
        column = table.columns.get(ColumnKey(flex[0]))
        if column is not None and (column.width != width or column.auto_width):
            column.width = width
            column.auto_width = False
            table._require_update_dimensions = True  # noqa: SLF001 - no public API to resize a column
            table.refresh()

    def compose(self) -> ComposeResult:
        yield Static(Text("waiting for the first snapshot…", style="dim"), classes="panel-summary")
        table: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=True)
        for label, width in self.COLUMNS:
            table.add_column(label, width=width, key=label)
        yield table

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(DataTable)

    def show(self, summary: RenderableType, rows: list[Row]) -> None:
        self.query_one(".panel-summary", Static).update(summary)
        self._rows = rows
        self._apply()

    def show_unavailable(self, item: Unavailable) -> None:
        self.show(unavailable_text(item), [])

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.border_title = f"{self.TITLE}  [filter: {text}]" if text else self.TITLE
        self._apply()

    def _apply(self) -> None:
        rows = [r for r in self._rows if matches(r[1], self.filter_text)]
        hidden = len(self._rows) - len(rows)
        self.border_subtitle = f"{hidden} hidden by filter" if hidden else ""
        sync_rows(self.table, rows)

    def row_keys(self) -> list[str]:
        """Keys of the rows on screen (after filtering), top to bottom."""
        return [str(k.value) for k in self.table.rows]
