"""Integrity (runbook troubleshooting 3, "Foreign Key Violations"): orphan rows behind every
foreign key — validated or NOT VALID — and behind relations declared in config, NOT VALID
constraints, disabled foreign-key triggers.

The counts run on the read-only diagnostic connection under their own statement_timeout and
lock_timeout (diag_orphan_settings, undone afterwards), so a huge or locked table costs at most
``diagnose.orphan_count_timeout`` and the report says the count was cut short; all of them
together stop after ``diagnose.orphan_total_timeout``. row_security is off for them: RLS that
would hide rows from the role is "cannot see", never a false "no orphans". What the role cannot
read (no table or column, no USAGE on the schema, no SELECT on a key column, RLS it cannot
bypass) is found in the catalogue first (diag_orphan_access) and said without sending the
count: a refused query is an ERROR in the server's log, and in the error figures it watches.
Must not import Textual.
"""

from __future__ import annotations

import json
from typing import Any

from .. import db
from ..diagnose import Check
from ..durations import format_duration
from ..sqlident import quote_qualified
from .base import Context, Probe, fill_template, finding, listed

SAMPLE_SIZE = 5
LOCK_WAIT = 1.0
"""Seconds a count waits for a table another transaction locks (a migration) before giving up."""


def _templates(
    child: tuple[str, str],
    child_cols: list[str],
    parent: tuple[str, str],
    parent_cols: list[str],
    match_full: bool = False,
) -> dict[str, str]:
    q = db.quote_ident
    columns = ", ".join(f"c.{q(col)}" for col in child_cols)
    n = len(child_cols)
    return {
        # MATCH FULL: a key that is partly NULL is a violation too.
        "partial": f"num_nulls({columns}) BETWEEN 1 AND {n - 1}"
        if match_full and n > 1
        else "false",
        "child": quote_qualified(*child),
        "parent": quote_qualified(*parent),
        "not_null": " AND ".join(f"c.{q(col)} IS NOT NULL" for col in child_cols),
        "join": " AND ".join(
            f"p.{q(pc)} = c.{q(cc)}" for cc, pc in zip(child_cols, parent_cols, strict=True)
        ),
        "columns": columns,
    }


async def count_orphans(
    ctx: Context,
    child: tuple[str, str],
    child_cols: list[str],
    parent: tuple[str, str],
    parent_cols: list[str],
    match_full: bool = False,
) -> dict[str, Any]:
    """Orphans of one relation: {"orphans": n, "samples": [...]} or {"cut_short": True} or {"error": ...}."""
    values = _templates(child, child_cols, parent, parent_cols, match_full)
    count_sql = fill_template(db.load_sql("diag_orphan_count"), values)
    sample_sql = fill_template(db.load_sql("diag_orphan_sample"), values)
    # The connection runs under diag_orphan_settings (see check_orphans): one round trip per
    # count (two when there are orphans), no transaction to open and close.
    limit = ctx.config.diagnose.orphan_count_timeout + 1.0  # the server's timeout fires first
    try:
        orphans = int(await ctx.conn.fetchval(count_sql, timeout=limit))
        samples = (
            [r["sample"] for r in await ctx.conn.fetch(sample_sql, SAMPLE_SIZE, timeout=limit)]
            if orphans
            else []
        )
    except Exception as exc:  # noqa: BLE001 - one relation's failure is that relation's finding
        error = db.translate_error(exc)
        if db.is_connection_lost(exc):
            raise
        if error.sqlstate in ("57014", "timeout"):
            return {"orphans": None, "cut_short": True}
        if error.sqlstate == "55P03":
            return {"orphans": None, "cut_short": True, "reason": "another transaction locks it"}
        if error.sqlstate == "42501" and "row-level security" in str(error):
            return {
                "orphans": None,
                "cannot_see": f"row-level security hides rows from this role ({error})",
                "fix": "count as a role that owns the tables or has BYPASSRLS "
                "(e.g. a dedicated audit role), or exclude the key",
            }
        if error.sqlstate == "42501":
            return {
                "orphans": None,
                "cannot_see": str(error),
                "fix": f"GRANT SELECT ON {quote_qualified(*child)}, {quote_qualified(*parent)} TO <monitoring role>;",
            }
        return {"orphans": None, "error": str(error)}
    return {"orphans": orphans, "samples": samples}


