"""Maintenance (runbook weekly "Database Maintenance"): unused and duplicate indexes, foreign keys
without an index, dead tuples and stale statistics, and an estimate of table bloat.

Must not import Textual.
"""

from __future__ import annotations

from ..diagnose import Check
from ..durations import format_age
from ..sqlident import quote_ident, quote_qualified
from .base import Context, Probe, finding, listed, size_text

DEAD_MIN = 1000
"""Dead tuples below this never warrant a vacuum finding (autovacuum's own base threshold is 50)."""
DEAD_RATIO = 0.2
STALE_MIN = 1000
STALE_RATIO = 0.1
BLOAT_MIN_BYTES = 4 * 1024 * 1024
BLOAT_RATIO = 0.5
BLOAT_MIN_PAGES = 128


async def check_unused(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_unused_indexes")
    reset = rows[0]["stats_reset"] if rows else None
    items = [
        {
            "key": f"{r['schema']}.{r['index']}",
            "index": f"{r['schema']}.{r['index']}",
            "table": f"{r['schema']}.{r['table']}",
            "size": size_text(r["size_bytes"]),
            "size_bytes": r["size_bytes"],
            "fix": f"DROP INDEX CONCURRENTLY {quote_qualified(r['schema'], r['index'])};",
        }
        for r in rows
    ]
    since = (
        f" since the statistics reset ({reset:%Y-%m-%d})" if reset else " since statistics began"
    )
    return [
        finding(
            ctx,
            "maintenance.unused_indexes",
            items,
            status="warning",
            found=lambda k: (
                f"{len(k)} index(es) never scanned{since}, "
                f"{size_text(sum(i['size_bytes'] for i in k))} in all: "
                + listed([i["index"] for i in k])
            ),
            clean="every index has been used",
            fix="check replicas and monthly jobs use none of them, then DROP INDEX CONCURRENTLY …;",
        )
    ]


async def check_duplicates(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_duplicate_indexes")
    items = []
    for r in rows:
        indexes, backs = list(r["indexes"]), list(r["backs_constraint"])
        # The first index of each set is kept (a constraint's own index sorts first).
        redundant = [i for i, b in zip(indexes[1:], backs[1:], strict=True) if not b]
        items.append(
            {
                "key": f"{r['schema']}.{r['table']}:" + ",".join(indexes),
                "table": f"{r['schema']}.{r['table']}",
                "indexes": indexes,
                "keep": indexes[0],
                "size": size_text(r["size_bytes"]),
                "fix": " ".join(
                    f"DROP INDEX CONCURRENTLY {quote_qualified(r['schema'], name)};"
                    for name in redundant
                )
                or "two constraints share the definition: drop one constraint",
            }
        )
    return [
        finding(
            ctx,
            "maintenance.duplicate_indexes",
            items,
            status="warning",
            found=lambda k: (
                f"{len(k)} set(s) of identical indexes: "
                + listed([f"{i['table']} ({', '.join(i['indexes'])})" for i in k], 3, sep="; ")
            ),
            clean="no duplicate indexes",
            fix="keep one index of each set: DROP INDEX CONCURRENTLY the others (see each fix)",
        )
    ]


async def check_unindexed_fks(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_unindexed_foreign_keys")
    items = [
        {
            "key": f"{r['schema']}.{r['table']}.{r['constraint_name']}",
            "table": f"{r['schema']}.{r['table']}",
            "constraint": r["constraint_name"],
            "columns": list(r["columns"]),
            "rows_estimate": int(r["rows_estimate"]),
            "fix": f"CREATE INDEX CONCURRENTLY ON {quote_qualified(r['schema'], r['table'])} ("
            + ", ".join(quote_ident(c) for c in r["columns"])
            + ");",
        }
        for r in rows
    ]
    return [
        finding(
            ctx,
            "maintenance.unindexed_foreign_keys",
            items,
            status="warning",
            found=lambda k: (
                f"{len(k)} foreign key(s) without an index (deleting a parent scans "
                "the child): " + listed([f"{i['table']}({', '.join(i['columns'])})" for i in k])
            ),
            clean="every foreign key has an index on its columns",
            fix="CREATE INDEX CONCURRENTLY ON <child> (<fk columns>);  (see each fix)",
        )
    ]


async def check_vacuum(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_vacuum")
    items = []
    for r in rows:
        reasons = []
        live, dead, modified = r["live"], r["dead"], r["modified"]
        if dead >= DEAD_MIN and dead > DEAD_RATIO * max(live, 1):
            reasons.append(f"{dead} dead tuples ({100 * dead / max(live + dead, 1):.0f} %)")
        stale = modified >= STALE_MIN and modified > STALE_RATIO * max(live, 1)
        if stale:
            when = (
                f"last analyzed {format_age(r['analyze_age_s'])} ago"
                if r["analyze_age_s"] is not None
                else "never analyzed"
            )
            reasons.append(f"stale statistics: {modified} rows changed, {when}")
        if not reasons:
            continue
        items.append(
            {
                "key": f"{r['schema']}.{r['table']}",
                "schema": r["schema"],
                "table": r["table"],
                "problem": "; ".join(reasons),
                "live": live,
                "dead": dead,
                "modified_since_analyze": modified,
                "last_vacuum": format_age(r["vacuum_age_s"]) + " ago"
                if r["vacuum_age_s"] is not None
                else "never",
                "last_analyze": format_age(r["analyze_age_s"]) + " ago"
                if r["analyze_age_s"] is not None
                else "never",
                "stale_statistics": stale,
                "fix": ("ANALYZE " if stale and dead < DEAD_MIN else "VACUUM (ANALYZE) ")
                + quote_qualified(r["schema"], r["table"])
                + ";",
            }
        )
    stale_any = any(i["stale_statistics"] for i in items)
    return [
        finding(
            ctx,
            "maintenance.vacuum",
            items,
            status="warning",
            found=lambda k: (
                f"{len(k)} table(s) need vacuum or analyze: "
                + listed([f"{i['key']} ({i['problem']})" for i in k], 3)
            ),
            clean=f"dead tuples and statistics fine on {len(rows)} table(s)",
            fix="VACUUM (ANALYZE) <table>;  and check autovacuum keeps up (autovacuum settings per table)",
            action="Run ANALYZE" if stale_any else None,
        )
    ]


async def check_bloat(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_bloat", BLOAT_MIN_PAGES)
    blind = [r for r in rows if r["bloat_bytes"] is None]
    items = [
        {
            "key": f"{r['schema']}.{r['table']}",
            "table": f"{r['schema']}.{r['table']}",
            "size": size_text(r["size_bytes"]),
            "bloat": size_text(r["bloat_bytes"]),
            "bloat_pct": round(100.0 * r["bloat_bytes"] / r["size_bytes"]),
            "fix": f"VACUUM {quote_qualified(r['schema'], r['table'])};  (space returns to the OS only "
            "with VACUUM FULL / pg_repack, which lock or copy the table)",
        }
        for r in rows
        if r["bloat_bytes"] is not None
        and r["size_bytes"]
        and r["bloat_bytes"] >= BLOAT_MIN_BYTES
        and r["bloat_bytes"] >= BLOAT_RATIO * r["size_bytes"]
    ]
    note = (
        f"; {len(blind)} table(s) without readable statistics (ANALYZE them, or GRANT SELECT)"
        if blind
        else ""
    )
    return [
        finding(
            ctx,
            "maintenance.bloat",
            items,
            status="warning",
            found=lambda k: (
                "estimated bloat: "
                + listed([f"{i['table']} {i['bloat']} of {i['size']}" for i in k], 3)
                + note
            ),
            clean="no table with an estimated bloat over half its size" + note,
            fix="VACUUM <table>; if it stays large, pg_repack or VACUUM FULL in a maintenance window",
            value=None,
        )
    ]


PROBES = (
    Probe(("maintenance.unused_indexes",), check_unused),
    Probe(("maintenance.duplicate_indexes",), check_duplicates),
    Probe(("maintenance.unindexed_foreign_keys",), check_unindexed_fks),
    Probe(("maintenance.vacuum",), check_vacuum),
    Probe(("maintenance.bloat",), check_bloat),
)
