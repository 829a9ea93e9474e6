"""The core (collectors, alerts, config, db, model, diagnose, demo) never imports Textual."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "engflow_tui.config",
    "engflow_tui.config_dump",
    "engflow_tui.settings",
    "engflow_tui.thresholds",
    "engflow_tui.db",
    "engflow_tui.dsn",
    "engflow_tui.model",
    "engflow_tui.errors",
    "engflow_tui.durations",
    "engflow_tui.collectors.postgres",
    "engflow_tui.collectors.threaded",
    "engflow_tui.alerts.engine",
    "engflow_tui.alerts.metrics",
    "engflow_tui.alerts.rules",
    "engflow_tui.alerts.notify",
    "engflow_tui.collectors.http",
    "engflow_tui.collectors.host",
    "engflow_tui.monitor",
    "engflow_tui.diagnose",
    "engflow_tui.cli",
    "engflow_tui.demo",
    "engflow_tui.demo.server",
    "engflow_tui.demo.workload",
    "engflow_tui.actions.model",
    "engflow_tui.actions.audit",
    "engflow_tui.actions.runner",
    "engflow_tui.atomic",
    "engflow_tui.checklists.model",
    "engflow_tui.checklists.loader",
    "engflow_tui.checklists.verify",
    "engflow_tui.checklists.run",
    "engflow_tui.checklists.session",
    "engflow_tui.checklists.export",
    "engflow_tui.checklists.headless",
    "engflow_tui.incidents.model",
    "engflow_tui.incidents.timers",
    "engflow_tui.incidents.log",
    "engflow_tui.incidents.templates",
    "engflow_tui.incidents.report",
    "engflow_tui.incidents.webhook",
    "engflow_tui.history",
    "engflow_tui.history.store",
    "engflow_tui.history.worker",
    "engflow_tui.history.sampler",
    "engflow_tui.history.trends",
    "engflow_tui.history.activity",
    "engflow_tui.history.report",
    "engflow_tui.history.recording",
    "engflow_tui.history.replay",
    "engflow_tui.cli.history",
    "engflow_tui.actions.test_restore",
    "engflow_tui.diagnostics",
    "engflow_tui.diagnostics.base",
    "engflow_tui.diagnostics.backups",
    "engflow_tui.diagnostics.capabilities",
    "engflow_tui.diagnostics.connectivity",
    "engflow_tui.diagnostics.integrity",
    "engflow_tui.diagnostics.maintenance",
    "engflow_tui.diagnostics.performance",
    "engflow_tui.diagnostics.replication",
    "engflow_tui.diagnostics.security",
]


def test_core_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_ui_holds_no_sql_and_no_driver() -> None:
    """Screens and widgets receive records: no asyncpg, no httpx, no SQL text."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "engflow_tui"
    for folder in ("screens", "widgets"):
        for path in (root / folder).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"^\s*(import|from)\s+(asyncpg|httpx)", text, re.M), path
            assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+\w", text), path
