"""Layout snapshots of the dashboard from deterministic records (80x24 and a large terminal)."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.model import HttpProbe, Snapshot
from engflow_tui.monitor import Monitor
from engflow_tui.ui.app import EngFlowApp

from ..fixed_source import FixedSource, sample_snapshot
from ..pg import wait_for

os.environ["TZ"] = "UTC"
time.tzset()


def with_probes() -> Snapshot:
    """The demo's case: the REST API and the app's /health probed, two more health rows."""
    return replace(
        sample_snapshot(),
        http=(
            HttpProbe("api", "https://api.example.com/rest/v1", "ok", "HTTP 200", 77.0, 200),
            HttpProbe("app", "https://app.example.com/health", "ok", "healthy", 59.0, 200, "2.0.0"),
        ),
    )


def make_app(snapshot: Snapshot | None = None) -> EngFlowApp:
    target = TargetConfig(
        name="production", dsn="postgresql://ops_monitor:s3cret@db.example.com:5432/postgres"
    )
    config = Config(console=ConsoleConfig(refresh_interval=60.0), targets={"production": target})
    return EngFlowApp(
        config, target, monitor_factory=lambda c, t: Monitor(FixedSource(snapshot), c, t)
    )


async def _first_snapshot(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_for(
        lambda: pilot.app.dashboard is not None and pilot.app.dashboard.snapshots_applied >= 1
    )
    await pilot.pause()


class TestDashboard:
    @pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
    def test_dashboard(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(make_app(), terminal_size=size, run_before=_first_snapshot)

    @pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
    def test_dashboard_with_probes(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        """At 80x24 the health panel gives way (its size and 1h rows), never the RLS panel:
        three table rows each for Connections and RLS."""
        assert snap_compare(
            make_app(with_probes()), terminal_size=size, run_before=_first_snapshot
        )

    def test_80x24_keeps_three_rows_for_connections_and_rls(self) -> None:
        import asyncio

        from engflow_tui.widgets.incident_bar import IncidentBar

        async def rows() -> list[tuple[int, int]]:
            app = make_app(with_probes())
            out = []
            async with app.run_test(size=(80, 24)) as pilot:
                await _first_snapshot(pilot)
                for bar in (False, True):
                    if bar:  # an incident's bar takes a line
                        await app.dashboard.mount(IncidentBar(), before="#status-line")
                    await pilot.pause()
                    await pilot.pause()
                    conns = app.dashboard.query_one("#connections-panel").table
                    rls = app.dashboard.query_one("#rls-panel").table
                    out.append((conns.size.height - 1, rls.size.height - 1))  # less headers
            return out

        for connections, rls in asyncio.run(rows()):
            assert connections >= 3
            assert rls >= 3

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
