"""Trends, projections, the sampler and the 7-day baselines: pure functions and an aged store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engflow_tui.alerts.metrics import MetricHistory, derive
from engflow_tui.config import Thresholds
from engflow_tui.history.activity import alert_baselines, crud_per_hour, user_activity
from engflow_tui.history.sampler import Sampler
from engflow_tui.history.store import HistorySample, HistoryStore
from engflow_tui.history.trends import (
    WINDOWS,
    capacity,
    growth_per_month,
    linear_fit,
    metric_series,
    time_to_reach,
)
from engflow_tui.model import DbState, Health, TableActivity

from ..fixed_source import sample_snapshot

T0 = datetime(2026, 11, 1, tzinfo=UTC)
GB = 1024**3


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([(0, 1), (1, 3), (2, 5)], (2.0, 1.0)),
        ([(0, 4), (10, 4)], (0.0, 4.0)),
        ([(0, 1)], None),
        ([(3, 1), (3, 2)], None),
    ],
)
def test_linear_fit(
    points: list[tuple[float, float]], expected: tuple[float, float] | None
) -> None:
    fit = linear_fit([(float(x), float(y)) for x, y in points])
    assert fit == (pytest.approx(expected) if expected else None)


def days(*sizes: float) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(days=i), s) for i, s in enumerate(sizes)]


def test_growth_and_projection_to_a_storage_limit() -> None:
    points = days(*(10 * GB + i * GB / 30 for i in range(31)))  # 1 GB a month
    assert growth_per_month(points) == pytest.approx(GB)
    now = T0 + timedelta(days=30)
    # 11 GB now, 1 GB/month: a 14 GB limit is reached in three months.
    reach = time_to_reach(points, 14 * GB, now)
    assert reach is not None and abs((reach - (now + timedelta(days=90))).total_seconds()) < 60
    assert time_to_reach(points, 5 * GB, now) == now  # already over
    assert time_to_reach(days(5.0, 5.0, 4.0), 10.0, now) is None  # shrinking: never
    assert time_to_reach(days(5.0), 10.0, now) is None  # one point says nothing


def store_with(tmp_path: Path, now: datetime) -> tuple[HistoryStore, list[datetime]]:
    clock = [now]
    store = HistoryStore(tmp_path / "h.sqlite", clock=lambda: clock[0])
    return store, clock


def test_seven_day_baselines_from_an_aged_store(tmp_path: Path) -> None:
    now = T0 + timedelta(days=8)
    store, clock = store_with(tmp_path, T0)
    # Eight days, one sample per 10 minutes: 40 active users, 120 inserts/hour into orders;
    # in the last hour 100 users and 600 inserts.
    t = T0
    while t <= now:
        recent = now - t < timedelta(hours=1)
        store.write(
            HistorySample(
                t,
                600.0,
                {
                    ("users.active", ""): 100.0 if recent else 40.0,
                    ("table.ins", "public.orders"): 100.0 if recent else 20.0,
                },
            )
        )
        if t.minute == 0:
            clock[0] = t
            store.maintain()  # roll-ups happen as time goes by
        t += timedelta(minutes=10)
    clock[0] = now
    store.maintain()
    users = user_activity(store, now)
    assert users.value == 100 and users.baseline == pytest.approx(40)
    assert users.ratio == pytest.approx(2.5)
    orders = crud_per_hour(store, now)[0]
    assert orders.table == "public.orders"
    assert orders.inserted_per_hour == pytest.approx(600)
    assert orders.baseline_per_hour == pytest.approx(120, rel=0.02)

    baselines = alert_baselines(store, now)
    assert baselines.users == pytest.approx(40)
    assert baselines.write_rate_per_min["public.orders"] == pytest.approx(2.0, rel=0.02)

    # The User Growth metric then compares with the stored 7-day baseline, not the last hour.
    snap = replace(sample_snapshot(), taken_at=now, active_users=100)
    history = MetricHistory()
    history.add(snap)
    metrics = derive(history, snap, Thresholds(), baselines)
    growth = metrics["users.growth_ratio"][""]
    assert growth.value == pytest.approx(2.5)
    assert "7-day baseline of 40" in growth.detail

    chart = metric_series(store, "users", WINDOWS["days"], now)
    assert len(chart) >= 7 * 24 and chart[-1][1] == pytest.approx(100)


def test_capacity_projects_connections_to_max(tmp_path: Path) -> None:
    now = T0 + timedelta(days=10)
    store, clock = store_with(tmp_path, now)
    for day in range(11):  # peaks grow by 5 connections a day: 40 -> 90 of 100
        t = T0 + timedelta(days=day)
        store.write(
            HistorySample(
                t,
                60.0,
                {("conn.total", ""): 40.0 + 5 * day, ("conn.max", ""): 100.0, ("db.size", ""): GB},
            )
        )
    cap = capacity(store, now, storage_limit=2 * GB)
    assert cap.max_connections == 100
    assert cap.connections_per_day == pytest.approx(5)
    assert cap.connections_full_at is not None
    assert abs((cap.connections_full_at - (now + timedelta(days=2))).total_seconds()) < 60
    assert cap.db_per_month == pytest.approx(0)
    assert cap.storage_full_at is None  # flat size: never


def test_sampler_turns_counters_into_deltas_and_skips_resets() -> None:
    base = sample_snapshot()
    sampler = Sampler(sample_interval=60, size_interval=600)

    def snap(minute: int, commits: int, inserted: int):  # type: ignore[no-untyped-def]
        return replace(
            base,
            taken_at=T0 + timedelta(minutes=minute),
            health=replace(
                base.health, xact_commit=commits, xact_rollback=0, blks_hit=10, blks_read=0
            ),
            table_activity=(TableActivity("public", "orders", inserted, 0, 0),),
        )

    first = sampler.feed(snap(0, 1000, 50))
    assert first is not None and ("xact.commit", "") not in first.values  # no delta yet
    assert sampler.feed(snap(0.5, 1010, 55)) is None  # type: ignore[arg-type]  # not due
    second = sampler.feed(snap(1, 1120, 80))
    assert second is not None and second.span == 60
    assert second.values[("xact.commit", "")] == 120
    assert second.values[("table.ins", "public.orders")] == 30
    assert second.values[("conn.total", "")] == 84
    reset = sampler.feed(snap(2, 5, 2))  # stats reset: no negative deltas
    assert reset is not None
    assert ("xact.commit", "") not in reset.values and (
        "table.ins",
        "public.orders",
    ) not in reset.values
    assert sampler.sparklines().tps == (2.0,)
    down = replace(snap(3, 10, 3), health=Health(state=DbState.DOWN))
    assert sampler.feed(down) is None


def test_per_table_counters_are_stored_at_the_table_interval() -> None:
    base = sample_snapshot()
    sampler = Sampler(sample_interval=60, size_interval=600, table_interval=600)

    def snap(minute: int):  # type: ignore[no-untyped-def]
        return replace(
            base,
            taken_at=T0 + timedelta(minutes=minute),
            table_activity=(TableActivity("public", "orders", 100 * minute, 0, 0),),
        )

    stored = [sampler.feed(snap(m)) for m in range(0, 21)]
    with_tables = [
        m for m, s in enumerate(stored) if s and ("table.ins", "public.orders") in s.values
    ]
    assert with_tables == [10, 20]  # minute 0 only sets the starting point
    assert stored[10].values[("table.ins", "public.orders")] == 1000  # type: ignore[union-attr]


async def test_monitor_exposes_activity_for_the_checklists(tmp_path: Path) -> None:
    from engflow_tui.config import Config, TargetConfig
    from engflow_tui.history.worker import StoreThread
    from engflow_tui.monitor import Monitor

    from ..fixed_source import FixedSource

    now = T0 + timedelta(hours=1)
    store = StoreThread(tmp_path / "h.sqlite", clock=lambda: now)
    store.submit(
        lambda s: s.write(
            HistorySample(now, 60.0, {("users.active", ""): 42.0, ("table.del", "public.t"): 6.0})
        )
    )
    target = TargetConfig(name="t")
    monitor = Monitor(FixedSource(), Config(targets={"t": target}), target, history_store=store)
    try:
        users = await monitor.user_activity(now)
        assert users.value == 42 and users.baseline is None
        crud = await monitor.crud_per_hour(now)
        assert [(r.table, r.deleted_per_hour) for r in crud] == [("public.t", 6.0 / (1 / 60))]
        plain = Monitor(FixedSource(), Config(targets={"t": target}), target)
        assert await plain.user_activity(now) is None
    finally:
        await monitor.close()


def test_table_sizes_read_between_samples_are_stored_with_the_next_one() -> None:
    from engflow_tui.model import TableSize

    base = sample_snapshot()
    sampler = Sampler(sample_interval=60, size_interval=600)
    at = [T0 + timedelta(seconds=s) for s in (0, 30, 60, 90, 120)]
    sizes = (TableSize("public", "orders", 8192),)
    first = sampler.feed(replace(base, taken_at=at[0]))
    assert first is not None and ("db.size", "") in first.values  # sizes start at once
    assert sampler.feed(replace(base, taken_at=at[1], table_sizes=sizes)) is None  # not due
    second = sampler.feed(replace(base, taken_at=at[2]))
    assert second is not None and second.values[("table.size", "public.orders")] == 8192
    assert ("db.size", "") not in second.values  # the database size waits for its cadence
    third = sampler.feed(replace(base, taken_at=at[4]))
    assert third is not None and ("table.size", "public.orders") not in third.values


def test_feature_usage_compares_with_the_stored_seven_day_rate() -> None:
    from engflow_tui.history.activity import Baselines

    base = sample_snapshot()
    history = MetricHistory()
    snap = base
    for minute in range(4):  # 60 writes a minute into orders, for 3 minutes
        snap = replace(
            base,
            taken_at=T0 + timedelta(minutes=minute),
            table_activity=(TableActivity("public", "orders", 60 * minute, 0, 0),),
        )
        history.add(snap)
    stored = Baselines(users=None, write_rate_per_min={"public.orders": 2.0})
    metric = derive(history, snap, Thresholds(), stored)["tables.write_rate_ratio"]["public.orders"]
    assert metric.value == pytest.approx(30.0)
    assert "rose to 60/min from a 7-day baseline of 2/min" in metric.detail
    # Without the store, 3 minutes of memory are not enough for a baseline: no metric at all.
    assert "tables.write_rate_ratio" not in derive(history, snap, Thresholds())
