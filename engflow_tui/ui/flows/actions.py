"""ActionFlows: the UI path of an action — pick (if needed) -> plan -> confirm -> run -> result.

UI layer (uses screens); what each step does for an action is its registry entry's
(:mod:`engflow_tui.actions.registry`: how its target is chosen, what the confirmation re-reads,
whether it is waited on, its follow-ups), the work itself the ActionRunner's. One action at a
time; every step that waits on the database runs in a worker, so the UI never blocks.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from ...actions import registry
from ...actions.action import Action
from ...actions.model import ActionError, ActionPlan, ActionResult
from ...actions.runner import ActionRunner
from ...screens.action_result_modal import ActionResultModal, follow_up_of
from ...screens.audit_log_screen import AuditLogScreen
from ...screens.confirm_action_modal import ConfirmActionModal
from ...screens.message_modal import MessageModal
from ...screens.table_picker_modal import TablePickerModal
from ...screens.waiting_modal import WaitingModal

if TYPE_CHECKING:
    from ..app import EngFlowApp


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

    async def _flow(self, name: str, target: dict[str, Any]) -> None:
        # What became of it, for whoever asked for the action (a checklist item ticks itself):
        # a result, or None (not run) with why.
        result: ActionResult | None = None
        why = "cancelled, nothing was run"
        try:
            action = self.runner.action(name)
            plan, replan = await self._plan(action, target)
            if plan is None:
                return
            # Read-only mode refuses in execute(); an action that leaves the database untouched
            # (Test restore) still runs there, so it is still confirmed.
            if not self.runner.read_only or not action.refused_read_only:
                plan = await self._confirmed(plan, replan)
                if plan is None:
                    return
            if action.notice:
                self.app.notify(action.notice, timeout=6)
            if action.waiting is not None:
                waiting = action.waiting
                finished, result = await WaitingModal.wait(
                    self.app,
                    self.runner.execute(plan),
                    waiting.title,
                    plan.statement.splitlines()[0],
                    waiting.deadline(self.runner.config),
                )
                if not finished or result is None:
                    await self.app.push_screen_wait(
                        MessageModal(
                            f"{name}: gave up waiting", waiting.gave_up, waiting.gave_up_fix
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
            await self.app.push_screen_wait(MessageModal(f"{name}: not run", str(exc), exc.fix))
        finally:
            self.busy = False
            self.app.action_finished(name, result, why)

    async def _confirmed(self, plan: ActionPlan, replan: Any) -> ActionPlan | None:
        """The plan as the operator confirmed it (the dialog may have re-listed or re-read its
        targets meanwhile), or None when cancelled."""
        refresh = None
        action = registry.find(plan.action)
        if action is not None and action.live:
            live, again = action, action.target_of(plan)

            def refresh() -> Any:
                return live.plan(self.runner, again)

        modal = ConfirmActionModal(plan, replan, refresh)
        if not await self.app.push_screen_wait(modal):
            self.app.notify(f"{plan.action}: cancelled, nothing was run", timeout=4)
            return None
        return modal.plan

    async def _follow_up(self, result: ActionResult) -> None:
        """The follow-up the result offered (f) — e.g. Cancel query on the statement running
        now, Terminate session on the holder of a lock — through a confirmation of its own."""
        outcome = follow_up_of(result)
        offered = registry.find(result.plan.action)
        if outcome is None or offered is None or outcome.follow_up not in offered.follow_ups:
            return
        follow = registry.find(outcome.follow_up or "")
        if follow is None:
            return
        plan = await follow.plan(self.runner, outcome.follow_up_target or {})
        confirmed = await self._confirmed(plan, None)
        if confirmed is None:
            return
        again = await self.runner.execute(confirmed)
        self.app.refresh_dashboard()
        await self.app.push_screen_wait(ActionResultModal(again))

    async def _plan(self, action: Action, target: dict[str, Any]) -> tuple[ActionPlan | None, Any]:
        """The action's plan on the target it was given, the selected session, or the one the
        operator picks; None when there is none (said) or the picker was cancelled. With it,
        the confirmation's threshold re-plan (or None)."""
        runner = self.runner
        if action.choose == "selected session" and not action.names_any(target):
            if (selected := self.app.selected_session()) is not None:
                pid, backend_start = selected
                target = {**target, "pid": pid, "backend_start": backend_start}
            else:
                self.app.notify(
                    f"{action.name}: select a session in the Connections panel first",
                    severity="warning",
                )
                return None, None
        if action.picker is not None and not action.named(target):
            picker = action.picker
            candidates = await picker.candidates(runner)
            items = [(json.dumps(choice, sort_keys=True), label) for choice, label in candidates]
            chosen = await self.app.push_screen_wait(
                TablePickerModal(picker.title, items, picker.empty)
            )
            if chosen is None:
                return None, None
            target = {**target, **json.loads(chosen)}
        plan = await action.plan(runner, target)
        if not action.threshold:
            return plan, None

        def replan(seconds: float) -> Any:
            return action.plan(runner, {**target, "threshold": seconds})

        return plan, replan
