"""Parse and format durations such as "500ms", "10s", "30m", "2h" or a plain number of seconds.

Must not import Textual.
"""

from __future__ import annotations

import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$")


def parse_duration(value: object) -> float:
    """Seconds for a duration value; raises ValueError with a readable reason."""
    if isinstance(value, bool):
        raise ValueError('expected a duration like "2s", "30m" or a number of seconds')
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a duration")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match:
            number, unit = match.groups()
            return float(number) * _UNITS[unit or "s"]
        raise ValueError(f'{value!r} is not a duration (use e.g. "500ms", "10s", "30m", "2h")')
    raise ValueError('expected a duration like "2s", "30m" or a number of seconds')


MAX_DURATION = "3650d"
"""The longest duration any setting accepts (ten years): a larger one is a typo, and timers
overflow on values like 1e23 s."""


def parse_bounded(value: object, *, above_zero: bool = False, at_most: str = MAX_DURATION) -> float:
    """:func:`parse_duration`, then zero refused where it cannot work (a timeout of 0 waits
    forever, an interval of 0 spins) and anything above ``at_most`` refused; ValueError says
    which bound and echoes the value as given."""
    seconds = parse_duration(value)
    if above_zero and seconds <= 0:
        raise ValueError(f"must be above zero, not {value!r}")
    if seconds > parse_duration(at_most):
        raise ValueError(f"must be at most {at_most}, not {value!r}")
    return seconds


def format_age(seconds: float | None) -> str:
    """Compact age for tables: 42s, 5m12s, 3h04m, 2d03h."""
    if seconds is None:
        return "-"
    total = int(max(seconds, 0))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_duration(seconds: float) -> str:
    """A config-style duration string: 2s, 30m, 1.5s, 500ms."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
