"""Headless diagnosis: probes once, turns the snapshot into checks, prints text, JSON or Markdown.

Exit codes as monitoring plugins use them: 0 ok, 1 warning, 2 critical, 3 unknown (cannot
connect). The JSON layout is a contract other tools rely on. Must not import Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import Thresholds
from .durations import format_age
from .figures import idle_in_transaction, idle_sessions_over
from .model import (
    ConnectionStats,
    DbState,
    RlsStatus,
    SlowQueries,
    Snapshot,
    TableRls,
    Unavailable,
)
from .textsafe import dumps, inert

STATUS_ORDER = {"ok": 0, "unknown": 1, "warning": 2, "critical": 3}
EXIT_CODES = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}

#: The report's sections, in the order the runbook's full diagnosis walks them.
SECTIONS = (
    "Connectivity",
    "Performance",
    "Security",
    "Integrity",
    "Maintenance",
    "Backups",
    "Replication",
    "Privileges",
)
_SECTION_OF = {
    "database": "Connectivity",
    "connectivity": "Connectivity",
    "connections": "Performance",
    "cache": "Performance",
    "queries": "Performance",
    "locks": "Performance",
    "rls": "Security",
    "security": "Security",
    "integrity": "Integrity",
    "maintenance": "Maintenance",
    "backup": "Backups",
    "replication": "Replication",
    "capabilities": "Privileges",
}


def section_of(check_id: str) -> str:
    return _SECTION_OF.get(check_id.split(".", 1)[0], "Other")


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    status: str
    summary: str
    value: float | int | None = None
    unit: str | None = None
    details: Any = None
    fix: str | None = None
    action: str | None = None
    """The console action (palette name) that fixes it, e.g. "Enable RLS"."""
    action_target: dict[str, Any] | None = None
    """What that action should act on when the check knows (the root blocker's pid)."""
    excluded: int = 0
    """Findings left out by [diagnose] exclude."""

    @property
    def section(self) -> str:
        return section_of(self.id)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status, "value": self.value}
        if self.unit:
            out["unit"] = self.unit
        out["summary"] = self.summary
        out["details"] = self.details if self.details is not None else {}
        if self.fix:
            out["fix"] = self.fix
        out["section"] = self.section
        if self.action:
            out["action"] = self.action
        if self.excluded:
            out["excluded"] = self.excluded
        return out


@dataclass(frozen=True, slots=True)
class Report:
    target: str
    generated_at: datetime
    checks: list[Check] = field(default_factory=list)
    reachable: bool = True

    @property
    def status(self) -> str:
        if not self.reachable:
            return "unknown"  # exit 3 means "cannot connect", as monitoring plugins read it
        # A check that could not run (privilege, extension) is listed with its fix but does not
        # turn a reachable database into "unknown".
        statuses = [c.status for c in self.checks if c.status != "unknown"]
        return max(statuses, key=STATUS_ORDER.__getitem__, default="ok")

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def exit_code_failing_on(self, level: str | None) -> int:
        """--fail-on: 0 unless the status reaches ``level`` (unreachable stays 3)."""
        if level is None or not self.reachable:
            return self.exit_code
        return self.exit_code if STATUS_ORDER[self.status] >= STATUS_ORDER[level] else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "target": self.target,
            "generated_at": self.generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "checks": [c.as_dict() for c in self.checks],
        }


def _unavailable(check_id: str, item: Unavailable) -> Check:
    return Check(check_id, "unknown", f"cannot check: {item.reason}", fix=item.fix)


def is_excluded(exclude: frozenset[str] | set[str], check_id: str, key: str | None = None) -> bool:
    return check_id in exclude or (key is not None and f"{check_id}:{key}" in exclude)


