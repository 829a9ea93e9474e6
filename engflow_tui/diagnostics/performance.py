"""Performance (runbook troubleshooting 2, "High Response Times"): the lock-blocking tree with its
root blocker, long-running statements, connections by state, and the cache hit rate per table.

Must not import Textual.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..diagnose import Check
from ..durations import format_age, format_duration
from ..figures import HIDDEN_FIX, long_running
from ..model import Unavailable
from ..redact import redact_query
from .base import Context, Probe, listed

BLOCKED_CRITICAL_SECONDS = 60.0
"""A session waiting on a lock for longer than this makes locks.blocking critical."""


def blocking_tree(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of diag_blocking -> the tree flattened depth-first: each root blocker (blocks others,
    waits for nobody) then the sessions waiting on it, with ``depth`` and ``root``."""
    by_pid = {r["pid"]: r for r in rows}
    waiters: dict[int, list[int]] = {}
    for r in rows:
        for blocker in r["blocked_by"]:
            waiters.setdefault(blocker, []).append(r["pid"])
    roots = sorted(
        (pid for pid in waiters if not (by_pid.get(pid) or {}).get("blocked_by")),
        key=lambda p: -_count_below(p, waiters, set()),
    )
    out: list[dict[str, Any]] = []
    seen: set[int] = set()

    def walk(pid: int, depth: int, root: int) -> None:
        if pid in seen:
            return
        seen.add(pid)
        r = by_pid.get(pid, {})
        out.append(
            {
                "pid": pid,
                "depth": depth,
                "root": root,
                "blocked_by": list(r.get("blocked_by") or []),
                "blocks": len(waiters.get(pid, [])),
                "user": r.get("user"),
                "application": r.get("application"),
                "client_addr": r.get("client_addr"),
                # pg_blocking_pids names a prepared transaction's lock holder as pid 0.
                "state": r.get("state") if pid else "prepared transaction",
                "seconds": round(r.get("state_seconds") or 0.0, 1),
                "wait_event": r.get("wait_event"),
                "query": redact_query(" ".join((r.get("query") or "").split()))[:300],
                "backend_start": r["backend_start"].isoformat() if r.get("backend_start") else None,
            }
        )
        for child in sorted(waiters.get(pid, [])):
            walk(child, depth + 1, root)

    for root in roots:
        walk(root, 0, root)
    # A deadlock-free cycle cannot exist, but a waiter whose blocker we could not see can.
    for r in rows:
        if r["pid"] not in seen and r["blocked_by"]:
            walk(r["pid"], 0, r["pid"])
    return out


def _count_below(pid: int, waiters: dict[int, list[int]], seen: set[int]) -> int:
    total = 0
    for child in waiters.get(pid, []):
        if child not in seen:
            seen.add(child)
            total += 1 + _count_below(child, waiters, seen)
    return total


