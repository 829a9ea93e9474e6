"""Record a real database with `record`, then replay it: the panels show what was recorded, the
time cursor moves with real keys, actions are refused."""

from __future__ import annotations

import io
from pathlib import Path

from engflow_tui.cli.history import record
from engflow_tui.config import Config, ConsoleConfig, TargetConfig
from engflow_tui.history.recording import Recording
from engflow_tui.history.replay import replay_setup
from engflow_tui.ui.replay import ReplayApp
from engflow_tui.widgets.connections_panel import ConnectionsPanel
from engflow_tui.widgets.health_panel import HealthPanel

from ..pg import session, wait_for
from .helpers import static_text, table_dicts


async def test_record_then_replay_with_a_time_cursor(db18, tmp_path: Path) -> None:
    target = TargetConfig(name="prod-test", dsn=db18.dsn())
    config = Config(
        console=ConsoleConfig(refresh_interval=0.2, state_dir=str(tmp_path)),
        targets={"prod-test": target},
    )
    rec = tmp_path / "incident.rec"
    log = io.StringIO()
    # Frame 1: a batch job holds a transaction open; frame 2: it is gone, a report runs instead.
    async with session(db18.dsn(), "batch-0312") as batch:
        await batch.execute("BEGIN; SELECT 1")
        assert await record(config, target, rec, frames=1, out=log) == 1
    async with session(db18.dsn(), "report-0313"):
        assert await record(config, target, rec, frames=1, out=log) == 1
    assert "1 snapshots recorded in" in log.getvalue()

    recording = Recording(rec)
    assert len(recording) == 2 and recording.target == "prod-test"
    first, second = recording.snapshot(0), recording.snapshot(1)

    replay_config, replay_target, recording = replay_setup(str(rec), config)
    app = ReplayApp(replay_config, replay_target, recording)
    async with app.run_test(size=(140, 45)) as pilot:

        def apps() -> set[str]:
            table = app.screen.query_one(ConnectionsPanel).table
            return {row["application"] for row in table_dicts(table)}

        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        await pilot.pause()
        assert "batch-0312" in apps() and "report-0313" not in apps()
        line = static_text(app.screen.query_one("#replay-line"))  # type: ignore[arg-type]
        assert "REPLAY" in line and "frame 1/2" in line
        assert first.taken_at.astimezone().strftime("%H:%M:%S") in line
        assert "READ-ONLY" in static_text(app.screen.query_one("#status-line"))  # type: ignore[arg-type]

        await pilot.press("right")
        await wait_for(lambda: "report-0313" in apps())
        assert "batch-0312" not in apps()
        assert "frame 2/2" in static_text(app.screen.query_one("#replay-line"))  # type: ignore[arg-type]
        health = static_text(app.screen.query_one(HealthPanel))
        assert "CONNECTED" in health

        # Seek back to the first frame's second with g (the last frame at or before it, or the
        # first frame when none is).
        await pilot.press("g")
        await pilot.press(*first.taken_at.astimezone().strftime("%H:%M:%S"))
        await pilot.press("enter")
        await wait_for(lambda: "batch-0312" in apps())
        assert second.taken_at > first.taken_at

        # Actions are refused: the panels are read-only.
        await pilot.press("T")
        await pilot.pause()
        assert any("read-only" in str(n.message) for n in app._notifications)


async def test_replay_alerts_are_the_recorded_ones(tmp_path: Path) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from textual.widgets import DataTable

    from engflow_tui.history.recording import RecordingWriter
    from engflow_tui.model import Alert, Severity
    from engflow_tui.screens.alerts_screen import AlertsScreen

    from ..fixed_source import sample_snapshot

    at = datetime(2026, 11, 29, 3, 12, tzinfo=UTC)
    rec = tmp_path / "r.rec"
    writer = RecordingWriter(rec, "production")
    cpu = Alert("high_cpu", "high_cpu", Severity.WARNING, "High CPU", "CPU 93 %", 93.0, 80.0, at)
    writer.add(replace(sample_snapshot(), taken_at=at))
    writer.add(replace(sample_snapshot(), taken_at=at + timedelta(seconds=2), alerts=(cpu,)))
    writer.close()
    config, target, recording = replay_setup(str(rec), Config())
    app = ReplayApp(config, target, recording)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        await pilot.press("greater_than_sign")
        await wait_for(lambda: app.replay_source.index == 1 and app.dashboard.snapshot.alerts)  # type: ignore[union-attr]
        await pilot.press("less_than_sign", "plus", "space")
        line = static_text(app.screen.query_one("#replay-line"))  # type: ignore[arg-type]
        assert "▶ playing ×2" in line
        await pilot.press("space")
        await pilot.press("greater_than_sign")
        await wait_for(lambda: app.replay_source.index == 1)
        assert "paused" in static_text(app.screen.query_one("#replay-line"))  # type: ignore[arg-type]
        # The palette reaches the replay controls by name.
        await pilot.press("ctrl+p")
        await pilot.press(*"Replay: step back")
        await pilot.press("enter")
        await wait_for(lambda: app.replay_source.index == 0)
        await pilot.press("greater_than_sign")
        await wait_for(lambda: app.replay_source.index == 1)
        await pilot.press("A")
        await wait_for(lambda: isinstance(app.screen, AlertsScreen))
        await pilot.pause()
        cells = [
            str(c)
            for row in app.screen.query_one(DataTable).rows
            for c in app.screen.query_one(DataTable).get_row(row)
        ]
        assert any("High CPU" in c for c in cells)


