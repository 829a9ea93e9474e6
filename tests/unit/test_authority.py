"""Who notifies (engflow_tui/authority.py), from readings of the alerting lock: the decisions
no database is needed for — the outage grace, untrusted holders, hostile names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engflow_tui.authority import GRACE, AlertingState, decide, watcher_application_name
from engflow_tui.model import Authority

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
WATCHER = Authority(holder_pid=41, application="engflow-tui watch@ops-1#977", since=T0, role="ops")
FREE = Authority()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_back_from_an_outage_a_console_waits_for_the_watcher_before_taking_over() -> None:
    state = decide(AlertingState(True), WATCHER, at(0), database_readable=True)
    assert not state.notifying and state.describe() == "watcher on ops-1 since 03:00"
    state = decide(state, None, at(10), database_readable=False)  # the database goes down
    assert not state.notifying and state.stale
    # It is back, and this console reads the lock before the watcher has reconnected.
    state = decide(state, FREE, at(40), database_readable=True)
    assert not state.notifying, "the watcher reconnects on its own backoff: wait for it"
    assert "not back after the outage; this console takes over at" in state.describe()
    # The watcher takes the lock again in time: it stays the one.
    again = decide(state, WATCHER, at(50), database_readable=True)
    assert not again.notifying and again.waiting_since is None
    # Or it does not: past the grace, the console takes over.
    state = decide(state, FREE, at(40 + GRACE - 1), database_readable=True)
    assert not state.notifying
    state = decide(state, FREE, at(40 + GRACE), database_readable=True)
    assert state.notifying and state.describe() == "this console (no watcher)"


def test_a_watcher_that_goes_while_the_database_is_up_is_replaced_at_once() -> None:
    state = decide(AlertingState(True), WATCHER, at(0), database_readable=True)
    state = decide(state, FREE, at(5), database_readable=True)
    assert state.notifying


def test_untrusted_holders_are_shown_inert_and_ignored() -> None:
    evil = Authority(
        holder_pid=66,
        application="engflow-tui watch@\x1b[2Jfake\nhost",
        role="ev\x1b]0;pwned\x07il\nrole",
        trusted=False,
    )
    state = decide(AlertingState(True), evil, at(0), database_readable=True)
    assert state.notifying
    line = state.describe()
    assert "\x1b" not in line and "\n" not in line and "\x07" not in line
    assert "role ev\\x1b]0;pwned\\x07il\\x0arole; ignored" in line
    mine = Authority(holder_pid=5, mine=True, role="app", trusted=False)
    own = decide(AlertingState(True, watcher=True), mine, at(0), database_readable=True)
    assert own.notifying
    assert "role app is neither a superuser nor a pg_monitor member" in own.describe()


def test_the_watcher_s_application_name_fits_and_names_its_host() -> None:
    name = watcher_application_name("h" * 100, pid=123456)
    assert len(name.encode()) <= 63 and name.endswith("#123456")
    assert Authority(holder_pid=1, application=name).host == "h" * (
        63 - len("engflow-tui watch@#123456")
    )
    assert Authority(holder_pid=1, application="engflow-tui watch@old-box").host == "old-box"
