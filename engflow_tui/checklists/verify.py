"""Verdicts of auto items: each condition reads one console metric (from the same snapshot,
history and alert engine that feed the dashboard) or one diagnose check. Pure. No Textual.

A metric that cannot be measured (probe not configured, privilege missing, database down) gives
a ``pending`` verdict that says why — never a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..alerts.metrics import MetricHistory, Metrics
from ..figures import idle_in_transaction
from ..model import (
    Alert,
    ConnectionStats,
    DbState,
    HostMetrics,
    RlsStatus,
    Severity,
    SlowQueries,
    Snapshot,
    Unavailable,
)
from .model import Condition, Item


@dataclass(frozen=True, slots=True)
class Measured:
    value: float
    shown: str
    """The value as the operator reads it: "312 ms", "64 %"."""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class NotMeasured:
    reason: str


@dataclass(frozen=True, slots=True)
class Facts:
    """What one verification reads: the latest snapshot and what was derived from it."""

    snapshot: Snapshot | None
    metrics: Metrics = field(default_factory=dict)
    alerts: tuple[Alert, ...] = ()
    history: MetricHistory | None = None
    checks: Mapping[str, Any] = field(default_factory=dict)
    """Diagnose checks by id (``diagnose.Check`` records)."""
    target: str = ""
    users: Any = None
    """Active users vs their 7-day baseline (``history.activity.Activity``), from the store."""
    crud: Any = None
    """Rows written per hour per table vs 7-day baselines (``history.activity.TableCrud`` list)."""
    sizes: list[tuple[datetime, float]] | None = None
    """The database size over the last 7 days (bytes), from the store."""


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str
    """pass | fail | pending (could not measure)"""
    value: str | None
    detail: str
    at: datetime | None = None


Probe = Callable[[Facts], Measured | NotMeasured]


def _metric(facts: Facts, family: str, subject: str = "") -> Any:
    return facts.metrics.get(family, {}).get(subject)


def _why(item: Unavailable) -> NotMeasured:
    return NotMeasured(item.reason + (f" — fix: {item.fix}" if item.fix else ""))


def _live(facts: Facts) -> Snapshot | NotMeasured:
    snap = facts.snapshot
    if snap is None:
        return NotMeasured("no data from the database yet")
    if snap.health.state is DbState.DOWN:
        return NotMeasured(f"the database does not answer: {snap.health.error}")
    return snap


def _record(facts: Facts, name: str) -> Any:
    """One record of the live snapshot (connections, rls, ...), or why it cannot be read."""
    snap = _live(facts)
    if isinstance(snap, NotMeasured):
        return snap
    value = getattr(snap, name)
    return _why(value) if isinstance(value, Unavailable) else value


def _reachable(facts: Facts) -> Measured | NotMeasured:
    if facts.snapshot is None:
        return NotMeasured("no data from the database yet")
    health = facts.snapshot.health
    if health.state is DbState.DOWN:
        return Measured(0, "down", f"the database does not answer: {health.error}")
    return Measured(
        1, "reachable", f"{health.state.value}, round trip {health.latency_ms or 0:.0f} ms"
    )


def _connections(facts: Facts) -> Measured | NotMeasured:
    conns = _record(facts, "connections")
    if isinstance(conns, NotMeasured):
        return conns
    assert isinstance(conns, ConnectionStats)
    return Measured(
        conns.usage_pct,
        f"{conns.usage_pct:.0f} %",
        f"{conns.total} of {conns.max_connections} connections in use",
    )


def _idle_in_tx(facts: Facts) -> Measured | NotMeasured:
    metric = _metric(facts, "connections.idle_in_transaction_over")
    if metric is not None:
        return Measured(metric.value, f"{metric.value:.0f}", metric.detail)
    conns = _record(facts, "connections")
    if isinstance(conns, NotMeasured):
        return conns
    assert isinstance(conns, ConnectionStats)
    if conns.idle_threshold is None:
        return NotMeasured("sessions idle in transaction are not counted yet")
    figure = idle_in_transaction(conns, conns.idle_threshold)
    if figure.count is None:
        return NotMeasured(f"{figure.unknown}" + (f" — fix: {figure.fix}" if figure.fix else ""))
    return Measured(figure.count, str(figure.count), "sessions idle in transaction")


def _cache(facts: Facts) -> Measured | NotMeasured:
    metric = _metric(facts, "cache.hit_rate_pct")
    if metric is not None:
        return Measured(metric.value, f"{metric.value:.1f} %", metric.detail)
    snap = _live(facts)
    if isinstance(snap, NotMeasured):
        return snap
    pct = snap.health.cache_hit_pct
    if pct is None:
        return NotMeasured("pg_stat_database is not readable")
    return Measured(pct, f"{pct:.1f} %", "cache hit rate since the statistics were last reset")


def _errors(facts: Facts) -> Measured | NotMeasured:
    rates = facts.metrics.get("error_rate_pct") or {}
    if rates:
        worst_name, worst = max(rates.items(), key=lambda kv: kv[1].value)
        return Measured(worst.value, f"{worst.value:.2f} %", worst.detail)
    snap = _live(facts)
    if isinstance(snap, NotMeasured):
        return snap
    commits, rollbacks = snap.health.xact_commit, snap.health.xact_rollback
    if commits is None or rollbacks is None or commits + rollbacks == 0:
        return NotMeasured("no transaction counts yet")
    pct = 100.0 * rollbacks / (commits + rollbacks)
    return Measured(
        pct,
        f"{pct:.2f} %",
        f"{rollbacks} of {commits + rollbacks} transactions rolled back since the statistics "
        "were last reset (a 5-minute rate needs a few minutes of console history)",
    )


def _api(facts: Facts) -> Measured | NotMeasured:
    metric = _metric(facts, "http.latency_ms", "api")
    if metric is not None:
        return Measured(metric.value, f"{metric.value:.0f} ms", metric.detail)
    snap = facts.snapshot
    probes = [p for p in (snap.http if snap else ()) if p.name == "api"]
    if not probes:
        return NotMeasured(
            f"no REST API probe: set targets.{facts.target or 'NAME'}.rest_url in the config"
        )
    probe = probes[-1]
    if probe.latency_ms is None or not probe.ok:
        return NotMeasured(f"the REST API did not answer: {probe.detail}")
    return Measured(probe.latency_ms, f"{probe.latency_ms:.0f} ms", f"{probe.url}: {probe.detail}")


def _host(field_name: str, label: str) -> Probe:
    def probe(facts: Facts) -> Measured | NotMeasured:
        host = facts.snapshot.host if facts.snapshot else None
        if host is None:
            return NotMeasured(
                f"no host metrics: set targets.{facts.target or 'NAME'}.metrics_url (node_exporter)"
            )
        if isinstance(host, Unavailable):
            return _why(host)
        assert isinstance(host, HostMetrics)
        value = getattr(host, field_name)
        if value is None and host.note:  # impossible figures (NaN, duplicated series)
            return NotMeasured(f"{label} not measured: {host.note}")
        if value is None:
            return NotMeasured(f"{label} needs a second scrape of the host metrics")
        return Measured(value, f"{value:.0f} %", f"{label} {value:.0f} %")

    return probe


def _alerts(severities: tuple[Severity, ...]) -> Probe:
    def probe(facts: Facts) -> Measured | NotMeasured:
        if facts.snapshot is None:
            return NotMeasured("no data from the database yet")
        firing = [a for a in facts.alerts if a.state == "firing" and a.severity in severities]
        names = ", ".join(sorted({a.title for a in firing}))
        return Measured(
            len(firing), str(len(firing)), f"firing: {names}" if firing else "none firing"
        )

    return probe


def _rls(facts: Facts) -> Measured | NotMeasured:
    rls = _record(facts, "rls")
    if isinstance(rls, NotMeasured):
        return rls
    assert isinstance(rls, RlsStatus)
    off = rls.disabled
    return Measured(
        len(off),
        str(len(off)),
        ("without RLS: " + ", ".join(t.qualified for t in off))
        if off
        else f"RLS on for all {len(rls.tables)} tables in {', '.join(rls.schemas)}",
    )


def _slow(facts: Facts) -> Measured | NotMeasured:
    slow = _record(facts, "slow_queries")
    if isinstance(slow, NotMeasured):
        return slow
    assert isinstance(slow, SlowQueries)
    return Measured(
        len(slow.queries),
        str(len(slow.queries)),
        f"{len(slow.queries)} statement(s) with mean time > {slow.threshold_ms:g} ms",
    )


def _users(facts: Facts) -> Measured | NotMeasured:
    snap = _live(facts)
    if isinstance(snap, NotMeasured):
        return snap
    users = snap.active_users
    if isinstance(users, Unavailable):
        return _why(users)
    if users is None:
        return NotMeasured("active users are not measured yet (targets.NAME.active_users_sql)")
    detail = f"{users} users active"
    baseline = getattr(facts.users, "baseline", None)
    if baseline:
        detail += f" vs a 7-day baseline of {baseline:.0f} (x{users / baseline:.1f})"
    elif facts.users is not None:
        detail += " (no 7-day baseline yet: the history store needs 6 h)"
    return Measured(users, str(users), detail)


def _writes_per_hour(facts: Facts) -> Measured | NotMeasured:
    if facts.crud:  # the history store: the last hour vs each table's 7-day baseline
        rate = sum(r.total_per_hour for r in facts.crud)
        bases = [r.baseline_per_hour for r in facts.crud if r.baseline_per_hour is not None]
        busiest = ", ".join(f"{r.table} {r.total_per_hour:,.0f}/h" for r in facts.crud[:3])
        detail = f"busiest: {busiest}"
        if bases:
            detail += f"; 7-day baseline {sum(bases):,.0f}/h"
        return Measured(rate, f"{rate:,.0f}/h", detail)
    history = facts.history
    samples = [s for s in (history.samples if history else ()) if s.writes is not None]
    if len(samples) < 2 or (samples[-1].t - samples[0].t).total_seconds() < 60:
        return NotMeasured("needs at least a minute of console history (keep the console open)")
    first, last = samples[0], samples[-1]
    hours = (last.t - first.t).total_seconds() / 3600
    total = sum(max(0, n - (first.writes or {}).get(t, n)) for t, n in (last.writes or {}).items())
    rate = total / hours
    return Measured(
        rate,
        f"{rate:,.0f}/h",
        f"{total:,} rows inserted, updated or deleted in the last {hours * 60:.0f} min",
    )


def _size(facts: Facts) -> Measured | NotMeasured:
    snap = _live(facts)
    if isinstance(snap, NotMeasured):
        return snap
    size = snap.health.database_size_bytes
    if size is None:
        return NotMeasured("the database size is not read yet")
    detail = f"database size {size / 1e9:.3f} GB"
    if facts.sizes and len(facts.sizes) >= 2:
        from ..history.trends import growth_per_month

        growth = growth_per_month(facts.sizes)
        first_t, first = facts.sizes[0]
        if growth is not None:
            detail += (
                f"; {(size - first) / 1e6:+,.1f} MB since {first_t:%Y-%m-%d %H:%M}Z, "
                f"trend {growth / 1e9:+.3f} GB/month"
            )
    return Measured(size / 1e9, f"{size / 1e9:.2f} GB", detail)


def _backup_age(facts: Facts) -> Measured | NotMeasured:
    """The newest backup's age, from the evidence there is: the WAL archiver (pg_stat_archiver)
    when archiving is on, else the newest dump of [backups] path (the backup.files check)."""
    snap = _live(facts)
    if isinstance(snap, NotMeasured):
        return snap
    archiver = snap.archiver or {}
    age = archiver.get("last_archived_age_s")
    if isinstance(age, (int, float)):
        return Measured(
            age / 3600,
            f"{age / 3600:.1f} h",
            "evidence: the last archived WAL segment (pg_stat_archiver)",
        )
    dumps = facts.checks.get("backup.files")
    details = getattr(dumps, "details", None)
    if isinstance(details, dict) and isinstance(details.get("age_seconds"), (int, float)):
        hours = details["age_seconds"] / 3600
        return Measured(
            hours, f"{hours:.1f} h", f"evidence: the newest dump of [backups] — {dumps.summary}"
        )
    why = (
        "WAL archiving is off (archive_mode)" if not archiver else "nothing has been archived yet"
    )
    if dumps is not None:
        return NotMeasured(f"{why}, and the dumps cannot tell: {dumps.summary}")
    return NotMeasured(f"{why}, and no [backups] path is configured to look at the dumps")


METRICS: dict[str, Probe] = {
    "db.reachable": _reachable,
    "connections.usage_pct": _connections,
    "connections.idle_in_transaction_over": _idle_in_tx,
    "cache.hit_rate_pct": _cache,
    "errors.rate_pct": _errors,
    "api.response_ms": _api,
    "host.cpu_pct": _host("cpu_pct", "CPU"),
    "host.memory_pct": _host("memory_pct", "memory"),
    "host.disk_pct": _host("disk_pct", "disk"),
    "alerts.critical": _alerts((Severity.CRITICAL,)),
    "alerts.firing": _alerts((Severity.CRITICAL, Severity.WARNING)),
    "rls.tables_without_rls": _rls,
    "queries.slow": _slow,
    "users.active": _users,
    "tables.writes_per_hour": _writes_per_hour,
    "database.size_gb": _size,
    "backup.age_h": _backup_age,
}
"""Every metric a checklist condition may name (the loader rejects others)."""


def _one(condition: Condition, facts: Facts) -> tuple[str, str | None, str]:
    if condition.diagnose:
        check = facts.checks.get(condition.diagnose)
        if check is None:
            return "pending", None, f"the diagnose check {condition.diagnose} did not run"
        value = (
            None
            if check.value is None
            else f"{check.value}{' ' + check.unit if check.unit else ''}"
        )
        status = {"ok": "pass", "warning": "fail", "critical": "fail"}.get(check.status, "pending")
        return status, value, check.summary
    measured = METRICS[condition.metric or ""](facts)
    if isinstance(measured, NotMeasured):
        return "pending", None, f"cannot measure: {measured.reason}"
    if condition.op is None:
        return "pass", measured.shown, measured.detail
    ok = condition.holds(measured.value)
    limit = f"{condition.op} {condition.value:g}"  # type: ignore[str-format]
    return ("pass" if ok else "fail"), measured.shown, f"{measured.detail} (target {limit})"


def verdict(item: Item, facts: Facts, now: datetime) -> Verdict:
    """All conditions of the item: fail if any fails, pending if any cannot be measured."""
    results = [_one(c, facts) for c in item.verify]
    statuses = {r[0] for r in results}
    status = "fail" if "fail" in statuses else "pending" if "pending" in statuses else "pass"
    value = " · ".join(r[1] for r in results if r[1] is not None) or None
    # Each detail once: CPU and memory without host metrics share one reason.
    detail = "; ".join(dict.fromkeys(r[2] for r in results if r[2]))
    return Verdict(status, value, detail, now)


METRIC_CHECKS: dict[str, frozenset[str]] = {"backup.age_h": frozenset({"backup.files"})}
"""Diagnose checks a metric reads besides the snapshot: they run when an item names it."""


def diagnose_ids(items: tuple[Item, ...] | list[Item]) -> set[str]:
    ids = {c.diagnose for item in items for c in item.verify if c.diagnose}
    for item in items:
        for condition in item.verify:
            ids |= METRIC_CHECKS.get(condition.metric or "", frozenset())
    return ids