def build_report(
    snapshot: Snapshot,
    thresholds: Thresholds,
    *,
    quick: bool = False,
    exclude: frozenset[str] = frozenset(),
) -> Report:
    checks: list[Check] = []
    health = snapshot.health
    if health.state is DbState.DOWN:
        checks.append(
            Check(
                "database.reachable",
                "unknown",  # as monitoring plugins read it: the state could not be determined
                f"cannot connect: {health.error}",
                details={"error": health.error},
            )
        )
        return Report(snapshot.target, snapshot.taken_at, checks, reachable=False)
    checks.append(
        Check(
            "database.reachable",
            "warning" if health.state is DbState.DEGRADED else "ok",
            f"{health.state.value} in {health.latency_ms or 0:.1f} ms, PostgreSQL {health.server_version}"
            + (f" ({health.error})" if health.error else ""),
            value=round(health.latency_ms or 0.0, 1),
            unit="ms",
            details={
                "server_version": health.server_version,
                "database": health.database,
                "uptime_seconds": health.uptime_seconds,
                "size_bytes": health.database_size_bytes,
            },
        )
    )

    conns = snapshot.connections
    if isinstance(conns, Unavailable):
        checks.append(_unavailable("connections.usage", conns))
    else:
        checks.extend(_connection_checks(conns, thresholds))

    if health.cache_hit_pct is not None:
        pct = round(health.cache_hit_pct, 1)
        status = "warning" if pct < thresholds.cache_hit_warning_pct else "ok"
        checks.append(
            Check(
                "cache.hit_rate",
                status,
                f"buffer cache hit rate {pct} % (target > {thresholds.cache_hit_warning_pct:g} %)",
                pct,
                "%",
            )
        )

    rls = snapshot.rls
    if isinstance(rls, Unavailable):
        checks.append(_unavailable("rls.disabled", rls))
    else:
        checks.append(_rls_check(rls, exclude))

    if not quick:
        slow = snapshot.slow_queries
        if isinstance(slow, Unavailable):
            checks.append(_unavailable("queries.slow", slow))
        else:
            checks.append(_slow_check(slow))
    return Report(snapshot.target, snapshot.taken_at, checks)


def _connection_checks(conns: ConnectionStats, t: Thresholds) -> list[Check]:
    usage = round(conns.usage_pct, 1)
    status = (
        "critical"
        if usage >= t.connections_critical_pct
        else "warning"
        if usage >= t.connections_warning_pct
        else "ok"
    )
    usage_check = Check(
        "connections.usage",
        status,
        f"{conns.total} of {conns.max_connections} connections in use ({usage} %)",
        usage,
        "%",
        details={
            "total": conns.total,
            "max_connections": conns.max_connections,
            "by_state": conns.by_state,
        },
    )
    figure = idle_in_transaction(conns, t.idle_in_transaction)
    longer = f"longer than {format_age(t.idle_in_transaction)}"
    if figure.count is None:
        return [
            usage_check,
            Check(
                "connections.idle_in_transaction",
                "unknown",
                f"cannot see: {figure.unknown}",
                fix=figure.fix,
            ),
        ]
    stuck = idle_sessions_over(conns, t.idle_in_transaction)
    listed = f" ({len(stuck)} listed)" if figure.count > len(stuck) else ""
    iit = Check(
        "connections.idle_in_transaction",
        "warning" if figure.count else "ok",
        (
            f"{figure.count} session(s) idle in transaction {longer}{listed}"
            if figure.count
            else f"no session idle in transaction {longer}"
        ),
        figure.count,
        details=[
            {
                "pid": s.pid,
                "user": s.user,
                "application": s.application,
                "client_addr": s.client_addr,
                "state": s.state,
                "seconds": round(s.state_age_seconds or 0, 1),
                "query": s.one_line_query(500),
            }
            for s in stuck
        ],
        fix="terminate them (console: Terminate idle transactions) or fix the client that leaves them open"
        if figure.count
        else None,
        action="Terminate idle transactions" if figure.count else None,
    )
    return [usage_check, iit]


def _rls_check(rls: RlsStatus, exclude: frozenset[str] = frozenset()) -> Check:
    all_off = rls.disabled
    off = tuple(t for t in all_off if not is_excluded(exclude, "rls.disabled", _key(t)))
    schemas = ", ".join(rls.schemas)
    excluded = len(all_off) - len(off)
    if off:
        summary = f"{len(off)} table(s) without row-level security in {schemas}: " + ", ".join(
            t.qualified for t in off
        )
    elif excluded:
        summary = f"RLS on for every table in {schemas} not excluded by config"
    else:
        summary = f"RLS on for all {len(rls.tables)} table(s) in {schemas}"
    if excluded:
        summary += f" ({excluded} excluded)"
    return Check(
        "rls.disabled",
        "critical" if off else "ok",
        summary,
        len(off),
        details=[{"schema": t.schema, "table": t.table, "policies": t.policy_count} for t in off],
        fix="ALTER TABLE <table> ENABLE ROW LEVEL SECURITY;  (check its policies first)"
        if off
        else None,
        action="Enable RLS" if off else None,
        excluded=excluded,
    )


