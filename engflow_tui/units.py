"""Figures as an operator reads them: a number with its unit and a sensible precision, never
``92.00000000000001`` or ``807.3089237777822``. One place: alert values, thresholds and peaks,
the Alerts screen and the alert detail all use :func:`format_figure`.

Units (the alert rules name theirs in rules.toml): ``%``, ``ms``, ``s`` (a round trip: shown
in ms below a second), ``x`` (a ratio), ``sessions``, ``tables`` or ``""`` (a plain number).
Pure: no Textual, no I/O.
"""

from __future__ import annotations

import math


def format_number(value: float) -> str:
    """Three significant figures at most below 100 (``3.82``, ``99.5``), whole numbers above
    (``807``, ``12,400``); trailing zeros dropped (``92``)."""
    if math.isnan(value):
        return "unknown"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    text = f"{value:.1f}" if size >= 10 else f"{value:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_figure(value: float | None, unit: str = "") -> str:
    """``value`` with its unit: ``92 %``, ``807 ms``, ``x3.8``, ``3 sessions``, ``no answer``
    (an infinite round trip); ``-`` when there is no value."""
    if value is None:
        return "-"
    if math.isnan(value):
        return "unknown"
    if unit == "s":
        if math.isinf(value):
            return "no answer"
        return f"{format_number(value * 1000)} ms" if value < 1 else f"{format_number(value)} s"
    number = format_number(value)
    if unit == "x":
        return f"x{number}"
    if unit == "%":
        return f"{number} %"
    if unit in ("sessions", "tables"):
        return f"{number} {unit if value != 1 else unit[:-1]}"
    return f"{number} {unit}" if unit else number
