"""The first rule set, straight from the runbook's thresholds.

``evaluate(snapshot, thresholds)`` is pure: it returns the conditions that hold now.
:class:`AlertTracker` remembers since when each one has held. The full engine (durations,
hysteresis, history) builds on these records. Must not import Textual.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..config import Thresholds
from ..durations import format_age
from ..model import Alert, ConnectionStats, DbState, RlsStatus, Severity, Snapshot


def evaluate(snapshot: Snapshot, thresholds: Thresholds) -> list[Alert]:
    """Alerts whose condition holds in this snapshot, worst first."""
    alerts: list[Alert] = []
    health = snapshot.health
    if health.state is DbState.DOWN:
        alerts.append(
            Alert(
                key="database.down",
                rule="database.down",
                severity=Severity.CRITICAL,
                title="Database Down",
                message=health.error or "the database does not answer",
            )
        )
    conns = snapshot.connections
    if isinstance(conns, ConnectionStats) and conns.max_connections:
        usage = conns.usage_pct
        if usage >= thresholds.connections_critical_pct:
            alerts.append(
                Alert(
                    key="connections.pool_full",
                    rule="connections.pool_full",
                    severity=Severity.CRITICAL,
                    title="Connection Pool Full",
                    message=f"{conns.total} of {conns.max_connections} connections in use ({usage:.0f} %)",
                    value=usage,
                    threshold=thresholds.connections_critical_pct,
                )
            )
        elif usage >= thresholds.connections_warning_pct:
            alerts.append(
                Alert(
                    key="connections.high",
                    rule="connections.high",
                    severity=Severity.WARNING,
                    title="Connections High",
                    message=f"{conns.total} of {conns.max_connections} connections in use ({usage:.0f} %)",
                    value=usage,
                    threshold=thresholds.connections_warning_pct,
                )
            )
        stuck = [
            s
            for s in conns.sessions
            if (s.state or "").startswith("idle in transaction")
            and (s.state_age_seconds or 0) > thresholds.idle_in_transaction
        ]
        if stuck:
            oldest = max(s.state_age_seconds or 0 for s in stuck)
            alerts.append(
                Alert(
                    key="connections.idle_in_transaction",
                    rule="connections.idle_in_transaction",
                    severity=Severity.WARNING,
                    title="Idle In Transaction",
                    message=(
                        f"{len(stuck)} session(s) idle in transaction over "
                        f"{format_age(thresholds.idle_in_transaction)} (oldest {format_age(oldest)}, "
                        f"pid {', '.join(str(s.pid) for s in stuck[:5])})"
                    ),
                    value=float(len(stuck)),
                    threshold=thresholds.idle_in_transaction,
                )
            )
    rls = snapshot.rls
    if isinstance(rls, RlsStatus):
        for table in rls.disabled:
            alerts.append(
                Alert(
                    key=f"rls.disabled:{table.schema}.{table.table}",
                    rule="rls.disabled",
                    severity=Severity.CRITICAL,
                    title="RLS Violation",
                    message=f"{table.qualified}: row-level security OFF ({table.policy_count} policies)",
                )
            )
    alerts.sort(key=lambda a: (a.severity.rank, a.key))
    return alerts


class AlertTracker:
    """Carries each alert's first-seen time across snapshots (an alert that clears is forgotten)."""

    def __init__(self) -> None:
        self._since: dict[str, datetime] = {}

    def update(self, alerts: list[Alert], now: datetime) -> tuple[Alert, ...]:
        since = {a.key: self._since.get(a.key, now) for a in alerts}
        self._since = since
        return tuple(replace(a, since=since[a.key]) for a in alerts)
