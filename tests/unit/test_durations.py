from __future__ import annotations

import pytest

from engflow_tui.durations import format_age, format_duration, parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("500ms", 0.5),
        ("10s", 10),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        (45, 45),
        (1.5, 1.5),
        ("2", 2),
        (" 3 s ", 3),
    ],
)
def test_parse(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["fast", "-1s", "1y", True, None, [], -3, "1.2.3s"])
def test_parse_rejects(value: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - message checked in test_config
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0, "0s"), (59.9, "59s"), (61, "1m01s"), (3725, "1h02m"), (90000, "1d01h")],
)
def test_format_age(seconds: float | None, text: str) -> None:
    assert format_age(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.5, "500ms"), (2, "2s"), (1800, "30m"), (7200, "2h"), (1.5, "1.5s")]
)
def test_format_duration_round_trips(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds
