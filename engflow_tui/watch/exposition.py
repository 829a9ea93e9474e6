"""The watcher's Prometheus exposition: each target's last poll as metric families.

Built at scrape time from what the watcher already holds (no query is run for a scrape), with
prometheus-client's metric families and text format. Conventions: base units (``_seconds``,
``_ratio``), counters end in ``_total``, one ``target`` label everywhere. A figure that could
not be measured is absent, never 0. Label values from the database (tables, replicas, alert
subjects) are made inert and capped per metric (``[watch] max_subjects``); what the cap cut is
``engflow_subjects_cut``. No Textual.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from ..model import (
    ConnectionStats,
    DbState,
    HostMetrics,
    PollResult,
    RlsStatus,
    SlowQueries,
)
from ..textsafe import inert


@dataclass
class TargetFigures:
    """What the watcher keeps per target for the exposition, beside its last poll."""

    name: str
    result: PollResult | None = None
    poll_seconds: float | None = None
    polls: int = 0
    http_last: Any = None
    """The probe results last counted (the monitor hands the same tuple until a new round)."""
    http_probes: dict[str, int] = field(default_factory=dict)
    http_errors: dict[str, int] = field(default_factory=dict)

    def frozen(self) -> TargetFigures:
        """A copy that the poll loop no longer changes (its probe counters are dicts it
        updates): what a scrape written in another thread reads."""
        return replace(
            self, http_probes=dict(self.http_probes), http_errors=dict(self.http_errors)
        )

    def count_http(self, result: PollResult) -> None:
        """Count each HTTP probe round once (every poll carries the latest round)."""
        probes = result.snapshot.http
        if not probes or probes is self.http_last:
            return
        self.http_last = probes
        for probe in probes:
            self.http_probes[probe.name] = self.http_probes.get(probe.name, 0) + 1
            if probe.is_error:
                self.http_errors[probe.name] = self.http_errors.get(probe.name, 0) + 1


def _label(value: object) -> str:
    return inert(value, one_line=True)


class _Capped:
    """Samples of one per-subject family, at most ``cap`` of them (the first ones kept); what
    the cap leaves out is counted in ``cuts``, without looking at it."""

    def __init__(self, family: Any, cap: int, cuts: dict[tuple[str, str], int], target: str):
        self.family, self.cap, self.cuts, self.target = family, cap, cuts, target
        self.seen: set[tuple[str, ...]] = set()

    def fill(self, items: Sequence[Any], sample: Callable[[Any], tuple[list[str], float]]) -> None:
        for index, item in enumerate(items):
            if len(self.seen) >= self.cap:
                where = (self.target, self.family.name)
                self.cuts[where] = self.cuts.get(where, 0) + len(items) - index
                return
            labels, value = sample(item)
            key = tuple(labels)
            if key in self.seen:  # two names made equal by inert(): the first one stands
                continue
            self.seen.add(key)
            self.family.add_metric(labels, value)


def families(
    targets: Iterable[TargetFigures], max_subjects: int, info: dict[str, str]
) -> Iterator[Any]:
    """Every metric family for ``targets``' last polls."""
    t = ["target"]
    up = GaugeMetricFamily(
        "engflow_up", "1 when the target's database answered the last poll.", labels=t
    )
    polls = CounterMetricFamily(
        "engflow_polls", "Polls of the target since the watcher started.", labels=t
    )
    poll_s = GaugeMetricFamily(
        "engflow_poll_duration_seconds", "Wall time of the last poll.", labels=t
    )
    rtt = GaugeMetricFamily(
        "engflow_round_trip_seconds", "The activity probe's round trip.", labels=t
    )
    authority = GaugeMetricFamily(
        "engflow_watch_authority",
        "1 when this watcher holds the target's alerting lock (it sends the notifications).",
        labels=t,
    )
    conns = GaugeMetricFamily(
        "engflow_connections", "Client backends by state (the whole server).", labels=[*t, "state"]
    )
    max_conns = GaugeMetricFamily("engflow_max_connections", "max_connections.", labels=t)
    idle_tx = GaugeMetricFamily(
        "engflow_idle_in_transaction_oldest_seconds",
        "How long the oldest session idle in transaction has been so (0: none is).",
        labels=t,
    )
    idle_over = GaugeMetricFamily(
        "engflow_idle_in_transaction_over_threshold",
        "Sessions idle in transaction for longer than [thresholds] idle_in_transaction.",
        labels=t,
    )
    commits = CounterMetricFamily(
        "engflow_xact_commit", "Transactions committed (pg_stat_database).", labels=t
    )
    rollbacks = CounterMetricFamily(
        "engflow_xact_rollback", "Transactions rolled back (pg_stat_database).", labels=t
    )
    hits = CounterMetricFamily(
        "engflow_blocks_hit", "Buffer cache hits (pg_stat_database).", labels=t
    )
    reads = CounterMetricFamily(
        "engflow_blocks_read", "Blocks read from disk (pg_stat_database).", labels=t
    )
    no_rls = GaugeMetricFamily(
        "engflow_tables_without_rls", "Tables of the exposed schemas with RLS off.", labels=t
    )
    rls_off = GaugeMetricFamily(
        "engflow_table_rls_disabled",
        "1 per table of the exposed schemas with RLS off (the RLS Violation alert's subjects).",
        labels=[*t, "table"],
    )
    slowest = GaugeMetricFamily(
        "engflow_slowest_statement_mean_seconds",
        "The slowest mean execution time in pg_stat_statements (its top statements).",
        labels=t,
    )
    replication = GaugeMetricFamily(
        "engflow_replication_lag_seconds",
        'Replay lag of each standby (on a primary) or of this server (replica="self").',
        labels=[*t, "replica"],
    )
    users = GaugeMetricFamily(
        "engflow_active_users", "Active users (targets.NAME.active_users_sql).", labels=t
    )
    writes = CounterMetricFamily(
        "engflow_table_writes",
        "Rows inserted, updated and deleted per table (busiest first).",
        labels=[*t, "table"],
    )
    archive_failed = CounterMetricFamily(
        "engflow_wal_archive_failures", "WAL archiving failures (pg_stat_archiver).", labels=t
    )
    archive_age = GaugeMetricFamily(
        "engflow_wal_last_archived_age_seconds",
        "Since the last WAL segment was archived.",
        labels=t,
    )
    http_s = GaugeMetricFamily(
        "engflow_http_probe_duration_seconds",
        "The last HTTP probe's response time.",
        labels=[*t, "probe"],
    )
    http_n = CounterMetricFamily("engflow_http_probes", "HTTP probes sent.", labels=[*t, "probe"])
    http_e = CounterMetricFamily(
        "engflow_http_probe_errors",
        "HTTP probes that failed (5xx, timeout, no answer).",
        labels=[*t, "probe"],
    )
    cpu = GaugeMetricFamily("engflow_host_cpu_ratio", "Host CPU busy (node_exporter).", labels=t)
    memory = GaugeMetricFamily("engflow_host_memory_ratio", "Host memory used.", labels=t)
    disk = GaugeMetricFamily(
        "engflow_host_disk_used_ratio",
        "Disk used at the database's mount point.",
        labels=[*t, "mountpoint"],
    )
    firing = GaugeMetricFamily(
        "engflow_alert_firing",
        "Each active runbook alert: 1 firing, 0 pending (not yet for its duration).",
        labels=[*t, "rule", "severity", "subject"],
    )
    cut = GaugeMetricFamily(
        "engflow_subjects_cut",
        "Series left out of a metric at this scrape by [watch] max_subjects.",
        labels=[*t, "metric"],
    )
    cuts: dict[tuple[str, str], int] = {}

    for figures in targets:
        name = _label(figures.name)
        polls.add_metric([name], figures.polls)
        result = figures.result
        if result is None:
            continue
        snap = result.snapshot
        health = snap.health
        up.add_metric([name], 0.0 if health.state is DbState.DOWN else 1.0)
        if figures.poll_seconds is not None:
            poll_s.add_metric([name], figures.poll_seconds)
        if health.latency_ms is not None:
            rtt.add_metric([name], health.latency_ms / 1000)
        alerting = result.alerting
        if alerting is not None:
            holder = alerting.holder
            # Held and trusted: consoles defer to it (an untrusted role's lock silences nobody).
            mine = holder is not None and holder.mine and holder.trusted
            authority.add_metric([name], 1.0 if mine else 0.0)
        c = snap.connections
        if isinstance(c, ConnectionStats):
            for state, count in sorted(c.by_state.items()):
                conns.add_metric([name, _label(state)], count)
            max_conns.add_metric([name], c.max_connections)
            idle_tx.add_metric([name], c.oldest_idle_in_transaction_seconds or 0.0)
            if c.idle_in_transaction_over is not None:
                idle_over.add_metric([name], c.idle_in_transaction_over)
        if health.xact_commit is not None and health.xact_rollback is not None:
            commits.add_metric([name], health.xact_commit)
            rollbacks.add_metric([name], health.xact_rollback)
        if health.blks_hit is not None and health.blks_read is not None:
            hits.add_metric([name], health.blks_hit)
            reads.add_metric([name], health.blks_read)
        if isinstance(snap.rls, RlsStatus):
            disabled = snap.rls.disabled
            no_rls.add_metric([name], len(disabled))
            _Capped(rls_off, max_subjects, cuts, name).fill(
                disabled, lambda t: ([name, _label(f"{t.schema}.{t.table}")], 1.0)
            )
        if isinstance(snap.slow_queries, SlowQueries) and snap.slow_queries.queries:
            slowest.add_metric([name], max(q.mean_ms for q in snap.slow_queries.queries) / 1000)
        if snap.replication:  # standbys may share a name ("walreceiver"): the first one stands
            _Capped(replication, max_subjects, cuts, name).fill(
                [lag for lag in snap.replication if lag.lag_seconds is not None],
                lambda lag: ([name, _label(lag.name)], lag.lag_seconds),
            )
        if isinstance(snap.active_users, int):
            users.add_metric([name], snap.active_users)
        if snap.table_activity:
            _Capped(writes, max_subjects, cuts, name).fill(
                sorted(snap.table_activity, key=lambda a: -a.writes),
                lambda t: ([name, _label(f"{t.schema}.{t.table}")], t.writes),
            )
        if snap.archiver is not None:
            failed = snap.archiver.get("failed_count")
            if isinstance(failed, (int, float)):
                archive_failed.add_metric([name], failed)
            age = snap.archiver.get("last_archived_age_s")
            if isinstance(age, (int, float)) and math.isfinite(age):
                archive_age.add_metric([name], age)
        for probe in snap.http:
            if probe.latency_ms is not None:
                http_s.add_metric([name, probe.name], probe.latency_ms / 1000)
        for probe_name, count in sorted(figures.http_probes.items()):
            http_n.add_metric([name, probe_name], count)
            http_e.add_metric([name, probe_name], figures.http_errors.get(probe_name, 0))
        host = snap.host
        if isinstance(host, HostMetrics):
            if host.cpu_pct is not None:
                cpu.add_metric([name], host.cpu_pct / 100)
            if host.memory_pct is not None:
                memory.add_metric([name], host.memory_pct / 100)
            if host.disk_pct is not None:
                disk.add_metric([name, _label(host.mountpoint)], host.disk_pct / 100)
        _Capped(firing, max_subjects, cuts, name).fill(
            result.alerts,
            lambda a: (
                [name, a.rule, a.severity.value, _label(a.subject)],
                1.0 if a.state == "firing" else 0.0,
            ),
        )
    for (target, metric), count in sorted(cuts.items()):
        cut.add_metric([target, metric], count)
    watch_info = InfoMetricFamily("engflow_watch", "The watcher: version and host.", value=info)
    yield from (
        watch_info,
        up,
        polls,
        poll_s,
        rtt,
        authority,
        conns,
        max_conns,
        idle_tx,
        idle_over,
        commits,
        rollbacks,
        hits,
        reads,
        no_rls,
        rls_off,
        slowest,
        replication,
        users,
        writes,
        archive_failed,
        archive_age,
        http_s,
        http_n,
        http_e,
        cpu,
        memory,
        disk,
        firing,
        cut,
    )


