"""Plan and run the runbook's fixes against one target: the machinery every action shares. No
Textual.

What each action plans and runs is its own module's (:mod:`engflow_tui.actions.registry`); the
runner gives it one short-lived connection (the monitoring one stays read-only) with
``statement_timeout`` and ``lock_timeout``, refuses in read-only mode in one place
(:meth:`ActionRunner.execute`), writes every confirmed action, refusal and failure to the audit log
before and after it runs, and keeps the emergency token out of every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .. import db
from ..config import Config, TargetConfig
from ..durations import format_age
from ..errors import DatabaseError
from ..model import TableRls
from . import analyze, emergency_fallback, enable_rls, registry, terminate_idle, test_restore
from .action import Action
from .audit import AuditLog, new_audit_id
from .model import ActionError, ActionPlan, ActionResult, TargetOutcome

T = TypeVar("T")


class ActionRunner:
    def __init__(self, config: Config, target: TargetConfig, audit: AuditLog) -> None:
        self.config = config
        self.target = target
        self.audit = audit

    @property
    def read_only(self) -> bool:
        return self.config.console.read_only or self.target.read_only

    async def _connect(self, statement_timeout: float | None = None) -> Any:
        actions = self.config.actions
        return await db.connect(
            self.target.action_dsn or self.target.dsn,
            password=self.target.action_password(),
            timeout=self.config.console.connect_timeout,
            statement_timeout=statement_timeout or actions.statement_timeout,
            lock_timeout=actions.lock_timeout,
            read_only=False,
            application_name="engflow-tui-action",
        )

    async def with_conn(
        self, work: Callable[[Any], Awaitable[T]], statement_timeout: float | None = None
    ) -> T:
        """``work`` on a connection of its own with the action timeouts, closed after; driver
        errors become ActionError."""
        try:
            conn = await self._connect(statement_timeout)
        except DatabaseError as exc:
            raise ActionError(f"cannot connect to {self.target.name}: {exc}", exc.fix) from None
        try:
            return await work(conn)
        except DatabaseError as exc:
            raise ActionError(str(exc), exc.fix) from None
        except Exception as exc:  # noqa: BLE001 - driver errors become one message
            error = db.translate_error(exc)
            raise ActionError(str(error), error.fix) from None
        finally:
            try:
                await conn.close(timeout=2)
            except Exception:  # noqa: BLE001
                conn.terminate()

    # ------------------------------------------------------------------ plans

    @staticmethod
    def action(name: str) -> Action:
        """The registered action named ``name`` (ActionError if there is none)."""
        action = registry.find(name)
        if action is None:
            raise ActionError(f"unknown action {name!r}")
        return action

    async def plan(self, name: str, **target: Any) -> ActionPlan:
        """What the action ``name`` would touch now, on ``target`` (its target fields)."""
        return await self.action(name).plan(self, target)

    # The calls of each action's plan that tests and scripts made before the registry: each is
    # one line into the action's module; a new action needs none.

    async def plan_terminate_idle(self, threshold: float | None = None) -> ActionPlan:
        return await terminate_idle.plan(self, {"threshold": threshold})

    async def plan_session(
        self, action: str, pid: int, backend_start: str | None = None
    ) -> ActionPlan:
        """``backend_start`` is the one the operator saw: a pid reused since is refused."""
        named = registry.find(action)
        if named is None or named.scope != "session":
            raise ValueError(action)
        return await self.plan(action, pid=pid, backend_start=backend_start)

    async def rls_candidates(self) -> list[TableRls]:
        """Tables of the exposed schemas whose RLS is off."""
        return await enable_rls.rls_candidates(self)

    async def plan_enable_rls(self, schema: str, table: str) -> ActionPlan:
        return await enable_rls.plan_enable_rls(self, schema, table)

    async def analyze_candidates(self) -> list[tuple[str, str]]:
        return await analyze.analyze_candidates(self)

    def plan_analyze(self, schema: str | None = None, table: str | None = None) -> ActionPlan:
        return analyze.plan_analyze(self, schema, table)

    def plan_emergency_fallback(self) -> ActionPlan:
        return emergency_fallback.plan_emergency_fallback(self)

    def plan_test_restore(self) -> ActionPlan:
        return test_restore.plan_test_restore(self.config, self.target)

    # ------------------------------------------------------------------ execute

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Run a confirmed plan. Refuses in read-only mode. Failures are results (and audit
        records); it raises ActionError only when the audit log cannot be written before the
        action, in which case nothing ran."""
        audit_id = new_audit_id()
        action = registry.find(plan.action)
        if self.read_only and (action is None or action.refused_read_only):
            untouched = (
                action.untouched.format(**plan.params)
                if action is not None
                else "the database was not touched"
            )
            result = ActionResult(
                plan,
                tuple(
                    TargetOutcome(t.label, "refused", "refused: read-only mode")
                    for t in plan.targets
                )
                or (TargetOutcome(plan.target_name, "refused", "refused: read-only mode"),),
                error=f"read-only: {plan.action} refused, {untouched}",
                audit_id=audit_id,
            )
            self.audit.finished(result)
            return result
        # Raises ActionError if the log cannot be written: nothing runs.
        self.audit.started(plan, audit_id)
        started = time.monotonic()
        try:
            outcomes = await self.action(plan.action).execute(self, plan)
            result = ActionResult(plan, tuple(outcomes), audit_id=audit_id)
        except asyncio.CancelledError:
            # The operator gave up waiting (or closed the console): said in the audit log.
            self._gave_up(plan, time.monotonic() - started, audit_id)
            raise
        except ActionError as exc:
            result = ActionResult(
                plan, (), error=self.redact(str(exc)), fix=exc.fix, audit_id=audit_id
            )
        except Exception as exc:  # noqa: BLE001 - whatever happened is recorded, never lost
            error = self.redact(f"{type(exc).__name__}: {exc}")
            result = ActionResult(plan, (), error=error, audit_id=audit_id)
        try:
            self.audit.finished(result)
        except ActionError as exc:
            # The action ran: say so, and that its outcome could not be recorded.
            note = f"the action ran, but its outcome could not be recorded: {exc}"
            result = ActionResult(
                plan, result.outcomes, error=result.error or note, fix=exc.fix, audit_id=audit_id
            )
        return result

    def _gave_up(self, plan: ActionPlan, waited: float, audit_id: str) -> None:
        message = f"gave up waiting after {format_age(waited)}" + (
            f": {plan.params['gave_up_hint']}" if plan.params.get("gave_up_hint") else ""
        )
        outcomes = tuple(TargetOutcome(t.label, "gave up", message) for t in plan.targets)
        with contextlib.suppress(ActionError):  # nothing more can be done about it here
            self.audit.finished(ActionResult(plan, outcomes, error=message, audit_id=audit_id))

    def redact(self, text: str) -> str:
        """``text`` without the emergency token (an HTTP error may repeat it)."""
        token = (
            os.environ.get(self.target.emergency_token_env or "")
            if self.target.emergency_token_env
            else None
        )
        return text.replace(token, "***") if token else text
