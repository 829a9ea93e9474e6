"""Layout snapshots of the dashboard from deterministic records (80x24 and a large terminal)."""

from __future__ import annotations

import os
import time

import pytest

from engflow_tui.app import EngFlowApp
from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.monitor import Monitor

from ..fixed_source import FixedSource
from ..pg import wait_for

os.environ["TZ"] = "UTC"
time.tzset()


def make_app() -> EngFlowApp:
    target = TargetConfig(
        name="production", dsn="postgresql://ops_monitor:s3cret@db.example.com:5432/postgres"
    )
    config = Config(console=ConsoleConfig(refresh_interval=60.0), targets={"production": target})
    return EngFlowApp(config, target, monitor_factory=lambda c, t: Monitor(FixedSource(), c, t))


async def _first_snapshot(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_for(
        lambda: pilot.app.dashboard is not None and pilot.app.dashboard.snapshots_applied >= 1
    )
    await pilot.pause()


class TestDashboard:
    @pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
    def test_dashboard(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(make_app(), terminal_size=size, run_before=_first_snapshot)

    def test_password_never_on_screen(self) -> None:
        import asyncio

        async def run() -> str:
            app = make_app()
            async with app.run_test(size=(160, 45)) as pilot:
                await _first_snapshot(pilot)
                return app.export_screenshot()

        svg = asyncio.run(run())
        assert "s3cret" not in svg
        assert "ops_monitor:***@db.example.com" in svg.replace("&#160;", " ")
