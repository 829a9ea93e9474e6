"""Update a DataTable in place so the cursor and scroll position survive a refresh."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

Row = tuple[str, Sequence[Any]]


def matches(cells: Sequence[Any], needle: str) -> bool:
    """Case-insensitive substring match over the plain text of every cell."""
    if not needle:
        return True
    needle = needle.lower()
    return any(needle in (getattr(c, "plain", None) or str(c)).lower() for c in cells)


def sync_rows(table: DataTable[Any], rows: Sequence[Row]) -> None:
    """Make ``table`` show ``rows`` (key, cells), touching only what changed."""
    wanted = [key for key, _ in rows]
    current = [str(k.value) for k in table.rows]
    if wanted == current:
        for key, cells in rows:
            _update_row(table, key, cells)
        return
    cursor_key: str | None = None
    if table.row_count and 0 <= table.cursor_row < table.row_count:
        cursor_key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
    wanted_set = set(wanted)
    for key in current:
        if key not in wanted_set:
            table.remove_row(key)
    remaining = [str(k.value) for k in table.rows]
    have = set(remaining)
    if wanted == remaining + [k for k in wanted if k not in have]:
        # Only removals, and new rows at the end: update and append in place.
        for key, cells in rows:
            if key in have:
                _update_row(table, key, cells)
            else:
                table.add_row(*cells, key=key)
        _restore_cursor(table, cursor_key)
        return
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    _restore_cursor(table, cursor_key)


def _update_row(table: DataTable[Any], key: str, cells: Sequence[Any]) -> None:
    """Update the cells whose text or style changed (a state turning red keeps its text)."""
    for column_key, new, previous in zip(
        list(table.columns), cells, table.get_row(key), strict=False
    ):
        if _plain(new) != _plain(previous) or getattr(new, "style", None) != getattr(
            previous, "style", None
        ):
            table.update_cell(key, column_key, new)


def _restore_cursor(table: DataTable[Any], key: str | None) -> None:
    if key is None or not table.row_count:
        return
    try:
        index = table.get_row_index(RowKey(key))
    except Exception:  # noqa: BLE001 - the row is gone; leave the cursor where it is
        return
    if index != table.cursor_row:
        table.move_cursor(row=index, animate=False)


def _plain(value: Any) -> str:
    return getattr(value, "plain", None) or str(value)
