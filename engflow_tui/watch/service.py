"""``engflow-tui watch``: every target's monitor, headless, until stopped.

Per target: the console's monitor (one monitoring connection, the alert engine with its state
saved, the history sampler, the webhooks), its collector taking the target's alerting lock
(engflow_tui/authority.py) so that consoles stop notifying while it runs. One poll loop per
target: a target that is down is retried with the collector's backoff and alerted on
(*Database Down*); the others carry on. Beside them: /metrics and /healthz (watch/http.py), the
heartbeat for Alertmanager, JSON-line logs on stderr.

SIGTERM / SIGINT stop it cleanly (queued notifications get a few seconds, alert states and
history are saved); SIGHUP re-reads the config (targets added, removed or changed without a
restart; a config that does not load is logged and the running one kept). No Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .. import __version__
from ..config import Config, TargetConfig, is_loopback, parse_listen
from ..errors import ConfigError, EngflowError
from ..model import DbState, PollResult
from ..redact import redact_query
from ..textsafe import dumps
from .exposition import TargetFigures, WatchCollector
from .http import Endpoint, Reply

DRAIN = 5.0
"""Seconds queued notifications get when the watcher stops."""


class JsonLog:
    """One JSON object per line: ts, level, event, then the event's fields. ASCII only (every
    control character escaped), credentials in messages masked (redact)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr

    def __call__(self, level: str, event: str, **fields: Any) -> None:
        record: dict[str, Any] = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "event": event,
        }
        for key, value in fields.items():
            record[key] = redact_query(value) if isinstance(value, str) else value
        with contextlib.suppress(OSError, ValueError):  # stderr closed: nothing to say it on
            self.stream.write(dumps(record, ensure_ascii=True, default=str) + "\n")
            self.stream.flush()


@dataclass
class TargetWatch:
    target: TargetConfig
    monitor: Any
    figures: TargetFigures
    task: asyncio.Task[None] | None = None
    last_poll: float | None = None
    """time.monotonic() of the last finished poll."""
    state: DbState | None = None


