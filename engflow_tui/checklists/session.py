"""ChecklistSession: one run being walked — every change applied to the run and saved at once —
and the verification of its auto items against the monitor's latest data. No Textual.

The screen calls these methods; each returns a problem string (shown to the operator) or None.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .model import Checklist, Item
from .run import ChecklistRun, ItemState, RunStore
from .verify import Facts, Verdict, diagnose_ids, verdict

DiagnoseProvider = Callable[[set[str], Any], Awaitable[Mapping[str, Any]]]
"""(check ids, latest snapshot) -> {check id: diagnose Check}."""

Listener = Callable[[str, str], None]
"""(kind, text): told of every step (an open incident records them in its timeline)."""


async def snapshot_checks(ids: set[str], snapshot: Any, thresholds: Any) -> dict[str, Any]:
    """The diagnose checks that come from a snapshot alone (no extra queries)."""
    if snapshot is None:
        return {}
    from ..diagnose import build_report

    return {c.id: c for c in build_report(snapshot, thresholds).checks if c.id in ids}


class ChecklistSession:
    def __init__(
        self,
        checklist: Checklist,
        run: ChecklistRun,
        store: RunStore,
        monitor: Any,
        operator: str,
        *,
        diagnose: DiagnoseProvider | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        listener: Listener | None = None,
    ) -> None:
        self.checklist = checklist
        self.run = run
        self.store = store
        self.monitor = monitor
        self.operator = operator
        self.diagnose = diagnose
        self.clock = clock
        self.listener = listener
        self.save_problem: str | None = None

    # ---- persistence ---------------------------------------------------------------------------
    def save(self) -> str | None:
        try:
            self.store.save(self.run)
        except OSError as exc:
            self.save_problem = (
                f"cannot save the checklist run to {self.store.directory}: {exc.strerror or exc} "
                "— your progress is kept in memory; fix the directory before closing the console"
            )
            return self.save_problem
        self.save_problem = None
        return None

    def _apply(self, operation: Callable[[], object]) -> str | None:
        """Apply one change, save the run at once, tell the listener what happened."""
        before = len(self.run.events)
        try:
            operation()
        except ValueError as exc:
            return str(exc)
        problem = self.save()
        self._tell(before)
        return problem

    def _tell(self, before: int) -> None:
        if self.listener is not None:
            for event in self.run.events[before:]:
                self.listener(event["kind"], event["text"])

    def item(self, item_id: str) -> Item:
        return self.checklist.item(item_id)

    def state(self, item_id: str) -> ItemState:
        return self.run.item(item_id)

    # ---- operations ---------------------------------------------------------------------------
    def toggle(self, item_id: str) -> str | None:
        return self._apply(lambda: self.run.toggle(item_id, self.operator, self.clock()))

    def note(self, item_id: str, text: str) -> str | None:
        return self._apply(lambda: self.run.set_note(item_id, text, self.operator, self.clock()))

    def skip(self, item_id: str, reason: str) -> str | None:
        return self._apply(lambda: self.run.skip(item_id, reason, self.operator, self.clock()))

    def unskip(self, item_id: str) -> str | None:
        return self._apply(lambda: self.run.unskip(item_id, self.operator, self.clock()))

    def override(self, item_id: str, note: str) -> str | None:
        return self._apply(lambda: self.run.override(item_id, note, self.operator, self.clock()))

    def action_outcome(self, item_id: str, result: Any, why: str = "") -> str | None:
        """The action an item opened has ended: ``result`` (actions.model.ActionResult) or None
        (not run, ``why``)."""
        if result is None:
            ok, audit_id, outcome = False, None, why
        else:
            ok, audit_id, outcome = result.ok, result.audit_id, result.summary()
        return self._apply(
            lambda: self.run.action_result(
                item_id, ok, audit_id, outcome, self.operator, self.clock()
            )
        )

    def keep_notes(self, notes: str) -> str | None:
        """The closing notes, typed before the run is signed (saved like any change)."""

        def keep() -> None:
            self.run.notes = notes

        return self._apply(keep)

    def finish(self, notes: str | None = None) -> str | None:
        return self._apply(lambda: self.run.finish(self.operator, self.clock(), notes))

    # ---- verification -------------------------------------------------------------------------
    async def facts(self, items: list[Item]) -> Facts:
        snapshot = getattr(self.monitor, "latest", None)
        ids = diagnose_ids(items)
        checks: Mapping[str, Any] = {}
        if ids:
            if self.diagnose is not None:
                checks = await self.diagnose(ids, snapshot)
            else:
                checks = await snapshot_checks(ids, snapshot, self.monitor.config.thresholds)
        return Facts(
            snapshot=snapshot,
            metrics=getattr(self.monitor, "metrics", {}),
            alerts=tuple(snapshot.alerts) if snapshot is not None else (),
            history=getattr(self.monitor, "history", None),
            checks=checks,
            target=self.run.target,
            **await self._stored_or_nothing(items),
        )

    async def _stored_or_nothing(self, items: list[Item]) -> dict[str, Any]:
        try:
            return await self._stored(items)
        except Exception:  # noqa: BLE001 - a damaged store reports itself; the live data stands
            return {}

    async def _stored(self, items: list[Item]) -> dict[str, Any]:
        """What the history store adds (7-day baselines, growth), read off the UI thread."""
        names = {c.metric for i in items for c in i.verify if c.metric}
        store = getattr(self.monitor, "history_store", None)
        if store is None:
            return {}
        out: dict[str, Any] = {}
        now = self.clock()
        if "users.active" in names:
            out["users"] = await self.monitor.user_activity(now)
        if "tables.writes_per_hour" in names:
            out["crud"] = await self.monitor.crud_per_hour(now)
        if "database.size_gb" in names:
            start = now - timedelta(days=7)
            out["sizes"] = await store.ask(
                lambda s: [(p.t, p.mean) for p in s.series("db.size", "", start, now)]
            )
        return out

    async def verify(self, item_ids: list[str]) -> dict[str, Verdict]:
        """Verify the auto items named, record the verdicts and save."""
        items = [self.item(i) for i in item_ids if self.item(i).verify]
        if not items:
            return {}
        facts = await self.facts(items)
        now = self.clock()
        verdicts = {i.id: verdict(i, facts, now) for i in items}
        before = len(self.run.events)
        for item_id, v in verdicts.items():
            self.run.record(item_id, v, "console")
        self.save()
        self._tell(before)
        return verdicts
