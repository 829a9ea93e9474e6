"""Write a Config back as TOML (tomli-w): ``config show`` prints the effective settings.

Must not import Textual.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import tomli_w

from .config import Config
from .dsn import mask_dsn
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
    "orphan_count_timeout",
    "orphan_total_timeout",
    "long_running_query",
    "max_age",
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
        **_incident_sections(config),
        "history": _section(config.history),
        "capacity": _section(config.capacity),
        "diagnose": _section(config.diagnose),
        "security": _section(config.security),
        "integrity": {"relations": [_section(r) for r in config.integrity.relations]},
        "backups": _section(config.backups),
    }
    return tomli_w.dumps(data)


def _incident_sections(config: Config) -> dict[str, Any]:
    """[escalation] and [incidents], in the shape the config file takes."""
    escalation = config.escalation
    incidents = config.incidents
    return {
        "escalation": {
            "business_day_start": escalation.business_day_start,
            "business_utc_offset": escalation.business_utc_offset,
            "levels": [
                {k: v for k, v in _section(level).items() if v} | {"name": level.name}
                for level in escalation.levels
            ],
            "matrix": [
                {
                    "severity": rule.severity,
                    "name": rule.name,
                    "initial_response": format_duration(rule.initial_response),
                    "escalate_after": (
                        format_duration(rule.escalate_after)
                        if rule.escalate_after is not None
                        else "next business day"
                    ),
                    "escalate_to": list(rule.escalate_to),
                }
                for rule in escalation.matrix
            ],
        },
        "incidents": {
            "status_update_every": {
                str(k): format_duration(v) for k, v in sorted(incidents.status_update_every.items())
            },
            "close_resolved_after": format_duration(incidents.close_resolved_after),
            **{
                k: v
                for k, v in {
                    "state_file": incidents.state_file,
                    "reports_dir": incidents.reports_dir,
                    "system": incidents.system,
                    "status_page_url": incidents.status_page_url,
                    "webhook_url_env": incidents.webhook_url_env,
                }.items()
                if v is not None
            },
        },
    }
