#!/usr/bin/env python3
"""Benchmark of the history store: prints figures, asserts nothing.

    python bench/history_bench.py [--seconds 10] [--extra-tables 0]

Starts an embedded PostgreSQL 18 with the demo schema and workload, takes two real snapshots
``--seconds`` apart with the console's collector (every probe, table sizes included), and
extrapolates their counters linearly to a day of one-minute samples (1,440) fed through the
console's Sampler into a HistoryStore with an injected clock. ``--extra-tables N`` adds N
synthetic busy tables to each snapshot (a larger schema than the demo's seven). Figures:
  values/sample   rows one sample writes (gauges + non-zero counter deltas; sizes every 10 min)
  write ms        wall time of HistoryStore.write per sample (p50 / p99 / max), fsync included
  file / day      the store's size after one day of raw samples (WAL checkpointed)
  maintain ms     rolling the day into hours + retention
  record frame    one full snapshot as `record` stores it (zlib JSON)
  steady state    projected size with raw 1 day + hourly 90 days + daily 2 years
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def two_snapshots(dsn: str, seconds: float, config):  # type: ignore[no-untyped-def]
    from engflow_tui.collectors.postgres import PostgresCollector

    target = config.targets["demo"]
    collector = PostgresCollector(target, config, light_first_cycle=False, statement_timeout=5.0)
    try:
        first = await collector.collect()
        await asyncio.sleep(seconds)
        collector.force_refresh()
        second = await collector.collect()
    finally:
        await collector.close()
    return first, second


def scaled(first, second, minute: int, seconds: float, extra: int, with_sizes: bool):  # type: ignore[no-untyped-def]
    """The snapshot ``minute`` minutes after ``first`` at the rate seen between the two."""
    from engflow_tui.model import TableActivity, TableSize

    k = minute * 60.0 / seconds

    def lerp(a: int | None, b: int | None) -> int | None:
        return None if a is None or b is None else int(a + (b - a) * k)

    h1, h2 = first.health, second.health
    health = replace(
        h2,
        xact_commit=lerp(h1.xact_commit, h2.xact_commit),
        xact_rollback=lerp(h1.xact_rollback, h2.xact_rollback),
        blks_hit=lerp(h1.blks_hit, h2.blks_hit),
        blks_read=lerp(h1.blks_read, h2.blks_read),
    )
    before = {(t.schema, t.table): t for t in first.table_activity or ()}
    activity = [
        TableActivity(
            t.schema,
            t.table,
            lerp(before[(t.schema, t.table)].inserted, t.inserted) or 0,
            lerp(before[(t.schema, t.table)].updated, t.updated) or 0,
            lerp(before[(t.schema, t.table)].deleted, t.deleted) or 0,
        )
        for t in second.table_activity or ()
        if (t.schema, t.table) in before
    ]
    activity += [
        TableActivity("public", f"extra_{n:04d}", minute * 10, minute * 3, minute)
        for n in range(extra)
    ]
    sizes = None
    if with_sizes:
        sizes = tuple(second.table_sizes or ()) + tuple(
            TableSize("public", f"extra_{n:04d}", 8192 * (100 + minute)) for n in range(extra)
        )
    slow = second.slow_queries
    if hasattr(slow, "queries"):
        queries = tuple(
            replace(q, calls=q.calls * (minute + 1), total_ms=q.total_ms * (minute + 1))
            for q in slow.queries
        )
        slow = replace(slow, queries=queries)
    totals = None
    if with_sizes and second.statement_totals:  # read on the size cadence, like the console
        totals = tuple(
            replace(s, calls=s.calls * (minute + 1), total_ms=s.total_ms * (minute + 1) * 1.01)
            for s in second.statement_totals
        )
    return replace(
        second,
        statement_totals=totals,
        taken_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=minute),
        health=health,
        table_activity=tuple(activity),
        table_sizes=sizes,
        slow_queries=slow,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--extra-tables", type=int, default=0)
    args = parser.parse_args()

    from engflow_tui.demo import _seed, demo_config, start_demo_server, start_workload, stop_process
    from engflow_tui.history.sampler import Sampler
    from engflow_tui.history.store import HistoryStore

    server = start_demo_server(None)
    workload = None
    try:
        asyncio.run(_seed(server.dsn(), server.dsn("engflow")))
        workload = start_workload(server)
        time.sleep(2)
        config, _ = demo_config(server, 2.0)
        config = replace(
            config, console=replace(config.console, catalog_interval=0, size_interval=0)
        )
        first, second = asyncio.run(two_snapshots(config.targets["demo"].dsn, args.seconds, config))
    finally:
        stop_process(workload)
        server.remove()

    clock = [datetime(2026, 11, 1, tzinfo=UTC)]
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore(Path(tmp) / "history-demo.sqlite", clock=lambda: clock[0])
        sampler = Sampler(60.0, 600.0, table_interval=600.0)  # as the Monitor builds it
        times: list[float] = []
        values: list[int] = []
        for minute in range(24 * 60 + 1):
            snap = scaled(first, second, minute, args.seconds, args.extra_tables, minute % 10 == 0)
            sample = sampler.feed(snap)
            if sample is None:
                continue
            clock[0] = snap.taken_at
            started = time.perf_counter()
            store.write(sample)
            times.append((time.perf_counter() - started) * 1000)
            values.append(len(sample.values))
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        day_bytes = store.size_bytes()
        raw_rows = store.conn.execute("SELECT count(*) FROM points").fetchone()[0]
        clock[0] += timedelta(hours=1)
        started = time.perf_counter()
        store.maintain()
        maintain_ms = (time.perf_counter() - started) * 1000
        hourly_rows = store.conn.execute("SELECT count(*) FROM points WHERE tier = 1").fetchone()[0]
        series = store.conn.execute("SELECT count(*) FROM series").fetchone()[0]
        store.close()

    from engflow_tui.history.recording import pack
    from engflow_tui.model import ConnectionStats

    # A typical frame: table sizes and statement totals ride along only every 10 minutes.
    frame = len(pack(replace(second, table_sizes=None, statement_totals=None)))
    sessions = (
        len(second.connections.sessions) if isinstance(second.connections, ConnectionStats) else 0
    )
    per_row = day_bytes / raw_rows
    steady = day_bytes + per_row * hourly_rows * 90 + per_row * (hourly_rows / 24) * 730
    times.sort()
    print(
        f"history store benchmark: demo schema ({len(second.table_activity or ())} tables"
        f" + {args.extra_tables} synthetic), a day of 1-min samples extrapolated from"
        f" {args.seconds:g} s of the demo workload"
    )
    print(f"  values/sample   {statistics.fmean(values):.0f} (max {max(values)}), {series} series")
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
    print(
        f"  write ms        p50 {p50:.2f}  p99 {p99:.2f}  max {times[-1]:.2f}"
        f"  ({len(times)} samples)"
    )
    print(f"  file / day      {day_bytes / 1024:.0f} kB raw ({raw_rows} rows, {per_row:.0f} B/row)")
    print(f"  maintain ms     {maintain_ms:.1f} (day -> {hourly_rows} hourly rows)")
    print(
        f"  record frame    {frame / 1024:.1f} kB compressed ({sessions} sessions):"
        f" {frame * 1800 / 1024 / 1024:.1f} MB per hour at 2 s"
    )
    print(f"  steady state    ~{steady / 1024 / 1024:.1f} MB (1 d raw + 90 d hourly + 2 y daily)")


if __name__ == "__main__":
    main()