def _key(t: TableRls) -> str:
    return f"{t.schema}.{t.table}"


def _slow_check(slow: SlowQueries) -> Check:
    return Check(
        "queries.slow",
        "warning" if slow.queries else "ok",
        f"{len(slow.queries)} statement(s) with mean time > {slow.threshold_ms:g} ms"
        + (f"; {slow.note}" if slow.note else ""),
        len(slow.queries),
        details=[
            {
                "query": " ".join(q.query.split())[:500],
                "calls": q.calls,
                "mean_ms": round(q.mean_ms, 1),
                "total_ms": round(q.total_ms, 1),
                "rows": q.rows,
            }
            for q in slow.queries
        ],
    )


# ---------------------------------------------------------------------------------------------
# Output


def render_json(report: Report) -> str:
    return dumps(report.as_dict(), indent=2, default=str)


def worst(statuses: list[str]) -> str:
    return max(statuses, key=STATUS_ORDER.__getitem__, default="ok")


def by_section(checks: list[Check]) -> list[tuple[str, str, list[Check]]]:
    """(section, its worst status, its checks worst first), worst section first."""
    groups: dict[str, list[Check]] = {}
    for check in checks:
        groups.setdefault(check.section, []).append(check)
    order = {name: i for i, name in enumerate(SECTIONS)}
    out = [
        (
            name,
            worst([c.status for c in items]),
            sorted(items, key=lambda c: -STATUS_ORDER[c.status]),
        )
        for name, items in groups.items()
    ]
    out.sort(key=lambda g: (-STATUS_ORDER[g[1]], order.get(g[0], len(order))))
    return out


def _item_text(item: Any) -> str:
    if isinstance(item, dict):
        return ", ".join(f"{k}={v}" for k, v in item.items() if k != "fix")
    return str(item)


def render_text(report: Report) -> str:
    lines = [
        f"EngFlow diagnosis — target {report.target} — {report.generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z",
        f"overall: {report.status.upper()}",
    ]
    for section, status, checks in by_section(report.checks):
        lines += ["", f"== {section} ({status})"]
        for check in checks:
            lines.append(f"{check.status.upper():9} {check.id:34} {check.summary}")
            if isinstance(check.details, list):
                for item in check.details[:10]:
                    lines.append("          - " + _item_text(item))
                if len(check.details) > 10:
                    lines.append(f"          … and {len(check.details) - 10} more (--format json)")
            if check.fix:
                lines.append(f"          fix: {check.fix}")
    return inert("\n".join(lines))


def render_markdown(report: Report) -> str:
    lines = [
        f"# EngFlow diagnosis: {report.target}",
        "",
        f"- Generated: {report.generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z",
        f"- Overall status: **{report.status.upper()}**",
        "",
        "| status | check | value | summary |",
        "|---|---|---|---|",
    ]
    for check in sorted(report.checks, key=lambda c: -STATUS_ORDER[c.status]):
        value = (
            "" if check.value is None else f"{check.value}{' ' + check.unit if check.unit else ''}"
        )
        summary = check.summary.replace("|", "\\|")
        lines.append(f"| {check.status} | `{check.id}` | {value} | {summary} |")
    for check in report.checks:
        if check.fix or (isinstance(check.details, list) and check.details):
            lines += ["", f"## `{check.id}`", ""]
            if isinstance(check.details, list):
                for item in check.details[:20]:
                    lines.append("- " + ", ".join(f"{k}: `{v}`" for k, v in item.items()))
            if check.fix:
                lines += ["", f"Fix: {check.fix}"]
    return inert("\n".join(lines) + "\n")


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
