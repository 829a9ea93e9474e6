"""The console's collector on a thread of its own: started before the UI, it has connected and
read by the time the dashboard asks; closing it ends its session and its thread."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from engflow_tui.collectors.threaded import ThreadedSource
from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.model import ConnectionStats, DbState
from engflow_tui.monitor import console_monitors

from ..pg import session, silent_server


def collector_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("collector ")}


async def console_sessions(db) -> int:  # type: ignore[no-untyped-def]
    async with session(db.dsn(), "test-observer") as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'engflow-tui' AND datname = current_database()"
        )


async def wait_until(predicate, within: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_the_first_target_connects_before_the_ui_asks_and_closes_with_it(
    db, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    target = TargetConfig(name="t", dsn=db.dsn())
    config = Config(console=ConsoleConfig(state_dir=str(tmp_path)), targets={"t": target})
    before = collector_threads()
    factory = console_monitors(config, target)  # what the CLI does before importing the UI

    async def connected() -> bool:
        return await console_sessions(db) == 1

    await wait_until(connected)  # nobody has polled yet: the session is already there

    monitor = factory(config, target)
    snapshot = (await monitor.poll()).snapshot  # the read already under way, not a second connection
    assert snapshot.health.state is DbState.CONNECTED
    assert isinstance(snapshot.connections, ConnectionStats)
    assert await console_sessions(db) == 1
    second = (await monitor.poll()).snapshot
    assert second.health.state is DbState.CONNECTED
    assert len(collector_threads() - before) == 1

    await monitor.close()
    assert await console_sessions(db) == 0
    assert collector_threads() == before


async def test_a_session_filter_reaches_the_collector_thread(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = TargetConfig(name="t", dsn=db.dsn())
    config = Config(console=ConsoleConfig(state_dir=str(tmp_path)), targets={"t": target})
    monitor = console_monitors(config, target)(config, target)
    async with session(db.dsn(), "needle-app"), session(db.dsn(), "hay-app"):
        await monitor.poll()
        monitor.set_session_filter("needle")
        snapshot = (await monitor.poll()).snapshot
    await monitor.close()
    assert isinstance(snapshot.connections, ConnectionStats)
    assert [s.application for s in snapshot.connections.sessions] == ["needle-app"]


async def test_close_does_not_wait_for_a_server_that_never_answers(tmp_path) -> None:
    with silent_server() as port:
        target = TargetConfig(name="silent", dsn=f"postgresql://ops@127.0.0.1:{port}/postgres")
        config = Config(
            console=ConsoleConfig(connect_timeout=30.0, state_dir=str(tmp_path)),
            targets={"silent": target},
        )
        before = collector_threads()
        monitor = console_monitors(config, target)(config, target)
        poll = asyncio.ensure_future(monitor.poll())
        await asyncio.sleep(0.3)
        assert not poll.done()
        started = time.monotonic()
        poll.cancel()
        await monitor.close()
        assert time.monotonic() - started < 5.0
        assert collector_threads() == before


async def test_a_source_that_cannot_be_built_fails_each_collect_with_its_error() -> None:
    def broken() -> object:
        raise RuntimeError("no driver")

    source = ThreadedSource(broken, name="collector broken").start()
    with pytest.raises(RuntimeError, match="no driver"):
        await source.collect()
    with pytest.raises(RuntimeError, match="no driver"):
        await source.collect()
    assert not source.connected
    await source.close()
    assert not any(t.name == "collector broken" for t in threading.enumerate())
