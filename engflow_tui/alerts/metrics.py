"""Metrics the alert rules read, derived from a short history of snapshots. Pure. No Textual.

A metric family that cannot be computed (its probe is unavailable, the database is down, not
enough history yet) is absent: rules on it keep their state instead of resolving by accident.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..config import Thresholds
from ..durations import format_age
from ..figures import idle_in_transaction
from ..model import ConnectionStats, DbState, HostMetrics, RlsStatus, Snapshot

KEEP = timedelta(minutes=65)


@dataclass(frozen=True, slots=True)
class Metric:
    value: float
    detail: str


Metrics = dict[str, dict[str, Metric]]


@dataclass(frozen=True, slots=True)
class Sample:
    t: datetime
    xact: tuple[int, int] | None  # commits, rollbacks
    blocks: tuple[int, int] | None  # hits, reads
    http: dict[str, tuple[float | None, bool]]  # probe -> (latency ms, is_error)
    writes: dict[str, int] | None
    users: int | None
    archiver_failed: int | None


def sample_of(snapshot: Snapshot, fresh_http: bool = True, writes_of: Any = None) -> Sample:
    """The figures of one snapshot the rules need later. ``writes_of`` makes the per-table
    write counters from the snapshot's table_activity (MetricHistory shares one dict among
    the samples of one read)."""
    health = snapshot.health
    xact = (
        (health.xact_commit, health.xact_rollback)
        if health.xact_commit is not None and health.xact_rollback is not None
        else None
    )
    blocks = (
        (health.blks_hit, health.blks_read)
        if health.blks_hit is not None and health.blks_read is not None
        else None
    )
    writes = None
    if snapshot.table_activity is not None:
        writes = (writes_of or _writes)(snapshot.table_activity)
    archiver_failed = None
    if snapshot.archiver is not None:
        archiver_failed = int(snapshot.archiver.get("failed_count", 0) or 0)  # type: ignore[call-overload]
    return Sample(
        t=snapshot.taken_at,
        xact=xact,
        blocks=blocks,
        # A probe result is counted once, in the snapshot of the poll that ran the probe (probes run
        # every http_interval, snapshots every refresh: repeating it would multiply one failure).
        http={p.name: (p.latency_ms, p.is_error) for p in snapshot.http} if fresh_http else {},
        writes=writes,
        users=snapshot.active_users if isinstance(snapshot.active_users, int) else None,
        archiver_failed=archiver_failed,
    )


def _writes(activity: Any) -> dict[str, int]:
    return {f"{t.schema}.{t.table}": t.writes for t in activity}


class MetricHistory:
    """The last hour of compact samples (enough for every window and baseline below)."""

    def __init__(self) -> None:
        self.samples: deque[Sample] = deque()
        self.ever_rls_on: set[str] = set()
        self._rls_seen: RlsStatus | None = None
        self._activity_seen: Any = None
        self._writes: dict[str, int] = {}
        self._names: dict[tuple[str, str], str] = {}
        self.rls_metrics: dict[tuple[str, str, str], Metric] = {}
        """The RLS Violation figure of each table, kept from one poll to the next while it says
        the same (2,000 tables: 2,000 quoted names and messages a poll otherwise)."""

    def _writes_of(self, activity: Any) -> dict[str, int]:
        """One dict per per-table read, shared by every sample made while the snapshot carries
        that read (between its cadences): a copy per poll held ~0.3 MB at 2,000 tables for the
        hour. The table names are kept once too."""
        if activity is not self._activity_seen:
            names = self._names
            if len(names) > 20_000:
                names.clear()
            writes = {}
            for t in activity:
                name = names.get((t.schema, t.table))
                if name is None:
                    name = names[(t.schema, t.table)] = f"{t.schema}.{t.table}"
                writes[name] = t.writes
            self._activity_seen, self._writes = activity, writes
        return self._writes

    def add(self, snapshot: Snapshot, fresh_http: bool = True) -> None:
        sample = sample_of(snapshot, fresh_http, self._writes_of)
        self.samples.append(sample)
        while self.samples and sample.t - self.samples[0].t > KEEP:
            self.samples.popleft()
        rls = snapshot.rls
        if isinstance(rls, RlsStatus) and rls is not self._rls_seen:  # a new catalogue read
            self._rls_seen = rls
            self.ever_rls_on.update(f"{t.schema}.{t.table}" for t in rls.tables if t.rls_enabled)

    def since(self, now: datetime, seconds: float) -> list[Sample]:
        start = now - timedelta(seconds=seconds)
        return [s for s in self.samples if s.t >= start]

    def window(self, now: datetime, seconds: float) -> list[Sample]:
        """The samples of the last ``seconds``, led by the last one before them (when there is
        one): a rate over them spans the whole window, whatever the refresh interval."""
        start = now - timedelta(seconds=seconds)
        out: list[Sample] = []
        lead: Sample | None = None
        for sample in self.samples:
            if sample.t >= start:
                out.append(sample)
            else:
                lead = sample
        return [lead, *out] if lead is not None else out


RATE_WINDOW = 300.0
"""Seconds every rate (error rates, cache hit rate) is computed over."""
COVERED = 0.95
"""A rate is known only when the data it is computed from spans this share of its window: at
start (and after a gap, e.g. the database was down) a few seconds of data are no 5-minute rate."""


def _covers(first: datetime, last: datetime, seconds: float) -> bool:
    return (last - first).total_seconds() >= COVERED * seconds


def _delta(window: list[Sample], attr: str, seconds: float) -> tuple[int, int] | None:
    """(d0, d1) of a counter pair over the window, or None when the points do not cover it."""
    points = [(s.t, getattr(s, attr)) for s in window if getattr(s, attr) is not None]
    if len(points) < 2 or not _covers(points[0][0], points[-1][0], seconds):
        return None
    (_, first), (_, last) = points[0], points[-1]
    d0, d1 = last[0] - first[0], last[1] - first[1]
    if d0 < 0 or d1 < 0:  # stats reset
        return None
    return d0, d1


def derive(
    history: MetricHistory,
    snapshot: Snapshot,
    thresholds: Thresholds,
    baselines: Any = None,
) -> Metrics:
    """``baselines`` (history.activity.Baselines): the store's 7-day baselines for User Growth and
    Feature Usage; without them (or without enough history) the last hour in memory is used."""
    now = snapshot.taken_at
    out: Metrics = {}
    health = snapshot.health

    if health.state is DbState.DOWN:
        out["db.round_trip_s"] = {
            "": Metric(math.inf, f"the database does not answer: {health.error}")
        }
    elif health.latency_ms is not None:
        out["db.round_trip_s"] = {
            "": Metric(health.latency_ms / 1000, f"round trip {health.latency_ms:.0f} ms")
        }

    # Rates: known once their window is covered by data and over a minimum sample (see the
    # [thresholds] min_* settings); unknown until then, never a rate of a few seconds.
    error_rates: dict[str, Metric] = {}
    five = history.window(now, RATE_WINDOW)
    xact = _delta(five, "xact", RATE_WINDOW)
    if xact is not None and sum(xact) >= max(thresholds.min_transactions, 1):
        commits, rollbacks = xact
        pct = 100.0 * rollbacks / (commits + rollbacks)
        error_rates["database"] = Metric(
            pct,
            f"{rollbacks} of {commits + rollbacks} transactions rolled back in the last 5 min ({pct:.1f} %)",
        )
    for name in ("api", "app"):
        probed = [s for s in five if name in s.http]
        results = [s.http[name] for s in probed]
        if len(results) >= max(thresholds.min_probes, 2) and _covers(
            probed[0].t, probed[-1].t, RATE_WINDOW
        ):
            errors = sum(1 for _, is_error in results if is_error)
            pct = 100.0 * errors / len(results)
            error_rates[name] = Metric(
                pct,
                f"{errors} of {len(results)} {name} probes failed (5xx/timeout) in the last 5 min ({pct:.0f} %)",
            )
    if error_rates:
        out["error_rate_pct"] = error_rates

    conns = snapshot.connections
    if isinstance(conns, ConnectionStats) and conns.max_connections:
        usage = conns.usage_pct
        out["connections.usage_pct"] = {
            "": Metric(
                usage,
                f"{conns.total} of {conns.max_connections} connections in use ({usage:.0f} %)",
            )
        }
        # Whole-server figures (figures.py): the panel's filter and max_sessions are a view and
        # never decide whether this alert fires; unknown (hidden sessions) leaves it as it was.
        stuck = idle_in_transaction(conns, thresholds.idle_in_transaction)
        if stuck.count is not None:
            detail = (
                f"{stuck.count} session(s) idle in transaction over "
                f"{format_age(thresholds.idle_in_transaction)}"
            )
            if stuck.count:
                detail += (
                    f" (oldest {format_age(stuck.oldest_seconds)}, pid "
                    f"{', '.join(str(pid) for pid in stuck.pids)}"
                    f"{', …' if stuck.count > len(stuck.pids) else ''})"
                )
            out["connections.idle_in_transaction_over"] = {"": Metric(float(stuck.count), detail)}

    if isinstance(snapshot.rls, RlsStatus):
        violations: dict[str, Metric] = {}
        kept = history.rls_metrics
        if len(kept) > 20_000:  # tables come and go: never more than a bounded few
            kept.clear()
        for t in snapshot.rls.disabled:
            name = f"{t.schema}.{t.table}"
            if name in history.ever_rls_on:
                why = "RLS was turned OFF (it was on earlier)"
            elif t.policy_count:
                why = f"RLS is OFF but the table has {t.policy_count} policies: they do not apply"
            else:
                why = "RLS is OFF in an exposed schema"
            metric = kept.get((t.schema, t.table, why))
            if metric is None:
                metric = kept[(t.schema, t.table, why)] = Metric(1.0, f"{t.qualified}: {why}")
            violations[name] = metric
        out["rls.violation"] = violations

    latencies: dict[str, Metric] = {}
    minute = history.since(now, 60)
    for name in ("api", "app"):
        values = [s.http[name][0] for s in minute if name in s.http and s.http[name][0] is not None]
        if values:
            mean = statistics.fmean(values)  # type: ignore[arg-type]
            latencies[name] = Metric(
                mean, f"{name} mean response time {mean:.0f} ms over the last minute"
            )
    if latencies:
        out["http.latency_ms"] = latencies

    if isinstance(snapshot.host, HostMetrics):
        host = snapshot.host
        if host.cpu_pct is not None:
            out["host.cpu_pct"] = {"": Metric(host.cpu_pct, f"CPU {host.cpu_pct:.0f} %")}
        if host.disk_pct is not None:
            out["host.disk_pct"] = {
                "": Metric(host.disk_pct, f"disk {host.mountpoint} {host.disk_pct:.0f} % used")
            }

    blocks = _delta(five, "blocks", RATE_WINDOW)
    if blocks is not None and sum(blocks) >= max(thresholds.min_cache_blocks, 1):
        hits, reads = blocks
        pct = 100.0 * hits / (hits + reads)
        out["cache.hit_rate_pct"] = {
            "": Metric(pct, f"cache hit rate {pct:.1f} % over the last 5 min")
        }

    if snapshot.archiver is not None and history.samples:
        failed_now = int(snapshot.archiver.get("failed_count", 0) or 0)  # type: ignore[call-overload]
        failed_first = next(
            (s.archiver_failed for s in history.samples if s.archiver_failed is not None),
            failed_now,
        )
        age = snapshot.archiver.get("last_archived_age_s")
        problem, detail = 0.0, "WAL archiving OK"
        if failed_now > failed_first:
            problem, detail = (
                1.0,
                f"WAL archiving failed {failed_now - failed_first} time(s): {snapshot.archiver.get('last_failed_wal')}",
            )
        elif isinstance(age, (int, float)) and age > 26 * 3600:
            problem, detail = 1.0, f"nothing archived for {format_age(age)} (more than 26 h)"
        out["backup.problem"] = {"": Metric(problem, detail)}

    users = [s for s in history.samples if s.users is not None]
    stored_users = getattr(baselines, "users", None)
    if isinstance(snapshot.active_users, int) and stored_users is not None and stored_users >= 10:
        ratio = snapshot.active_users / stored_users
        out["users.growth_ratio"] = {
            "": Metric(
                ratio,
                f"{snapshot.active_users} active users vs a 7-day baseline of {stored_users:.0f} (x{ratio:.1f})",
            )
        }
    elif (
        isinstance(snapshot.active_users, int)
        and len(users) >= 2
        and now - users[0].t >= timedelta(minutes=10)
    ):
        baseline_samples = [s.users for s in users if now - s.t >= timedelta(minutes=5)]
        baseline = statistics.median(baseline_samples) if baseline_samples else None
        if baseline and baseline >= 10:
            ratio = snapshot.active_users / baseline
            out["users.growth_ratio"] = {
                "": Metric(
                    ratio,
                    f"{snapshot.active_users} active users vs a baseline of {baseline:.0f} (x{ratio:.1f})",
                )
            }

    writes = [s for s in history.samples if s.writes is not None]
    stored_rates: dict[str, float] = getattr(baselines, "write_rate_per_min", None) or {}
    if stored_rates and writes:
        recent = [s for s in writes if now - s.t <= timedelta(minutes=5)]
        ratios: dict[str, Metric] = {}
        if len(recent) >= 2:
            for table in recent[-1].writes or {}:
                rate_now = _rate(recent, table)
                rate_base = stored_rates.get(table)
                if rate_now is None or rate_base is None or max(rate_now, rate_base) < 10:
                    continue
                low, high = sorted((rate_now, rate_base))
                ratio = high / max(low, 0.1)
                direction = "rose" if rate_now >= rate_base else "dropped"
                ratios[table] = Metric(
                    ratio,
                    f"{table}: writes {direction} to {rate_now:.0f}/min from a 7-day baseline of {rate_base:.0f}/min",
                )
            out["tables.write_rate_ratio"] = ratios
    elif writes and now - writes[0].t >= timedelta(minutes=15):
        recent = [s for s in writes if now - s.t <= timedelta(minutes=5)]
        older = [s for s in writes if now - s.t > timedelta(minutes=5)]
        ratios = {}
        if len(recent) >= 2 and len(older) >= 2:
            for table in recent[-1].writes or {}:
                rate_now = _rate(recent, table)
                rate_base = _rate(older, table)
                if rate_now is None or rate_base is None or max(rate_now, rate_base) < 10:
                    continue
                low, high = sorted((rate_now, rate_base))
                ratio = high / max(low, 0.1)
                direction = "rose" if rate_now >= rate_base else "dropped"
                ratios[table] = Metric(
                    ratio,
                    f"{table}: writes {direction} to {rate_now:.0f}/min from a baseline of {rate_base:.0f}/min",
                )
            out["tables.write_rate_ratio"] = ratios
    return out


def _rate(window: list[Sample], table: str) -> float | None:
    points = [(s.t, s.writes[table]) for s in window if s.writes and table in s.writes]
    if len(points) < 2:
        return None
    (t0, v0), (t1, v1) = points[0], points[-1]
    minutes = (t1 - t0).total_seconds() / 60
    if minutes <= 0 or v1 < v0:
        return None
    return (v1 - v0) / minutes
