"""A monitor = one target's collectors (database, HTTP probes, host metrics) + the alert engine:
what the dashboard and ``diagnose`` poll. Webhook notifications are queued, never awaited here.

Must not import Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from .alerts.engine import AlertEngine, AlertStore
from .alerts.metrics import MetricHistory, Metrics, derive
from .alerts.notify import Notifier
from .alerts.rules import load_rules
from .authority import AlertingState, decide
from .config import Config, TargetConfig
from .model import (
    AlertEvent,
    Authority,
    DbState,
    HostMetrics,
    HttpProbe,
    PollResult,
    Snapshot,
    Unavailable,
)


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
        history_store: Any = None,
        watcher: bool = False,
    ) -> None:
        self.source = source
        self.config = config
        self.target = target
        store = AlertStore(alert_store_path(config, target)) if persist_alerts else None
        self.engine = AlertEngine(
            load_rules(dict(config.alerts), thresholds=config.thresholds),
            store,
            config.notifications.repeat_interval,
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
        self._fresh = False
        """HTTP results finished since the last poll took them."""
        self._outside_task: asyncio.Task[None] | None = None
        self._wake_outside = asyncio.Event()
        self.notices: list[str] = []
        """One-line problems the UI should show once (failed webhooks, unreadable history)."""
        self.notifier = Notifier(
            config.notifications.webhooks, target.name, report=self.notices.append
        )
        self.events: list[AlertEvent] = []
        """The alert events of the last poll (fired, resolved, repeat)."""
        self.alerting = AlertingState(notifying=True, watcher=watcher)
        """Whether this monitor sends notifications: not while a watcher holds the target's
        alerting lock (engflow_tui/authority.py); a watcher's monitor takes it."""
        self.latest: Snapshot | None = None
        """The last snapshot polled, with its alerts (checklist verifications read it)."""
        self.metrics: Metrics = {}
        """What the alert rules read from the last poll."""
        if store is not None and store.problem:
            self.notices.append(store.problem)
        # The local metrics store (issue 9): the Sampler turns snapshots into samples, the
        # StoreThread writes them off the poll loop; both optional (tests, diagnose).
        from .history.sampler import Sampler

        self.sampler = Sampler(
            config.history.sample_interval,
            config.history.size_interval,
            table_interval=config.history.size_interval,
        )
        self.history_store = history_store
        self._pending: dict[str, Any] = {}
        self._baselines: Any = None
        self._next_maintain: datetime | None = None
        self._next_baselines: datetime | None = None
        if history_store is not None:
            from .history.sampler import SPARK_SERIES, spark_points_from_store

            def seed(store: Any) -> Any:
                now = store.clock()
                start = now - timedelta(hours=1)
                return spark_points_from_store(
                    {
                        f"{m}|": store.series(m, "", start, now + timedelta(seconds=1), tier=0)
                        for m in SPARK_SERIES
                    }
                )

            self._pending["seed"] = history_store.submit(seed)

    def _start_outside(self) -> None:
        """Start the HTTP probes' own task (once, inside the running loop)."""
        if self._outside_task is None and (self.prober is not None or self.scraper is not None):
            self._outside_task = asyncio.create_task(
                self._outside_loop(), name=f"http probes {self.target.name}"
            )

    async def _outside(self) -> None:
        """One round of the HTTP probes and the host scrape, each bounded by its deadline."""
        http, host = await asyncio.gather(
            self.prober.probe() if self.prober else _none(()),
            self.scraper.scrape() if self.scraper else _none(None),
        )
        # Counted once, by the poll after it finished (alerts.metrics.sample_of).
        self._http, self._host, self._fresh = http, host, True

    async def _outside_loop(self) -> None:
        """The HTTP probes on their own cadence, never inside a poll: a slow or dripping endpoint
        delays only its own results, never the database's. Sleeps after each finished round, so
        rounds never overlap."""
        while True:
            self._wake_outside.clear()
            try:
                await self._outside()
            except Exception as exc:  # noqa: BLE001 - probes never raise; a bug must not stop them
                notice = f"HTTP probes failed: {type(exc).__name__}: {exc}"[:200]
                if notice not in self.notices:
                    self.notices.append(notice)
            # At least a second apart: http_interval = 0 must not hammer the endpoints.
            pause = max(self.config.console.http_interval, 1.0)
            with contextlib.suppress(TimeoutError):  # the interval passed: the next round
                await asyncio.wait_for(self._wake_outside.wait(), pause)

    async def poll(self, *, wait_for_http: bool = False) -> PollResult:
        """Collect a snapshot, with the latest finished HTTP results, evaluate the alerts, and
        return what every front end reads (PollResult: the snapshot and its alerts, this poll's
        alert events, the notices to show once). It never waits on HTTP, unless
        ``wait_for_http`` (one-shot readers: diagnose, checklist run) asks to run one round of
        the probes beside the collection, bounded by their deadline."""
        if wait_for_http and self._outside_task is None:
            snapshot, _ = await asyncio.gather(self.source.collect(), self._outside())
        else:
            self._start_outside()
            snapshot = await self.source.collect()
        fresh, self._fresh = self._fresh, False
        snapshot = replace(snapshot, http=self._http, host=self._host)
        self.history.add(snapshot, fresh_http=fresh)
        self._feed_history(snapshot, fresh)
        metrics = self.metrics = derive(
            self.history, snapshot, self.config.thresholds, self._baselines
        )
        self.events = self.engine.evaluate(metrics, snapshot.taken_at)
        alerts = self.engine.alerts()
        self._decide_alerting(snapshot)
        if self.alerting.notifying:
            if self.events:
                self.notifier.send(self.events)
            self.notifier.refresh_alertmanager(
                tuple(a for a in alerts if a.state == "firing"), snapshot.taken_at
            )
        if (
            self.engine.store is not None
            and self.engine.store.problem
            and self.engine.store.problem not in self.notices
        ):
            self.notices.append(self.engine.store.problem)
        self.latest = replace(
            snapshot, alerts=alerts, sparklines=self.sampler.sparklines()
        )
        return self._result(self.latest, tuple(self.events), tuple(self.take_notices()))

    def _decide_alerting(self, snapshot: Snapshot) -> None:
        """Who notifies, from this poll's reading of the alerting lock (if it read it); a
        change is said once (a notice)."""
        reading = snapshot.authority if isinstance(snapshot.authority, Authority) else None
        if reading is not None and reading.note:
            self.notices.append(reading.note)
        before = self.alerting
        self.alerting = decide(
            before,
            reading,
            snapshot.taken_at,
            database_readable=snapshot.health.state is not DbState.DOWN,
        )
        after = self.alerting
        if before.notifying != after.notifying or (
            not after.notifying
            and before.holder is not None
            and after.holder is not None
            and before.holder.holder_pid != after.holder.holder_pid
        ):
            if after.notifying and before.holder is not None and not before.watcher:
                text = f"the watcher on {before.holder.host} is gone: this console notifies again"
            else:
                text = f"alerts: {after.describe()}" + (
                    " sends the notifications" if not after.notifying else ""
                )
            self.notices.append(text)

    def result(self) -> PollResult:
        """The latest snapshot as a PollResult, its alerts as the engine holds them now (an
        acknowledgement since the poll changed them)."""
        assert self.latest is not None, "result() before the first poll"
        return self._result(replace(self.latest, alerts=self.engine.alerts()))

    def _result(
        self,
        snapshot: Snapshot,
        events: tuple[AlertEvent, ...] = (),
        notices: tuple[str, ...] = (),
    ) -> PollResult:
        return PollResult(
            snapshot, events, notices, tuple(self.engine.recent()), alerting=self.alerting
        )

    def _feed_history(self, snapshot: Snapshot, fresh: bool) -> None:
        """Sample the snapshot into the store (never waits on disk), collect finished reads."""
        sample = self.sampler.feed(snapshot, fresh_http=fresh)
        store = self.history_store
        if store is None:
            return
        seed = self._pending.get("seed")
        if seed is not None and seed.done():
            del self._pending["seed"]
            if seed.exception() is None and seed.result():
                self.sampler.seed(seed.result())
        baselines = self._pending.get("baselines")
        if baselines is not None and baselines.done():
            del self._pending["baselines"]
            if baselines.exception() is None:
                self._baselines = baselines.result()
        if sample is not None:
            store.submit(lambda s: s.write(sample))
        now = snapshot.taken_at
        if self._next_maintain is None or now >= self._next_maintain:
            self._next_maintain = now + timedelta(hours=1)
            store.submit(lambda s: s.maintain())
        if (self._next_baselines is None or now >= self._next_baselines) and (
            "baselines" not in self._pending
        ):
            from .history.activity import alert_baselines

            self._next_baselines = now + timedelta(minutes=10)
            self._pending["baselines"] = store.submit(lambda s: alert_baselines(s, now))
        for problem in store.take_problems():
            if problem not in self.notices:
                self.notices.append(problem)

    async def user_activity(self, now: datetime | None = None) -> Any:
        """Active users vs their 7-day baseline from the history store (history.activity.Activity),
        or None without a store — for the checklists' automatic items."""
        from .history.activity import user_activity

        if self.history_store is None:
            return None
        at = now or datetime.now(UTC)
        return await self.history_store.ask(lambda s: user_activity(s, at))

    async def crud_per_hour(self, now: datetime | None = None) -> Any:
        """Rows written per hour per table vs their 7-day baselines (list of
        history.activity.TableCrud, busiest first), or None without a store."""
        from .history.activity import crud_per_hour

        if self.history_store is None:
            return None
        at = now or datetime.now(UTC)
        return await self.history_store.ask(lambda s: crud_per_hour(s, at))

    def take_notices(self) -> list[str]:
        notices, self.notices[:] = list(self.notices), []
        return notices

    def acknowledge(self, *keys: str) -> PollResult | None:
        """Acknowledge firing alerts (repeats silenced, they stay listed): the latest result
        with its alerts as they are now, or None when none of ``keys`` was firing."""
        done = [key for key in keys if self.engine.acknowledge(key)]
        if not done or self.latest is None:
            return None
        return self.result()

    def force_refresh(self) -> None:
        self._wake_outside.set()
        self.source.force_refresh()

    def set_session_filter(self, text: str) -> None:
        """Ask the source for the sessions containing ``text`` (sources without a server-side
        filter, such as a replay, keep shipping what they have: the panel filters those)."""
        setter = getattr(self.source, "set_session_filter", None)
        if setter is not None:
            setter(text)

    async def close(self, drain: float = 0.0) -> None:
        """Stop probing and close everything; ``drain`` seconds are given to notifications
        still queued (a watcher stopping: what fired last still goes out)."""
        self.engine.flush()
        task, self._outside_task = self._outside_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if drain > 0:
            await self.notifier.drain(drain)
        await self.notifier.close()
        if self.prober is not None:
            await self.prober.close()
        if self.scraper is not None:
            await self.scraper.close()
        await self.source.close()
        if self.history_store is not None:
            await asyncio.to_thread(self.history_store.close)


