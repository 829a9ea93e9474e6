"""Figures derived from a snapshot, each computed in one place and read by the alerts, diagnose,
the checklists and the panels alike.

A figure that could not be measured is *unknown* — with why and the GRANT that fixes it —,
never 0, OK or pass:

- a role without ``pg_read_all_stats`` sees other roles' sessions only as rows without a
  state: a count of sessions idle in transaction, or of long statements, that leaves them out
  is unknown (the server says how many are hidden);
- the session *list* is a view (the panel's filter, ``console.max_sessions``): the counts come
  from the server over every session; the list is only read when it is known to be complete
  (a recording made before the server counted them).

Pure: no Textual, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import ConnectionStats, SessionRow

HIDDEN_FIX = "GRANT pg_read_all_stats TO <monitoring role>;  (pg_monitor includes it)"


@dataclass(frozen=True, slots=True)
class SessionCount:
    """How many sessions are past a threshold, or why that is unknown."""

    count: int | None
    """None: unknown (see ``unknown`` and ``fix``)."""
    threshold: float
    pids: tuple[int, ...] = ()
    """The oldest few of them."""
    oldest_seconds: float | None = None
    unknown: str | None = None
    fix: str | None = None

    @property
    def known(self) -> bool:
        return self.count is not None


def hidden_sessions(conns: ConnectionStats) -> str | None:
    """Why session figures are incomplete for this role (None: it sees every session)."""
    if conns.hidden:
        return (
            f"{conns.hidden} session(s) of other roles are hidden from the monitoring role: "
            "what they do cannot be seen"
        )
    return None


def _list_complete(conns: ConnectionStats) -> bool:
    return not conns.session_filter and not conns.sessions_truncated


def _idle_over(session: SessionRow, threshold: float) -> bool:
    return (session.state or "").startswith("idle in transaction") and (
        session.state_age_seconds or 0
    ) > threshold


def idle_in_transaction(conns: ConnectionStats, threshold: float) -> SessionCount:
    """Sessions idle in transaction (or aborted) for longer than ``threshold`` seconds."""
    hidden = hidden_sessions(conns)
    if hidden:
        return SessionCount(None, threshold, unknown=hidden, fix=HIDDEN_FIX)
    if conns.idle_in_transaction_over is not None and conns.idle_threshold == threshold:
        oldest = conns.oldest_idle_in_transaction_seconds
        return SessionCount(
            conns.idle_in_transaction_over,
            threshold,
            conns.idle_in_transaction_pids,
            oldest if conns.idle_in_transaction_over else None,
        )
    if not _list_complete(conns):
        return SessionCount(
            None, threshold, unknown="the session list is cut (filter or max_sessions)"
        )
    stuck = sorted(
        (s for s in conns.sessions if _idle_over(s, threshold)),
        key=lambda s: -(s.state_age_seconds or 0),
    )
    return SessionCount(
        len(stuck),
        threshold,
        tuple(s.pid for s in stuck[:5]),
        stuck[0].state_age_seconds if stuck else None,
    )


def long_running(conns: ConnectionStats, threshold: float) -> SessionCount:
    """Statements running for longer than ``threshold`` seconds."""
    hidden = hidden_sessions(conns)
    if hidden:
        return SessionCount(None, threshold, unknown=hidden, fix=HIDDEN_FIX)
    if conns.long_running is not None and conns.long_running_threshold == threshold:
        return SessionCount(conns.long_running, threshold)
    if not _list_complete(conns):
        return SessionCount(
            None, threshold, unknown="the session list is cut (filter or max_sessions)"
        )
    return SessionCount(
        sum(
            1
            for s in conns.sessions
            if s.state == "active" and (s.query_age_seconds or 0.0) > threshold
        ),
        threshold,
    )


def idle_sessions_over(conns: ConnectionStats, threshold: float) -> list[SessionRow]:
    """The listed sessions idle in transaction past ``threshold``, oldest first (details of a
    figure; the list may be cut: the count is :func:`idle_in_transaction`'s)."""
    return sorted(
        (s for s in conns.sessions if _idle_over(s, threshold)),
        key=lambda s: -(s.state_age_seconds or 0),
    )