@dataclass
class Watcher:
    """Runs until :meth:`stop`. ``load`` re-reads the config (SIGHUP); ``select`` picks the
    targets to watch from a config (default: all)."""

    config: Config
    load: Callable[[], Config] | None = None
    select: Callable[[Config], list[TargetConfig]] = lambda c: list(c.targets.values())
    log: JsonLog = field(default_factory=JsonLog)
    monitor_factory: Callable[[Config, TargetConfig], Any] | None = None
    host: str = field(default_factory=socket.gethostname)
    targets: dict[str, TargetWatch] = field(default_factory=dict)
    endpoint: Endpoint | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _started_mono: float = field(default_factory=time.monotonic)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _reloading: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One reload at a time: a burst of SIGHUPs must not start a target twice."""
    _reload_pending: bool = False
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _lock_file: Any = None

    # ------------------------------------------------------------------ running

    async def run(self) -> int:
        self._take_state_dir()
        loop = asyncio.get_running_loop()
        for sig, handler in (
            (signal.SIGTERM, self.stop),
            (signal.SIGINT, self.stop),
            (signal.SIGHUP, self.request_reload),
        ):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, handler)
        try:
            await self._start_endpoint()
            for target in self.select(self.config):
                self._start_target(target)
            self.log(
                "info",
                "watch_started",
                version=__version__,
                host=self.host,
                pid=os.getpid(),
                targets=sorted(self.targets),
                metrics=self.metrics_url,
                state_dir=self.config.watch.state_dir,
                refresh_s=self.config.console.refresh_interval,
            )
            self._tasks.append(asyncio.create_task(self._heartbeat(), name="heartbeat"))
            await self._stop.wait()
        finally:
            await self._shutdown()
        return 0

    @property
    def metrics_url(self) -> str | None:
        if self.endpoint is None:
            return None
        host = self.endpoint.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.endpoint.port}/metrics"

    def stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        """SIGHUP: one reload now, or one more after the running one (a burst is one)."""
        if self._reload_pending:
            return
        self._reload_pending = True
        self._tasks = [task for task in self._tasks if not task.done()]
        self._tasks.append(asyncio.create_task(self._reload_once(), name="reload"))

    async def _reload_once(self) -> None:
        async with self._reloading:
            self._reload_pending = False
            await self.reload()

    def _take_state_dir(self) -> None:
        """One watcher per state directory (its alert states and history files)."""
        import fcntl

        directory = Path(self.config.watch.state_dir).expanduser()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            handle = open(directory / "watch.lock", "a+", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(
                f"cannot use the state directory: {exc.strerror or exc}",
                str(directory),
                "watch.state_dir",
            ) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            other = handle.read().strip()[:20]
            handle.close()
            raise ConfigError(
                f"another engflow-tui watch uses this state directory (pid {other or '?'}): "
                "stop it, or give this one its own [watch] state_dir",
                str(directory),
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle

    async def _start_endpoint(self) -> None:
        listen = parse_listen(self.config.watch.metrics_listen)
        if listen is None:
            return
        host, port = listen
        if not is_loopback(host):
            self.log(
                "warning",
                "metrics_exposed",
                listen=self.config.watch.metrics_listen,
                message="/metrics and /healthz answer anyone who reaches this address, "
                "without TLS or authentication: put a TLS proxy or a firewall in front",
            )
        from .exposition import render

        info = {"version": __version__, "host": self.host}

        async def metrics() -> Reply:
            # The targets as they are now (taken on the loop), written in a thread: a scrape
            # does not wait for a poll's work on the loop, nor holds the polls up.
            figures = [t.figures.frozen() for t in self.targets.values()]
            cap = self.config.watch.max_subjects
            collector = WatchCollector(lambda: figures, lambda: cap, info)
            body = await asyncio.to_thread(lambda: render(collector.collect()))
            return Reply(200, body, "text/plain; version=0.0.4; charset=utf-8")

        self.endpoint = Endpoint(host, port, {"/metrics": metrics, "/healthz": self._healthz})
        try:
            await self.endpoint.start()
        except OSError as exc:
            self.endpoint = None
            raise ConfigError(
                f"cannot listen on {self.config.watch.metrics_listen}: {exc.strerror or exc}",
                None,
                "watch.metrics_listen",
            ) from None

    # ------------------------------------------------------------------ targets

    def _monitor_config(self, config: Config) -> Config:
        """The watcher keeps its alert states and history under [watch] state_dir."""
        return replace(config, console=replace(config.console, state_dir=config.watch.state_dir))

    def _start_target(self, target: TargetConfig) -> None:
        assert target.name not in self.targets, f"{target.name} is watched already"
        config = self._monitor_config(self.config)
        if self.monitor_factory is not None:
            monitor = self.monitor_factory(config, target)
        else:
            from ..monitor import watch_monitor

            monitor = watch_monitor(config, target)
        watch = TargetWatch(target, monitor, TargetFigures(target.name))
        watch.task = asyncio.create_task(self._poll_loop(watch), name=f"watch {target.name}")
        self.targets[target.name] = watch

    async def _stop_target(self, name: str) -> None:
        watch = self.targets.pop(name)
        if watch.task is not None:
            watch.task.cancel()
            await asyncio.gather(watch.task, return_exceptions=True)
        await watch.monitor.close(drain=DRAIN)
        queued = watch.monitor.notifier.undelivered
        if queued:
            self.log(
                "error",
                "notifications_dropped",
                target=name,
                message=f"{queued} notification message(s) still queued after {DRAIN:g} s: not sent",
            )

    async def _poll_loop(self, watch: TargetWatch) -> None:
        interval = self.config.console.refresh_interval
        while True:
            started = time.monotonic()
            try:
                result = await watch.monitor.poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one target's bug must not stop the rest
                # Not a poll: /healthz turns unhealthy, and the heartbeat stops, if it lasts.
                self.log(
                    "error",
                    "poll_failed",
                    target=watch.target.name,
                    message=f"{type(exc).__name__}: {exc}",
                )
            else:
                watch.figures.result = result
                watch.figures.poll_seconds = time.monotonic() - started
                watch.figures.polls += 1
                watch.figures.count_http(result)
                watch.last_poll = time.monotonic()
                self._log_result(watch, result)
            await asyncio.sleep(max(interval - (time.monotonic() - started), 0.0))

    def _log_result(self, watch: TargetWatch, result: PollResult) -> None:
        name = watch.target.name
        health = result.snapshot.health
        if health.state is not watch.state:
            if health.state is DbState.DOWN:
                self.log("error", "target_down", target=name, message=health.error or "down")
            elif watch.state is None or watch.state is DbState.DOWN:
                self.log(
                    "info",
                    "target_up",
                    target=name,
                    state=health.state.value,
                    server_version=health.server_version,
                )
            if health.state is DbState.DEGRADED:
                self.log("warning", "target_degraded", target=name, message=health.error or "")
            watch.state = health.state
        for event in result.events:
            alert = event.alert
            self.log(
                "warning" if event.kind != "resolved" else "info",
                f"alert_{event.kind}",
                target=name,
                rule=alert.rule,
                severity=alert.severity.value,
                subject=alert.subject,
                message=alert.message,
                notified=bool(result.alerting is None or result.alerting.notifying),
            )
        for notice in result.notices:
            self.log("warning", "notice", target=name, message=notice)

    # ------------------------------------------------------------------ health, heartbeat

    def _grace(self) -> float:
        """How long a poll may take to come: the first ones, and a stalled loop."""
        console = self.config.console
        return max(
            3 * console.refresh_interval,
            console.refresh_interval + console.connect_timeout + 10,
        )

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy when every target's poll loop finished a poll recently (a target that is
        down is a loop doing its job: it is reported, not unhealthy; a poll that raised is no
        poll)."""
        stale_after = self._grace()
        now = time.monotonic()
        targets: dict[str, Any] = {}
        healthy = True
        for name, watch in sorted(self.targets.items()):
            age = None if watch.last_poll is None else now - watch.last_poll
            fresh = age is not None and age <= stale_after
            healthy = healthy and fresh
            result = watch.figures.result
            alerting = result.alerting if result is not None else None
            targets[name] = {
                "polling": fresh,
                "last_poll_age_s": None if age is None else round(age, 3),
                "state": watch.state.value if watch.state is not None else "starting",
                "alerting": alerting.describe() if alerting is not None else "not known yet",
            }
        return healthy, {
            "status": "ok" if healthy else "unhealthy",
            "host": self.host,
            "targets": targets,
        }

    def _healthz(self) -> Reply:
        healthy, body = self.health()
        text = dumps(body, ensure_ascii=True) + "\n"
        return Reply(200 if healthy else 503, text.encode(), "application/json")

    async def _heartbeat(self) -> None:
        """The always-firing heartbeat to every Alertmanager webhook, every interval."""
        from ..alerts.notify import heartbeat_payload, webhook_url
        from ..httpbounded import Answer, mask_url, new_client, request

        failing: dict[str, bool] = {}
        withheld = False
        async with new_client(self.config.console.http_timeout) as client:
            while True:
                hooks = [h for h in self.config.notifications.webhooks if h.kind == "alertmanager"]
                interval = self.config.watch.heartbeat_interval
                healthy, body = self.health()
                started = time.monotonic() - self._started_mono
                if hooks and not healthy and started > self._grace():
                    # A watcher whose polls have stopped is as good as dead: its heartbeat
                    # lapses, and Alertmanager pages.
                    if not withheld:
                        self.log("error", "heartbeat_withheld", health=body)
                    withheld = True
                    await asyncio.sleep(interval)
                    continue
                if withheld:
                    self.log("info", "heartbeat_resumed")
                withheld = False
                now = datetime.now(UTC)
                payload = heartbeat_payload(
                    self.host, self.started_at, now, interval, len(self.targets)
                )
                for hook in hooks:
                    url = webhook_url(hook)
                    if url is None:
                        problem = f"environment variable {hook.url_env} is not set"
                    else:
                        answer = await request(
                            client,
                            "POST",
                            url,
                            json=payload,
                            deadline=self.config.console.http_timeout,
                        )
                        ok = isinstance(answer, Answer) and 200 <= answer.status < 300
                        problem = (
                            ""
                            if ok
                            else mask_url(
                                f"HTTP {answer.status}"
                                if isinstance(answer, Answer)
                                else answer.detail,
                                url,
                            )
                        )
                    if bool(problem) != failing.get(hook.url_env, False):
                        failing[hook.url_env] = bool(problem)
                        if problem:
                            self.log(
                                "error", "heartbeat_failed", webhook=hook.url_env, message=problem
                            )
                        else:
                            self.log("info", "heartbeat_ok", webhook=hook.url_env)
                await asyncio.sleep(interval)

    # ------------------------------------------------------------------ reload, shutdown

    async def reload(self) -> None:
        if self.load is None:
            self.log("warning", "reload_skipped", message="no config file to re-read")
            return
        try:
            config = self.load()
            wanted = {t.name: t for t in self.select(config)}
        except EngflowError as exc:
            self.log("error", "reload_failed", message=str(exc), kept=sorted(self.targets))
            return
        fixed = {"metrics_listen", "state_dir"}  # bound at start: the listener, the state lock
        moved = sorted(
            k for k in fixed if getattr(config.watch, k) != getattr(self.config.watch, k)
        )
        if moved:
            self.log(
                "warning",
                "reload_partial",
                message=f"{', '.join(f'watch.{k}' for k in moved)}: changes take a restart; "
                "the rest is applied",
            )
        keep = {k: getattr(self.config.watch, k) for k in fixed}
        config = replace(config, watch=replace(config.watch, **keep))
        common = replace(config, targets={}, path=None)
        before = replace(self.config, targets={}, path=None)
        restart_all = common != before
        self.config = config
        removed = [n for n in self.targets if n not in wanted]
        changed = [
            n
            for n in self.targets
            if n in wanted and (restart_all or wanted[n] != self.targets[n].target)
        ]
        added = [n for n in wanted if n not in self.targets]
        for name in removed + changed:
            await self._stop_target(name)
        for name in changed + added:
            self._start_target(wanted[name])
        self.log(
            "info",
            "reloaded",
            added=sorted(added),
            removed=sorted(removed),
            restarted=sorted(changed),
            targets=sorted(self.targets),
        )

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        names = list(self.targets)
        await asyncio.gather(*(self._stop_target(n) for n in names), return_exceptions=True)
        if self.endpoint is not None:
            await self.endpoint.close()
        self.log("info", "watch_stopped", targets=sorted(names))
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
