"""/healthz (issue 19): a target whose polls keep failing is no poll at all; a target that is
down but polled is a loop doing its job."""

from __future__ import annotations

import time

from engflow_tui.config import Config, TargetConfig
from engflow_tui.watch.exposition import TargetFigures
from engflow_tui.watch.service import TargetWatch, Watcher


def watcher_with(last_poll: float | None) -> Watcher:
    target = TargetConfig(name="prod", dsn="postgresql://x@h/d")
    watcher = Watcher(Config(targets={"prod": target}))
    watcher.targets["prod"] = TargetWatch(target, None, TargetFigures("prod"), last_poll=last_poll)
    return watcher


def test_no_successful_poll_is_unhealthy() -> None:
    healthy, body = watcher_with(None).health()
    assert not healthy and body["status"] == "unhealthy"
    assert body["targets"]["prod"] == {
        "polling": False,
        "last_poll_age_s": None,
        "state": "starting",
        "alerting": "not known yet",
    }


def test_a_recent_poll_is_healthy_and_an_old_one_is_not() -> None:
    assert watcher_with(time.monotonic()).health()[0]
    assert not watcher_with(time.monotonic() - 3600).health()[0]
