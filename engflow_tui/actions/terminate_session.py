"""Terminate session: ends the session selected in the Connections panel (or the lock holder an
Enable RLS gave up on), only if it is still the one confirmed.

No Textual; must not import the runner or the registry.
"""

from __future__ import annotations

from .action import Action, ActionContext, Key, Target
from .model import ActionPlan, TargetOutcome
from .sessions import plan_on_session, signal_sessions

NAME = "Terminate session"


async def plan(ctx: ActionContext, target: Target) -> ActionPlan:
    return await plan_on_session(
        ctx,
        NAME,
        target,
        "action_terminate_session",
        description="Ends the session whatever it is doing by then (the dialog shows what it "
        "does, re-read every second): its open transaction is rolled back.",
        done_word="terminated",
    )


async def execute(ctx: ActionContext, plan: ActionPlan) -> list[TargetOutcome]:
    return await signal_sessions(ctx, plan, "action_terminate_session", lambda _t: [])


ACTION = Action(
    name=NAME,
    help="End the session selected in the Connections panel",
    order=20,
    scope="session",
    choose="selected session",
    plan=plan,
    execute=execute,
    sql=("action_session", "action_terminate_session"),
    key=Key(
        "x",
        "connections panel",
        "Terminate",
        "connections.terminate",
        "Terminate session: the session selected in Connections (confirmation first)",
        rank=10,
    ),
    target_fields=("pid", "backend_start"),
    live=True,
)
