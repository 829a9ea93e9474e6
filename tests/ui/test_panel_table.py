"""PanelTable: DataTable's rows, keys, cursor and clicks, with its lines drawn one row at a time."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from engflow_tui.widgets.panel_table import PanelTable


class OneTable(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        table: DataTable[Any] = PanelTable(cursor_type="row", zebra_stripes=True)
        table.add_column("pid", width=5, key="pid")
        table.add_column("state", width=8, key="state")
        table.add_column("ms", width=6, key="ms")
        table.add_column("query", width=12, key="query")
        table.add_row(
            "41",
            Text("active", style="green"),
            Text("2.5", justify="right"),
            Text("SELECT 1"),
            key="a",
        )
        table.add_row(
            "42",
            Text("idle in transaction", style="red"),
            Text("234.5", justify="right"),
            "[b]x[/b] = 1",
            key="b",
        )
        yield table

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.selected.append(str(event.row_key.value))


def lines(app: App[None]) -> list[str]:
    return [strip.text.rstrip() for strip in app.screen._compositor.render_strips()][:3]


async def test_rows_are_drawn_cropped_padded_and_justified_in_their_columns() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 6)) as pilot:
        await pilot.pause()
        assert lines(app) == [
            " pid    state     ms      query",
            " 41     active       2.5  SELECT 1",
            " 42     idle in    234.5  [b]x[/b] = 1",  # cropped; a str cell is text, not markup
        ]


async def test_a_click_moves_the_cursor_and_a_second_click_selects_the_row() -> None:
    app = OneTable()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one(PanelTable)
        assert table.cursor_row == 0
        await pilot.click(PanelTable, offset=(20, 2))  # the second row (the header is line 0)
        await pilot.pause()
        assert table.cursor_row == 1
        assert app.selected == []
        await pilot.click(PanelTable, offset=(20, 2))  # the same cell again, as in DataTable
        await pilot.pause()
        assert app.selected == ["b"]
        await pilot.press("up", "enter")
        await pilot.pause()
        assert app.selected == ["b", "a"]


class SizedTable(App[None]):
    """A column with a width, and one sized by its content (no width)."""

    def compose(self) -> ComposeResult:
        table: DataTable[Any] = PanelTable()
        table.add_column("set", width=4, key="set")
        table.add_column("fits", key="fits")
        table.add_row("a", "b", key="r1")
        yield table


async def test_a_column_without_a_width_still_fits_its_longest_cell() -> None:
    # Measuring cells is skipped when every column has a width (the panels); a column sized by
    # its content is measured as DataTable does, when rows are added and when cells change.
    app = SizedTable()
    async with app.run_test(size=(60, 6)) as pilot:
        table = app.query_one(PanelTable)
        table.add_row("c", "a longer cell", key="r2")
        await pilot.pause()
        assert lines(app)[2] == " c     a longer cell"
        table.update_cell("r1", "fits", "the longest cell of all", update_width=True)
        await pilot.pause()
        assert lines(app)[1] == " a     the longest cell of all"
        assert lines(app)[0] == " set   fits"


async def test_what_changed_is_drawn_again_and_what_did_not_is_drawn_the_same() -> None:
    """Unchanged cells keep their segments from one paint to the next: a changed cell, a row
    that moved and the cursor's move must still show."""
    app = OneTable()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one(PanelTable)
        await pilot.pause()
        before = app.screen._compositor.render_strips()[2]
        table.update_cell("b", "ms", Text("9.0", justify="right"))
        await pilot.pause()
        assert lines(app)[2] == " 42     idle in      9.0  [b]x[/b] = 1"
        table.update_cell("b", "ms", Text("234.5", justify="right"))
        await pilot.pause()
        assert app.screen._compositor.render_strips()[2] == before  # styles included
        # The cursor's row is drawn in the cursor's style; the row it left in its own.
        cursor_style = table.get_component_rich_style("datatable--cursor")
        row_b = app.screen._compositor.render_strips()[2]
        await pilot.press("down")
        await pilot.pause()
        moved = app.screen._compositor.render_strips()[2]
        assert row_b != moved
        assert all(s.style and s.style.bgcolor == cursor_style.bgcolor for s in moved)
        # Another theme: every row in its colours (no cell left in the old ones).
        app.theme = "textual-light"
        await pilot.pause()
        row_a = app.screen._compositor.render_strips()[1]
        even = table.rich_style + table.get_component_rich_style("datatable--even-row")
        assert all(s.style and s.style.bgcolor == even.bgcolor for s in row_a)
        # A column narrowed (as a panel does when the terminal shrinks): its cells are cut.
        column = table.columns[ColumnKey("query")]
        column.width = 4
        table._require_update_dimensions = True
        table.refresh()
        await pilot.pause()
        assert lines(app)[1] == " 41     active       2.5  SELE"
        # Rows swapped: each place draws its new row.
        table.clear()
        table.add_row("42", "idle", "1", "b", key="b")
        table.add_row("41", "active", "2", "a", key="a")
        await pilot.pause()
        assert [line.split()[0] for line in lines(app)[1:]] == ["42", "41"]