def _name(table: tuple[str, str]) -> str:
    return f"{table[0]}.{table[1]}"


async def read_access(
    ctx: Context, relations: list[dict[str, Any]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """What the role may read of every table the counts of ``relations`` would read: one
    catalogue query (diag_orphan_access) for all of them, keyed by (schema, table)."""
    needed: dict[tuple[str, str], set[str]] = {}
    for rel in relations:
        needed.setdefault(rel["_child"], set()).update(rel["_child_cols"])
        needed.setdefault(rel["_parent"], set()).update(rel["_parent_cols"])
    if not needed:
        return {}
    tables = [
        {"schema": schema, "table": table, "columns": sorted(columns)}
        for (schema, table), columns in needed.items()
    ]
    rows = await ctx.fetch("diag_orphan_access", json.dumps(tables))
    return {(r["schema"], r["table"]): r for r in rows}


def unreadable(
    rel: dict[str, Any], access: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any] | None:
    """Why the counts of one relation cannot be run by this role (None: they can), in the shape
    of a count's outcome; the child table's problem first, then the parent's."""
    child, parent = rel["_child"], rel["_parent"]
    for table, columns in ((child, rel["_child_cols"]), (parent, rel["_parent_cols"])):
        seen = access.get(table)
        if seen is None:
            continue  # not asked (cannot happen): the count itself will say
        if not seen["found"]:
            return {"orphans": None, "error": f"no table {_name(table)}"}
        absent = [c for c in seen["no_column"] if c in columns]
        if absent:
            return {"orphans": None, "error": f"no column {', '.join(absent)} in {_name(table)}"}
        if not seen["schema_usage"]:
            return {
                "orphans": None,
                "cannot_see": f"cannot see: no USAGE on schema {table[0]}",
                "fix": f"GRANT USAGE ON SCHEMA {db.quote_ident(table[0])} TO <monitoring role>;",
            }
        missing = [c for c in seen["no_select"] if c in columns]
        grant = (
            f"GRANT SELECT ON {quote_qualified(*child)}, {quote_qualified(*parent)} "
            "TO <monitoring role>;"
        )
        if missing:
            # With RLS on as well, SELECT alone would only move the problem: both are said.
            also = (
                "; row-level security would then hide its rows too"
                if seen["rls_hides"]
                else ""
            )
            return {
                "orphans": None,
                "cannot_see": f"cannot see: no SELECT on {_name(table)} ({', '.join(missing)})"
                + also,
                "fix": grant
                + (
                    " and count as a role that owns the tables or has BYPASSRLS "
                    "(ALTER ROLE <monitoring role> BYPASSRLS)"
                    if seen["rls_hides"]
                    else ""
                ),
            }
        if seen["rls_hides"]:
            why = (
                "FORCE ROW LEVEL SECURITY applies it to the owner too: only BYPASSRLS or a "
                "superuser sees every row"
                if seen["rls_forced"]
                else "neither its owner nor BYPASSRLS"
            )
            return {
                "orphans": None,
                "cannot_see": "cannot see (row-level security): row-level security hides rows "
                f"of {_name(table)} from this role ({why})",
                "fix": "count as a role that owns the tables or has BYPASSRLS "
                "(e.g. a dedicated audit role), or exclude the key",
            }
    return None


async def check_orphans(ctx: Context) -> list[Check]:
    check_id = "integrity.orphans"
    relations: list[dict[str, Any]] = []
    for fk in await ctx.fetch("diag_foreign_keys"):
        relations.append(
            {
                "key": f"{fk['child_schema']}.{fk['child_table']}.{fk['constraint_name']}",
                "constraint": fk["constraint_name"],
                "table": f"{fk['child_schema']}.{fk['child_table']}",
                "columns": fk["child_columns"],
                "references": f"{fk['parent_schema']}.{fk['parent_table']}"
                f"({', '.join(fk['parent_columns'])})",
                "validated": fk["validated"],
                "_child": (fk["child_schema"], fk["child_table"]),
                "_parent": (fk["parent_schema"], fk["parent_table"]),
                "_child_cols": list(fk["child_columns"]),
                "_parent_cols": list(fk["parent_columns"]),
                "_match_full": fk["match_full"],
            }
        )
    for declared in ctx.config.integrity.relations:
        cs, ct, cc = declared.child.split(".")
        ps, pt, pc = declared.parent.split(".")
        relations.append(
            {
                "key": f"{declared.child}->{declared.parent}",
                "constraint": "(declared in config)",
                "table": f"{cs}.{ct}",
                "columns": [cc],
                "references": f"{ps}.{pt}({pc})",
                "validated": None,
                "_child": (cs, ct),
                "_parent": (ps, pt),
                "_child_cols": [cc],
                "_parent_cols": [pc],
                "_match_full": False,
            }
        )
    kept, dropped = ctx.keep(check_id, relations)
    access = await read_access(ctx, kept)
    timeout_ms = str(max(int(ctx.config.diagnose.orphan_count_timeout * 1000), 1))
    # Below the statement timeout, so a table a migration holds is reported as such, soon.
    lock_wait = min(ctx.config.diagnose.orphan_count_timeout / 2, LOCK_WAIT)
    lock_ms = str(max(int(lock_wait * 1000), 1))
    await ctx.conn.execute(db.load_sql("diag_orphan_settings"), timeout_ms, lock_ms)
    try:
        findings, counts = await _count_all(ctx, kept, access)
    finally:
        if not ctx.conn.is_closed():
            await ctx.conn.execute(db.load_sql("diag_orphan_reset"))
    return [_orphans_check(ctx, check_id, kept, dropped, findings, counts)]


async def _count_all(
    ctx: Context, kept: list[dict[str, Any]], access: dict[tuple[str, str], dict[str, Any]]
) -> tuple[list[dict[str, Any]], tuple[int, int, int, int, int]]:
    findings: list[dict[str, Any]] = []
    total = cut = blind = failed = skipped = 0
    # Many foreign keys over big tables: the whole check is bounded too, not only each count.
    deadline = ctx.clock() + ctx.config.diagnose.orphan_total_timeout
    for rel in kept:
        public = {k: v for k, v in rel.items() if not k.startswith("_")}
        if ctx.clock() >= deadline:
            skipped += 1
            findings.append({**public, "orphans": None, "not_counted": True})
            continue
        outcome = unreadable(rel, access) or await count_orphans(
            ctx,
            rel["_child"],
            rel["_child_cols"],
            rel["_parent"],
            rel["_parent_cols"],
            rel["_match_full"],
        )
        if outcome.get("orphans"):
            total += outcome["orphans"]
            findings.append({**public, **outcome})
        elif outcome.get("cut_short"):
            cut += 1
            findings.append({**public, **outcome})
        elif "cannot_see" in outcome:
            blind += 1
            findings.append({**public, **outcome})
        elif "error" in outcome:
            failed += 1
            findings.append({**public, **outcome})
    return findings, (total, cut, blind, failed, skipped)


def _orphans_check(
    ctx: Context,
    check_id: str,
    kept: list[dict[str, Any]],
    dropped: int,
    findings: list[dict[str, Any]],
    counts: tuple[int, int, int, int, int],
) -> Check:
    total, cut, blind, failed, skipped = counts
    with_orphans = sum(1 for f in findings if f.get("orphans"))
    parts = []
    if with_orphans:
        parts.append(f"{total} orphan row(s) behind {with_orphans} relation(s)")
    if cut:
        limit = format_duration(ctx.config.diagnose.orphan_count_timeout)
        parts.append(f"{cut} count(s) cut short after {limit} (not verified)")
    if skipped:
        budget = format_duration(ctx.config.diagnose.orphan_total_timeout)
        parts.append(f"{skipped} relation(s) not counted (orphan_total_timeout {budget} spent)")
    if blind:
        parts.append(f"{blind} relation(s) this role cannot read")
    if failed:
        parts.append(f"{failed} relation(s) failed to count")
    checked = len(kept) - cut - blind - failed - skipped
    summary = (
        "; ".join(parts) + f" — {checked} of {len(kept)} relation(s) fully checked"
        if parts
        else f"no orphan rows behind {len(kept)} relation(s) (foreign keys and [[integrity.relations]])"
    )
    if dropped:
        summary += f" ({dropped} excluded by config)"
    status = (
        "critical" if with_orphans else ("unknown" if (cut or blind or failed or skipped) else "ok")
    )
    fix = None
    if with_orphans:
        fix = (
            "delete the orphans or restore their parents (samples list the child keys), then "
            "ALTER TABLE … VALIDATE CONSTRAINT … for a NOT VALID key"
        )
    elif cut or skipped:
        fix = "raise diagnose.orphan_count_timeout / orphan_total_timeout, or count off-peak"
    elif blind:
        reasons = " ".join(str(f.get("cannot_see", "")) for f in findings)
        fixes = []
        if "no SELECT" in reasons:
            fixes.append("GRANT SELECT on those tables to the monitoring role")
        if "row-level security" in reasons or "RLS" in reasons:
            fixes.append(
                "count as a role that owns the tables or has BYPASSRLS (with SELECT on them): "
                "row-level security hides rows from this one"
            )
        fix = "; and ".join(fixes) or "GRANT SELECT on those tables to the monitoring role"
    return Check(
        check_id,
        status,
        summary,
        total if checked > 0 or total else None,  # nothing counted is not "0 orphans"
        details=findings,
        fix=fix,
        excluded=dropped,
    )


async def check_not_valid(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_not_valid_constraints")
    items = [
        {
            "key": f"{r['schema']}.{r['table']}.{r['constraint_name']}",
            "table": f"{r['schema']}.{r['table']}",
            "constraint": r["constraint_name"],
            "kind": r["kind"],
            "fix": f"ALTER TABLE {quote_qualified(r['schema'], r['table'])} VALIDATE CONSTRAINT "
            f"{db.quote_ident(r['constraint_name'])};",
        }
        for r in rows
    ]
    return [
        finding(
            ctx,
            "integrity.not_valid_constraints",
            items,
            status="warning",
            found=lambda k: (
                f"{len(k)} constraint(s) NOT VALID (existing rows never checked): "
                + listed([i["constraint"] for i in k])
            ),
            clean="every constraint is validated",
            fix="check for violations (integrity.orphans), fix them, then ALTER TABLE … VALIDATE CONSTRAINT …",
        )
    ]


async def check_fk_triggers(ctx: Context) -> list[Check]:
    rows = await ctx.fetch("diag_fk_triggers_disabled")
    items = [
        {
            "key": f"{r['schema']}.{r['table']}",
            "table": f"{r['schema']}.{r['table']}",
            "constraints": list(r["constraints"]),
            "disabled_triggers": r["triggers"],
            "fix": f"ALTER TABLE {quote_qualified(r['schema'], r['table'])} ENABLE TRIGGER ALL;",
        }
        for r in rows
    ]
    return [
        finding(
            ctx,
            "integrity.fk_triggers_disabled",
            items,
            status="critical",
            found=lambda k: (
                f"foreign keys not enforced on {len(k)} table(s) (triggers disabled): "
                + listed([i["table"] for i in k])
            ),
            clean="foreign-key triggers enabled everywhere",
            fix="ALTER TABLE <table> ENABLE TRIGGER ALL;  then look for orphans written meanwhile",
        )
    ]


PROBES = (
    Probe(("integrity.orphans",), check_orphans),
    Probe(("integrity.not_valid_constraints",), check_not_valid),
    Probe(("integrity.fk_triggers_disabled",), check_fk_triggers),
)
