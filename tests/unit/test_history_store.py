"""The metrics store: samples, roll-ups, retention, size cap, damaged files (injected clock)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engflow_tui.config import HistoryConfig
from engflow_tui.history.store import DAILY, HOURLY, RAW, HistorySample, HistoryStore
from engflow_tui.history.worker import StoreThread

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fill(store: HistoryStore, clock: Clock, minutes: int, start: datetime = T0) -> None:
    """One sample a minute: 5 connections, 120 commits and 6 rollbacks a minute."""
    for i in range(minutes):
        t = start + timedelta(minutes=i)
        clock.now = t
        assert store.write(
            HistorySample(
                t,
                60.0,
                {
                    ("conn.total", ""): 5.0 + (i % 3),
                    ("xact.commit", ""): 120.0,
                    ("xact.rollback", ""): 6.0,
                },
            )
        )


def test_samples_round_trip_and_rates(tmp_path: Path) -> None:
    clock = Clock()
    store = HistoryStore(tmp_path / "h.sqlite", clock=clock)
    fill(store, clock, 10)
    points = store.series("xact.commit", "", T0, T0 + timedelta(hours=1), tier=RAW)
    assert len(points) == 10
    assert points[0].rate == pytest.approx(2.0)  # 120 per 60 s
    conns = store.series("conn.total", "", T0, T0 + timedelta(hours=1), tier=RAW)
    assert [p.mean for p in conns[:3]] == [5.0, 6.0, 7.0]
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rollup_and_retention_with_an_aged_clock(tmp_path: Path) -> None:
    clock = Clock()
    settings = HistoryConfig()
    store = HistoryStore(tmp_path / "h.sqlite", settings, clock=clock)
    fill(store, clock, 3 * 60)  # three hours of minutes
    clock.now = T0 + timedelta(hours=3, minutes=5)
    store.maintain()
    hourly = store.series("xact.commit", "", T0, clock.now, tier=HOURLY)
    assert [p.t for p in hourly] == [T0 + timedelta(hours=h) for h in range(3)]
    assert all(p.total == 120.0 * 60 and p.n == 60 and p.rate == pytest.approx(2.0) for p in hourly)
    conns = store.series("conn.total", "", T0, clock.now, tier=HOURLY)
    assert conns[0].mean == pytest.approx(6.0) and conns[0].vmin == 5.0 and conns[0].vmax == 7.0

    # Two days later: raw samples are past their day, the hours remain, the day is rolled.
    clock.now = T0 + timedelta(days=2, hours=1)
    store.maintain()
    assert store.series("xact.commit", "", T0, clock.now, tier=RAW) == []
    assert len(store.series("xact.commit", "", T0, clock.now, tier=HOURLY)) == 3
    daily = store.series("xact.commit", "", T0, clock.now, tier=DAILY)
    assert len(daily) == 1 and daily[0].total == 120.0 * 180 and daily[0].n == 180

    # 91 days later the hours are gone too, the day is kept; after two years nothing is left.
    clock.now = T0 + timedelta(days=91)
    store.maintain()
    assert store.series("xact.commit", "", T0, clock.now, tier=HOURLY) == []
    assert len(store.series("xact.commit", "", T0, clock.now, tier=DAILY)) == 1
    assert store.tier_for(T0) == DAILY
    clock.now = T0 + timedelta(days=731)
    store.maintain()
    assert store.series("xact.commit", "", T0, clock.now, tier=DAILY) == []


def test_maintain_twice_does_not_double_count(tmp_path: Path) -> None:
    clock = Clock()
    store = HistoryStore(tmp_path / "h.sqlite", clock=clock)
    fill(store, clock, 120)
    clock.now = T0 + timedelta(hours=2, minutes=1)
    store.maintain()
    store.maintain()
    hourly = store.series("xact.commit", "", T0, clock.now, tier=HOURLY)
    assert [p.total for p in hourly] == [7200.0, 7200.0]


def test_size_cap_drops_the_oldest_raw_samples(tmp_path: Path) -> None:
    clock = Clock()
    store = HistoryStore(tmp_path / "h.sqlite", HistoryConfig(max_size_mb=1), clock=clock)
    for i in range(200):  # 200 minutes x 200 tables: well over 1 MB
        t = T0 + timedelta(minutes=i)
        store.write(
            HistorySample(
                t, 60.0, {("table.ins", f"public.t{n:03d}"): float(i) for n in range(200)}
            )
        )
    assert store.size_bytes() > 1024 * 1024
    clock.now = T0 + timedelta(minutes=200)
    store.maintain()
    assert store.size_bytes() <= 1024 * 1024
    left = store.series("table.ins", "public.t000", T0, clock.now, tier=RAW)
    assert left and left[-1].t == T0 + timedelta(minutes=199)  # the newest survive
    assert left[0].t > T0  # the oldest went first


def test_garbage_file_is_set_aside_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "history-prod.sqlite"
    path.write_bytes(b"this is not sqlite at all \x00\xff" * 200)
    store = HistoryStore(path)
    assert store.problem is not None
    assert "set aside as history-prod.sqlite.corrupt-" in store.problem
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not sqlite")
    assert store.write(HistorySample(T0, 60.0, {("conn.total", ""): 1.0}))  # a fresh store works


def test_locked_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    HistoryStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = HistoryStore(path, busy_timeout=0.1)
        assert store.problem is not None and "locked" in store.problem
        assert store.write(HistorySample(T0, 60.0, {("conn.total", ""): 1.0}))
    finally:
        holder.close()


def test_store_thread_reports_a_damaged_file_and_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"\x13" * 4096)
    worker = StoreThread(path)
    try:
        assert worker.submit(
            lambda s: s.write(HistorySample(T0, 60.0, {("conn.total", ""): 3.0}))
        ).result(5)
        points = worker.submit(
            lambda s: s.series("conn.total", "", T0, T0 + timedelta(1), tier=RAW)
        ).result(5)
        assert [p.mean for p in points] == [3.0]
        problems = worker.take_problems()
        assert len(problems) == 1 and "set aside" in problems[0]
    finally:
        worker.close()


def test_a_second_process_only_reads(tmp_path: Path) -> None:
    """The console and `record` on the same target: one samples, the other would double every
    delta, so it only reads (and says so)."""
    path = tmp_path / "history-prod.sqlite"
    first = HistoryStore(path)
    second = HistoryStore(path)
    try:
        assert first.writer and not second.writer
        assert second.problem is not None and "already kept by another" in second.problem
        sample = HistorySample(T0, 60.0, {("conn.total", ""): 4.0})
        assert not second.write(sample)
        assert first.write(sample)
        assert [p.mean for p in second.series("conn.total", "", T0, T0 + timedelta(1), RAW)] == [
            4.0
        ]
    finally:
        first.close()
        second.close()
    third = HistoryStore(path)  # the lock went with the first one
    assert third.writer
    third.close()


def test_a_failing_store_reports_once(tmp_path: Path) -> None:
    worker = StoreThread(tmp_path / "h.sqlite")
    try:
        # Another connection holds the write lock: every write fails the same way.
        assert worker.submit(lambda s: s.conn.execute("PRAGMA busy_timeout = 0")).result(5)
        holder = sqlite3.connect(tmp_path / "h.sqlite", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            for minute in range(3):
                sample = HistorySample(
                    T0 + timedelta(minutes=minute), 60.0, {("conn.total", ""): 1.0}
                )
                assert worker.submit(lambda s, x=sample: s.write(x)).result(5) is False
        finally:
            holder.close()
        problems = worker.take_problems()
        assert len(problems) == 1 and "sample not written (database is locked)" in problems[0]
        assert worker.take_problems() == []
    finally:
        worker.close()


def test_a_reader_never_moves_the_file_of_the_writer(tmp_path: Path) -> None:
    import fcntl

    from engflow_tui.history.store import StoreUnavailable

    path = tmp_path / "history-prod.sqlite"
    path.write_bytes(b"garbage, but another engflow-tui process owns it" * 50)
    with open(tmp_path / "history-prod.sqlite.writer", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(StoreUnavailable, match="is unreadable"):
            HistoryStore(path)
    assert path.read_bytes().startswith(b"garbage")
    assert [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name] == []
