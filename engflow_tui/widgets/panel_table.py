"""PanelTable: the dashboard panels' table — Textual's DataTable, with lines rendered one row at a
time.

DataTable keeps the rows, keys, cursor, selection and scrolling. Its own rendering re-renders
every visible cell whenever any cell changes (one cache generation for the whole table), at
about 0.2 ms a cell: the sessions panel, whose ages change at every refresh, cost 30-40 ms of
the UI thread per refresh at 160x50. Here a line is built cell by cell from the cells' text
(~0.4 ms a row, 9 ms for that panel), and only the lines of the rows shown are rendered.

What it draws: the header, the rows (height 1, which is what the panels add), zebra stripes
and the row cursor, with DataTable's own component styles (so the theme and the focus state
apply as they do to any DataTable). It does not draw row labels, fixed rows or columns, or the
hover highlight: the panels use none of them.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey

CELL_CACHE_SIZE = 4096
"""Cells whose segments are kept from one paint to the next (the panels show fewer)."""


class PanelTable(DataTable[Any]):
    _cells: dict[tuple[int, int], tuple[Any, int, Style, Style | None, list[Segment]]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cells = {}
        self._paint_styles: dict[str, Style] | None = None

    # Sizes. DataTable measures every new and every changed cell to size the columns that fit
    # their content and the rows that grow with it (400 cells, ~10 ms, when the first snapshot
    # fills the sessions table: before the first paint). The panels give each column its width
    # (TablePanel sets the flexible one from the panel's size) and add rows one line high
    # without labels: there, measuring decides nothing and is skipped. Any other table (a
    # column sized by its content, a labelled or growing row) is measured as DataTable does.

    def _update_dimensions(self, new_rows: Any) -> None:
        new_rows = list(new_rows)
        if self._sized_by_content(new_rows):
            super()._update_dimensions(new_rows)
        else:
            super()._update_dimensions(())  # the scrollable size only: widths and row count

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        if self._sized_by_content({cell.row_key for cell in updated_cells}):
            super()._update_column_widths(updated_cells)

    def _sized_by_content(self, row_keys: Any) -> bool:
        if any(column.auto_width for column in self.columns.values()):
            return True
        rows = (self.rows.get(key) for key in row_keys)
        return any(row is not None and (row.label is not None or row.auto_height) for row in rows)

    def render_lines(self, crop: Region) -> list[Strip]:
        # One paint: the widget's style and its components' are looked up once, not per line
        # (each walks the widget's ancestors: ~0.1 ms, 20 lines a paint).
        self._paint_styles = {}
        try:
            return super().render_lines(crop)
        finally:
            self._paint_styles = None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._style("")
        if self.show_header:
            if y == 0:
                labels = [column.label for column in self.ordered_columns]
                return self._strip(-1, labels, base + self._style("datatable--header"), None)
            y -= 1
        index = y + self.scroll_offset.y
        if not 0 <= index < self.row_count:
            return Strip.blank(width, base)
        style = base
        if self.zebra_stripes:
            style += self._style("datatable--odd-row" if index % 2 else "datatable--even-row")
        over = None
        if self.show_cursor and self.cursor_type == "row" and index == self.cursor_row:
            # As DataTable draws it: the cursor's background under the cells' own (a red badge
            # stays red), its colour over theirs.
            cursor = self._style("datatable--cursor")
            style += cursor
            over = Style.from_color(color=cursor.color)
        return self._strip(index, self.get_row_at(index), style, over)

    def _style(self, component: str) -> Style:
        """The widget's style (component ""), or a component's as DataTable asks for it (not
        partial: the cursor's colours follow the focus); once per paint."""
        styles = self._paint_styles
        style = styles.get(component) if styles is not None else None
        if style is None:
            style = self.get_component_rich_style(component) if component else self.rich_style
            if styles is not None:
                styles[component] = style
        return style

    def _strip(self, row: int, cells: list[Any], style: Style, over: Style | None) -> Strip:
        """One line: each cell padded to its column, carrying the row and column in its style's
        meta as DataTable's do (a click selects the row; exports place each cell)."""
        pad = " " * self.cell_padding
        console = self.app.console
        cache = self._cells
        if len(cache) > CELL_CACHE_SIZE:
            cache.clear()
        segments: list[Segment] = []
        used = 0
        for column_index, (column, cell) in enumerate(
            zip(self.ordered_columns, cells, strict=False)
        ):
            render_width = column.get_render_width(self)
            used += render_width
            # A cell that did not change is the same object at the same place (the panels
            # update changed cells only), drawn in the same width and style: its segments
            # are those of the last paint. In the sessions table only the ages change.
            drawn = cache.get((row, column_index))
            if (
                drawn is not None
                and drawn[0] is cell
                and drawn[1] == render_width
                and drawn[2] == style
                and drawn[3] == over
            ):
                segments.extend(drawn[4])
                continue
            cell_style = style + Style.from_meta({"row": row, "column": column_index})
            text = _fit(cell, max(render_width - 2 * len(pad), 0))
            # Text.render() leaves the text's own style to the caller (it covers the column).
            text_style = cell_style + console.get_style(text.style) if text.style else cell_style
            cell_segments = [
                Segment(pad, cell_style),
                *Segment.apply_style(text.render(console), text_style, over),
                Segment(pad, cell_style),
            ]
            cache[(row, column_index)] = (cell, render_width, style, over, cell_segments)
            segments.extend(cell_segments)
        width = self.size.width
        scroll_x = self.scroll_offset.x
        rest = max(width + scroll_x - used, 0)
        if rest:
            meta = {"row": row, "column": 0, "out_of_bounds": True}
            segments.append(Segment(" " * rest, style + Style.from_meta(meta)))
        strip = Strip(segments)
        if scroll_x:
            strip = strip.crop(scroll_x, scroll_x + width)
        return strip.adjust_cell_length(width, style).simplify()


def _fit(cell: Any, room: int) -> Text:
    """The cell as exactly ``room`` cells of text: cropped (with an ellipsis only when the
    cell asks for one, as DataTable does), or padded on the side its justification asks for."""
    text = cell.copy() if isinstance(cell, Text) else Text("" if cell is None else str(cell))
    text.end = ""
    length = text.cell_len
    if length > room:
        text.truncate(room, overflow="ellipsis" if text.overflow == "ellipsis" else "crop")
        return text
    gap = room - length
    if gap:
        if text.justify == "right":
            return Text(" " * gap, end="") + text
        if text.justify == "center":
            left = gap // 2
            return Text(" " * left, end="") + text + Text(" " * (gap - left), end="")
        text.append(" " * gap)
    return text
