"""Real database activity recorded into the history store, then per-hour rates, growth and
trends computed from it. The collector is real; only the snapshots' timestamps come from a test
clock (one minute per poll), so the rates are exact."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import Config, ConsoleConfig, HistoryConfig, TargetConfig
from engflow_tui.history.activity import crud_per_hour, user_activity
from engflow_tui.history.store import RAW
from engflow_tui.history.trends import WINDOWS, capacity, metric_series, table_growth
from engflow_tui.history.worker import StoreThread
from engflow_tui.model import Snapshot
from engflow_tui.monitor import Monitor

from ..pg import wait_for

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class ClockedSource:
    """The real collector, its snapshots stamped with the test clock."""

    def __init__(self, inner: PostgresCollector, clock: Clock) -> None:
        self.inner, self.clock = inner, clock

    async def collect(self) -> Snapshot:
        return replace(await self.inner.collect(), taken_at=self.clock.now)

    async def close(self) -> None:
        await self.inner.close()

    def force_refresh(self) -> None:
        self.inner.force_refresh()


async def flushed(conn: asyncpg.Connection, table: str, ins: int, upd: int, dele: int) -> None:
    """Make the writer's statistics visible (PG 15+: flushed when its backend goes idle)."""
    await conn.execute("SELECT pg_stat_force_next_flush()")

    async def seen() -> bool:
        row = await conn.fetchrow(
            "SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables WHERE relname = $1",
            table,
        )
        return row is not None and tuple(row) == (ins, upd, dele)

    await wait_for(seen)


@pytest.fixture
def setup(db, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = Clock()
    target = TargetConfig(
        name="t",
        dsn=db.dsn(),
        active_users_sql="SELECT count(*) FROM public.users WHERE active",
    )
    config = Config(
        console=ConsoleConfig(catalog_interval=0, size_interval=0, state_dir=str(tmp_path)),
        history=HistoryConfig(sample_interval=60, size_interval=0),
        targets={"t": target},
    )
    store = StoreThread(tmp_path / "history-t.sqlite", config.history, clock=clock)
    collector = PostgresCollector(target, config, light_first_cycle=False)
    monitor = Monitor(ClockedSource(collector, clock), config, target, history_store=store)
    return clock, monitor, store


async def test_real_writes_become_per_hour_rates_growth_and_trends(db, setup) -> None:  # type: ignore[no-untyped-def]
    clock, monitor, store = setup
    conn = await asyncpg.connect(db.dsn())
    try:
        await conn.execute(
            "CREATE TABLE public.orders (id serial PRIMARY KEY, note text);"
            "CREATE TABLE public.users (id int, active bool);"
            "INSERT INTO public.users SELECT g, g <= 12 FROM generate_series(1, 20) g"
        )
        await flushed(conn, "orders", 0, 0, 0)
        await monitor.poll()  # counters' starting point
        size_before = await conn.fetchval("SELECT pg_total_relation_size('public.orders')")

        await conn.execute(
            "INSERT INTO public.orders (note) SELECT 'n' FROM generate_series(1, 30)"
        )
        await flushed(conn, "orders", 30, 0, 0)
        for _ in range(3):  # known to pg_stat_statements before the next read
            await conn.fetchval("SELECT count(*) FROM public.orders WHERE note = $1", "n")
        clock.now += timedelta(minutes=1)
        await monitor.poll()

        for _ in range(7):  # a statement pg_stat_statements counts: 7 calls in this minute
            await conn.fetchval("SELECT count(*) FROM public.orders WHERE note = $1", "n")
        await conn.execute("UPDATE public.orders SET note = 'u' WHERE id <= 10")
        await conn.execute("DELETE FROM public.orders WHERE id > 25")
        await conn.execute(
            "INSERT INTO public.orders (note)"
            " SELECT repeat('x', 1000) FROM generate_series(1, 3000)"
        )
        await flushed(conn, "orders", 3030, 10, 5)
        size_after = await conn.fetchval("SELECT pg_total_relation_size('public.orders')")
        clock.now += timedelta(minutes=1)
        await monitor.poll()
    finally:
        await conn.close()
        await monitor.close()

    reader = StoreThread(store.path, clock=clock)
    try:
        now = clock.now
        crud = reader.submit(lambda s: crud_per_hour(s, now)).result(10)
        orders = next(r for r in crud if r.table == "public.orders")
        covered_hours = 2 / 60  # two minutes of samples
        assert orders.inserted_per_hour * covered_hours == pytest.approx(3030)
        assert orders.updated_per_hour * covered_hours == pytest.approx(10)
        assert orders.deleted_per_hour * covered_hours == pytest.approx(5)
        assert orders.baseline_per_hour is None  # two minutes are no 7-day baseline
        assert crud[0].table == "public.orders"  # busiest first

        calls = reader.submit(lambda s: s.totals("stmt.calls", T0, now + timedelta(1))).result(10)
        texts = reader.submit(lambda s: s.statement_texts(int(q) for q in calls)).result(10)
        counted = [
            calls[str(q)][0] for q, text in texts.items() if "count(*) FROM public.orders" in text
        ]
        assert counted == [7.0]

        # Minutes of sizes are no monthly trend for the screen; the arithmetic is checked here.
        assert reader.submit(lambda s: table_growth(s, now)).result(10) == []
        growth = reader.submit(lambda s: table_growth(s, now, min_span=timedelta(0))).result(10)
        top = growth[0]
        assert top.table == "public.orders"
        assert top.size_bytes == size_after
        # Three size samples a minute apart: the least-squares slope of equally spaced points is
        # (last - first) / 2 per minute, whatever the middle one.
        per_minute = (size_after - size_before) / 2
        assert top.per_month == pytest.approx(per_minute * 30 * 24 * 60)

        tps = reader.submit(lambda s: metric_series(s, "tps", WINDOWS["hours"], now)).result(10)
        assert len(tps) == 2 and all(v > 0 for _, v in tps)
        conns = reader.submit(
            lambda s: s.series("conn.total", "", T0, now + timedelta(seconds=1), tier=RAW)
        ).result(10)
        assert len(conns) == 3

        users = reader.submit(lambda s: user_activity(s, now)).result(10)
        assert users.value == 12 and users.baseline is None

        limit = size_after * 1000.0
        cap = reader.submit(lambda s: capacity(s, now, limit)).result(10)
        assert cap.max_connections == 100
        assert cap.db_size is not None
        # Two minutes are no trend: no projection, and the screen says why.
        assert cap.storage_full_at is None and cap.db_per_month is None
        assert cap.note is not None and "need 6 h of history" in cap.note
    finally:
        reader.close()
