"""Reading the console's own JSON state files (checklist runs, the incident, the alert history)
when they may be damaged — a kill during a save, a full disk, a hand edit, a newer version.

- :func:`read_json` reads and parses; any failure (not UTF-8, not JSON, nested past the
  recursion limit) is a :class:`ShapeError`.
- The shape helpers (:func:`obj`, :func:`text`, :func:`moment`, ...) check one field each and
  name it in the error ("items[2].status 'maybe' is not one of ...").
- :func:`set_aside` renames a file that does not fit to ``NAME.corrupt-PID``: kept whole for a
  person to look at, never deleted, and out of the way of the next save.
- :func:`recover_saves` deals with the temporary files :func:`~engflow_tui.atomic.write_text`
  leaves when killed before its rename (``.NAME-XXXXXXXX.tmp``): a complete one (it parses and
  validates) newer than the file replaces it, any other is removed. Each step is said in one line.

Nothing here raises for a damaged file: the caller gets data or a message. No Textual.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

TMP_GRACE = 5.0
"""Seconds a temporary file is left alone: younger, it may be another console's save in flight
(write_text takes milliseconds)."""

_TMP_NAME = re.compile(r"^\.(?P<name>.+)-[a-z0-9_]{8}\.tmp$")
"""tempfile.mkstemp(prefix=".NAME-", suffix=".tmp"): eight random characters in between."""


class ShapeError(ValueError):
    """A state file, or one field of it, is not what this version reads."""


def read_json(path: Path) -> Any:
    """The parsed content of ``path``. FileNotFoundError when there is none; any other failure
    to read or parse is a ShapeError (OSError for a file that is there but cannot be read)."""
    raw = path.read_bytes()
    return parse_json(raw)


def parse_json(raw: bytes | str) -> Any:
    """JSON text -> data; ShapeError for text that is not UTF-8 or not JSON, or nested so deep
    that the parser runs out of stack."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text)
    except UnicodeDecodeError:
        raise ShapeError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ShapeError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ShapeError("nested too deeply") from None


# ------------------------------------------------------------------------------ shape checks


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"{where} is not an object ({_kind(value)})")
    return value


def items(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ShapeError(f"{where} must be a list, not {_kind(value)}")
    return value


def objects(value: Any, where: str) -> list[dict[str, Any]]:
    """A list of objects (each checked)."""
    return [obj(item, f"{where}[{index}]") for index, item in enumerate(items(value, where))]


def text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ShapeError(f"{where} must be text, not {_kind(value)}")
    return value


def optional_text(value: Any, where: str) -> str | None:
    return None if value is None else text(value, where)


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ShapeError(f"{where} must be true or false, not {_kind(value)}")
    return value


def number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ShapeError(f"{where} must be a number, not {value!r}"[:200])
    return float(value)


def whole(value: Any, where: str, allowed: Iterable[int] | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShapeError(f"{where} must be a whole number, not {_kind(value)}")
    if allowed is not None and value not in allowed:
        raise ShapeError(f"{where} {value} is not one of {', '.join(map(str, allowed))}")
    return value


def choice(value: Any, where: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        shown = repr(value) if isinstance(value, str) else _kind(value)
        raise ShapeError(f"{where} {shown[:60]} is not one of {', '.join(allowed)}")
    return value


def moment(value: Any, where: str) -> datetime:
    """An ISO 8601 time with its zone ("2026-11-29T08:00:00+00:00" or "...Z")."""
    stamp = text(value, where)
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise ShapeError(f"{where} {stamp[:40]!r} is not a time") from None
    if parsed.tzinfo is None:
        raise ShapeError(f"{where} {stamp[:40]!r} has no time zone")
    return parsed


def optional_moment(value: Any, where: str) -> datetime | None:
    return None if value is None else moment(value, where)


# ------------------------------------------------------------------------------ damaged files


def set_aside(path: Path, what: str, reason: str) -> str:
    """Rename ``path`` to ``NAME.corrupt-PID``; the message names both (or why it could not)."""
    aside = path.with_name(f"{path.name}.corrupt-{os.getpid()}")
    try:
        path.replace(aside)
    except OSError as exc:
        return f"{what} {path} is unreadable ({reason}) and cannot be set aside: {exc.strerror}"
    return f"{what} {path} was unreadable ({reason}); set aside as {aside.name}"


def leftover_targets(directory: Path) -> set[Path]:
    """The files of ``directory`` that have a leftover temporary file of write_text."""
    try:
        names = [p.name for p in directory.iterdir()]
    except OSError:
        return set()
    return {directory / m["name"] for n in names if (m := _TMP_NAME.match(n))}


def recover_saves(
    path: Path,
    what: str,
    check: Callable[[Any], object],
    clock: Callable[[], float] = time.time,
) -> list[str]:
    """Settle the temporary files a killed save of ``path`` left behind; what was done, said.

    The newest complete one (it parses and ``check`` accepts it) that is newer than ``path`` (or
    ``path`` is missing) takes its place; the others are removed: a save never finished, or older
    than the file. One younger than TMP_GRACE is left alone (a save in flight elsewhere)."""
    found = []
    for tmp in path.parent.glob(f".{_glob_escape(path.name)}-*.tmp"):
        match = _TMP_NAME.match(tmp.name)
        if match is None or match["name"] != path.name:
            continue
        try:
            found.append((tmp.stat().st_mtime_ns, tmp))
        except OSError:
            continue
    if not found:
        return []
    try:
        current: int | None = path.stat().st_mtime_ns
    except OSError:
        current = None
    messages: list[str] = []
    recovered = False
    for mtime_ns, tmp in sorted(found, reverse=True):  # newest first
        if clock() - mtime_ns / 1e9 < TMP_GRACE:
            continue
        if recovered:
            reason = "a newer one was recovered"
        elif current is not None and mtime_ns <= current:
            reason = "older than the file"
        else:
            try:
                check(read_json(tmp))
                reason = ""
            except (OSError, ValueError, KeyError, TypeError) as exc:
                reason = f"incomplete: {exc}"
        try:
            if reason:
                tmp.unlink()
                messages.append(f"{what} {path}: removed {tmp.name}, a save cut short ({reason})")
            else:
                tmp.replace(path)
                recovered = True
                messages.append(
                    f"{what} {path}: recovered the save a kill interrupted ({tmp.name})"
                )
        except OSError as exc:
            messages.append(f"{what} {path}: cannot settle {tmp.name}: {exc.strerror}")
    return messages


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)
