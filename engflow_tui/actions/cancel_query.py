"""Cancel query: cancels the statement the selected session runs — only the one confirmed (a
statement started since is left alone, and the result offers to cancel that one).

No Textual; must not import the runner or the registry.
"""

from __future__ import annotations

from typing import Any

from .. import own_sessions
from .action import Action, ActionContext, Key, Target
from .model import ActionPlan, ActionTarget, TargetOutcome
from .sessions import from_iso, plan_on_session, signal_sessions

NAME = "Cancel query"


def _idle_warning(pid: int, row: Any) -> tuple[str, ...]:
    if row["state"] == "active":
        return ()
    return (
        f"pid {pid} is {row['state'] or 'not running anything'}: no statement is "
        "running, there is nothing to cancel right now.",
    )


async def plan(ctx: ActionContext, target: Target) -> ActionPlan:
    return await plan_on_session(
        ctx,
        NAME,
        target,
        "action_cancel_query",
        description="Cancels the statement shown (only that one: a statement started since is "
        "left alone); the session stays connected.",
        done_word="cancelled",
        statement_note=", $3 = the confirmed statement's query_start",
        warn=_idle_warning,
    )


async def _judge(conn: Any, target: ActionTarget, row: Any) -> TargetOutcome | None:
    if row is None:
        return await _missed(conn, target)
    if row["state"] != "active":
        return TargetOutcome(
            target.label,
            "skipped",
            f"nothing was running (the session is {row['state'] or 'not active'}): "
            "nothing was cancelled",
        )
    return None


async def _missed(conn: Any, target: ActionTarget) -> TargetOutcome:
    """Why a confirmed Cancel query did not act: the session is gone, or it runs another
    statement now (the outcome says which; the flow offers to cancel that one)."""
    from .. import db  # start-up: see actions.registry
    from ..redact import redact_query  # start-up: see actions.registry

    pid = target.details["pid"]
    row = await conn.fetchrow(db.load_sql("action_session"), pid, *own_sessions.params())
    if row is None or row["backend_start"] != from_iso(target.details["backend_start"]):
        return TargetOutcome(target.label, "skipped", "the session is gone: nothing to cancel")
    if row["state"] != "active":
        return TargetOutcome(
            target.label,
            "skipped",
            f"the statement you confirmed has ended and pid {pid} is {row['state']}: "
            "nothing was cancelled",
        )
    now_running = redact_query(" ".join((row["query"] or "").split()))[:200]
    return TargetOutcome(
        target.label,
        "skipped",
        f"the statement you confirmed has ended; pid {pid} now runs another one, not "
        f"cancelled: {now_running}",
        follow_up=NAME,
        follow_up_target={"pid": pid, "backend_start": target.details["backend_start"]},
    )


async def execute(ctx: ActionContext, plan: ActionPlan) -> list[TargetOutcome]:
    # Only the confirmed statement: its query_start is part of the statement's check.
    return await signal_sessions(
        ctx,
        plan,
        "action_cancel_query",
        lambda t: [from_iso(t.details.get("query_start"))],
        _judge,
    )


ACTION = Action(
    name=NAME,
    help="Cancel the statement of the session selected in the Connections panel",
    order=30,
    scope="session",
    choose="selected session",
    plan=plan,
    execute=execute,
    sql=("action_session", "action_cancel_query"),
    key=Key(
        "c",
        "connections panel",
        "Cancel",
        "connections.cancel",
        "Cancel query: the statement of the selected session (confirmation first)",
        rank=20,
    ),
    target_fields=("pid", "backend_start"),
    follow_ups=(NAME,),
    live=True,
)
