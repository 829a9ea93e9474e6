"""Emergency fallback (runbook: SEVERITY 1, 0-2 min): POST to the application's fallback
endpoint with the emergency token (named by env var, never shown nor recorded); the operator
waits in a dialog with Esc to give up.

No Textual; must not import the runner or the registry. httpx is imported when it runs
(start-up time).
"""

from __future__ import annotations

import os
import re

from .action import Action, ActionContext, Key, Target, Waiting
from .model import ActionError, ActionPlan, ActionTarget, TargetOutcome

NAME = "Emergency fallback"
FALLBACK_PATH = "/api/emergency/enable-fallback"


def plan_emergency_fallback(ctx: ActionContext) -> ActionPlan:
    target = ctx.target
    if not target.app_url:
        raise ActionError(
            f"no app_url for target {target.name}",
            f"set targets.{target.name}.app_url (and emergency_token_env) in the config",
        )
    if not target.emergency_token_env:
        raise ActionError(
            f"no emergency_token_env for target {target.name}",
            f"set targets.{target.name}.emergency_token_env to the NAME of the variable holding the token",
        )
    token = os.environ.get(target.emergency_token_env)
    if not token:
        raise ActionError(
            f"environment variable {target.emergency_token_env} is not set",
            "export it with the emergency token before starting the console",
        )
    if not re.fullmatch(r"[\x21-\x7e]+", token):
        # e.g. a trailing \r from a CRLF .env file: it would be refused by the HTTP client,
        # whose error message would repeat the token.
        raise ActionError(
            f"the token in {target.emergency_token_env} contains spaces, control or "
            "non-ASCII characters",
            "export it again without a trailing newline / carriage return",
        )
    url = target.app_url.rstrip("/") + FALLBACK_PATH
    return ActionPlan(
        action=NAME,
        target_name=target.name,
        targets=(ActionTarget(key=url, label=url),),
        statement=f"POST {url}\nAuthorization: Bearer ${target.emergency_token_env}  (token not shown)",
        description="Switches the application to its localStorage fallback (runbook: SEVERITY 1, 0-2 min).",
        params={
            "url": url,
            "done_word": "accepted",
            "gave_up_hint": "the request may still reach the application; the app probe "
            "says FALLBACK MODE ON once it switched",
        },
    )


async def plan(ctx: ActionContext, target: Target) -> ActionPlan:
    return plan_emergency_fallback(ctx)


async def execute(ctx: ActionContext, plan: ActionPlan) -> list[TargetOutcome]:
    from ..httpbounded import Answer, new_client, request  # httpx: startup time

    url = plan.params["url"]
    token = os.environ.get(ctx.target.emergency_token_env or "", "")
    timeout = ctx.config.actions.http_timeout
    async with new_client(timeout) as client:
        answer = await request(
            client,
            "POST",
            url,
            headers={"Authorization": f"Bearer {token}"},
            deadline=timeout,
        )
    if not isinstance(answer, Answer):
        said = f"timed out: {answer.detail}" if answer.kind == "timeout" else answer.detail
        return [TargetOutcome(url, "failed", ctx.redact(said))]
    said = f"HTTP {answer.status} {answer.reason}"
    if answer.cut is not None:
        said += f" ({answer.cut_detail})"
    body = ctx.redact(answer.snippet())
    if body:
        said += f": {body}"
    if 200 <= answer.status < 300:
        return [TargetOutcome(url, "done", said)]
    if 300 <= answer.status < 400:
        said += f" — redirect to {answer.headers.get('location', '?')[:120]}, not followed"
    return [TargetOutcome(url, "failed", said)]


ACTION = Action(
    name=NAME,
    help="Runbook SEV1 0-2 min: switch the application to its fallback",
    order=60,
    scope="http",
    choose="none",
    plan=plan,
    execute=execute,
    key=Key(
        "F",
        "dashboard",
        "Fallback",
        "dashboard.fallback",
        "Emergency fallback: POST to the application's fallback endpoint (confirmation first)",
        show=False,
        rank=60,
    ),
    untouched="nothing was sent (POST {url} was not made)",
    waiting=Waiting(
        title=f"{NAME}: waiting for the application",
        deadline=lambda config: config.actions.http_timeout,
        gave_up="No answer yet. The request may still reach the application: the app probe in "
        "the Health panel says FALLBACK MODE ON once it switched. Recorded in the audit log.",
        gave_up_fix="press F to try again, or switch the fallback on by hand",
    ),
)
