"""The footer at 80 columns: when the keys do not fit, nothing of them shows through beside the
command-palette key at the right edge (it read `▏^p palettep`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engflow_tui.config import Config, ConsoleConfig, IncidentsConfig, TargetConfig
from engflow_tui.monitor import Monitor
from engflow_tui.screens.incident_screen import IncidentScreen
from engflow_tui.ui.app import EngFlowApp

from ..fixed_source import FixedSource
from ..pg import wait_for


def make_app(tmp_path: Path) -> EngFlowApp:
    target = TargetConfig(name="production", dsn="postgresql://ops@db.example.com/postgres")
    config = Config(
        console=ConsoleConfig(refresh_interval=60.0, operator="ana", state_dir=str(tmp_path)),
        incidents=IncidentsConfig(state_file=str(tmp_path / "incident.json")),
        targets={"production": target},
    )
    return EngFlowApp(config, target, monitor_factory=lambda c, t: Monitor(FixedSource(), c, t))


def footer_row(app: EngFlowApp) -> str:
    """The bottom row of the terminal as drawn."""
    return app.screen._compositor.render_strips()[-1].text


def assert_palette_key_ends_the_row(row: str) -> None:
    assert "▏^p palette" in row, row
    after = row.split("▏^p palette", 1)[1]
    assert after.strip() == "", f"{after!r} drawn right of the palette key: {row!r}"


@pytest.mark.parametrize(
    "panel", ["connections-panel", "rls-panel", "alerts-panel", "slow-queries-panel"]
)
async def test_dashboard_footer_at_80_columns(tmp_path: Path, panel: str) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        app.dashboard.focus_panel(panel)  # type: ignore[union-attr]
        await pilot.pause()
        await pilot.pause()
        assert_palette_key_ends_the_row(footer_row(app))


async def test_incident_screen_footer_at_80_columns_does_not_bleed(tmp_path: Path) -> None:
    """The Incident screen's keys overflow 80 columns: the row still ends with the palette key."""
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        app.incidents.log.declare("Database unreachable", 1, "every user", "ana", "production")
        app.incidents.changed()
        await pilot.press("I")
        await wait_for(lambda: isinstance(app.screen, IncidentScreen))
        await pilot.pause()
        await pilot.pause()
        assert_palette_key_ends_the_row(footer_row(app))