def _recording_with_an_alert(tmp_path: Path) -> Path:
    """Two frames 2 s apart; the second has High CPU firing since the first (03:12)."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from engflow_tui.history.recording import RecordingWriter
    from engflow_tui.model import Alert, Severity

    from ..fixed_source import sample_snapshot

    at = datetime(2026, 11, 29, 3, 12, tzinfo=UTC)
    rec = tmp_path / "r.rec"
    writer = RecordingWriter(rec, "production")
    cpu = Alert("high_cpu", "high_cpu", Severity.WARNING, "High CPU", "CPU 93 %", 93.0, 80.0, at)
    cpu = replace(cpu, runbook="high_response_times")
    writer.add(replace(sample_snapshot(), taken_at=at))
    writer.add(replace(sample_snapshot(), taken_at=at + timedelta(seconds=125), alerts=(cpu,)))
    writer.close()
    return rec


async def test_replay_alert_since_is_the_frames_time_and_stays_while_paused(
    tmp_path: Path,
) -> None:
    """The alert fired at 03:12 and the frame is 03:14:05: "since" says 2m05s — on the
    dashboard and in the Alerts screen — and it does not grow while the replay is paused."""
    from textual.widgets import DataTable

    from engflow_tui.screens.alerts_screen import AlertsScreen
    from engflow_tui.widgets.alerts_panel import AlertsPanel

    config, target, recording = replay_setup(str(_recording_with_an_alert(tmp_path)), Config())
    config = replace_console(config, refresh_interval=0.05)
    app = ReplayApp(config, target, recording)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        await pilot.press("greater_than_sign")
        await wait_for(lambda: app.replay_source.index == 1 and app.dashboard.snapshot.alerts)  # type: ignore[union-attr]
        assert "paused" in static_text(app.screen.query_one("#replay-line"))  # type: ignore[arg-type]
        await pilot.pause()
        panel = app.screen.query_one(AlertsPanel)
        assert [r["since"].strip() for r in table_dicts(panel.table)] == ["2m05s"]
        await pilot.press("A")
        await wait_for(lambda: isinstance(app.screen, AlertsScreen))
        screen = app.screen
        polls = app.dashboard.snapshots_applied  # type: ignore[union-attr]
        # Paused: the poll loop goes on showing the same frame; the Alerts screen is refilled.
        await wait_for(lambda: app.dashboard.snapshots_applied >= polls + 3)  # type: ignore[union-attr]
        await pilot.pause()
        rows = table_dicts(screen.query_one("#active", DataTable))
        assert [r["since"] for r in rows] == ["2m05s"]


async def test_replay_footer_does_not_advertise_refused_keys(tmp_path: Path) -> None:
    """Terminate (x), Cancel (c), Enable RLS (e), ANALYZE / Acknowledge (a) and Idle tx (T)
    are refused in a replay: the footer does not offer them, on any panel; pressed, the key
    still says why nothing happens."""
    from textual.widgets import Button
    from textual.widgets._footer import FooterKey

    from engflow_tui.screens.alert_detail_modal import AlertDetailModal
    from engflow_tui.screens.alerts_screen import AlertsScreen

    config, target, recording = replay_setup(str(_recording_with_an_alert(tmp_path)), Config())
    app = ReplayApp(config, target, recording)
    refused = {"Terminate", "Cancel", "Enable RLS", "ANALYZE", "Acknowledge", "Idle tx"}

    def footer() -> set[str]:
        return {k.description for k in app.screen.query(FooterKey)}

    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        await pilot.press("greater_than_sign")
        await wait_for(lambda: app.replay_source.index == 1 and app.dashboard.snapshot.alerts)  # type: ignore[union-attr]
        for panel in ("connections-panel", "rls-panel", "alerts-panel", "slow-queries-panel"):
            app.dashboard.focus_panel(panel)  # type: ignore[union-attr]
            await pilot.pause()
            await pilot.pause()
            shown = footer()
            assert "Step ▶" in shown and "Seek" in shown, shown
            assert not shown & refused, (panel, shown & refused)
        app.dashboard.focus_panel("connections-panel")  # type: ignore[union-attr]
        await pilot.pause()
        await pilot.press("x")
        await wait_for(lambda: any("read-only" in str(n.message) for n in app._notifications))
        await pilot.press("A")
        await wait_for(lambda: isinstance(app.screen, AlertsScreen))
        await pilot.pause()
        assert "Acknowledge" not in footer() and "Critical" in footer()
        # The alert's runbook links: what a replay can show, not the live console's actions.
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, AlertDetailModal))
        buttons = [str(b.label) for b in app.screen.query(Button)]
        assert buttons == ["Show slow queries (1)", "Show connections (2)", "Close (Esc)"]


def replace_console(config: Config, **changes: object) -> Config:
    from dataclasses import replace

    return replace(config, console=replace(config.console, **changes))
