"""A monitor = one target's collectors (database, HTTP probes, host metrics) + the alert engine:
what the dashboard and ``diagnose`` poll. Webhook notifications are queued, never awaited here.

Must not import Textual.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from .alerts.engine import AlertEngine, AlertEvent, AlertStore
from .alerts.metrics import MetricHistory, Metrics, derive
from .alerts.notify import Notifier
from .alerts.rules import load_rules
from .config import Config, TargetConfig
from .model import HostMetrics, HttpProbe, Snapshot, Unavailable


class SnapshotSource(Protocol):
    """Anything that yields snapshots: the live collector, or a fixed one for layout tests."""

    async def collect(self) -> Snapshot: ...

    async def close(self) -> None: ...

    def force_refresh(self) -> None: ...


async def _none(value: Any) -> Any:
    return value


def alert_store_path(config: Config, target: TargetConfig) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", target.name)
    return Path(config.console.state_dir).expanduser() / f"alerts-{safe}.json"


class Monitor:
    def __init__(
        self,
        source: SnapshotSource,
        config: Config,
        target: TargetConfig,
        *,
        persist_alerts: bool = False,
        monotonic: object = time.monotonic,
    ) -> None:
        self.source = source
        self.config = config
        self.target = target
        self._monotonic = monotonic
        store = AlertStore(alert_store_path(config, target)) if persist_alerts else None
        self.engine = AlertEngine(
            load_rules(dict(config.alerts)), store, config.notifications.repeat_interval
        )
        self.history = MetricHistory()
        # httpx and prometheus-client are imported only when a target uses them (startup time).
        self.prober: Any = None
        self.scraper: Any = None
        if target.rest_url or target.app_health_url:
            from .collectors.http import HttpProber

            self.prober = HttpProber(target, config.console.http_timeout)
        if target.metrics_url:
            from .collectors.host import HostScraper

            self.scraper = HostScraper(target, config.console.http_timeout)
        self._http: tuple[HttpProbe, ...] = ()
        self._host: HostMetrics | Unavailable | None = None
        self._next_http = float("-inf")
        self.notices: list[str] = []
        """One-line problems the UI should show once (failed webhooks, unreadable history)."""
        self.notifier = Notifier(
            config.notifications.webhooks, target.name, report=self.notices.append
        )
        self.events: list[AlertEvent] = []
        """The alert events of the last poll (fired, resolved, repeat)."""
        self.latest: Snapshot | None = None
        """The last snapshot polled, with its alerts (checklist verifications read it)."""
        self.metrics: Metrics = {}
        """What the alert rules read from the last poll."""
        if store is not None and store.problem:
            self.notices.append(store.problem)

    async def _outside(self) -> bool:
        """Run the HTTP probes and the host scrape when due; True when they ran."""
        now = self._monotonic()  # type: ignore[operator]
        if now < self._next_http or (self.prober is None and self.scraper is None):
            return False
        self._next_http = now + self.config.console.http_interval
        http, host = await asyncio.gather(
            self.prober.probe() if self.prober else _none(()),
            self.scraper.scrape() if self.scraper else _none(None),
        )
        self._http, self._host = http, host
        return True

    async def poll(self) -> Snapshot:
        snapshot, fresh = await asyncio.gather(self.source.collect(), self._outside())
        snapshot = replace(snapshot, http=self._http, host=self._host)
        self.history.add(snapshot, fresh_http=fresh)
        metrics = self.metrics = derive(self.history, snapshot, self.config.thresholds)
        self.events = self.engine.evaluate(metrics, snapshot.taken_at)
        if self.events:
            self.notifier.send(self.events)
        self.notifier.refresh_alertmanager(
            tuple(a for a in self.engine.alerts() if a.state == "firing"), snapshot.taken_at
        )
        if (
            self.engine.store is not None
            and self.engine.store.problem
            and self.engine.store.problem not in self.notices
        ):
            self.notices.append(self.engine.store.problem)
        self.latest = replace(snapshot, alerts=self.engine.alerts())
        return self.latest

    def take_notices(self) -> list[str]:
        notices, self.notices[:] = list(self.notices), []
        return notices

    def acknowledge(self, key: str) -> bool:
        return self.engine.acknowledge(key)

    def force_refresh(self) -> None:
        self._next_http = float("-inf")
        self.source.force_refresh()

    async def close(self) -> None:
        await self.notifier.close()
        if self.prober is not None:
            await self.prober.close()
        if self.scraper is not None:
            await self.scraper.close()
        await self.source.close()


def live_monitor(config: Config, target: TargetConfig, **kwargs: object) -> Monitor:
    from .collectors.postgres import PostgresCollector

    return Monitor(PostgresCollector(target, config, **kwargs), config, target, persist_alerts=True)  # type: ignore[arg-type]
