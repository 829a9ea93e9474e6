#!/usr/bin/env python3
"""Benchmark of the console itself: prints figures, asserts nothing.

    python bench/console_bench.py [--seconds 20] [--idle-sessions 50] [--dsn DSN]

Without --dsn it starts an embedded PostgreSQL 18 with the demo schema and workload (plus
--idle-sessions extra idle connections). The console runs headless (Textual run_test) in a child
process so that its RSS is its own. Figures:
  first data   process start (python launch + imports) -> end of the first paint showing the
               first snapshot (headless: the compositor renders, only the terminal write is
               skipped)
  rss          peak resident memory of the console process
  ui ms        UI-thread time per refresh: applying the snapshot to the five panels plus the
               layout and render that follow (p50 / p99 / max)
  loop lag     event-loop lag measured by a 10 ms ticker while refreshing (p99 / max)
  collect ms   collector wall time per snapshot (p50 / p99), round trips included
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if "--child" in sys.argv:
    # The child starts as the engflow-tui command does (engflow_tui.__main__): the garbage
    # collector paused before the imports, until the console has settled.
    from engflow_tui import startup_gc

    startup_gc.pause()

# Only what the console's own start needs is imported up here: the child's first-data figure
# counts from its process start, so the benchmark's other modules are imported where used.
import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def child(dsn: str, seconds: float, refresh: float, started: float) -> dict[str, float]:
    # The console's own start-up path (ui.console.build_console): the collector's thread connects and
    # reads while the UI is imported.
    from engflow_tui.config import Config, ConsoleConfig, TargetConfig
    from engflow_tui.ui.console import build_console

    target = TargetConfig(name="bench", dsn=dsn)
    config = Config(console=ConsoleConfig(refresh_interval=refresh), targets={"bench": target})
    app = build_console(config, target)
    from engflow_tui.screens.dashboard import DashboardScreen

    apply_ms: list[float] = []
    paint_ms: list[float] = []
    """Per refresh: the layout and render of the dashboard until the next snapshot."""
    collect_ms: list[float] = []
    painted: list[float] = []
    original = DashboardScreen.apply_snapshot
    original_refresh = DashboardScreen._compositor_refresh
    original_layout = DashboardScreen._refresh_layout
    depth = [0]

    def timed(self, snapshot):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        original(self, snapshot)
        apply_ms.append((time.perf_counter() - t0) * 1000)
        paint_ms.append(0.0)
        collect_ms.append(snapshot.duration_ms)

    def paint_timed(run):  # type: ignore[no-untyped-def]
        # The layout calls the render inside it: each is counted once, at the outer call.
        depth[0] += 1
        t0 = time.perf_counter()
        try:
            run()
        finally:
            depth[0] -= 1
            if depth[0] == 0 and paint_ms:
                paint_ms[-1] += (time.perf_counter() - t0) * 1000

    def refresh_then_mark(self):  # type: ignore[no-untyped-def]
        # First data on screen = the end of the first paint (the compositor's render; headless,
        # only the write to a terminal is skipped) after the first snapshot was applied.
        paint_timed(lambda: original_refresh(self))
        if apply_ms and not painted:
            painted.append(time.time())

    def layout_timed(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        paint_timed(lambda: original_layout(self, *args, **kwargs))

    DashboardScreen.apply_snapshot = timed  # type: ignore[method-assign]
    DashboardScreen._compositor_refresh = refresh_then_mark  # type: ignore[method-assign]
    DashboardScreen._refresh_layout = layout_timed  # type: ignore[method-assign]
    lags: list[float] = []
    first_data = float("nan")
    async with app.run_test(size=(160, 50)) as pilot:
        while not painted:
            await asyncio.sleep(0.005)
        first_data = painted[0] - started
        import resource
        import statistics

        await pilot.pause()
        # First half: CPU with nothing else in the process; second half: loop lag, measured by
        # a 10 ms ticker (which itself costs CPU, so it is kept out of the CPU figure).
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        await asyncio.sleep(seconds / 2)
        cpu_per_min = (time.process_time() - cpu0) * 60 / (time.perf_counter() - wall0)
        end = time.perf_counter() + seconds / 2
        loop = asyncio.get_running_loop()
        while time.perf_counter() < end:
            t0 = loop.time()
            await asyncio.sleep(0.01)
            lags.append(max(0.0, (loop.time() - t0 - 0.01) * 1000))
        # The window ends here: the last refresh may not have painted yet, and leaving
        # run_test lays the screen out once more on the way down (not a refresh's work).
        refreshes = len(apply_ms) - 1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ui = [a + p for a, p in zip(apply_ms[:refreshes], paint_ms[:refreshes], strict=True)]
    return {
        "cpu_s_per_min": cpu_per_min,
        "first_data_s": first_data,
        "rss_mb": rss_mb,
        "refreshes": refreshes,
        # UI-thread time per refresh: applying the snapshot to the panels, plus the layout
        # and render that it causes (until the next snapshot). The first two refreshes fill
        # the tables (the first cycle is light: activity only; the second brings the rest):
        # a one-time cost, reported apart from the steady state.
        "ui_initial_fill_ms": max(a + p for a, p in zip(apply_ms[:2], paint_ms[:2], strict=True)),
        "ui_p50_ms": statistics.median(ui[2:] or ui),
        "ui_p99_ms": pct(ui[2:] or ui, 0.99),
        "ui_max_ms": max(ui[2:] or ui),
        "apply_p99_ms": pct(apply_ms[2:refreshes], 0.99),
        "paint_p99_ms": pct(paint_ms[2:refreshes], 0.99),
        "lag_p99_ms": pct(lags, 0.99),
        "lag_max_ms": max(lags),
        "collect_p50_ms": statistics.median(collect_ms),
        "collect_p99_ms": pct(collect_ms, 0.99),
    }


async def hold_idle(dsn: str, count: int) -> list[object]:
    import asyncpg

    return [
        await asyncpg.connect(dsn, server_settings={"application_name": "bench-idle"})
        for _ in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--refresh", type=float, default=2.0)
    parser.add_argument("--idle-sessions", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.dsn, args.seconds, args.refresh, args.started))))
        return

    import shutil
    import subprocess
    import tempfile

    from engflow_tui.demo import _seed, demo_config, start_demo_server, start_workload, stop_process

    server = None
    workload = None
    loop = asyncio.new_event_loop()
    idle: list[object] = []
    try:
        dsn = args.dsn
        if dsn is None:
            server = start_demo_server(None)
            loop.run_until_complete(_seed(server.dsn(), server.dsn("engflow")))
            workload = start_workload(server)
            dsn = demo_config(server, args.refresh)[1].dsn
            idle = loop.run_until_complete(hold_idle(server.dsn("engflow"), args.idle_sessions))
            time.sleep(2)  # let the workload open its sessions
        # Compiled as an installed package is (pip compiles the bytecode): a source tree whose
        # .pyc files are stale would be compiled again at every start.
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(ROOT / "engflow_tui")],
            check=False,
            capture_output=True,
        )
        # A state directory of its own: alert history, incidents and the metrics store of
        # earlier runs (or of the user) are not what a first start reads.
        state = tempfile.mkdtemp(prefix="engflow-bench-state-")
        try:
            started = time.time()
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--dsn",
                    dsn,
                    "--seconds",
                    str(args.seconds),
                    "--refresh",
                    str(args.refresh),
                    "--started",
                    str(started),
                ],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": state},
            )
        finally:
            shutil.rmtree(state, ignore_errors=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        for conn in idle:
            loop.run_until_complete(conn.close())  # type: ignore[attr-defined]
        stop_process(workload)
        if server is not None:
            server.remove()
    print(
        f"console benchmark: {args.seconds:g} s at refresh {args.refresh:g} s, "
        f"{args.idle_sessions} extra idle sessions + demo workload"
    )
    rows = [
        (
            "first data on screen (process start)",
            f"{figures['first_data_s']:.2f} s",
            "budget 1.5 s",
        ),
        ("peak RSS", f"{figures['rss_mb']:.0f} MB", "budget 150 MB"),
        ("refreshes applied", f"{figures['refreshes']}", ""),
        ("UI time of the initial table fill", f"{figures['ui_initial_fill_ms']:.0f} ms", "once"),
        (
            "UI time per refresh p50 / p99 / max",
            f"{figures['ui_p50_ms']:.1f} / {figures['ui_p99_ms']:.1f} / {figures['ui_max_ms']:.1f} ms",
            "budget 50 ms",
        ),
        (
            "  of which applying / layout and render, p99",
            f"{figures['apply_p99_ms']:.1f} / {figures['paint_p99_ms']:.1f} ms",
            "",
        ),
        (
            "event-loop lag p99 / max",
            f"{figures['lag_p99_ms']:.1f} / {figures['lag_max_ms']:.1f} ms",
            "budget 100 ms",
        ),
        (
            "collector time per snapshot p50 / p99",
            f"{figures['collect_p50_ms']:.1f} / {figures['collect_p99_ms']:.1f} ms",
            "",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, budget in rows:
        print(f"  {name:<{width}}  {value:>22}  {budget}")


if __name__ == "__main__":
    main()
