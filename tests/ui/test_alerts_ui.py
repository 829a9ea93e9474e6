"""Alerts in the UI: panel, acknowledgement, the Alerts screen and the runbook detail."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.screens.alert_detail_modal import AlertDetailModal
from engflow_tui.screens.alerts_screen import AlertsScreen
from engflow_tui.screens.confirm_action_modal import ConfirmActionModal
from engflow_tui.ui.app import EngFlowApp
from engflow_tui.widgets.alerts_panel import AlertsPanel

from ..pg import session, wait_for
from .helpers import static_text, table_dicts


def make_app(dsn: str) -> EngFlowApp:
    target = TargetConfig(name="prod", dsn=dsn)
    config = Config(
        console=ConsoleConfig(refresh_interval=0.3, catalog_interval=0.3), targets={"prod": target}
    )
    return EngFlowApp(config, target)


async def test_alert_detail_shows_the_runbook_and_links_to_the_action(db18, tmp_path: Path) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute("CREATE TABLE public.leaky (id int)")
    app = make_app(db18.dsn())
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        panel = app.dashboard.query_one(AlertsPanel)
        await wait_for(lambda: any(r["alert"] == "RLS Violation" for r in table_dicts(panel.table)))
        app.dashboard.focus_panel("alerts-panel")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, AlertDetailModal))
        runbook = static_text(app.screen.query_one("#alert-runbook", Static))
        assert "RLS Policy Errors" in runbook and "Erro 403 em operações autorizadas" in runbook
        assert "public.leaky" in static_text(app.screen.query_one("#alert-title", Static))
        await pilot.press("1")  # the first linked action: Enable RLS
        await wait_for(
            lambda: (
                isinstance(app.screen, ConfirmActionModal)
                or app.screen.__class__.__name__ == "TablePickerModal"
            )
        )
        await pilot.press("escape")


async def test_acknowledge_from_the_alerts_screen_keeps_it_listed(db18) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute("CREATE TABLE public.leaky (id int)")
    app = make_app(db18.dsn())
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        await wait_for(
            lambda: any(a.title == "RLS Violation" for a in app.dashboard.monitor.engine.alerts())
        )
        await pilot.press("A")
        await wait_for(lambda: isinstance(app.screen, AlertsScreen))
        rows = table_dicts(app.screen.query_one("#active", DataTable))
        assert rows[0]["alert"] == "RLS Violation" and rows[0]["state"] == "firing"
        recent = table_dicts(app.screen.query_one("#recent", DataTable))
        assert any(r["event"] == "fired" and r["alert"] == "RLS Violation" for r in recent)
        await pilot.press("a")
        await wait_for(
            lambda: (
                table_dicts(app.screen.query_one("#active", DataTable))[0]["state"] == "firing ✓ack"
            )
        )
        assert app.dashboard.monitor.engine.alerts()[0].acknowledged
        await pilot.press("2")  # only warnings: the critical one is filtered out
        assert all(
            r["severity"].strip() == "WARNING"
            for r in table_dicts(app.screen.query_one("#active", DataTable))
        )
        await pilot.press("0")
        await pilot.press("escape")
        assert app.screen is app.dashboard
        assert "✓ack" in table_dicts(app.dashboard.query_one(AlertsPanel).table)[0]["alert"]


async def test_an_open_alerts_screen_follows_the_live_state(db18) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute("CREATE TABLE public.leaky (id int)")
        app = make_app(db18.dsn())
        async with app.run_test(size=(140, 45)) as pilot:
            await wait_for(
                lambda: (
                    app.dashboard is not None
                    and any(
                        a.title == "RLS Violation" for a in app.dashboard.monitor.engine.alerts()
                    )
                )
            )
            await pilot.press("A")
            await wait_for(lambda: isinstance(app.screen, AlertsScreen))
            assert (
                table_dicts(app.screen.query_one("#active", DataTable))[0]["alert"]
                == "RLS Violation"
            )
            await admin.execute("ALTER TABLE public.leaky ENABLE ROW LEVEL SECURITY")
            # Without leaving the screen, the alert resolves and shows in the recent list.
            await wait_for(
                lambda: (
                    not any(
                        r["alert"] == "RLS Violation"
                        for r in table_dicts(app.screen.query_one("#active", DataTable))
                    )
                ),
                timeout=15,
            )
            recent = table_dicts(app.screen.query_one("#recent", DataTable))
            assert [r["event"] for r in recent if r["alert"] == "RLS Violation"][:2] == [
                "resolved",
                "fired",
            ]


async def test_every_action_an_alert_links_to_exists_and_disk_usage_offers_what_frees_space(
    db18, tmp_path: Path
) -> None:
    from engflow_tui.alerts.rules import load_rules, runbook_sections

    sections = runbook_sections()
    app = make_app(db18.dsn())
    async with app.run_test(size=(120, 40)):
        await wait_for(lambda: app.dashboard is not None)
        for rule in load_rules():
            assert rule.runbook in sections, rule.id
            for name in sections[rule.runbook]["actions"]:
                assert app.has_command(name), (rule.id, name)
    disk = sections[next(r.runbook for r in load_rules() if r.id == "disk_usage")]["actions"]
    assert "Run ANALYZE" not in disk
    assert {"Show trends", "Diagnose"} <= set(disk)


async def test_the_alert_detail_shows_figures_with_their_unit(db18) -> None:
    from datetime import UTC, datetime

    from engflow_tui.model import Alert, Severity

    alert = Alert(
        key="connections_high",
        rule="connections_high",
        severity=Severity.WARNING,
        title="Connections High",
        message="92 of 100 connections in use (92 %)",
        value=92.00000000000001,
        threshold=80.0,
        peak=93.30892377778,
        unit="%",
        since=datetime.now(UTC),
    )
    app = make_app(db18.dsn())
    async with app.run_test(size=(120, 40)):
        await wait_for(lambda: app.dashboard is not None)
        app.push_screen(AlertDetailModal(alert, None, datetime.now(UTC)))
        await wait_for(
            lambda: isinstance(app.screen, AlertDetailModal) and app.screen.query("#alert-facts")
        )
        facts = static_text(app.screen.query_one("#alert-facts", Static))
        assert "value 92 %" in facts and "threshold 80 %" in facts and "peak 93.3 %" in facts
        assert "00000" not in facts


async def test_at_80x24_the_whole_alert_detail_is_one_key_away_and_wraps(db18) -> None:
    table = "a_table_with_a_long_name_to_read_in_full"
    async with session(db18.dsn()) as admin:
        await admin.execute(f"CREATE TABLE public.{table} (id int)")
    app = make_app(db18.dsn())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        panel = app.dashboard.query_one(AlertsPanel)
        await wait_for(lambda: any(r["alert"] == "RLS Violation" for r in table_dicts(panel.table)))
        await pilot.press("exclamation_mark")
        await wait_for(
            lambda: isinstance(app.screen, AlertDetailModal) and app.screen.query("#alert-facts")
        )
        facts = static_text(app.screen.query_one("#alert-facts", Static))
        assert f'"public"."{table}": RLS is OFF in an exposed schema' in " ".join(facts.split())
