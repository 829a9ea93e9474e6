#!/usr/bin/env python3
"""`diagnose --quick` and full `diagnose` at scale: prints figures, asserts nothing.

    python bench/diagnose_scale_bench.py

An embedded PostgreSQL 18 with 2,000 tables of 100 rows, each with a foreign key to one parent
(2,000 orphan counts), half of them with RLS and a policy, and 200 idle sessions; each command
runs 3 times as a new process (Python start-up included).
"""

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import asyncpg

from engflow_tui.pgserver import temporary_server

server = temporary_server(prefix="engflow-scale-", extra_settings={"max_connections": "300"})
try:

    async def setup():
        c = await asyncpg.connect(server.dsn())
        await c.execute(
            "CREATE EXTENSION pg_stat_statements; CREATE TABLE public.parent (id int PRIMARY KEY); INSERT INTO parent SELECT generate_series(1, 1000)"
        )
        stmts = []
        for i in range(2000):
            stmts.append(
                f"CREATE TABLE public.t{i} (id int PRIMARY KEY, parent_id int REFERENCES parent (id), v text);"
            )
            stmts.append(
                f"INSERT INTO public.t{i} SELECT g, g % 1000 + 1, 'x' FROM generate_series(1, 100) g;"
            )
            if i % 2:
                stmts.append(
                    f"ALTER TABLE public.t{i} ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON public.t{i} USING (id > 0);"
                )
        for k in range(0, len(stmts), 300):
            await c.execute("\n".join(stmts[k : k + 300]))
        await c.execute("ANALYZE")
        await c.close()
        return [await asyncpg.connect(server.dsn()) for _ in range(200)]

    loop = asyncio.new_event_loop()
    t0 = time.perf_counter()
    conns = loop.run_until_complete(setup())
    print(f"setup {time.perf_counter() - t0:.1f}s")

    def timed(*extra):
        s = time.perf_counter()
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "engflow_tui",
                "diagnose",
                "--dsn",
                server.dsn(),
                "--format",
                "json",
                *extra,
            ],
            capture_output=True,
            text=True,
        )
        return time.perf_counter() - s, r

    for mode, extra in (("--quick", ("--quick",)), ("full", ())):
        times = []
        for _ in range(3):
            t, r = timed(*extra)
            times.append(t)
        import json

        d = json.loads(r.stdout)
        slow = [c["id"] for c in d["checks"] if c["status"] == "unknown"]
        print(
            f"{mode:8} {len(d['checks'])} checks median {statistics.median(times):.2f}s min {min(times):.2f} max {max(times):.2f}; unknown: {slow}"
        )
    for c in conns:
        loop.run_until_complete(c.close())
finally:
    server.remove()
