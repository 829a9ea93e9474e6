"""The database poll never waits on HTTP (issue 16, item 11): a real PostgreSQL and a real
loopback endpoint that drips its answer one byte every 2 s."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.model import DbState
from engflow_tui.monitor import Monitor

from ..httpserver import Route, http_server

HEALTHY = {"status": "healthy", "database": "connected", "version": "2", "timestamp": "now"}


def dripping_monitor(dsn: str, health_url: str, http_timeout: float) -> Monitor:
    target = TargetConfig(name="t", dsn=dsn, app_health_url=health_url)
    config = Config(
        console=ConsoleConfig(refresh_interval=0.3, http_timeout=http_timeout, http_interval=60),
        targets={"t": target},
    )
    return Monitor(PostgresCollector(target, config, light_first_cycle=False), config, target)


async def test_a_dripping_health_endpoint_never_holds_the_database_poll(db18) -> None:
    with http_server() as server:
        server.routes["/health"] = Route(200, json.dumps(HEALTHY), drip=2)
        monitor = dripping_monitor(db18.dsn(), f"{server.base}/health", http_timeout=4)
        started = time.monotonic()
        polls: list[tuple[float, float]] = []  # (seconds since start, how long the poll took)
        probe = None
        try:
            while time.monotonic() - started < 15:
                began = time.monotonic()
                try:
                    snapshot = (await asyncio.wait_for(monitor.poll(), 10)).snapshot
                except TimeoutError:
                    pytest.fail("a database poll waited 10 s on the dripping HTTP endpoint")
                polls.append((began - started, time.monotonic() - began))
                assert snapshot.health.state is DbState.CONNECTED
                if snapshot.http:
                    probe = snapshot.http[0]
                    break
                await asyncio.sleep(0.3)
        finally:
            await monitor.close()
    # The database kept its cadence while the endpoint dripped: every poll was quick, and
    # there were many of them before the probe's 4 s deadline ran out.
    assert max(took for _, took in polls) < 2.0, polls
    assert len(polls) >= 5, polls
    # The probe said TIMEOUT by its deadline (+ slack), in the poll after it finished.
    assert probe is not None, "no probe result within 15 s"
    assert probe.state == "timeout"
    assert "deadline 4 s" in probe.detail
    assert polls[-1][0] < 4 + 2.5, polls


async def test_close_ends_the_probe_task_while_a_request_is_in_flight(db18) -> None:
    with http_server() as server:
        server.routes["/health"] = Route(200, json.dumps(HEALTHY), drip=2)
        monitor = dripping_monitor(db18.dsn(), f"{server.base}/health", http_timeout=60)
        await monitor.poll()
        await asyncio.sleep(0.5)  # the probe is now reading the dripping body
        others = asyncio.all_tasks() - {asyncio.current_task()}
        assert any("http probes" in task.get_name() for task in others)
        await asyncio.wait_for(monitor.close(), 5)
        left = {t for t in asyncio.all_tasks() - {asyncio.current_task()} if not t.done()}
    assert not [t.get_name() for t in left if "http probes" in t.get_name()]
