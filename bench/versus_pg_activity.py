#!/usr/bin/env python3
"""The console side by side with pg_activity, on the same server in the same run. Prints figures.

    python bench/versus_pg_activity.py [--scales small,mid,large] [--seconds 60]

Needs pg_activity (pip install '.[bench]') and tmux (pg_activity needs a terminal). Starts its own
embedded PostgreSQL 18 on loopback; each tool logs in as its own role, so pg_stat_statements
(which has no application name) separates their database time. Removes everything it made.

Per scale and tool: database time per minute spent on the tool's own statements, connections
held, client CPU per minute (after the first screen), peak RSS (from one 60 s window in which
both tools run side by side), time from start to first data on screen (the median of --starts
starts, the tools taking turns); for the console also UI-thread time per refresh, event-loop lag
p99 and `diagnose --quick`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from engflow_tui.pgserver import LocalPostgres, temporary_server  # noqa: E402
from engflow_tui.textsafe import inert  # noqa: E402

DB = "benchdb"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Scale:
    name: str
    idle: int
    idle_in_tx: int
    active: int
    statements: int
    tables: int
    text_bytes: int


SCALES = {
    "small": Scale("small", 50, 5, 5, 1000, 100, 0),
    "mid": Scale("mid", 200, 20, 10, 5000, 2000, 0),
    "large": Scale("large", 500, 50, 20, 5000, 2000, 1500),
}


# ---------------------------------------------------------------------------------------------
# Scenario


async def build(server: LocalPostgres, scale: Scale) -> None:
    admin = await asyncpg.connect(server.dsn())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")  # ok-sql: constant name
        await admin.execute(f"CREATE DATABASE {DB}")  # ok-sql: constant name
        for role in ("bench_console", "bench_pga", "bench_app"):
            await admin.execute(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "  # ok-sql: constant
                f"THEN CREATE ROLE {role} LOGIN IN ROLE pg_monitor; END IF; END $$"
            )
    finally:
        await admin.close()
    conn = await asyncpg.connect(server.dsn(DB))
    try:
        await conn.execute(
            "CREATE EXTENSION pg_stat_statements; GRANT USAGE, CREATE ON SCHEMA public TO bench_app"
        )
        # Tables with a primary key, as the EngFlow schema's (and nearly any application's)
        # have; a third of them with RLS and a policy ("mixed RLS and policies"). The key's
        # index is one more file per table for the database-size reads of both tools (before
        # this scenario had keys, pg_activity's database time at mid scale was ~300 ms a
        # minute against the ~1.2 s the budget was set against).
        await conn.execute(f"""
            DO $$ BEGIN FOR i IN 0..{scale.tables - 1} LOOP
                EXECUTE format('CREATE TABLE public.t_%s (id int PRIMARY KEY, v text)', i);
                IF i % 3 = 0 THEN
                    EXECUTE format('ALTER TABLE public.t_%s ENABLE ROW LEVEL SECURITY', i);
                    EXECUTE format('CREATE POLICY p_%s ON public.t_%s USING (id > 0)', i, i);
                END IF;
            END LOOP; END $$""")  # ok-sql: generated DDL for the benchmark's own tables
        await conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO bench_app")
    finally:
        await conn.close()
    # Distinct statements (distinct parse trees, so distinct queryids), optionally ~1.5 KB each.
    app = await asyncpg.connect(server.dsn(DB, user="bench_app"), statement_cache_size=0)
    try:
        for i in range(scale.statements):
            table = f"t_{i % scale.tables}"
            terms = " + ".join(["id"] * (1 + i // scale.tables))
            pad = ""
            if scale.text_bytes:
                repeat = max(1, scale.text_bytes // 40)
                pad = ", " + ", ".join(f"length(v) AS c{k}" for k in range(repeat))
            await app.fetch(
                f"SELECT {terms} AS s{pad} FROM public.{table} WHERE id > 1"
            )  # ok-sql: bench
    finally:
        await app.close()


HOLDER = r"""
import asyncio, sys, asyncpg
async def main(dsn, idle, iit, active):
    conns = []
    for _ in range(idle):
        conns.append(await asyncpg.connect(dsn, server_settings={"application_name": "bench-idle"}))
    for _ in range(iit):
        c = await asyncpg.connect(dsn, server_settings={"application_name": "bench-iit"})
        await c.execute("BEGIN; SELECT 1")
        conns.append(c)
    tasks = []
    for _ in range(active):
        c = await asyncpg.connect(dsn, server_settings={"application_name": "bench-active"})
        tasks.append(asyncio.create_task(c.execute("SELECT pg_sleep(3600)")))
        conns.append(c)
    print("ready", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main(sys.argv[1], *map(int, sys.argv[2:])))
