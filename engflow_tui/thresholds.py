"""[thresholds]: one knob per threshold, read by the alert rules, the panels, diagnose and the actions.

Its own leaf (not in config.py) because the alert rules take their connection thresholds from
it (rules.toml ``threshold_from``) while config validates [alerts] with the rules:
alerts -> thresholds <- config, no cycle.
Imports nothing from the package but ``settings``. Must not import Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .settings import Problem, setting


@dataclass(frozen=True, slots=True)
class Thresholds:
    idle_in_transaction: float = field(
        default=1800.0,
        metadata=setting(
            "duration",
            'Sessions idle in transaction longer than this (seconds) are flagged ("30m").',
            at_most="30d",
        ),
    )
    slow_query_ms: float = field(
        default=100.0,
        metadata=setting("number", "Statements whose mean execution time exceeds this are slow."),
    )
    connections_warning_pct: float = field(
        default=80.0,
        metadata=setting(
            "number",
            "Connections in use, % of max_connections, that warn (runbook: < 80 % of the limit). "
            "The one knob of the Connections High alert's threshold, the Connections panel's "
            "yellow and diagnose's connections.usage warning: [alerts.connections_high] sets no "
            "threshold.",
        ),
    )
    connections_critical_pct: float = field(
        default=95.0,
        metadata=setting(
            "number",
            "Connections in use, % of max_connections, that are critical (runbook: Connection "
            "Pool Full > 95 %). The one knob of the Connection Pool Full alert's threshold, the "
            "Connections panel's red and diagnose's connections.usage critical: "
            "[alerts.connection_pool_full] sets no threshold.",
        ),
    )
    cache_hit_warning_pct: float = field(
        default=80.0,
        metadata=setting(
            "number",
            "Cache hit rate below this warns in diagnose's cache.hit_rate (the runbook's daily "
            "check: > 80 %). Not the Low Cache Hit Rate alert's 70 % (over 30 min), a different "
            "runbook figure, set by [alerts.low_cache_hit_rate] threshold.",
        ),
    )
    min_transactions: int = field(
        default=100,
        metadata=setting(
            "int",
            "The database error rate (High Error Rate) is computed only over a window with at "
            "least this many transactions: a quiet night's 1 rollback in 10 does not page.",
        ),
    )
    min_probes: int = field(
        default=10,
        metadata=setting(
            "int", "The REST API / app error rate needs at least this many probes in its window."
        ),
    )
    min_cache_blocks: int = field(
        default=1000,
        metadata=setting(
            "int",
            "The cache hit rate (Low Cache Hit Rate) needs at least this many block reads in its "
            "window.",
        ),
    )


def thresholds_problem(thresholds: Thresholds) -> Problem:
    """The section's keys must agree with each other."""
    if thresholds.connections_warning_pct > thresholds.connections_critical_pct:
        return ("connections_warning_pct", "must not be above connections_critical_pct")
    return None
