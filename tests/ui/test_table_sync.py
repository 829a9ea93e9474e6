"""sync_rows keeps a table right (text, style, order, cursor) while touching as little as possible."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from engflow_tui.widgets.table_sync import sync_rows


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        table: DataTable[object] = DataTable()
        table.add_column("name", key="name")
        table.add_column("state", key="state")
        yield table


def _shown(table: DataTable[object]) -> list[tuple[str, str, str]]:
    out = []
    for key in table.rows:
        name, state = table.get_row(key)
        out.append((str(key.value), str(state), str(getattr(state, "style", ""))))
    return out


async def test_style_change_with_a_removed_row_and_new_rows_in_order() -> None:
    app = _TableApp()
    async with app.run_test():
        table = app.query_one(DataTable)
        sync_rows(
            table,
            [
                ("a", ["a", Text("idle in tx", style="yellow")]),
                ("b", ["b", Text("idle")]),
                ("c", ["c", Text("x")]),
            ],
        )
        table.move_cursor(row=2)
        # b disappears while a crosses the threshold (same text, new style) and d arrives at the end.
        sync_rows(
            table,
            [
                ("a", ["a", Text("idle in tx", style="bold red")]),
                ("c", ["c", Text("x")]),
                ("d", ["d", Text("y")]),
            ],
        )
        assert _shown(table) == [("a", "idle in tx", "bold red"), ("c", "x", ""), ("d", "y", "")]
        assert table.cursor_row == 1, "the cursor stays on c"
        # A new row in the middle: the order is still the one asked for.
        sync_rows(
            table, [("a", ["a", Text("z")]), ("e", ["e", Text("new")]), ("c", ["c", Text("x")])]
        )
        assert [k for k, _, _ in _shown(table)] == ["a", "e", "c"]
        assert table.cursor_row == 2, "the cursor follows c"
