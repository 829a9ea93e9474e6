"""History in the UI: sparklines on the dashboard, the Trends screen, replay — real keys, what the
user sees."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engflow_tui.config import CapacityConfig, Config, ConsoleConfig, HistoryConfig, TargetConfig
from engflow_tui.history.store import HistorySample
from engflow_tui.history.worker import StoreThread
from engflow_tui.model import ConnectionStats, DbState, Health, Snapshot
from engflow_tui.monitor import Monitor
from engflow_tui.ui.app import EngFlowApp
from engflow_tui.widgets.connections_panel import ConnectionsPanel
from engflow_tui.widgets.health_panel import HealthPanel
from engflow_tui.widgets.sparkline import spark

from ..fixed_source import sample_snapshot
from ..pg import wait_for
from .helpers import static_text

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


class SteppingSource:
    """Each collect is one minute later: 600 more commits (10 TPS), 6 more rollbacks, and the
    connection counts of ``totals`` in turn."""

    def __init__(self, totals: list[int]) -> None:
        self.totals = totals
        self.i = 0

    async def collect(self) -> Snapshot:
        base = sample_snapshot()
        i = min(self.i, len(self.totals) - 1)
        self.i += 1
        conns = base.connections
        assert isinstance(conns, ConnectionStats)
        return replace(
            base,
            taken_at=T0 + timedelta(minutes=i),
            health=replace(
                base.health,
                xact_commit=1000 + 600 * i,
                xact_rollback=6 * i,
                blks_hit=1000 * i,
                blks_read=10 * i,
            ),
            connections=replace(conns, total=self.totals[i]),
        )

    async def close(self) -> None:
        return None

    def force_refresh(self) -> None:
        return None


class DownSource(SteppingSource):
    """A database that does not answer: the Monitor stores nothing, the prefilled history stays."""

    def __init__(self) -> None:
        super().__init__([0])

    async def collect(self) -> Snapshot:
        return replace(sample_snapshot(), taken_at=T0, health=Health(state=DbState.DOWN))


def test_spark_scales_and_buckets() -> None:
    assert spark([0, 1, 2, 3, 4, 5, 6, 7], 8, floor=0) == "▁▂▃▄▅▆▇█"
    assert spark([5, 5, 5], 8, floor=0) == "███"  # a flat 5 is drawn high above zero
    assert spark([5, 5, 5], 8) == "▅▅▅"  # no floor: mid-height
    assert spark([0, 0, 0], 4, floor=0) == "▁▁▁"
    assert spark(list(range(60)), 6, floor=0)[-1] == "█" and len(spark(list(range(60)), 6)) == 6
    assert spark([], 8) == ""


def make_app(source: SteppingSource, store: StoreThread | None = None) -> EngFlowApp:
    target = TargetConfig(name="production", dsn="postgresql://ops@db.example.com/postgres")
    config = Config(
        console=ConsoleConfig(refresh_interval=0.2),
        history=HistoryConfig(sample_interval=60),
        targets={"production": target},
    )
    return EngFlowApp(
        config,
        target,
        monitor_factory=lambda c, t: Monitor(source, c, t, history_store=store),
    )


async def test_dashboard_sparklines_follow_the_snapshots() -> None:
    source = SteppingSource([10, 20, 30, 40, 50, 60, 70, 80])
    app = make_app(source)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 8)
        await pilot.pause()
        health = static_text(app.screen.query_one(HealthPanel))
        assert "1h" in health
        assert "10.1/s" in health  # (600 commits + 6 rollbacks) / 60 s
        assert "err 6.0/min" in health
        summary = static_text(
            app.screen.query_one(ConnectionsPanel).query_one(".panel-summary")  # type: ignore[arg-type]
        )
        line = summary.split("1h ", 1)[1].strip()
        # seven samples with deltas (the first has none): 20..80 connections on a 0..80 scale
        assert line.split()[0] == "▃▄▅▅▆▇█"


class SameMinuteSource(SteppingSource):
    """Its first four snapshots are taken within the same minute: the history has no trend
    until the fifth, a minute later."""

    async def collect(self) -> Snapshot:
        snapshot = await super().collect()
        return replace(snapshot, taken_at=T0 + timedelta(minutes=max(0, self.i - 4)))


async def test_nothing_moves_on_the_dashboard_when_the_trend_arrives() -> None:
    # The health panel's "1h" row has its room from the first snapshot: when the trend arrives
    # (a minute into a fresh session) no panel moves under the operator's eyes, and the screen
    # is not laid out again.
    source = SameMinuteSource([10, 20, 30, 40, 50])
    target = TargetConfig(name="production", dsn="postgresql://ops@db.example.com/postgres")
    config = Config(
        console=ConsoleConfig(refresh_interval=30),
        history=HistoryConfig(sample_interval=60),
        targets={"production": target},
    )
    app = EngFlowApp(config, target, monitor_factory=lambda c, t: Monitor(source, c, t))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 2)
        await pilot.pause()
        health = app.screen.query_one(HealthPanel)
        panels = [health, *app.screen.query("#panels > *")]
        assert "1h collecting…" in static_text(health)
        before = [panel.region for panel in panels]
        while app.dashboard.snapshots_applied < 5:
            count = app.dashboard.snapshots_applied
            await pilot.press("r")  # the next snapshot now
            await wait_for(lambda n=count: app.dashboard.snapshots_applied > n)
        await pilot.pause()
        assert "collecting" not in static_text(health)
        assert "/s" in static_text(health)  # the trend is on screen
        assert [panel.region for panel in panels] == before


async def test_sparklines_start_from_the_stored_last_hour(tmp_path: Path) -> None:
    clock = [T0 + timedelta(minutes=30)]
    store = StoreThread(tmp_path / "h.sqlite", clock=lambda: clock[0])
    for minute in range(1, 30):
        store.submit(
            lambda s, m=minute: s.write(
                HistorySample(
                    T0 + timedelta(minutes=m),
                    60.0,
                    {
                        ("conn.total", ""): 99.0,
                        ("xact.commit", ""): 60.0,
                        ("xact.rollback", ""): 0.0,
                    },
                )
            )
        )
    source = SteppingSource([5])
    app = make_app(source, store)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            lambda: (
                app.dashboard is not None
                and app.dashboard.snapshot is not None
                and app.dashboard.snapshot.sparklines is not None
                and len(app.dashboard.snapshot.sparklines.connections) >= 29
            )
        )
        await pilot.pause()
        lines = app.dashboard.snapshot.sparklines  # type: ignore[union-attr]
        assert lines is not None and lines.connections[:29] == (99.0,) * 29
        assert lines.tps[0] == 1.0  # 60 commits a minute, from the store


async def test_trends_screen_shows_growth_and_projections(tmp_path: Path) -> None:
    from engflow_tui.screens.trends_screen import TrendsScreen

    now = T0
    clock = [now]
    store = StoreThread(tmp_path / "h.sqlite", clock=lambda: clock[0])
    gb = 1024**3
    for day in range(8, -1, -1):  # nine daily samples: the database grows 0.1 GB a day
        t = now - timedelta(days=day)
        values = {
            ("db.size", ""): 5 * gb + (8 - day) * 0.1 * gb,
            ("table.size", "public.anexos"): 1 * gb + (8 - day) * 0.1 * gb,
            ("table.size", "public.clientes"): 0.2 * gb,
            ("conn.total", ""): 50.0,
            ("conn.max", ""): 100.0,
        }
        store.submit(lambda s, t=t, v=values: s.write(HistorySample(t, 60.0, v)))
    target = TargetConfig(name="production", dsn="postgresql://ops@db.example.com/postgres")
    config = Config(
        console=ConsoleConfig(refresh_interval=0.2),
        capacity=CapacityConfig(storage_limit=8 * gb),
        targets={"production": target},
    )
    app = EngFlowApp(
        config,
        target,
        monitor_factory=lambda c, t: Monitor(DownSource(), c, t, history_store=store),
    )
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
        await pilot.press("H")
        await wait_for(lambda: isinstance(app.screen, TrendsScreen) and app.screen.loads >= 1)
        await pilot.press("d")
        await wait_for(lambda: app.screen.loads >= 2)  # type: ignore[attr-defined]
        await pilot.pause()
        text = static_text(app.screen.query_one("#trends-body"))  # type: ignore[arg-type]
        assert "Last 7 days" in text
        # 5.8 GB now, +3 GB/month (0.1 GB a day): 8 GB in 22 days.
        assert "5.8 GB" in text and "+3.0 GB/month" in text
        assert "limit 8.0 GB: in 22 days" in text
        assert "peak 50 of 100" in text and "not at the current trend" in text
        growers = text.split("Top growing tables", 1)[1]
        assert growers.index("public.anexos") < growers.index("public.clientes")
        await pilot.press("escape")
        assert app.screen is app.dashboard
        # The palette reaches it by the name.
        await pilot.press("ctrl+p")
        await pilot.press(*"Show trends")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, TrendsScreen))


async def test_connections_sparkline_stays_on_the_first_summary_line() -> None:
    """With hidden sessions the summary has a second line (the GRANT hint): the sparkline goes on
    the first one."""

    class Hidden(SteppingSource):
        async def collect(self) -> Snapshot:
            snap = await super().collect()
            assert isinstance(snap.connections, ConnectionStats)
            return replace(snap, connections=replace(snap.connections, hidden=3))

    app = make_app(Hidden([10, 20, 30, 40]))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 4)
        await pilot.pause()
        summary = static_text(
            app.screen.query_one(ConnectionsPanel).query_one(".panel-summary")  # type: ignore[arg-type]
        )
        first, second = summary.splitlines()[:2]
        assert "1h ▅▆█" in first  # 20, 30, 40 on a 0..40 scale
        assert second.startswith("3 sessions of other roles hidden")
