"""ActionFlows: the UI path of an action — pick (if needed) -> plan -> confirm -> run -> result.

UI layer (uses screens); the work itself is the ActionRunner's. One action at a time; every step
that waits on the database runs in a worker, so the UI never blocks.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from ...actions.model import ActionError, ActionPlan, ActionResult
from ...actions.runner import (
    CANCEL_QUERY,
    EMERGENCY_FALLBACK,
    ENABLE_RLS,
    RUN_ANALYZE,
    TERMINATE_IDLE,
    TERMINATE_SESSION,
    TEST_RESTORE,
    ActionRunner,
)
from ...screens.action_result_modal import ActionResultModal, follow_up_of
from ...screens.audit_log_screen import AuditLogScreen
from ...screens.confirm_action_modal import ConfirmActionModal
from ...screens.message_modal import MessageModal
from ...screens.table_picker_modal import TablePickerModal
from ...screens.waiting_modal import WaitingModal

if TYPE_CHECKING:
    from ..app import EngFlowApp

WHOLE_DATABASE = "__whole_database__"


class ActionFlows:
    def __init__(self, app: EngFlowApp, runner: ActionRunner) -> None:
        self.app = app
        self.runner = runner
        self.busy = False

    def start(self, action: str, **target: Any) -> None:
        if self.busy:
            self.app.notify("another action is in progress: finish it first", severity="warning")
            self.app.action_finished(action, None, "cancelled: another action was in progress")
            return
        self.busy = True
        self.app.run_worker(
            self._flow(action, target), group="action", description=action, exit_on_error=False
        )

    def show_audit_log(self) -> None:
        async def load() -> None:
            audit = self.runner.audit
            records = await asyncio.to_thread(audit.read_recent, 500)
            for problem in audit.take_problems():  # a bad line is skipped, said once
                self.app.notify(problem, severity="warning", timeout=15, markup=False)
            await self.app.push_screen(AuditLogScreen(records, str(audit.path), audit.skipped))

        self.app.run_worker(
            load(), group="audit", description="Show audit log", exit_on_error=False
        )

    async def _flow(self, action: str, target: dict[str, Any]) -> None:
        # What became of it, for whoever asked for the action (a checklist item ticks itself):
        # a result, or None (not run) with why.
        result: ActionResult | None = None
        why = "cancelled, nothing was run"
        try:
            plan, replan = await self._plan(action, target)
            if plan is None:
                return
            # Read-only mode refuses in execute(); an action that leaves the database untouched
            # (Test restore) still runs there, so it is still confirmed.
            if not self.runner.read_only or plan.params.get("live_database_untouched"):
                plan = await self._confirmed(plan, replan)
                if plan is None:
                    return
            if action == TEST_RESTORE:
                self.app.notify(
                    "Test restore: restoring into a scratch server… the console stays live",
                    timeout=6,
                )
            if action == EMERGENCY_FALLBACK:
                finished, result = await WaitingModal.wait(
                    self.app,
                    self.runner.execute(plan),
                    f"{action}: waiting for the application",
                    plan.statement.splitlines()[0],
                    self.runner.config.actions.http_timeout,
                )
                if not finished or result is None:
                    await self.app.push_screen_wait(
                        MessageModal(
                            f"{action}: gave up waiting",
                            "No answer yet. The request may still reach the application: the "
                            "app probe in the Health panel says FALLBACK MODE ON once it "
                            "switched. Recorded in the audit log.",
                            "press F to try again, or switch the fallback on by hand",
                        )
                    )
                    return
            else:
                result = await self.runner.execute(plan)  # refuses (and records) when read-only
            self.app.refresh_dashboard()
            if await self.app.push_screen_wait(ActionResultModal(result)) == "follow":
                await self._follow_up(result)
        except ActionError as exc:
            why = f"not run: {exc}"
            await self.app.push_screen_wait(MessageModal(f"{action}: not run", str(exc), exc.fix))
        finally:
            self.busy = False
            self.app.action_finished(action, result, why)

    async def _confirmed(self, plan: ActionPlan, replan: Any) -> ActionPlan | None:
        """The plan as the operator confirmed it (the dialog may have re-listed or re-read its
        targets meanwhile), or None when cancelled."""
        refresh = None
        if plan.action in (TERMINATE_SESSION, CANCEL_QUERY):
            pid, started = plan.params["pid"], plan.params["backend_start"]
            action = plan.action

            def refresh() -> Any:
                return self.runner.plan_session(action, pid, started)

        modal = ConfirmActionModal(plan, replan, refresh)
        if not await self.app.push_screen_wait(modal):
            self.app.notify(f"{plan.action}: cancelled, nothing was run", timeout=4)
            return None
        return modal.plan

    async def _follow_up(self, result: ActionResult) -> None:
        """The follow-up the result offered (f): Cancel query on the statement running now,
        Terminate session on the holder of a lock — each through a confirmation of its own."""
        outcome = follow_up_of(result)
        if outcome is None or outcome.follow_up not in (CANCEL_QUERY, TERMINATE_SESSION):
            return
        target = outcome.follow_up_target or {}
        plan = await self.runner.plan_session(
            outcome.follow_up, int(target["pid"]), target.get("backend_start")
        )
        confirmed = await self._confirmed(plan, None)
        if confirmed is None:
            return
        again = await self.runner.execute(confirmed)
        self.app.refresh_dashboard()
        await self.app.push_screen_wait(ActionResultModal(again))

    async def _plan(self, action: str, target: dict[str, Any]) -> tuple[ActionPlan | None, Any]:
        runner = self.runner
        if action == TERMINATE_IDLE:
            return await runner.plan_terminate_idle(), runner.plan_terminate_idle
        if action in (TERMINATE_SESSION, CANCEL_QUERY):
            pid = target.get("pid")
            backend_start = target.get("backend_start")
            if pid is None and (selected := self.app.selected_session()) is not None:
                pid, backend_start = selected
            if pid is None:
                self.app.notify(
                    f"{action}: select a session in the Connections panel first", severity="warning"
                )
                return None, None
            return await runner.plan_session(action, int(pid), backend_start), None
        if action == ENABLE_RLS:
            schema, table = target.get("schema"), target.get("table")
            if schema is None or table is None:
                candidates = await runner.rls_candidates()
                items = [
                    (
                        json.dumps([t.schema, t.table]),
                        f"{t.schema}.{t.table}  ({t.policy_count} policies)",
                    )
                    for t in candidates
                ]
                choice = await self.app.push_screen_wait(
                    TablePickerModal(
                        "Enable RLS on which table?",
                        items,
                        "every table in the exposed schemas has RLS on",
                    )
                )
                if choice is None:
                    return None, None
                schema, table = json.loads(choice)
            return await runner.plan_enable_rls(schema, table), None
        if action == RUN_ANALYZE:
            schema, table = target.get("schema"), target.get("table")
            if schema is None and not target.get("whole_database"):
                tables = await runner.analyze_candidates()
                items = [(WHOLE_DATABASE, "— the whole database —")]
                items += [(json.dumps([s, t]), f"{s}.{t}") for s, t in tables]
                choice = await self.app.push_screen_wait(TablePickerModal("Run ANALYZE on…", items))
                if choice is None:
                    return None, None
                if choice != WHOLE_DATABASE:
                    schema, table = json.loads(choice)
            return runner.plan_analyze(schema, table), None
        if action == EMERGENCY_FALLBACK:
            return runner.plan_emergency_fallback(), None
        if action == TEST_RESTORE:
            return runner.plan_test_restore(), None
        raise ActionError(f"unknown action {action!r}")
