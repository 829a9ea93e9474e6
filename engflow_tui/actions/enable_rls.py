"""Enable RLS (runbook: RLS Policy Errors): ``ALTER TABLE … ENABLE ROW LEVEL SECURITY`` on a
table of the exposed schemas, its policies shown first; a lock it gave up on names the holder
and offers Terminate session on it.

No Textual; must not import the runner or the registry. DDL takes no bind parameters: the
identifier goes through ``db.quote_qualified``.
"""

from __future__ import annotations

import json
from typing import Any

from ..durations import format_age, format_duration
from ..model import TableRls
from . import terminate_session
from .action import Action, ActionContext, Key, Picker, Target
from .model import ActionError, ActionPlan, ActionTarget, TargetOutcome

NAME = "Enable RLS"


async def rls_candidates(ctx: ActionContext) -> list[TableRls]:
    """Tables of the exposed schemas whose RLS is off."""
    from .. import db  # start-up: see actions.registry

    rows = await ctx.with_conn(
        lambda c: c.fetch(db.load_sql("rls_status"), list(ctx.target.exposed_schemas))
    )
    return [
        TableRls(
            r["schema"],
            r["table"],
            r["rls_enabled"],
            r["rls_forced"],
            r["policy_count"],
            r["owner"],
        )
        for r in sorted(rows, key=lambda r: (r["schema"], r["table"]))
        if not r["rls_enabled"]
    ]


async def _candidates(ctx: ActionContext) -> list[tuple[dict[str, Any], str]]:
    return [
        (
            {"schema": t.schema, "table": t.table},
            f"{t.schema}.{t.table}  ({t.policy_count} policies)",
        )
        for t in await rls_candidates(ctx)
    ]


async def plan_enable_rls(ctx: ActionContext, schema: str, table: str) -> ActionPlan:
    from .. import db  # start-up: see actions.registry

    row = await ctx.with_conn(
        lambda c: c.fetchrow(db.load_sql("action_table_state"), schema, table)
    )
    qualified = db.quote_qualified(schema, table)
    ddl = f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY"  # ok-sql: identifier quoted by db
    if row is None:
        raise ActionError(f"table {qualified} does not exist (any more)")
    policies = json.loads(row["policies"] or "[]")
    warnings: list[str] = []
    if row["rls_enabled"]:
        # Read now, at the confirmation: the list may have re-sorted under the cursor, or
        # another console enabled it meanwhile. Nothing to confirm.
        return ActionPlan(
            action=NAME,
            target_name=ctx.target.name,
            targets=(),
            statement=f"-- not run: RLS is already enabled on {qualified}\n{ddl};",
            description=f"RLS is already enabled on {qualified}: nothing to do.",
            warnings=(f"RLS is already enabled on {qualified}.",),
            params={"sql": ddl, "qualified": qualified, "done_word": "RLS enabled"},
        )
    if not policies:
        warnings.append(
            f"{qualified} has NO policies: enabling RLS will deny every non-owner role "
            '(anon, authenticated…) all rows — the runbook\'s "403 on authorised operations". '
            "Create its policies first unless that is what you want."
        )
    return ActionPlan(
        action=NAME,
        target_name=ctx.target.name,
        targets=(
            ActionTarget(
                key=qualified,
                label=qualified,
                details={"schema": schema, "table": table, "policies": policies},
            ),
        ),
        statement=f"-- lock_timeout = {format_duration(ctx.config.actions.lock_timeout)}\n{ddl};",
        description="Row-level security makes the table's policies apply (runbook: RLS Policy Errors).",
        warnings=tuple(warnings),
        params={"sql": ddl, "qualified": qualified, "done_word": "RLS enabled"},
    )


async def plan(ctx: ActionContext, target: Target) -> ActionPlan:
    return await plan_enable_rls(ctx, target["schema"], target["table"])


async def execute(ctx: ActionContext, plan: ActionPlan) -> list[TargetOutcome]:
    from .. import db  # start-up: see actions.registry

    async def work(conn: Any) -> list[TargetOutcome]:
        qualified = plan.params["qualified"]
        target = plan.targets[0]
        try:
            # Exactly the statement the operator confirmed (DDL takes no bind parameters; the
            # identifier was quoted by db.quote_qualified when the plan was made).
            await conn.execute(plan.params["sql"])
        except Exception as exc:  # noqa: BLE001
            error = db.translate_error(exc)
            if error.sqlstate == "55P03":
                return [await _lock_timeout(ctx, conn, plan, target)]
            elif error.sqlstate == "42501":
                message = (
                    f"not enabled: {error} — only the table's owner (or a superuser) can ALTER it"
                )
            else:
                message = f"not enabled: {error}"
            return [TargetOutcome(target.label, "failed", message)]
        return [TargetOutcome(target.label, "done", f"RLS enabled on {qualified}")]

    return await ctx.with_conn(work)


async def _lock_timeout(
    ctx: ActionContext, conn: Any, plan: ActionPlan, target: ActionTarget
) -> TargetOutcome:
    """Enable RLS gave up on a lock: who holds it, since when, and Terminate session on the
    longest holder one key away."""
    from .. import db  # start-up: see actions.registry

    waited = format_duration(ctx.config.actions.lock_timeout)
    qualified = plan.params["qualified"]
    schema, table = target.details["schema"], target.details["table"]
    try:
        holders = await conn.fetch(db.load_sql("action_lock_holders"), schema, table)
    except Exception:  # noqa: BLE001 - the failure itself is what must be said
        holders = []
    if not holders:
        return TargetOutcome(
            target.label,
            "failed",
            f"not enabled: another transaction holds a lock on {qualified} "
            f"(gave up after lock_timeout {waited}; it was released since)",
        )
    named = "; ".join(
        f"pid {h['pid']} ({h['user']}, {h['application'] or 'no application'}, "
        f"{h['state'] or '?'}, transaction open for {format_age(h['held_seconds'])}, "
        f"{h['modes']})"
        for h in holders
    )
    first = holders[0]
    return TargetOutcome(
        target.label,
        "failed",
        f"not enabled: gave up after lock_timeout {waited}: {qualified} is locked by {named}",
        follow_up=terminate_session.NAME,
        follow_up_target={
            "pid": first["pid"],
            "backend_start": first["backend_start"].isoformat(),
        },
    )


ACTION = Action(
    name=NAME,
    help="Runbook: re-enable row-level security on a table of the exposed schemas",
    order=40,
    scope="table",
    choose="picker",
    plan=plan,
    execute=execute,
    sql=("rls_status", "action_table_state", "action_lock_holders"),
    key=Key(
        "e",
        "rls panel",
        "Enable RLS",
        "rls.enable",
        "Enable RLS on the table selected in RLS status (or pick one)",
        rank=40,
    ),
    target_fields=("schema", "table"),
    picker=Picker(
        "Enable RLS on which table?",
        _candidates,
        "every table in the exposed schemas has RLS on",
    ),
    follow_ups=(terminate_session.NAME,),
)