"""


def hold_sessions(server: LocalPostgres, scale: Scale) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOLDER,
            server.dsn(DB, user="bench_app"),
            str(scale.idle),
            str(scale.idle_in_tx),
            str(scale.active),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError("the session holder did not start")
    return proc


async def reset_statements(server: LocalPostgres) -> None:
    conn = await asyncpg.connect(server.dsn(DB))
    try:
        # Only the tools' own entries are reset: the scenario's statements stay.
        for role in ("bench_console", "bench_pga"):
            await conn.execute(
                f"SELECT pg_stat_statements_reset('{role}'::regrole::oid)"
            )  # ok-sql: constant
    finally:
        await conn.close()


async def _read(server: LocalPostgres, method: str, sql: str, *args: object) -> Any:
    """One statement on a connection of its own (``method``: fetch, fetchrow or fetchval)."""
    conn = await asyncpg.connect(server.dsn(DB))
    try:
        return await getattr(conn, method)(sql, *args)
    finally:
        await conn.close()


async def db_time_ms(server: LocalPostgres, role: str) -> tuple[float, int]:
    row = await _read(
        server,
        "fetchrow",
        "SELECT coalesce(sum(total_exec_time), 0)::float8 AS ms, coalesce(sum(calls), 0)::int8 AS calls "
        "FROM pg_stat_statements WHERE userid = $1::regrole",
        role,
    )
    return row["ms"], row["calls"]


async def statements_of(server: LocalPostgres, role: str, seconds: float) -> list[str]:
    """A role's statements, costliest first: ms and calls per minute, mean, the text's start."""
    rows = await _read(
        server,
        "fetch",
        "SELECT total_exec_time::float8 AS ms, calls, query FROM pg_stat_statements "
        "WHERE userid = $1::regrole ORDER BY total_exec_time DESC LIMIT 15",
        role,
    )
    return [
        f"{r['ms'] * 60 / seconds:8.1f} ms/min {r['calls'] * 60 / seconds:6.1f} calls/min "
        f"{r['ms'] / max(r['calls'], 1):7.2f} ms  {inert(' '.join(r['query'].split()), one_line=True)[:90]}"
        for r in rows
    ]


async def connections_of(server: LocalPostgres, role: str) -> int:
    sql = "SELECT count(*) FROM pg_stat_activity WHERE usename = $1"
    return int(await _read(server, "fetchval", sql, role))


# ---------------------------------------------------------------------------------------------
# The tools


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_run(runner, server: LocalPostgres, seconds: float):  # type: ignore[no-untyped-def]
    """The tool's figures and how long it ran (its statements all fall inside that time)."""
    t0 = time.time()
    figures = runner(server, seconds)
    return figures, time.time() - t0


