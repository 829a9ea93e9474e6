"""Layout snapshots of the checklist walkthrough from deterministic records and a fixed clock:
a time-boxed SEV1 run three minutes in (one box passed with its step overdue), and a morning run
with every kind of mark."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from engflow_tui.checklists.loader import load_catalog
from engflow_tui.checklists.run import ChecklistRun, RunStore
from engflow_tui.checklists.session import ChecklistSession
from engflow_tui.checklists.verify import Verdict
from engflow_tui.screens.checklist_screen import ChecklistScreen

from ..fixed_source import TAKEN_AT
from ..pg import wait_for
from .test_dashboard_snapshot import _first_snapshot, make_app

os.environ["TZ"] = "UTC"
time.tzset()
CATALOG = load_catalog()


def _walk(checklist_id: str, minutes: float, tmp: Path, marks: bool):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _first_snapshot(pilot)
        app = pilot.app
        checklist = CATALOG.checklists[checklist_id]
        run = ChecklistRun.start(checklist, "production", "ana", TAKEN_AT)
        if marks:
            at = TAKEN_AT + timedelta(minutes=2)
            run.toggle("open-dashboard", "ana", at)
            run.set_note("open-dashboard", "all green", "ana", at)
            run.skip("errors-24h", "no log access tonight", "ana", at)
            run.record("cpu-memory", Verdict("pending", None, "cannot measure: no host metrics", at), "console")
            run.record("api-response", Verdict("pass", "212 ms", "api mean 212 ms", at), "console")
            run.record("connections", Verdict("fail", "85 %", "85 of 100 in use", at), "console")
            run.override("connections", "batch import until 09:00", "ana", at)
            run.record("cache-hit", Verdict("fail", "64.0 %", "cache hit 64 %", at), "console")
        clock = TAKEN_AT + timedelta(minutes=minutes)
        session = ChecklistSession(
            checklist, run, RunStore(tmp), app.dashboard.monitor, "ana", clock=lambda: clock
        )
        screen = ChecklistScreen(session)
        await app.push_screen(screen)
        await wait_for(lambda: isinstance(app.screen, ChecklistScreen))
        if marks:  # the item reached first verifies itself: wait for its verdict
            await wait_for(lambda: run.item("tables-status").checked_at is not None)
            await wait_for(lambda: not screen._verifying)
        app.clear_notifications()  # the fixed snapshot's alert toasts are not what is tested
        await pilot.pause()

    return run_before


class TestChecklist:
    def test_sev1_time_boxed(self, snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(
            make_app(), terminal_size=(80, 24), run_before=_walk("sev1", 3, tmp_path, False)
        )

    @pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
    def test_morning_marks(self, snap_compare, size, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(
            make_app(), terminal_size=size, run_before=_walk("daily-morning", 9, tmp_path, True)
        )
