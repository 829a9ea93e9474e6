"""Layout snapshots of the Diagnose screen from a fixed report (80x24 and a large terminal)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.app import App

from engflow_tui.diagnose import Check, Report
from engflow_tui.screens.diagnose_screen import DiagnoseScreen

from ..pg import wait_for

CHECKS = [
    Check("database.reachable", "ok", "connected in 1.2 ms, PostgreSQL 18.1", 1.2, "ms"),
    Check(
        "rls.disabled",
        "critical",
        '1 table(s) without row-level security in public: "public"."orcamentos_historico"',
        1,
        details=[{"schema": "public", "table": "orcamentos_historico", "policies": 0}],
        fix="ALTER TABLE <table> ENABLE ROW LEVEL SECURITY;  (check its policies first)",
        action="Enable RLS",
    ),
    Check(
        "locks.blocking",
        "warning",
        "2 session(s) wait for a lock (longest 12s); root blocker pid 4242 (engflow_api, batch, "
        "idle in transaction for 40s) holds up 2 session(s), chain depth 2",
        2,
        details=[
            {"pid": 4242, "depth": 0, "blocked_by": [], "user": "engflow_api", "seconds": 40.0},
            {"pid": 4243, "depth": 1, "blocked_by": [4242], "user": "engflow_api", "seconds": 12.0},
            {"pid": 4244, "depth": 2, "blocked_by": [4243], "user": "engflow_web", "seconds": 9.5},
        ],
        fix="end the root blocker's transaction (console: Terminate session on its pid)",
        action="Terminate session",
        action_target={"pid": 4242},
    ),
    Check(
        "integrity.orphans",
        "critical",
        "25 orphan row(s) behind 1 relation(s) — 6 of 6 relation(s) fully checked",
        25,
        details=[
            {
                "key": "public.anexos.anexos_projeto_id_fkey",
                "table": "public.anexos",
                "references": "public.projetos(id)",
                "orphans": 25,
                "samples": ["[100001]", "[100002]"],
            }
        ],
        fix="delete the orphans or restore their parents, then VALIDATE CONSTRAINT",
    ),
    Check("capabilities", "ok", "role ops_monitor: 1 gap(s): pg_signal_backend", 1),
    Check("backup.files", "unknown", "not checked: no [backups] path in the config"),
]


class DiagnoseApp(App[None]):
    TITLE = "EngFlow Ops Console"

    def on_mount(self) -> None:
        async def fixed() -> Report:
            return Report("production", datetime(2026, 11, 29, 3, 0, tzinfo=UTC), CHECKS)

        self.push_screen(DiagnoseScreen(fixed, "production"))


async def _locks_selected(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_for(lambda: isinstance(pilot.app.screen, DiagnoseScreen) and pilot.app.screen.runs)
    await pilot.press("down", "down", "enter")  # the warning section's check, into its findings
    await pilot.pause()


class TestDiagnose:
    @pytest.mark.parametrize("size", [(80, 24), (140, 40)], ids=["80x24", "140x40"])
    def test_diagnose(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(DiagnoseApp(), terminal_size=size, run_before=_locks_selected)