def run_console(server: LocalPostgres, seconds: float) -> dict[str, float]:
    dsn = server.dsn(DB, user="bench_console")
    # Compiled as an installed package is (pip compiles the bytecode): a source tree whose
    # .pyc files are stale would be compiled again at every start.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "engflow_tui")],
        check=False,
        capture_output=True,
    )
    # A state directory of its own, as on a first start: no alert history, incident or metrics
    # store left by earlier runs (or by the user).
    state = tempfile.mkdtemp(prefix="engflow-bench-state-")
    started = time.time()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "console_bench.py"),
            "--child",
            "--dsn",
            dsn,
            "--seconds",
            str(seconds),
            "--refresh",
            "2",
            "--started",
            str(started),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": state},
    )
    try:
        time.sleep(min(seconds / 2, 30))
        held = asyncio.run(connections_of(server, "bench_console"))
        out, _ = proc.communicate(timeout=seconds + 120)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    figures = json.loads(out.strip().splitlines()[-1])
    figures["connections"] = held
    return figures


def run_pg_activity(server: LocalPostgres, seconds: float) -> dict[str, float]:
    session = f"bench-pga-{os.getpid()}"
    command = f"exec pg_activity -h 127.0.0.1 -p {server.port} -U bench_pga -d {DB} --refresh 2"
    started = time.time()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", command], check=True
    )
    pid = int(
        subprocess.run(
            ["tmux", "display", "-p", "-t", session, "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    try:
        first_data = float("nan")
        while time.time() - started < 30:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            if "PID" in screen and "bench-" in screen:
                first_data = time.time() - started
                break
            time.sleep(0.02)
        cpu0 = proc_cpu_seconds(pid)
        t0 = time.time()
        time.sleep(min(seconds / 2, 30))
        held = asyncio.run(connections_of(server, "bench_pga"))
        time.sleep(max(0.0, seconds - (time.time() - t0)))
        cpu = proc_cpu_seconds(pid) - cpu0
        elapsed = time.time() - t0
        rss = proc_peak_rss_mb(pid)
    finally:
        subprocess.run(["kill", str(pid)], check=False)  # its own PID, never by name
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, capture_output=True)
    return {
        "first_data_s": first_data,
        "rss_mb": rss,
        "cpu_s_per_min": cpu * 60 / elapsed,
        "connections": held,
    }


def diagnose_quick_s(server: LocalPostgres) -> float:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "engflow_tui",
                "diagnose",
                "--quick",
                "--format",
                "json",
                "--dsn",
                server.dsn(DB, user="bench_console"),
            ],
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="small,mid,large")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--starts", type=int, default=9, help="starts per tool for first data")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="also print the console's statements of the side-by-side minute, costliest first",
    )
    args = parser.parse_args()
    if shutil.which("pg_activity") is None or shutil.which("tmux") is None:
        sys.exit("needs pg_activity (pip install '.[bench]') and tmux (apt-get install tmux)")
    server = temporary_server(prefix="engflow-bench-", extra_settings={"max_connections": "700"})
    results = []
    try:
        for name in args.scales.split(","):
            scale = SCALES[name]
            print(
                f"[{name}] building: {scale.tables} tables, {scale.statements} statements, "
                f"{scale.idle}/{scale.idle_in_tx}/{scale.active} idle/idle-in-tx/active sessions…",
                file=sys.stderr,
            )
            asyncio.run(build(server, scale))
            holder = hold_sessions(server, scale)
            try:
                row: dict[str, object] = {"scale": name}
                # Both tools run at the same time, each as its own role: the database-time ratio
                # is then measured on the same machine state. Run one after the other, the same
                # statements' server time moved by up to ±40 % from one minute to the next on
                # this shared machine, and the ratio with it. Each tool's client figures are its
                # own process's; pg_activity uses ~1 % of a core.
                asyncio.run(reset_statements(server))
                print(f"[{name}] both tools for {args.seconds:g} s…", file=sys.stderr)
                tools = (
                    ("console", run_console, "bench_console"),
                    ("pg_activity", run_pg_activity, "bench_pga"),
                )
                with ThreadPoolExecutor(len(tools)) as pool:
                    runs = {
                        tool: pool.submit(timed_run, runner, server, args.seconds)
                        for tool, runner, _ in tools
                    }
                    for tool, _, role in tools:
                        figures, elapsed = runs[tool].result()
                        ms, calls = asyncio.run(db_time_ms(server, role))
                        figures["db_ms_per_min"] = ms * 60 / elapsed
                        figures["calls"] = calls
                        row[tool] = figures
                    if args.statements:
                        elapsed = runs["console"].result()[1]
                        for line in asyncio.run(statements_of(server, "bench_console", elapsed)):
                            print(f"[{name}] console: {line}", file=sys.stderr)
                # Start-up varies by a few tenths of a second on a shared machine (single starts
                # of either tool ranged 0.32-0.70 s in one run): the first-data figure is the
                # median of several starts (9 by default; 5 left the median to two or three
                # slow starts), the tools taking turns.
                starts: dict[str, list[float]] = {"console": [], "pg_activity": []}
                print(f"[{name}] {args.starts} starts of each tool…", file=sys.stderr)
                for _ in range(args.starts):
                    starts["console"].append(run_console(server, 1.0)["first_data_s"])
                    starts["pg_activity"].append(run_pg_activity(server, 1.0)["first_data_s"])
                for tool, times in starts.items():
                    row[tool]["first_data_s"] = statistics.median(times)  # type: ignore[index]
                    row[tool]["first_data_runs"] = times  # type: ignore[index]
                row["diagnose_quick_s"] = diagnose_quick_s(server)
                results.append(row)
            finally:
                holder.terminate()
                holder.wait(timeout=30)
    finally:
        server.remove()
    report(results, args.seconds)


