"""The console's own backends, known exactly: (pid, backend_start) of every connection this
process holds open — the monitoring one, an action's, a diagnosis's.

A session's ``application_name`` is the client's to choose: a session calling itself
``engflow-tui`` must not become immune to *Terminate session*. The actions leave out exactly the
backends registered here (a pid alone could have been reused by another session since), and
nothing else. Connections register when :func:`engflow_tui.db.connect` opens them and leave when
they close or are lost. Thread-safe (the collector runs on a thread of its own). Pure: no
Textual, no I/O.
"""

from __future__ import annotations

import threading
from datetime import datetime

_lock = threading.Lock()
_own: set[tuple[int, datetime]] = set()


def register(pid: int, backend_start: datetime) -> None:
    with _lock:
        _own.add((pid, backend_start))


def unregister(pid: int, backend_start: datetime) -> None:
    with _lock:
        _own.discard((pid, backend_start))


def params() -> tuple[list[int], list[datetime]]:
    """The registered backends as two parallel arrays, for ``unnest($n::int[], $m::timestamptz[])``
    in the statements that must never act on them."""
    with _lock:
        pairs = sorted(_own)
    return [pid for pid, _ in pairs], [started for _, started in pairs]


def is_own(pid: int, backend_start: datetime | None) -> bool:
    with _lock:
        return backend_start is not None and (pid, backend_start) in _own
