"""Who sends a target's alert notifications: the alerting authority, said on the target itself.

A watcher (``engflow-tui watch``) that alerts for a target holds a session-level advisory lock
(:data:`LOCK_KEY`) on its monitoring connection, whose ``application_name`` names it and its
host. Every console and every other watcher of that database reads who holds it
(``sql/authority.sql``) and then sends no notifications of its own. The lock goes with the
connection: a watcher that stops, crashes or loses the database gives it up, and a standby
watcher takes it at its next try.

Only a holder whose role is a superuser or a pg_monitor member counts (any session may take an
advisory lock and call itself a watcher). While the database cannot be read, the authority stays
with whoever held it when last seen: the watcher that held it keeps paging (*Database Down* once,
from it), the others keep deferring, and once it is back they give that watcher GRACE seconds to
take the lock again before they take over.

The reading itself is a model record (:class:`engflow_tui.model.Authority`, in snapshots and
recordings). Pure: no I/O, no Textual.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from .model import WATCHER_PREFIX, Authority
from .textsafe import inert

LOCK_KEY = int.from_bytes(b"EngFlow1", "big")
"""The advisory lock's key (bigint): pg_locks shows it as classid = high 32 bits, objid = low 32
bits, objsubid = 1."""
LOCK_CLASSID = LOCK_KEY >> 32
LOCK_OBJID = LOCK_KEY & 0xFFFFFFFF

NAME_LIMIT = 63
"""PostgreSQL keeps at most 63 bytes of an application_name (NAMEDATALEN - 1)."""


def watcher_application_name(host: str | None = None, pid: int | None = None) -> str:
    """``engflow-tui watch@HOST#PID``, the host cut so that the whole fits in what the server
    keeps. The pid tells a watcher its own sessions from another watcher's on the same host: a
    session of this process that still holds the lock after a network break is its own."""
    suffix = f"#{pid if pid is not None else os.getpid()}"
    room = NAME_LIMIT - len(WATCHER_PREFIX.encode()) - len(suffix)
    host_bytes = (host or socket.gethostname() or "unknown").encode("utf-8")[:room]
    return WATCHER_PREFIX + host_bytes.decode("utf-8", errors="ignore") + suffix


GRACE = 45.0
"""Seconds a monitor keeps deferring, after an outage, to a watcher that held the lock before
it and has not taken it again yet: the watcher reconnects on its own backoff (at most 30 s),
and the first to reconnect must not page twice what the watcher pages."""


@dataclass(frozen=True, slots=True)
class AlertingState:
    """What a monitor decided from the readings: does it send notifications, and why."""

    notifying: bool
    holder: Authority | None = None
    """The last reading that found a holder (another watcher, or this one)."""
    seen_at: datetime | None = None
    """When ``holder`` was last read."""
    stale: bool = False
    """The database cannot be read now: the decision rests on the last reading."""
    watcher: bool = False
    """This monitor is a watcher's (it takes the lock), not a console's."""
    waiting_since: datetime | None = None
    """Back from an outage, the lock is free and ``holder`` (another watcher) has not taken it
    again yet: deferring to it until ``waiting_since`` + GRACE."""

    def describe(self) -> str:
        """Who sends this target's notifications, in a few words (after "alerts: ")."""
        holder = self.holder
        here = "this watcher" if self.watcher else "this console"
        role = inert(holder.role or "unknown", one_line=True) if holder is not None else ""
        if holder is not None and holder.mine and not holder.trusted:
            return (
                f"this watcher (role {role} is neither a superuser nor a pg_monitor member: "
                "consoles do not defer to it)"
            )
        if holder is not None and holder.held and not holder.trusted:
            return (
                f"{here} (lock held by an untrusted session: pid {holder.holder_pid}, "
                f"role {role}; ignored)"
            )
        if holder is not None and holder.held and not holder.mine:
            since = f" since {holder.since.astimezone():%H:%M}" if holder.since else ""
            text = f"watcher on {holder.host}{since}"
            if self.stale and self.seen_at is not None:
                text += f" (last seen {self.seen_at.astimezone():%H:%M}; database unreadable)"
            elif self.waiting_since is not None:
                until = self.waiting_since + timedelta(seconds=GRACE)
                text += f" (not back after the outage; {here} takes over at {until.astimezone():%H:%M:%S})"
            return text + (" (this one stands by)" if self.watcher else "")
        if holder is not None and holder.mine:
            return "this watcher" + (" (database unreadable)" if self.stale else "")
        if self.watcher:
            return "this watcher (lock not taken yet)"
        return "this console (no watcher)"


def _defers_to(holder: Authority | None) -> bool:
    return holder is not None and holder.held and holder.trusted and not holder.mine


def decide(
    previous: AlertingState,
    reading: Authority | None,
    at: datetime,
    *,
    database_readable: bool,
) -> AlertingState:
    """The next state from a new reading (None: no reading this poll).

    - A reading replaces what was known: a trusted holder other than this process means defer.
    - Except right after an outage: if the lock is free but another watcher held it when last
      seen, this monitor keeps deferring for GRACE seconds (that watcher reconnects on its own
      backoff); if the watcher has not taken the lock by then, this monitor takes over.
    - No reading while the database is readable (the check runs on its cadence): unchanged.
    - No reading because the database is down: the last holder keeps the authority (``stale``).
      A monitor that never saw a holder notifies, as without a watcher.
    """
    watcher = previous.watcher
    if reading is not None:
        holder = reading if reading.held else None
        if holder is None and _defers_to(previous.holder):
            waiting = previous.waiting_since or (at if previous.stale else None)
            if waiting is not None and (at - waiting).total_seconds() < GRACE:
                return AlertingState(
                    False, previous.holder, previous.seen_at, False, watcher, waiting
                )
        return AlertingState(
            notifying=not _defers_to(holder),
            holder=holder,
            seen_at=at if holder is not None else None,
            watcher=watcher,
        )
    if database_readable:
        return replace(previous, stale=False)
    return replace(previous, stale=True)
