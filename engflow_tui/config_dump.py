"""Write a Config back as TOML (tomli-w): ``config show`` prints the effective settings.

Must not import Textual.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import tomli_w

from .config import Config, mask_dsn
from .durations import format_duration

_DURATIONS = {
    "refresh_interval",
    "connect_timeout",
    "slow_queries_interval",
    "catalog_interval",
    "size_interval",
    "idle_in_transaction",
    "lock_timeout",
    "statement_timeout",
    "analyze_timeout",
    "http_timeout",
    "http_interval",
    "sample_interval",
    "raw_retention",
    "hourly_retention",
    "daily_retention",
}


def _section(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if value is None or f.name == "name":
            continue
        if f.name in ("dsn", "action_dsn"):
            value = mask_dsn(value)  # never print a secret, even one left in a file
        elif f.name in _DURATIONS:
            value = format_duration(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def dump_config(config: Config) -> str:
    data: dict[str, Any] = {
        "console": _section(config.console),
        "thresholds": _section(config.thresholds),
        "actions": _section(config.actions),
        "alerts": {k: dict(v) for k, v in config.alerts.items()},
        "notifications": {
            "bell": config.notifications.bell,
            "repeat_interval": format_duration(config.notifications.repeat_interval),
            "webhooks": [_section(h) for h in config.notifications.webhooks],
        },
        "targets": {name: _section(t) for name, t in config.targets.items()},
        "history": _section(config.history),
        "capacity": _section(config.capacity),
    }
    return tomli_w.dumps(data)