def report(results: list[dict[str, object]], seconds: float) -> None:
    print(
        f"\nconsole vs pg_activity, {seconds:g} s per tool and scale, refresh 2 s, PostgreSQL 18 on loopback\n"
    )
    header = f"{'scale':6} {'figure':40} {'console':>14} {'pg_activity':>14} {'ratio':>8}"
    print(header)
    print("-" * len(header))
    for row in results:
        c, p = row["console"], row["pg_activity"]  # type: ignore[index]
        lines = [
            ("db time per minute (ms)", c["db_ms_per_min"], p["db_ms_per_min"], "{:.0f}"),
            (
                "statements per minute",
                c["calls"] * 60 / seconds,
                p["calls"] * 60 / seconds,
                "{:.0f}",
            ),
            ("connections held", c["connections"], p["connections"], "{:.0f}"),
            ("client CPU per minute (s)", c["cpu_s_per_min"], p["cpu_s_per_min"], "{:.2f}"),
            ("peak RSS (MB)", c["rss_mb"], p["rss_mb"], "{:.0f}"),
            (
                f"first data on screen, median of {len(c['first_data_runs'])} (s)",
                c["first_data_s"],
                p["first_data_s"],
                "{:.2f}",
            ),
        ]
        for label, cv, pv, fmt in lines:  # type: ignore[misc]
            ratio = f"{cv / pv:.2f}" if pv else "-"
            print(
                f"{row['scale']:6} {label:40} {fmt.format(cv):>14} {fmt.format(pv):>14} {ratio:>8}"
            )
        print(f"{row['scale']:6} {'UI time per refresh p99 (ms)':40} {c['ui_p99_ms']:>14.1f}")
        print(
            f"{row['scale']:6} {'  of which apply / layout+render p99':40} "
            f"{c['apply_p99_ms']:>6.1f} / {c['paint_p99_ms']:<6.1f}"
        )
        print(
            f"{row['scale']:6} {'UI time of the initial fill (ms)':40} {c['ui_initial_fill_ms']:>14.1f}"
        )
        print(f"{row['scale']:6} {'event-loop lag p99 (ms)':40} {c['lag_p99_ms']:>14.1f}")
        print(f"{row['scale']:6} {'diagnose --quick (s)':40} {row['diagnose_quick_s']:>14.2f}")
        for tool, figures in (("console", c), ("pg_activity", p)):
            runs = ", ".join(f"{t:.2f}" for t in figures["first_data_runs"])
            print(f"{row['scale']:6} first data, each start, {tool}: {runs}")
        print()


if __name__ == "__main__":
    main()
