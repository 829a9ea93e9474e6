"""Layout snapshots of incident mode at 80x24 from deterministic records and a fixed clock."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.monitor import Monitor
from engflow_tui.ui.app import EngFlowApp

from ..fixed_source import FixedSource
from ..pg import wait_for

os.environ["TZ"] = "UTC"
time.tzset()

DECLARED = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def make_app(clock: list[datetime]) -> EngFlowApp:
    target = TargetConfig(name="production", dsn="postgresql://ops_monitor@db.example.com/postgres")
    config = Config(
        console=ConsoleConfig(refresh_interval=60.0, operator="ana"), targets={"production": target}
    )
    return EngFlowApp(
        config,
        target,
        monitor_factory=lambda c, t: Monitor(FixedSource(), c, t),
        incident_clock=lambda: clock[0],
    )


def declared_app(screen: str) -> tuple[EngFlowApp, object]:
    clock = [DECLARED]
    app = make_app(clock)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        # Two snapshots: the first one's alert toasts have all been posted (then cleared below).
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 2)
        # ... and the app's part of them (their alert events: no incident open yet). Here the
        # pilot starts before the app reads its first message: it must wait for them.
        await pilot.pause()
        log = app.incidents.log
        log.declare("Database unreachable", 1, "every user gets 500", "ana", "production")
        clock[0] = DECLARED + timedelta(minutes=1)
        log.note("failover requested from the provider")
        clock[0] = DECLARED + timedelta(minutes=4, seconds=10)  # 50 s left to acknowledge
        app.incidents.changed()
        if screen == "incident":
            await pilot.press("I")
        # The fixed snapshot's alert toasts are not what is shown here: every message of the
        # first two snapshots handled (their toasts posted), then cleared.
        await pilot.pause()
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return app, run_before


class TestIncident:
    def test_dashboard_with_the_incident_bar(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        app, run_before = declared_app("dashboard")
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_incident_screen(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        app, run_before = declared_app("incident")
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
