"""PanelTable: DataTable's rows, keys, cursor and clicks, with its lines drawn one row at a time."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

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