class WatchCollector(Collector):
    """A prometheus-client collector over the watcher's targets (read at each scrape)."""

    def __init__(
        self,
        targets: Callable[[], Iterable[TargetFigures]],
        max_subjects: Callable[[], int],
        info: dict[str, str],
    ) -> None:
        self._targets = targets
        self._max_subjects = max_subjects
        self._info = info

    def collect(self) -> Iterator[Any]:
        return families(self._targets(), self._max_subjects(), self._info)


def _escape(value: str) -> str:
    if "\\" not in value and '"' not in value and "\n" not in value:
        return value
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(metrics: Iterable[Any]) -> bytes:
    """The text format (0.0.4) of prometheus-client metric families, as its generate_latest
    writes them (label names sorted, values as Go prints floats), for the gauges, counters and
    infos built here only: their names and label names are fixed and valid, so the per-sample
    name checks of the general writer (two thirds of a scrape's time at 1,500 series) are not
    needed."""
    from prometheus_client.utils import floatToGoString

    out: list[str] = []
    for metric in metrics:
        name, kind = metric.name, metric.type
        if kind == "counter":
            name += "_total"
        elif kind == "info":
            name, kind = name + "_info", "gauge"
        doc = metric.documentation.replace("\\", "\\\\").replace("\n", "\\n")
        out.append(f"# HELP {name} {doc}\n# TYPE {name} {kind}\n")
        order: list[str] | None = None  # every sample of a family has the same label names
        for sample in metric.samples:
            labels = sample.labels
            value = floatToGoString(sample.value)  # type: ignore[no-untyped-call]
            if labels:
                if order is None:
                    order = sorted(labels)
                body = ",".join([f'{k}="{_escape(labels[k])}"' for k in order])
                out.append(f"{sample.name}{{{body}}} {value}\n")
            else:
                out.append(f"{sample.name} {value}\n")
    return "".join(out).encode("utf-8")


def exposition_of(collector: WatchCollector) -> Callable[[], bytes]:
    """A function making one scrape's text from ``collector``."""
    return lambda: render(collector.collect())
