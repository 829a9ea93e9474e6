"""Privileges: what the monitoring role can and cannot see or do, each gap with the exact GRANT,
CREATE EXTENSION or setting that closes it. Must not import Textual.
"""

from __future__ import annotations

from typing import Any

from ..diagnose import Check
from ..sqlident import quote_ident
from .base import Context, Probe


async def check_capabilities(ctx: Context) -> list[Check]:
    r = await ctx.fetchrow("diag_capabilities")
    assert r is not None
    role = quote_ident(r["role"])
    su = r["superuser"]
    items: list[dict[str, Any]] = [
        {
            "capability": "pg_monitor (every statistics view, every session)",
            "ok": su or r["pg_monitor"],
            "fix": f"GRANT pg_monitor TO {role};",
            "blocking": False,
        },
        {
            "capability": "pg_read_all_stats (other roles' queries, addresses, waits)",
            "ok": su or r["pg_read_all_stats"],
            "fix": f"GRANT pg_read_all_stats TO {role};  (included in pg_monitor)",
            "blocking": True,
        },
        {
            "capability": "pg_stat_statements installed"
            + (f" (schema {r['pgss_schema']}, {r['pgss_version']})" if r["pgss_schema"] else ""),
            "ok": r["pgss_schema"] is not None,
            "fix": f"CREATE EXTENSION pg_stat_statements;  (in database {r['database']}; "
            "needs shared_preload_libraries = 'pg_stat_statements')",
            "blocking": True,
        },
        {
            "capability": "pg_signal_backend (terminate/cancel other roles' sessions)",
            "ok": su or r["pg_signal_backend"],
            "fix": f"GRANT pg_signal_backend TO {role};  (or set targets.NAME.action_dsn to an "
            "on-call role that has it)",
            "blocking": False,
        },
        {
            "capability": f"track_io_timing = {r['track_io_timing']} (I/O time in pg_stat_statements)",
            "ok": r["track_io_timing"] == "on",
            "fix": "ALTER SYSTEM SET track_io_timing = on; SELECT pg_reload_conf();",
            "blocking": False,
        },
    ]
    gaps = [i for i in items if not i["ok"]]
    blocking = [i for i in gaps if i["blocking"]]
    details = [{k: v for k, v in i.items() if k != "blocking"} for i in items]
    summary = f"role {role}{' (superuser)' if su else ''}: " + (
        "sees everything the console reads"
        if not gaps
        else f"{len(gaps)} gap(s): " + "; ".join(i["capability"].split(" (")[0] for i in gaps)
    )
    return [
        Check(
            "capabilities",
            "warning" if blocking else "ok",
            summary,
            len(gaps),
            details=details,
            fix=" ".join(i["fix"].split("  (")[0] for i in gaps) if gaps else None,
        )
    ]


PROBES = (Probe(("capabilities",), check_capabilities, quick=True),)
