"""Terminate idle transactions (runbook: High Response Times, immediate fix): every client
session idle in transaction past the threshold, each re-checked by the statement that ends it.

No Textual; must not import the runner or the registry.
"""

from __future__ import annotations

from typing import Any

from .. import own_sessions
from ..durations import format_duration
from .action import Action, ActionContext, Key, Target
from .model import ActionPlan, TargetOutcome
from .sessions import session_target, shown_sql, signal_sessions

NAME = "Terminate idle transactions"


async def plan(ctx: ActionContext, target: Target) -> ActionPlan:
    """``target["threshold"]``: seconds, this run only (else ``[thresholds]``)."""
    from .. import db  # start-up: see actions.registry

    threshold = target.get("threshold")
    seconds = ctx.config.thresholds.idle_in_transaction if threshold is None else threshold
    rows = await ctx.with_conn(
        lambda c: c.fetch(
            db.load_sql("action_idle_in_transaction"), float(seconds), *own_sessions.params()
        )
    )
    return ActionPlan(
        action=NAME,
        target_name=ctx.target.name,
        targets=tuple(session_target(r) for r in rows),
        statement=(
            shown_sql("action_terminate_idle")
            + f"\n-- run once per session listed: $1 = pid, $2 = its backend_start, $3 = {float(seconds):g} (seconds)"
        ),
        description=(
            f"Sessions idle in transaction for longer than {format_duration(seconds)} "
            "(runbook: High Response Times, immediate fix)."
        ),
        params={"threshold": float(seconds), "done_word": "terminated"},
    )


async def execute(ctx: ActionContext, plan: ActionPlan) -> list[TargetOutcome]:
    threshold: Any = plan.params["threshold"]
    return await signal_sessions(ctx, plan, "action_terminate_idle", lambda _t: [threshold])


ACTION = Action(
    name=NAME,
    help="Runbook: end sessions idle in transaction past the threshold",
    order=10,
    scope="sessions",
    choose="none",
    plan=plan,
    execute=execute,
    sql=("action_idle_in_transaction", "action_terminate_idle"),
    key=Key(
        "T",
        "dashboard",
        "Idle tx",
        "dashboard.terminate_idle",
        "Terminate idle transactions: every session idle in transaction past the threshold",
        rank=30,
    ),
    threshold=True,
)
