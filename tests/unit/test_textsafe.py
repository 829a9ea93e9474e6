"""inert(): control characters from the data are shown, never emitted; dumps() keeps data exact."""

from __future__ import annotations

import json

import pytest

from engflow_tui.textsafe import dumps, inert, is_inert


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[41mred", "\\x1b[41mred"),
        ("\x1b]2;PWNED\x07", "\\x1b]2;PWNED\\x07"),
        ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),
        ("a\x9bb", "a\\x9bb"),
        ("over\rwrite", "over\\x0dwrite"),
        ("del\x7f", "del\\x7f"),
        ("nul\x00", "nul\\x00"),
        ("engflow-tui\u202e", "engflow-tui\\u202e"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("Orçamentos Antigos 🚀", "Orçamentos Antigos 🚀"),
        ("tab\there\nnewline", "tab\there\nnewline"),
    ],
)
def test_inert_shows_controls(raw: str, shown: str) -> None:
    assert inert(raw) == shown
    assert is_inert(inert(raw))


def test_one_line_shows_newlines_too() -> None:
    assert inert("a\nb", one_line=True) == "a\\x0ab"
    assert inert(None) == ""
    assert inert(42) == "42"


def test_dumps_keeps_data_exact_and_escapes_controls() -> None:
    data = {"q": "x\x1b[2J\x9b\u202e y", "name": "Orçamentos"}
    text = dumps(data)
    assert json.loads(text) == data
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
    assert "Orçamentos" in text


def test_the_line_filter_shows_what_reached_a_widget_raw_and_keeps_the_width() -> None:
    from rich.segment import Segment
    from textual.color import Color

    from engflow_tui.widgets.inert_filter import InertFilter

    line = [Segment("name: "), Segment("x\x1b]2;T\x07y"), Segment(" " * 20)]
    width = Segment.get_line_length(line)
    shown = InertFilter().apply(line, Color(0, 0, 0))
    text = "".join(s.text for s in shown)
    assert "\x1b" not in text and "\x07" not in text
    assert text.startswith("name: x\\x1b]2;T\\x07y")
    assert Segment.get_line_length(shown) == width
    clean = [Segment("all fine")]
    assert InertFilter().apply(clean, Color(0, 0, 0)) is clean
