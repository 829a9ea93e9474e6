"""The console's process ends when it is told to: within two seconds of q, SIGTERM, SIGHUP or
the loss of its terminal, at any moment of its start-up.

Textual's shutdown restores the terminal through its output thread; with the terminal gone (a
closed tmux pane, an ssh session that dropped) that write can block for good, and the process
stayed behind — holding its monitoring connection, the history store's writer lock and its
webhooks. :func:`arm` is called with every request to end: unless the UI has returned within
``GRACE`` seconds (:func:`disarm`), a daemon thread runs what was registered with
:func:`on_forced_exit` (the demo removes its server) and ends the process with ``os._exit``.
What the console must not lose is never pending at that point: alerts, incidents, checklist runs
and audit records are written to disk when they change.

:func:`terminal_lost` tells a hung-up terminal from a live one (``tcgetpgrp`` fails with EIO).
No Textual: the app calls these.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable

GRACE = 1.5
"""Seconds the UI gets to close by itself after it was asked to."""

_lock = threading.Lock()
_armed: threading.Thread | None = None
_returned = threading.Event()
_cleanups: list[Callable[[], None]] = []


def on_forced_exit(cleanup: Callable[[], None]) -> Callable[[], None]:
    """Run ``cleanup`` if the process has to be ended; returns a function that unregisters it."""
    with _lock:
        _cleanups.append(cleanup)

    def unregister() -> None:
        with _lock, contextlib.suppress(ValueError):
            _cleanups.remove(cleanup)

    return unregister


def arm(code: int, grace: float = GRACE) -> None:
    """The console was asked to end with ``code``: make sure the process does (once)."""
    global _armed
    with _lock:
        if _armed is not None or _returned.is_set():
            return
        _armed = threading.Thread(
            target=_force, args=(code, grace), name="engflow-exit-guard", daemon=True
        )
        _armed.start()


def disarm() -> None:
    """The UI has returned: the rest of the exit is the caller's, and bounded."""
    _returned.set()


def _force(code: int, grace: float) -> None:
    if _returned.wait(grace):
        return
    with _lock:
        cleanups = list(_cleanups)
    for cleanup in cleanups:
        with contextlib.suppress(Exception):
            cleanup()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def terminal_lost(fd: int) -> bool:
    """True when ``fd`` is a terminal that has hung up (its window or connection is gone)."""
    try:
        os.tcgetpgrp(fd)
    except OSError as exc:
        import errno

        return exc.errno in (errno.EIO, errno.ENXIO, errno.EBADF)
    return False
