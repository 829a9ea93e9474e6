"""A bordered panel: a one-line summary above a DataTable, with a text filter.

Subclasses declare their columns as (label, width, priority): width None is the one flexible
column that takes what the others leave (long text is cropped at the panel edge, never pushed
behind a horizontal scrollbar); when the panel is too narrow, columns with the highest priority
number are dropped first (0 = always shown).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from ..model import Unavailable
from .panel_table import PanelTable
from .render import unavailable_text
from .steady_static import SteadyStatic
from .table_sync import Row, matches, sync_rows

MIN_FLEX = 20
MAX_ROWS = 300
"""Rows rendered at most: the filter searches every row, the subtitle says how many are not shown."""


class TablePanel(Vertical):
    """Base of the dashboard's table panels."""

    COLUMNS: ClassVar[Sequence[tuple[str, int | None, int]]] = ()
    TITLE: ClassVar[str] = ""
    MIN_FLEX: ClassVar[int] = MIN_FLEX
    """The flexible column is never narrower than this (other columns are dropped first)."""
    CHANGES: ClassVar[frozenset[str]] = frozenset()
    """The panel's actions that change the database or the alerts (refused in a replay)."""

    DEFAULT_CSS = """
    TablePanel { border: round $primary-darken-1; height: 1fr; }
    TablePanel:focus-within { border: round $accent; }
    TablePanel > .panel-summary { height: auto; max-height: 4; padding: 0 1; }
    TablePanel > DataTable { height: 1fr; scrollbar-size-horizontal: 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter_text = ""
        self.note = ""
        self._rows: list[Row] = []
        self._subtitle: str | None = None
        """The border's subtitle as last set (Textual keeps it as markup)."""
        self._visible = list(range(len(self.COLUMNS)))
        self.border_title = self.TITLE
        self.refuses_changes = False
        """Set over a recording: CHANGES leave the footer, and their keys go on to the screen."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.refuses_changes and action in self.CHANGES)

    def compose(self) -> ComposeResult:
        yield SteadyStatic(
            Text("waiting for the first snapshot…", style="dim"), classes="panel-summary"
        )
        table: DataTable[Any] = PanelTable(cursor_type="row", zebra_stripes=True)
        self._add_columns(table)
        yield table

    def _add_columns(self, table: DataTable[Any]) -> None:
        for index in self._visible:
            label, width, _ = self.COLUMNS[index]
            table.add_column(label, width=width or self.MIN_FLEX, key=label)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(DataTable)

    # ------------------------------------------------------------------ layout

    def on_resize(self) -> None:
        self.fit_columns()
        self.call_after_refresh(self.fit_columns)

    def _available(self) -> int:
        # The panel's inner width, less the table's vertical scrollbar (kept reserved).
        return self.scrollable_content_region.width - 2

    def _choose_columns(self, available: int, padding: int) -> list[int]:
        chosen = list(range(len(self.COLUMNS)))

        def needed() -> int:
            return sum((self.COLUMNS[i][1] or self.MIN_FLEX) + padding for i in chosen)

        for index in sorted(chosen, key=lambda i: -self.COLUMNS[i][2]):
            if needed() <= available:
                break
            if self.COLUMNS[index][2] > 0:
                chosen.remove(index)
        return chosen

    def fit_columns(self) -> None:
        """Drop low-priority columns that do not fit, and size the flexible one."""
        available = self._available()
        if available <= 0:
            return
        table = self.table
        padding = 2 * table.cell_padding
        chosen = self._choose_columns(available, padding)
        if chosen != self._visible:
            self._visible = chosen
            table.clear(columns=True)
            self._add_columns(table)
            self._apply()
        fixed = sum((self.COLUMNS[i][1] or 0) + padding for i in chosen if self.COLUMNS[i][1])
        for i in chosen:
            label, width, _ = self.COLUMNS[i]
            if width is None:
                flex = max(available - fixed - padding, self.MIN_FLEX)
                column = table.columns.get(ColumnKey(label))
                if column is not None and (column.width != flex or column.auto_width):
                    column.width = flex
                    column.auto_width = False
                    table._require_update_dimensions = True  # noqa: SLF001 - no public resize API
                    table.refresh()

    # ------------------------------------------------------------------ data

    def show(self, summary: RenderableType, rows: list[Row], note: str = "") -> None:
        self.query_one(".panel-summary", SteadyStatic).show_content(summary)
        self._rows = rows
        self.note = note
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
        more = len(rows) - MAX_ROWS
        rows = rows[:MAX_ROWS]  # worst first: what is cut is the least urgent
        notes = [
            n
            for n in (
                self.note,
                f"{hidden} hidden by filter" if hidden else "",
                f"+{more} more: / to filter" if more > 0 else "",
            )
            if n
        ]
        subtitle = " · ".join(notes)
        if subtitle != self._subtitle:  # setting it repaints the whole panel, even unchanged
            self._subtitle = subtitle
            self.border_subtitle = subtitle
        visible = self._visible
        sync_rows(self.table, [(key, [cells[i] for i in visible]) for key, cells in rows])
