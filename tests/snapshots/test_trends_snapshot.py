"""Layout snapshots of the Trends screen from a deterministic history (80x24 and 120x40)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engflow_tui.config import CapacityConfig, Config, ConsoleConfig, TargetConfig
from engflow_tui.history.store import HistorySample
from engflow_tui.history.worker import StoreThread
from engflow_tui.model import DbState, Health, Snapshot, Unavailable
from engflow_tui.monitor import Monitor
from engflow_tui.ui.app import EngFlowApp

from ..fixed_source import FixedSource
from ..pg import wait_for

os.environ["TZ"] = "UTC"
time.tzset()

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
GB = 1024**3
TABLES = ("anexos", "orcamentos_historico", "clientes", "projetos", "itens_orcamento")


def history(path: Path) -> StoreThread:
    """Nine days of hourly samples: a database growing 0.1 GB a day, connections creeping up,
    a daily traffic pattern."""
    store = StoreThread(path, clock=lambda: NOW)
    for h in range(9 * 24, -1, -1):
        t, age = NOW - timedelta(hours=h), 216 - h
        values = {
            ("db.size", ""): 5 * GB + age * 0.004 * GB,
            ("conn.total", ""): 40 + age * 0.1 + h % 24,
            ("conn.max", ""): 100.0,
            ("xact.commit", ""): 3600.0 * (1 + (h % 24) / 10),
            ("xact.rollback", ""): 30.0,
            ("blocks.hit", ""): 9900.0,
            ("blocks.read", ""): 100.0 + h % 7,
            ("users.active", ""): 300.0 + (h % 24) * 5,
        }
        for i, name in enumerate(TABLES):
            values[("table.size", f"public.{name}")] = (1 + i) * 0.2 * GB + age * 0.001 * GB / (
                i + 1
            )
        store.submit(lambda s, t=t, v=values: s.write(HistorySample(t, 3600.0, v)))
    store.submit(lambda s: s.maintain())
    return store


class Unreachable(FixedSource):
    """A database that does not answer: nothing to sample, no alert but the disabled one."""

    def __init__(self) -> None:
        down = Unavailable("database down")
        super().__init__(Snapshot("production", NOW, Health(state=DbState.DOWN), down, down, down))


def make_app(path: Path) -> EngFlowApp:
    store = history(path)
    target = TargetConfig(name="production", dsn="postgresql://ops@db.example.com/postgres")
    config = Config(
        console=ConsoleConfig(refresh_interval=60.0),
        capacity=CapacityConfig(storage_limit=8 * GB),
        targets={"production": target},
        # The source stands for a down database (it stores nothing): no toast over the screen.
        alerts={"database_down": {"enabled": False}},
    )
    return EngFlowApp(
        config,
        target,
        monitor_factory=lambda c, t: Monitor(Unreachable(), c, t, history_store=store),
    )


async def _days(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)
    await pilot.press("H")
    await wait_for(lambda: getattr(app.screen, "loads", 0) >= 1)
    await pilot.press("d")
    await wait_for(lambda: getattr(app.screen, "loads", 0) >= 2)
    await pilot.pause()


class TestTrends:
    @pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
    def test_trends_days(self, snap_compare, size, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        assert snap_compare(make_app(tmp_path / "h.sqlite"), terminal_size=size, run_before=_days)
