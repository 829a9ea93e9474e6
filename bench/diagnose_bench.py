#!/usr/bin/env python3
"""Wall time of `engflow-tui diagnose --quick` and the full `diagnose`: prints figures, asserts
nothing.

    python bench/diagnose_bench.py [--runs 5] [--dsn DSN]

Without --dsn it starts an embedded PostgreSQL 18 with the demo schema (seed.sql, ~32k rows) and
runs the command as a user would (a new process each time: Python start-up and imports included),
as the demo's pg_monitor role and as the tables' owner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(dsn: str, *extra: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "engflow_tui", "diagnose", "--dsn", dsn, "--format", "json", *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    checks = len(json.loads(result.stdout)["checks"])
    return elapsed, result.returncode, checks


def report(label: str, dsn: str, runs: int) -> None:
    for mode, extra in (("--quick", ("--quick",)), ("full", ())):
        times, checks = [], 0
        for _ in range(runs):
            elapsed, _code, checks = timed(dsn, *extra)
            times.append(elapsed)
        print(
            f"{label:12} {mode:8} {checks:3d} checks  median {statistics.median(times):.2f} s  "
            f"min {min(times):.2f} s  max {max(times):.2f} s  ({runs} runs)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dsn")
    args = parser.parse_args()
    if args.dsn:
        report("given DSN", args.dsn, args.runs)
        return
    from engflow_tui.demo import DEMO_DB, _seed
    from engflow_tui.pgserver import temporary_server

    server = temporary_server(prefix="engflow-bench-diag-")
    try:
        asyncio.run(_seed(server.dsn(), server.dsn(DEMO_DB)))
        report("pg_monitor", server.dsn(DEMO_DB, user="ops_monitor"), args.runs)
        report("owner", server.dsn(DEMO_DB), args.runs)
    finally:
        server.remove()


if __name__ == "__main__":
    main()
