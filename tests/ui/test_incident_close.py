"""A resolved incident's bar: green and saying when it closes, closed by the operator (`d` on
the Incident screen, palette *Close incident*) or by itself once incidents.close_resolved_after
has passed — then it is on no screen, and `I` declares a new incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from engflow_tui.config import Config, ConsoleConfig, IncidentsConfig, TargetConfig
from engflow_tui.monitor import Monitor
from engflow_tui.screens.alerts_screen import AlertsScreen
from engflow_tui.screens.declare_incident_modal import DeclareIncidentModal
from engflow_tui.screens.incident_screen import IncidentScreen
from engflow_tui.screens.text_prompt_modal import TextPromptModal
from engflow_tui.ui.app import EngFlowApp
from engflow_tui.widgets.incident_bar import IncidentBar

from ..fixed_source import FixedSource
from ..pg import wait_for
from .helpers import static_text

T0 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def make_app(tmp_path: Path, clock: list[datetime]) -> EngFlowApp:
    target = TargetConfig(name="production", dsn="postgresql://ops@db.example.com/postgres")
    config = Config(
        console=ConsoleConfig(
            refresh_interval=60.0,
            operator="ana",
            state_dir=str(tmp_path),
            audit_log=str(tmp_path / "audit.jsonl"),
        ),
        incidents=IncidentsConfig(
            state_file=str(tmp_path / "incident.json"), reports_dir=str(tmp_path / "reports")
        ),
        targets={"production": target},
    )
    return EngFlowApp(
        config,
        target,
        monitor_factory=lambda c, t: Monitor(FixedSource(), c, t),
        incident_clock=lambda: clock[0],
    )


def bars_shown(app: EngFlowApp) -> list[str]:
    return [static_text(b) for b in app.screen.query(IncidentBar) if b.display]


def footer_keys(app: EngFlowApp) -> set[str]:
    from textual.widgets._footer import FooterKey

    return {k.description for k in app.screen.query(FooterKey)}


async def declared_and_resolved(app: EngFlowApp, pilot, clock: list[datetime]) -> None:  # type: ignore[no-untyped-def]
    await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
    app.incidents.log.declare("Database unreachable", 2, "every user", "ana", "production")
    app.incidents.changed()
    await pilot.press("I")
    await wait_for(lambda: isinstance(app.screen, IncidentScreen))
    await pilot.pause()
    assert "Resolve" in footer_keys(app) and "Close" not in footer_keys(app)
    clock[0] = T0 + timedelta(minutes=42)
    await pilot.press("R")
    await wait_for(lambda: isinstance(app.screen, TextPromptModal) and app.focused is not None)
    await pilot.press(*"failover done", "enter")
    await wait_for(lambda: not app.incidents.log.open)
    await pilot.pause()


async def test_a_resolved_bar_says_when_it_closes_and_d_closes_it(tmp_path: Path) -> None:
    clock = [T0]
    app = make_app(tmp_path, clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await declared_and_resolved(app, pilot, clock)
        [bar] = bars_shown(app)
        assert "RESOLVED" in bar and "resolved in 42m" in bar
        assert "closes in 10m" in bar
        assert app.screen.query_one(IncidentBar).has_class("-resolved")
        assert "Close" in footer_keys(app) and "Resolve" not in footer_keys(app)
        # Still on every screen while it is resolved and not closed.
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard)
        assert len(bars_shown(app)) == 1
        clock[0] += timedelta(minutes=3)
        app.incidents.tick()
        assert "closes in 7m" in bars_shown(app)[0]

        assert "(^p Close incident)" in bars_shown(app)[0]
        # I declares (a resolved incident is no obstacle); Show incident goes back to it.
        await pilot.press("ctrl+p")
        await pilot.press(*"Show incident")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, IncidentScreen))
        await pilot.pause()
        await pilot.press("d")
        await wait_for(lambda: app.screen is app.dashboard)
        await pilot.pause()
        assert bars_shown(app) == [], "closed: the bar is on no screen"
        assert any("closed" in str(n.message) for n in app._notifications)
        await pilot.press("A")
        await wait_for(lambda: isinstance(app.screen, AlertsScreen))
        await pilot.pause()
        assert bars_shown(app) == []
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard)
        app.incidents.tick()
        assert bars_shown(app) == []
        # The next I declares a new incident (the closed one is not shown again).
        await pilot.press("I")
        await wait_for(lambda: isinstance(app.screen, DeclareIncidentModal))
    # The incident file and its archive keep it.
    assert '"status": "RESOLVED"' in (tmp_path / "incident.json").read_text()


async def test_a_resolved_bar_closes_by_itself_and_from_the_palette(tmp_path: Path) -> None:
    clock = [T0]
    app = make_app(tmp_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await declared_and_resolved(app, pilot, clock)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard)
        resolved_at = app.incidents.log.incident.resolved_at
        clock[0] = resolved_at + timedelta(minutes=9, seconds=59)
        app.incidents.tick()
        assert "closes in 1s" in bars_shown(app)[0]
        clock[0] = resolved_at + timedelta(minutes=10)
        app.incidents.tick()
        await pilot.pause()
        assert bars_shown(app) == []
        assert app.incidents.log.incident is None

        # Another one, closed from the palette; the palette refuses while it is open.
        app.incidents.log.declare("Slow API", 3, "", "ana", "production")
        app.incidents.changed()
        app.action_incident("close")
        await pilot.pause()
        assert any("resolve it first" in str(n.message) for n in app._notifications)
        assert len(bars_shown(app)) == 1
        app.incidents.log.resolve("cache warmed")
        app.incidents.changed()
        await pilot.press("ctrl+p")
        await pilot.press(*"Close incident")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(lambda: app.incidents.log.incident is None)
        await pilot.pause()
        assert bars_shown(app) == []
