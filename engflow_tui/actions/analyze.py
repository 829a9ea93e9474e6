"""Run ANALYZE (runbook: weekly maintenance): refreshes the planner statistics of one table of
the exposed schemas, or of the whole database, under ``actions.analyze_timeout``.

No Textual; must not import the runner or the registry. The identifier goes through
``db.quote_qualified`` (ANALYZE takes no bind parameters).
"""

from __future__ import annotations

from typing import Any

from ..durations import format_duration
from .action import Action, ActionContext, Key, Picker, Target
from .model import ActionPlan, ActionTarget, TargetOutcome

NAME = "Run ANALYZE"


async def analyze_candidates(ctx: ActionContext) -> list[tuple[str, str]]:
    from .. import db  # start-up: see actions.registry

    rows = await ctx.with_conn(
        lambda c: c.fetch(db.load_sql("action_tables"), list(ctx.target.exposed_schemas))
    )
    return [(r["schema"], r["table"]) for r in rows]


async def _candidates(ctx: ActionContext) -> list[tuple[dict[str, Any], str]]:
    items: list[tuple[dict[str, Any], str]] = [({"whole_database": True}, "— the whole database —")]
    items += [({"schema": s, "table": t}, f"{s}.{t}") for s, t in await analyze_candidates(ctx)]
    return items


def plan_analyze(
    ctx: ActionContext, schema: str | None = None, table: str | None = None
) -> ActionPlan:
    from .. import db  # start-up: see actions.registry

    timeout = format_duration(ctx.config.actions.analyze_timeout)
    if schema is None or table is None:
        target = ActionTarget(
            key="database", label=f"the whole database of target {ctx.target.name}"
        )
        sql = "ANALYZE"
    else:
        qualified = db.quote_qualified(schema, table)
        target = ActionTarget(
            key=qualified, label=qualified, details={"schema": schema, "table": table}
        )
        sql = f"ANALYZE {qualified}"  # ok-sql: identifier quoted by db.quote_qualified
    return ActionPlan(
        action=NAME,
        target_name=ctx.target.name,
        targets=(target,),
        statement=f"-- statement_timeout = {timeout}\n{sql};",
        description="Refreshes the planner statistics (runbook: weekly maintenance). Reads every "
        "table it covers; it takes no lock that blocks reads or writes.",
        params={"sql": sql, "done_word": "analyzed"},
    )


async def plan(ctx: ActionContext, target: Target) -> ActionPlan:
    return plan_analyze(ctx, target.get("schema"), target.get("table"))


async def execute(ctx: ActionContext, plan: ActionPlan) -> list[TargetOutcome]:
    from .. import db  # start-up: see actions.registry

    async def work(conn: Any) -> list[TargetOutcome]:
        target = plan.targets[0]
        try:
            await conn.execute(plan.params["sql"])  # exactly the statement confirmed
        except Exception as exc:  # noqa: BLE001
            error = db.translate_error(exc)
            return [TargetOutcome(target.label, "failed", f"{error}")]
        return [TargetOutcome(target.label, "done", "analyzed")]

    return await ctx.with_conn(work, ctx.config.actions.analyze_timeout)


ACTION = Action(
    name=NAME,
    help="Runbook weekly maintenance: refresh planner statistics",
    order=50,
    scope="table",
    choose="picker",
    plan=plan,
    execute=execute,
    sql=("action_tables",),
    key=Key(
        "a",
        "rls panel",
        "ANALYZE",
        "rls.analyze",
        "Run ANALYZE on the table selected in RLS status (palette: whole database too)",
        rank=50,
    ),
    target_fields=("schema", "table"),
    picker=Picker("Run ANALYZE on…", _candidates),
)
