"""What the user sees, read back from widgets (rich renderables rendered to plain text)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from textual.widgets import DataTable, Static


def plain(renderable: Any, width: int = 200) -> str:
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def static_text(widget: Static) -> str:
    """The text a Static shows (its content, markup or rich renderable, rendered)."""
    content = widget.content
    if isinstance(content, str):
        from rich.text import Text

        return Text.from_markup(content).plain
    return plain(getattr(content, "plain", None) or content)


def table_text(table: DataTable[Any]) -> list[list[str]]:
    rows = []
    for row_key in table.rows:
        rows.append([getattr(c, "plain", None) or str(c) for c in table.get_row(row_key)])
    return rows


def table_dicts(table: DataTable[Any]) -> list[dict[str, str]]:
    """Rows as {column label: text}, only for the columns on screen."""
    labels = [str(c.label) for c in table.columns.values()]
    return [dict(zip(labels, row, strict=True)) for row in table_text(table)]


def result_shown(app: Any) -> bool:
    """The action's result dialog is on screen with its content mounted (it is the screen a
    moment before its widgets are there)."""
    from engflow_tui.screens.action_result_modal import ActionResultModal

    return isinstance(app.screen, ActionResultModal) and bool(app.screen.query("#result-body"))
