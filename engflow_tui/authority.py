"""Who sends a target's alert notifications: the alerting authority, said on the target itself.

A watcher (``engflow-tui watch``) that alerts for a target holds a session-level advisory lock
(:data:`LOCK_KEY`) on its monitoring connection, whose ``application_name`` names it and its
host. Every console and every other watcher of that database reads who holds it
(``sql/authority.sql``) and then sends no notifications of its own. The lock goes with the
connection: a watcher that stops, crashes or loses the database gives it up, and a standby
watcher takes it at its next try.

While the database cannot be read, the authority stays with whoever held it when last seen:
the watcher that held it keeps paging (*Database Down* once, from it), the others keep deferring.

The reading itself is a model record (:class:`engflow_tui.model.Authority`, in snapshots and
recordings). Pure: no I/O, no Textual.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import datetime

from .model import WATCHER_PREFIX, Authority

LOCK_KEY = int.from_bytes(b"EngFlow1", "big")
"""The advisory lock's key (bigint): pg_locks shows it as classid = high 32 bits, objid = low 32
bits, objsubid = 1."""
LOCK_CLASSID = LOCK_KEY >> 32
LOCK_OBJID = LOCK_KEY & 0xFFFFFFFF

NAME_LIMIT = 63
"""PostgreSQL keeps at most 63 bytes of an application_name (NAMEDATALEN - 1)."""


def watcher_application_name(host: str | None = None) -> str:
    """``engflow-tui watch@HOST``, cut to what the server keeps (whole characters)."""
    name = WATCHER_PREFIX + (host or socket.gethostname() or "unknown")
    data = name.encode("utf-8")[:NAME_LIMIT]
    return data.decode("utf-8", errors="ignore")


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

    def describe(self) -> str:
        """Who sends this target's notifications, in a few words (after "alerts: ")."""
        holder = self.holder
        here = "this watcher" if self.watcher else "this console"
        if holder is not None and holder.mine and not holder.trusted:
            return (
                f"this watcher (role {holder.role or 'unknown'} is neither a superuser nor a "
                "pg_monitor member: consoles do not defer to it)"
            )
        if holder is not None and holder.held and not holder.trusted:
            return (
                f"{here} (lock held by an untrusted session: pid {holder.holder_pid}, "
                f"role {holder.role or 'unknown'}; ignored)"
            )
        if holder is not None and holder.held and not holder.mine:
            since = f" since {holder.since.astimezone():%H:%M}" if holder.since else ""
            text = f"watcher on {holder.host}{since}"
            if self.stale and self.seen_at is not None:
                text += f" (last seen {self.seen_at.astimezone():%H:%M}; database unreadable)"
            return text + (" (this one stands by)" if self.watcher else "")
        if holder is not None and holder.mine:
            return "this watcher" + (" (database unreadable)" if self.stale else "")
        if self.watcher:
            return "this watcher (lock not taken yet)"
        return "this console (no watcher)"


def decide(
    previous: AlertingState,
    reading: Authority | None,
    at: datetime,
    *,
    database_readable: bool,
) -> AlertingState:
    """The next state from a new reading (None: no reading this poll).

    - A reading replaces what was known: a holder other than this process means defer.
    - No reading while the database is readable (the check runs on its cadence): unchanged.
    - No reading because the database is down: the last holder keeps the authority (``stale``).
      A monitor that never saw a holder notifies, as without a watcher.
    """
    if reading is not None:
        holder = reading if reading.held else None
        return AlertingState(
            notifying=holder is None or holder.mine or not holder.trusted,
            holder=holder,
            seen_at=at if holder is not None else None,
            watcher=previous.watcher,
        )
    if database_readable:
        return (
            previous
            if not previous.stale
            else AlertingState(
                previous.notifying, previous.holder, previous.seen_at, False, previous.watcher
            )
        )
    return AlertingState(
        previous.notifying, previous.holder, previous.seen_at, True, previous.watcher
    )
