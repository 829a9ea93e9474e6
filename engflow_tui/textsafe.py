"""Making text from the database or an HTTP answer inert before it is drawn or written.

A table name, a role or application name, a session's query text, a field of ``/health`` or a
webhook receiver's error body is data that anybody with a login (or an HTTP endpoint) controls.
Written raw to a terminal, an ``ESC`` in it recolours a panel, ``OSC 2`` retitles the terminal,
``OSC 52`` writes the clipboard. :func:`inert` shows every such character visibly instead
(``\\x1b``, ``\\x9b``, ``\\u202e``) so that it is neither obeyed nor hidden; everything else is
left as it is. JSON writers use :func:`dumps`, which keeps the data exact and escapes the same
characters the JSON way (``\\u001b``).

What counts as unsafe:

- C0 controls (U+0000-U+001F) except tab and, unless ``one_line``, newline; DEL (U+007F);
- C1 controls (U+0080-U+009F: ``U+009B`` is a one-character CSI in some terminals);
- invisible format characters that change how the text around them reads or hide in names
  that imitate ours: bidirectional overrides and isolates (U+200E, U+200F, U+202A-U+202E,
  U+2066-U+2069, U+061C), zero-width space (U+200B), word joiner and invisible operators
  (U+2060-U+2064), line / paragraph separators (U+2028, U+2029) and the BOM (U+FEFF).

Pure: no Textual, no I/O. Everything may import it.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

_FORMAT = "\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_FORMAT}]")
_UNSAFE_ONE_LINE = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f{_FORMAT}]")
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_FORMAT}]")
"""What json.dumps(ensure_ascii=False) leaves raw: it escapes C0 controls itself."""


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


@lru_cache(maxsize=8192)
def _inert(text: str, one_line: bool) -> str:
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    return pattern.sub(_visible, text)


def inert(text: object, *, one_line: bool = False) -> str:
    """``text`` (any value; None is "") with every unsafe character shown as an escape.

    ``one_line``: newlines are shown as ``\\x0a`` too (for a cell or a one-line message).
    Safe text is returned unchanged (the common case costs one regex search)."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    if pattern.search(value) is None:
        return value
    return _inert(value, one_line)


def is_inert(text: str, *, one_line: bool = False) -> bool:
    """True when ``text`` holds nothing :func:`inert` would change."""
    return (_UNSAFE_ONE_LINE if one_line else _UNSAFE).search(text) is None


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def dumps(data: Any, **kwargs: Any) -> str:
    """``json.dumps`` for anything a person may ``cat``: the data stays exact (it decodes to
    the same strings), and the characters :func:`inert` shows are ``\\uXXXX`` escapes, never
    raw bytes. Non-ASCII letters stay readable (``ensure_ascii=False``)."""
    kwargs.setdefault("ensure_ascii", False)
    text = json.dumps(data, **kwargs)
    if kwargs["ensure_ascii"]:
        return text
    # Outside strings the encoder writes only ASCII, so every match is inside a string.
    return _UNSAFE_IN_JSON.sub(_json_escape, text)