def history_store_for(config: Config, target: TargetConfig) -> Any:
    """The target's store thread, or None when [history] enabled = false."""
    if not config.history.enabled:
        return None
    from .history.store import store_path
    from .history.worker import StoreThread

    return StoreThread(store_path(config.console.state_dir, target.name), config.history)


def live_monitor(
    config: Config,
    target: TargetConfig,
    *,
    source: Any = None,
    watcher: bool = False,
    **kwargs: object,
) -> Monitor:
    """The target's monitor; ``source`` is its collector when one was built beforehand (see
    ``threaded_collector``), else a PostgresCollector on the caller's loop."""
    if source is None:
        from .collectors.postgres import PostgresCollector

        source = PostgresCollector(target, config, **kwargs)  # type: ignore[arg-type]
    return Monitor(
        source,
        config,
        target,
        persist_alerts=True,
        history_store=history_store_for(config, target),
        watcher=watcher,
    )


def watch_monitor(config: Config, target: TargetConfig) -> Monitor:
    """A watcher's monitor (``engflow-tui watch``): its collector takes the target's alerting
    lock, under an application_name naming the watcher and its host (authority.py)."""
    from .authority import watcher_application_name

    return live_monitor(
        config,
        target,
        watcher=True,
        light_first_cycle=False,
        claim_authority=True,
        application_name=watcher_application_name(),
    )


def threaded_collector(config: Config, target: TargetConfig) -> Any:
    """The console's collector: on a loop and thread of its own (collectors.threaded), its
    first collect already under way. Called before the UI is imported, it connects and reads
    while the UI loads."""
    from .collectors.threaded import ThreadedSource

    def make() -> Any:
        from .collectors.postgres import PostgresCollector  # asyncpg: imported in the thread

        return PostgresCollector(target, config)

    return ThreadedSource(make, name=f"collector {target.name}").start()


def console_monitor(config: Config, target: TargetConfig) -> Monitor:
    """The console's monitor: its collector on a thread of its own."""
    return live_monitor(config, target, source=threaded_collector(config, target))


def console_monitors(
    config: Config, target: TargetConfig | None
) -> Callable[[Config, TargetConfig], Monitor]:
    """A monitor factory for the console whose first target's collector starts now: called
    before the UI is imported, the first connection and query overlap its loading."""
    early = {target.name: threaded_collector(config, target)} if target is not None else {}

    def factory(config: Config, target: TargetConfig) -> Monitor:
        source = early.pop(target.name, None)
        if source is None:
            return console_monitor(config, target)
        return live_monitor(config, target, source=source)

    return factory
