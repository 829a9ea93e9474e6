"""Replication: standby lag (pg_stat_replication) and replication slots (inactive slots and the
WAL they retain, which fills the disk of the primary). Must not import Textual.
"""

from __future__ import annotations

from ..diagnose import Check
from ..durations import format_age
from ..sqlident import quote_literal
from .base import Context, Probe, finding, listed, size_text

LAG_WARNING_S = 30.0
LAG_CRITICAL_S = 300.0
RETAINED_CRITICAL = 1024**3


async def check_lag(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_replication")
    if not rows:
        return [Check("replication.lag", "ok", "no standby connected", 0, details=[])]
    hidden = [r for r in rows if r["state"] is None]
    worst = max((r["replay_lag_s"] or 0.0) for r in rows)
    status = (
        "critical" if worst >= LAG_CRITICAL_S else "warning" if worst >= LAG_WARNING_S else "ok"
    )
    not_streaming = [r for r in rows if r["state"] not in (None, "streaming")]
    if not_streaming and status == "ok":
        status = "warning"
    details = [
        {
            "standby": r["standby"],
            "client_addr": r["client_addr"],
            "state": r["state"],
            "sync_state": r["sync_state"],
            "replay_lag_s": None if r["replay_lag_s"] is None else round(r["replay_lag_s"], 1),
            "lag": size_text(r["lag_bytes"]) if r["lag_bytes"] is not None else None,
        }
        for r in rows
    ]
    summary = f"{len(rows)} standby(s), worst replay lag {format_age(worst)}"
    if not_streaming:
        summary += f"; not streaming: {', '.join(str(r['standby']) for r in not_streaming)}"
    if hidden:
        summary += f"; {len(hidden)} hidden (GRANT pg_read_all_stats)"
    return [
        Check(
            "replication.lag",
            status,
            summary,
            round(worst, 1),
            "s",
            details=details,
            fix="check the standby's network, disk and apply; long queries on it delay replay"
            if status != "ok"
            else None,
        )
    ]


async def check_slots(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_replication_slots")
    items = [
        {
            "key": r["slot"],
            "slot": r["slot"],
            "type": r["type"],
            "database": r["database"],
            "active": r["active"],
            "wal_status": r["wal_status"],
            "retained": size_text(r["retained_bytes"]) if r["retained_bytes"] is not None else None,
            "retained_bytes": r["retained_bytes"],
            "fix": f"SELECT pg_drop_replication_slot({quote_literal(r['slot'])});"
            "  -- if nothing will consume it",
        }
        for r in rows
        if not r["active"]
        or r["wal_status"] in ("unreserved", "lost")
        or (r["retained_bytes"] or 0) >= RETAINED_CRITICAL
    ]
    severe = any(
        i["wal_status"] == "lost" or (i["retained_bytes"] or 0) >= RETAINED_CRITICAL for i in items
    )
    return [
        finding(
            ctx,
            "replication.slots",
            items,
            status="critical" if severe else "warning",
            found=lambda k: (
                f"{len(k)} slot(s) inactive or holding WAL: "
                + listed([f"{i['slot']} ({i['retained'] or '?'} retained)" for i in k])
            ),
            clean=f"{len(rows)} replication slot(s), all active"
            if rows
            else "no replication slots",
            fix="reconnect the consumer, or drop the slot (pg_drop_replication_slot) so the "
            "server can recycle WAL",
        )
    ]


PROBES = (
    Probe(("replication.lag",), check_lag, quick=True),
    Probe(("replication.slots",), check_slots, quick=True),
)
