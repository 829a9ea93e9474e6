"""Outbound alert notifications: Slack-compatible, generic JSON, Prometheus Alertmanager v2.

Delivered in the background (one queue and sender task per webhook) with retries and backoff;
a slow or failing receiver never blocks the console, and its failure is reported. No Textual.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..config import WebhookConfig
from ..model import Severity
from .engine import AlertEvent

RETRIES = 3
QUEUE = 200
"""Messages waiting per webhook; past this, new ones are dropped (and said)."""
AM_REFRESH = 60.0
"""Alertmanager forgets an alert not re-sent before its endsAt: firing ones are re-sent this often."""


def _finite(value: float | None) -> float | None:
    """JSON has no Infinity (Database Down's value is +inf): send null instead."""
    return value if value is not None and math.isfinite(value) else None


def batch_payload(kind: str, events: list[AlertEvent], target: str) -> Any:
    """One POST for the events of one poll: Alertmanager takes a list; Slack gets one message
    (the first few events, then a count); the generic JSON receiver gets {"events": [...]}."""
    if len(events) == 1:
        return payload(kind, events[0], target)
    if kind == "alertmanager":
        return [entry for e in events for entry in payload(kind, e, target)]
    if kind == "slack":
        lines = [payload(kind, e, target)["text"] for e in events[:10]]
        if len(events) > 10:
            lines.append(f"… and {len(events) - 10} more")
        return {"text": "\n".join(lines)}
    return {"events": [payload(kind, e, target) for e in events]}


def payload(kind: str, event: AlertEvent, target: str) -> Any:
    alert = event.alert
    verb = {"fired": "FIRING", "resolved": "RESOLVED", "repeat": "STILL FIRING"}[event.kind]
    if kind == "slack":
        icon = {"critical": "🚨", "warning": "⚠️", "info": "ℹ️"}[alert.severity.value]
        return {
            "text": f"{icon} [{verb}] {alert.title} ({alert.severity.value}) — {target}: {alert.message}"
        }
    if kind == "alertmanager":
        entry: dict[str, Any] = {
            "labels": {
                "alertname": alert.title,
                "severity": alert.severity.value,
                "target": target,
                "rule": alert.rule,
                **({"subject": alert.subject} if alert.subject else {}),
            },
            "annotations": {"summary": alert.message, "runbook": alert.runbook or ""},
            "startsAt": (alert.since or event.at).isoformat(),
        }
        if event.kind == "resolved":
            entry["endsAt"] = event.at.isoformat()
        else:  # re-sent every AM_REFRESH while firing; if the console stops, it lapses in 5 min
            entry["endsAt"] = (event.at + timedelta(seconds=5 * AM_REFRESH)).isoformat()
        return [entry]
    return {
        "event": event.kind,
        "target": target,
        "key": alert.key,
        "rule": alert.rule,
        "title": alert.title,
        "severity": alert.severity.value,
        "message": alert.message,
        "value": _finite(alert.value),
        "threshold": _finite(alert.threshold),
        "since": alert.since.isoformat() if alert.since else None,
        "at": event.at.isoformat(),
    }


def webhook_url(hook: WebhookConfig) -> str | None:
    """The hook's URL from its environment variable (Alertmanager's: its /api/v2/alerts)."""
    url = os.environ.get(hook.url_env)
    if url and hook.kind == "alertmanager" and not url.rstrip("/").endswith("/api/v2/alerts"):
        url = url.rstrip("/") + "/api/v2/alerts"
    return url


HEARTBEAT_ALERT = "EngflowWatcherHeartbeat"
"""The watcher's always-firing alert (the "watchdog" pattern): its silence means the watcher is
dead. Route it to a dead man's switch, or to a receiver with send_resolved (docs/watch.md)."""


def heartbeat_payload(
    watcher: str, started: datetime, now: datetime, interval: float, targets: int
) -> list[dict[str, Any]]:
    """The heartbeat for Alertmanager: it lapses (Alertmanager resolves it) three intervals
    after the last one sent."""
    return [
        {
            "labels": {
                "alertname": HEARTBEAT_ALERT,
                "severity": "none",
                "service": "engflow-tui",
                "watcher": watcher,
            },
            "annotations": {
                "summary": f"engflow-tui watch on {watcher} is alive ({targets} target(s))",
                "description": (
                    "Always firing while the watcher runs. When it resolves, the watcher has "
                    "stopped: nobody is paged for the runbook's alerts until it runs again."
                ),
            },
            "startsAt": started.isoformat(),
            "endsAt": (now + timedelta(seconds=3 * interval)).isoformat(),
        }
    ]


@dataclass
class Notifier:
    hooks: tuple[WebhookConfig, ...]
    target: str
    timeout: float = 5.0
    """Each attempt's deadline: connecting, sending and the whole answer."""
    backoff: float = 1.0
    report: Callable[[str], None] = lambda message: None
    """Called (in the event loop) with a one-line message when a delivery finally fails or a
    message is dropped (queue full): never silent."""
    status: dict[str, str] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    """Messages given up on, per webhook (url_env)."""
    dropped: dict[str, int] = field(default_factory=dict)
    """Messages dropped unsent because the webhook's queue was full, per webhook."""
    undelivered: int = 0
    """Messages still queued or being sent when drain() gave up (then closed unsent)."""
    _sending: int = 0
    _queues: dict[int, asyncio.Queue[list[AlertEvent]]] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def refresh_alertmanager(self, firing: tuple[Any, ...], now: Any) -> None:
        """Re-send every firing alert (acknowledged or not) to Alertmanager receivers, so that
        their endsAt never lapses while the alert holds."""
        if not firing or not any(h.kind == "alertmanager" for h in self.hooks):
            return
        last = getattr(self, "_am_last", None)
        if last is not None and (now - last).total_seconds() < AM_REFRESH:
            return
        self._am_last = now
        self.send([AlertEvent("repeat", a, now) for a in firing], kinds=("alertmanager",))

    def send(self, events: list[AlertEvent], kinds: tuple[str, ...] | None = None) -> None:
        """Queue events for delivery; returns at once."""
        for index, hook in enumerate(self.hooks):
            if kinds is not None and hook.kind not in kinds:
                continue
            batch = [e for e in events if e.alert.severity.rank <= Severity(hook.min_severity).rank]
            if not batch:
                continue
            queue = self._queues.get(index)
            if queue is None:
                queue = self._queues[index] = asyncio.Queue(maxsize=QUEUE)
                self._tasks.append(asyncio.create_task(self._sender(hook, queue)))
            if queue.full():
                count = self.dropped[hook.url_env] = self.dropped.get(hook.url_env, 0) + 1
                self.status[hook.url_env] = f"queue full: {count} dropped"
                titles = ", ".join(sorted({e.alert.title for e in batch}))
                self.report(
                    f"{hook.kind} webhook ({hook.url_env}) is not keeping up: {QUEUE} messages "
                    f"waiting, this one dropped ({titles}); {count} dropped so far"
                )
                continue
            queue.put_nowait(batch)

    async def _sender(self, hook: WebhookConfig, queue: asyncio.Queue[list[AlertEvent]]) -> None:
        from ..httpbounded import new_client  # httpx only when a webhook is configured

        async with new_client(self.timeout) as client:
            while True:
                events = await queue.get()
                self._sending += 1
                try:
                    error = await self._deliver(client, hook, events)
                except Exception as exc:  # noqa: BLE001 - the sender must never die
                    error = f"{type(exc).__name__}: {exc}"[:200]
                finally:
                    self._sending -= 1
                    queue.task_done()
                if error:
                    titles = ", ".join(sorted({e.alert.title for e in events}))
                    self._fail(hook, f"{error} ({titles})")

    async def _deliver(self, client: Any, hook: WebhookConfig, events: list[AlertEvent]) -> str:
        """Send one message, with retries: "" when delivered, else why not (one line, the URL
        never in it: it may embed a secret)."""
        from ..httpbounded import Answer, check_url, mask_url, request, retry_after

        url = webhook_url(hook)
        if url is None:
            return f"environment variable {hook.url_env} is not set"
        problem = check_url(url)
        if problem is not None:  # retrying cannot help
            return mask_url(f"{problem}: fix the URL in {hook.url_env}", url)
        body = batch_payload(hook.kind, events, self.target)
        error = ""
        for attempt in range(RETRIES):
            wait = self.backoff * 2**attempt
            answer = await request(client, "POST", url, json=body, deadline=self.timeout)
            if isinstance(answer, Answer):
                if 200 <= answer.status < 300:
                    self.status[hook.url_env] = f"ok (HTTP {answer.status})"
                    return ""
                error = f"HTTP {answer.status}"
                if answer.status in (429, 503):  # the receiver says when to come back
                    wait = retry_after(answer.headers.get("retry-after")) or wait
            else:
                error = mask_url(answer.detail, url)
            if attempt + 1 < RETRIES:
                await asyncio.sleep(wait)
        return f"{error} after {RETRIES} attempts"

    def _fail(self, hook: WebhookConfig, message: str) -> None:
        count = self.failed[hook.url_env] = self.failed.get(hook.url_env, 0) + 1
        self.status[hook.url_env] = f"failed: {message}"
        self.report(
            f"{hook.kind} webhook ({hook.url_env}) failed: {message}; {count} not sent so far"
        )

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every queued message to be delivered or given
        up on: True when none is left."""

        async def empty() -> None:
            for queue in self._queues.values():
                await queue.join()

        if not self._queues:
            return True
        try:
            await asyncio.wait_for(empty(), timeout)
        except TimeoutError:
            # Those not picked up yet, and the one being sent by each webhook's sender.
            self.undelivered = self._sending + sum(q.qsize() for q in self._queues.values())
            return False
        return True

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001, PERF203
                pass
        self._tasks.clear()
        self._queues.clear()