async def check_blocking(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_blocking")
    tree = blocking_tree(rows)
    waiting = [n for n in tree if n["blocked_by"]]
    if not waiting:
        return [Check("locks.blocking", "ok", "no session waits for another's lock", 0, details=[])]
    roots = [n for n in tree if n["depth"] == 0 and not n["blocked_by"]]
    longest = max(n["seconds"] for n in waiting)
    # pg_blocking_pids sees every session; how long a session of another role has waited does
    # not show without pg_read_all_stats: the wait is found, its length is unknown, never 0 s.
    unseen = [n for n in tree if n["pid"] and n["state"] is None and n["user"] is None]
    top = roots[0] if roots else None
    if top is not None and top["pid"] == 0:
        top = None  # nothing to terminate: ROLLBACK PREPARED / COMMIT PREPARED ends it
    status = "critical" if longest >= BLOCKED_CRITICAL_SECONDS else "warning"
    depth = max(n["depth"] for n in tree)
    if unseen:
        summary = (
            f"{len(waiting)} session(s) wait for a lock (for how long cannot be seen: "
            f"{len(unseen)} of the sessions involved belong to roles hidden from this one)"
        )
    else:
        summary = f"{len(waiting)} session(s) wait for a lock (longest {format_age(longest)})"
    if top is not None:
        summary += (
            f"; root blocker pid {top['pid']} ({top['user']}, {top['application'] or '-'}, "
            f"{top['state']} for {format_age(top['seconds'])}) holds up "
            f"{_count_below(top['pid'], _waiters(tree), set())} session(s), chain depth {depth}"
        )
    elif roots and roots[0]["pid"] == 0:
        summary += "; the root blocker is a prepared transaction (see pg_prepared_xacts)"
    return [
        Check(
            "locks.blocking",
            status,
            summary,
            len(waiting),
            details=tree,
            fix="end the root blocker's transaction (console: Terminate session on its pid), or "
            "fix the client that holds it open; lock_timeout on DDL keeps queues from forming"
            + (f"; to see how long they wait: {HIDDEN_FIX}" if unseen else ""),
            action="Terminate session" if top is not None else None,
            action_target={"pid": top["pid"], "backend_start": top["backend_start"]}
            if top is not None
            else None,
        )
    ]


def _waiters(tree: list[dict[str, Any]]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for n in tree:
        for blocker in n["blocked_by"]:
            out.setdefault(blocker, []).append(n["pid"])
    return out


async def check_sessions(ctx: Context) -> list[Check]:
    """From the snapshot: statements running too long, and the session count by state."""
    conns = ctx.snapshot.connections
    if isinstance(conns, Unavailable):
        return [
            Check(c, "unknown", f"cannot check: {conns.reason}", fix=conns.fix)
            for c in ("queries.long_running", "connections.by_state")
        ]
    limit = ctx.config.diagnose.long_running_query
    figure = long_running(conns, limit)
    long: list[dict[str, Any]] = [
        {
            "key": str(s.pid),
            "pid": s.pid,
            "user": s.user,
            "application": s.application,
            "seconds": round(s.query_age_seconds or 0.0, 1),
            "wait_event": s.wait_event,
            "query": s.one_line_query(300),
            "backend_start": s.backend_start.isoformat() if s.backend_start else None,
        }
        for s in conns.sessions
        if s.state == "active" and (s.query_age_seconds or 0.0) > limit
    ]
    long.sort(key=lambda i: -i["seconds"])
    if figure.count is None:
        long_check = Check(
            "queries.long_running", "unknown", f"cannot see: {figure.unknown}", fix=figure.fix
        )
        return [long_check, _by_state(conns)]
    count = max(figure.count, len(long))
    listed = f" ({len(long)} listed)" if count > len(long) else ""
    long_check = Check(
        "queries.long_running",
        "warning" if count else "ok",
        (
            f"{count} statement(s) running longer than {format_duration(limit)}{listed}"
            + (f" (longest {format_age(long[0]['seconds'])}, pid {long[0]['pid']})" if long else "")
            if count
            else f"no statement running longer than {format_duration(limit)}"
        ),
        count,
        details=long,
        fix="look at its plan (EXPLAIN); Cancel query on its pid if it must stop"
        if count
        else None,
        action="Cancel query" if long else None,
        action_target={"pid": long[0]["pid"], "backend_start": long[0]["backend_start"]}
        if long
        else None,
    )
    return [long_check, _by_state(conns)]


def _by_state(conns: Any) -> Check:
    states = dict(sorted(conns.by_state.items(), key=lambda kv: -kv[1]))
    hidden = (
        f"; {conns.hidden} of other roles hidden (GRANT pg_read_all_stats)" if conns.hidden else ""
    )
    return Check(
        "connections.by_state",
        "ok",
        f"{conns.total} client session(s): "
        + (", ".join(f"{n} {state}" for state, n in states.items()) or "none")
        + hidden,
        conns.total,
        details=states,
    )


async def table_cache_details(ctx: Context, check: Check) -> Check:
    """The database-wide cache.hit_rate check, with the tables that read from disk most."""
    rows = await ctx.fetch("diag_table_cache", 1000)
    threshold = ctx.config.thresholds.cache_hit_warning_pct
    tables = [
        {
            "table": f"{r['schema']}.{r['table']}",
            "hit_pct": r["hit_pct"],
            "hits": r["hits"],
            "reads": r["reads"],
        }
        for r in rows
    ]
    low = [t for t in tables if t["hit_pct"] is not None and t["hit_pct"] < threshold]
    summary = check.summary
    if low:
        summary += f"; {len(low)} table(s) below {threshold:g} %: " + listed(
            [f"{t['table']} {t['hit_pct']} %" for t in low], 3
        )
    return replace(check, summary=summary, details={"tables": tables})


PROBES = (
    Probe(("locks.blocking",), check_blocking, quick=True),
    Probe(("queries.long_running", "connections.by_state"), check_sessions, quick=True),
)
