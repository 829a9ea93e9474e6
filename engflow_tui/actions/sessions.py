"""What the actions on sessions share (Terminate idle transactions, Terminate session, Cancel
query): the session as a dialog and the audit log name it, the session read back by pid (never
one of this console's own: ``own_sessions``), and the loop that signals each confirmed session
with a statement that re-checks it.

No Textual; must not import the runner or the registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from .. import own_sessions
from ..durations import format_age
from .action import ActionContext
from .model import ActionError, ActionPlan, ActionTarget, TargetOutcome

SIGNAL_FIX = "GRANT pg_signal_backend TO <role>;  (or run as the session's own role)"
SUPERUSER_FIX = (
    "the session belongs to a superuser: only a superuser can end it (pg_signal_backend cannot) "
    "— set the target's action_dsn to a superuser role, or end it from its client"
)
GONE = "already gone or changed"

Judge = Callable[[Any, ActionTarget, Any], Awaitable[TargetOutcome | None]]
"""(connection, target, row the statement returned or None) -> the outcome, or None for the
usual one (signalled: done; no row: gone or changed)."""


def shown_sql(name: str) -> str:
    """The statement as it will run, without its leading comment lines."""
    from .. import db  # start-up: see actions.registry

    lines = db.load_sql(name).splitlines()
    return "\n".join(line for line in lines if not line.startswith("--")).strip()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def session_target(row: Any) -> ActionTarget:
    from ..redact import redact_query  # start-up: see actions.registry

    backend_start: datetime = row["backend_start"]
    return ActionTarget(
        key=f"pid:{row['pid']}@{backend_start.isoformat()}",
        label=f"pid {row['pid']}",
        details={
            "pid": row["pid"],
            "user": row["user"],
            "application": row["application"],
            "client_addr": row["client_addr"] or "local",
            "state": row["state"],
            "age": format_age(row["age_seconds"]),
            "age_seconds": round(row["age_seconds"] or 0.0, 1),
            "backend_start": backend_start.isoformat(),
            "state_change": _iso(row.get("state_change")),
            "query_start": _iso(row.get("query_start")),
            # A session's last query may carry credentials: never stored or shown.
            "query": redact_query(" ".join((row["query"] or "").split()))[:500],
            "superuser": bool(row.get("superuser")),
        },
    )


async def read_session(ctx: ActionContext, pid: int, backend_start: str | None) -> Any:
    """The session ``pid`` as the server says now. ``backend_start`` is the one the operator
    saw: a pid reused since is refused (ActionError), as is one of this console's own."""
    from .. import db  # start-up: see actions.registry

    row = await ctx.with_conn(
        lambda c: c.fetchrow(db.load_sql("action_session"), pid, *own_sessions.params())
    )
    if row is None:
        raise ActionError(
            f"pid {pid} is not a client session any more (or it is one of this console's own "
            "connections)"
        )
    if backend_start is not None and row["backend_start"] != datetime.fromisoformat(backend_start):
        raise ActionError(
            f"pid {pid} is now a different session (started {row['backend_start']:%H:%M:%S}): "
            "the one you selected is gone; nothing was run",
            "look at the refreshed Connections panel and select again",
        )
    return row


async def plan_on_session(
    ctx: ActionContext,
    action: str,
    target: Any,
    sql_name: str,
    *,
    description: str,
    done_word: str,
    statement_note: str = "",
    warn: Callable[[int, Any], tuple[str, ...]] | None = None,
) -> ActionPlan:
    """The plan of an action on the one session ``target`` names (``pid`` and the
    ``backend_start`` the operator saw), read now: the dialog re-reads it every second."""
    pid = int(target["pid"])
    row = await read_session(ctx, pid, target.get("backend_start"))
    return ActionPlan(
        action=action,
        target_name=ctx.target.name,
        targets=(session_target(row),),
        statement=shown_sql(sql_name)
        + f"\n-- $1 = {pid}, $2 = {row['backend_start'].isoformat()} (its backend_start)"
        + statement_note,
        description=description,
        warnings=warn(pid, row) if warn is not None else (),
        params={
            "done_word": done_word,
            "pid": pid,
            "backend_start": row["backend_start"].isoformat(),
        },
    )


async def signal_sessions(
    ctx: ActionContext,
    plan: ActionPlan,
    sql_name: str,
    extra: Callable[[ActionTarget], list[Any]],
    judge: Judge | None = None,
) -> list[TargetOutcome]:
    """Run ``sql_name`` once per confirmed session ($1 pid, $2 backend_start, then ``extra``,
    then own_sessions): one failure does not stop the others."""

    from .. import db  # start-up: see actions.registry

    async def work(conn: Any) -> list[TargetOutcome]:
        sql = db.load_sql(sql_name)
        outcomes = []
        for target in plan.targets:
            args: list[Any] = [
                target.details["pid"],
                datetime.fromisoformat(target.details["backend_start"]),
                *extra(target),
            ]
            try:
                row = await conn.fetchrow(sql, *args, *own_sessions.params())
            except Exception as exc:  # noqa: BLE001 - per target: one failure does not stop the others
                error = db.translate_error(exc)
                fix = error.fix
                if error.sqlstate == "42501":
                    # pg_signal_backend never reaches a superuser's session: say what does.
                    fix = SUPERUSER_FIX if target.details.get("superuser") else SIGNAL_FIX
                outcomes.append(
                    TargetOutcome(target.label, "failed", f"{error}" + (f" — {fix}" if fix else ""))
                )
                continue
            judged = await judge(conn, target, row) if judge is not None else None
            if judged is not None:
                outcomes.append(judged)
            elif row is None:
                outcomes.append(TargetOutcome(target.label, "skipped", GONE))
            elif row["signalled"]:
                outcomes.append(TargetOutcome(target.label, "done", plan.params["done_word"]))
            else:
                outcomes.append(TargetOutcome(target.label, "skipped", "already gone"))
        return outcomes

    return await ctx.with_conn(work)
