"""Figures with their unit and a sensible precision, in one place (issue 17, item 15)."""

from __future__ import annotations

import math

import pytest

from engflow_tui.units import format_figure


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (92.00000000000001, "%", "92 %"),
        (807.3089237777822, "ms", "807 ms"),
        (3.81679, "x", "x3.82"),
        (99.53, "%", "99.5 %"),
        (0.0123, "s", "12.3 ms"),
        (math.inf, "s", "no answer"),
        (12.0, "s", "12 s"),
        (1.0, "sessions", "1 session"),
        (3.0, "sessions", "3 sessions"),
        (12400.4, "", "12,400"),
        (None, "%", "-"),
        (math.nan, "%", "unknown"),
    ],
)
def test_figures_read_as_an_operator_reads_them(value: float, unit: str, shown: str) -> None:
    assert format_figure(value, unit) == shown


@pytest.mark.parametrize(
    ("height", "health", "rows"),
    [
        (21, 7, "7 7 7"),  # 80x24: Connections and RLS keep three table rows each
        (20, 7, "6 7 7"),  # ... with an incident bar: the health row gives way
        (21, 9, "7 7 7"),  # ... with the REST and app probes
        (42, 7, "7 3fr 2fr"),  # a large terminal: as before
    ],
)
def test_dashboard_rows_keep_three_table_rows_at_80x24(height: int, health: int, rows: str) -> None:
    from engflow_tui.screens.dashboard import panel_rows

    assert panel_rows(height, health) == rows
