"""SteadyStatic: text that changes at every refresh is shown without laying the screen out
again, and a change of height still gets its layout (nothing cropped, nothing left over)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from engflow_tui.widgets.steady_static import SteadyStatic


class Lines(App[None]):
    CSS = "#summary { height: auto; } #below { height: 1; }"

    def compose(self) -> ComposeResult:
        yield SteadyStatic("one line", id="summary")
        yield Static("below", id="below")


def screen_lines(app: App[None]) -> list[str]:
    return [line.text.rstrip() for line in app.screen._compositor.render_strips()][:4]


async def test_same_height_repaints_in_place_and_a_new_height_relays_out() -> None:
    app = Lines()
    async with app.run_test(size=(40, 6)) as pilot:
        summary = app.query_one("#summary", SteadyStatic)
        summary.show_content("first")
        await pilot.pause()
        assert screen_lines(app)[:2] == ["first", "below"]

        summary.show_content("second")  # same height: no layout needed
        await pilot.pause()
        assert screen_lines(app)[:2] == ["second", "below"]

        summary.show_content("two\nlines")  # taller: the widget below moves down
        await pilot.pause()
        assert summary.size.height == 2
        assert screen_lines(app)[:3] == ["two", "lines", "below"]

        summary.show_content("back to one")  # shorter again: nothing left over
        await pilot.pause()
        assert summary.size.height == 1
        assert screen_lines(app)[:2] == ["back to one", "below"]


async def test_content_other_than_text_is_drawn_at_its_width_and_again_at_a_new_one() -> None:
    from rich.table import Table

    def grid(*rows: str) -> Table:
        table = Table.grid(padding=(0, 1), expand=True)  # its lines depend on the width
        table.add_column()
        table.add_column(justify="right")
        for row in rows:
            table.add_row(row, "end")
        return table

    app = Lines()
    async with app.run_test(size=(40, 6)) as pilot:
        summary = app.query_one("#summary", SteadyStatic)
        summary.show_content(grid("a", "b"))
        await pilot.pause()
        assert summary.size.height == 2
        assert screen_lines(app)[:3] == ["a" + " " * 36 + "end", "b" + " " * 36 + "end", "below"]
        summary.show_content(grid("c", "d"))  # same height, new text
        await pilot.pause()
        assert screen_lines(app)[:2] == ["c" + " " * 36 + "end", "d" + " " * 36 + "end"]
        await pilot.resize_terminal(30, 6)  # drawn for 40 columns: drawn again for 30
        await pilot.pause()
        assert screen_lines(app)[:3] == ["c" + " " * 26 + "end", "d" + " " * 26 + "end", "below"]
