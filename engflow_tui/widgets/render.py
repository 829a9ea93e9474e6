"""Pure render functions: model records -> rich renderables and table rows.

Unit tests call these without an app. No SQL, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..config import Thresholds
from ..durations import format_age
from ..model import (
    Alert,
    ConnectionStats,
    DbState,
    Health,
    HostMetrics,
    HttpProbe,
    RlsStatus,
    Severity,
    SlowQueries,
    Snapshot,
    Unavailable,
)
from ..textsafe import inert

STATE_STYLE = {
    DbState.CONNECTED: "bold green",
    DbState.DEGRADED: "bold yellow",
    DbState.DOWN: "bold white on red",
}
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.WARNING: "bold black on yellow",
    Severity.INFO: "bold white on blue",
}
STATE_ORDER = ("active", "idle", "idle in transaction", "idle in transaction (aborted)")


def human_bytes(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def unavailable_text(item: Unavailable) -> Text:
    text = Text()
    text.append("unavailable: ", style="bold yellow")
    text.append(inert(item.reason))
    if item.fix:
        text.append("\nfix: ", style="bold")
        text.append(inert(item.fix), style="italic")
    return text


def health_renderable(
    health: Health,
    taken_at: datetime | None = None,
    cache_trend: Text | None = None,
    omit: frozenset[str] = frozenset(),
) -> RenderableType:
    """``omit``: rows left out where the panel has no room for them ("server", "size")."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    state = Text(f" {health.state.value.upper()} ", style=STATE_STYLE[health.state])
    if health.latency_ms is not None and health.state is not DbState.DOWN:
        state.append(f" {health.latency_ms:.1f} ms")
    grid.add_row("db", state)
    if health.state is DbState.DOWN:
        grid.add_row("error", Text(inert(health.error or "-"), style="red"))
        if health.down_since is not None and taken_at is not None:
            grid.add_row("down for", format_age((taken_at - health.down_since).total_seconds()))
        return grid
    if health.error:
        grid.add_row("why", Text(inert(health.error), style="yellow"))
    version = inert(health.server_version or "-", one_line=True)
    if "server" not in omit:
        grid.add_row("server", Text(f"PG {version} · up {format_age(health.uptime_seconds)}"))
    database = inert(health.database or "-", one_line=True)
    if "size" not in omit:
        grid.add_row("size", Text(f"{database}  {human_bytes(health.database_size_bytes)}"))
    cache = "-" if health.cache_hit_pct is None else f"{health.cache_hit_pct:.1f} %"
    cache_style = (
        "" if health.cache_hit_pct is None or health.cache_hit_pct >= 80 else "bold yellow"
    )
    cache_text = Text(
        f"{cache} hit" if health.cache_hit_pct is not None else cache, style=cache_style
    )
    if cache_trend is not None:
        cache_text.append_text(cache_trend)
    grid.add_row("cache", cache_text)
    return grid


PROBE_STYLE = {"ok": "bold green", "unhealthy": "bold yellow"}


def probe_line(probe: HttpProbe) -> Text:
    text = Text()
    text.append(
        f" {probe.state.upper().replace('_', ' ')} ",
        style=PROBE_STYLE.get(probe.state, "bold white on red"),
    )
    if probe.latency_ms is not None:
        slow = probe.latency_ms > 500
        text.append(f" {probe.latency_ms:.0f} ms", style="bold yellow" if slow else "")
    if probe.version:
        text.append(f"  v{inert(probe.version, one_line=True)}", style="dim")
    if probe.state != "ok" or "FALLBACK" in probe.detail:
        text.append(f"  {inert(probe.detail, one_line=True)}", style="bold yellow")
    return text


def host_line(host: HostMetrics | Unavailable) -> Text:
    if isinstance(host, Unavailable):
        return Text(f"unavailable: {inert(host.reason)}", style="yellow")
    text = Text()
    for label, value, limit in (
        ("cpu", host.cpu_pct, 80),
        ("mem", host.memory_pct, 85),
        ("disk", host.disk_pct, 85),
    ):
        text.append(f"{label} ", style="dim")
        text.append(
            "-" if value is None else f"{value:.0f}%",
            style="bold red" if value is not None and value > limit else "",
        )
        text.append("  ")
    if host.note:  # a figure that came out impossible (NaN, duplicated series): why it is "-"
        text.append(host.note, style="yellow")
    return text


def health_with_probes(snapshot: Snapshot) -> RenderableType:
    parts: list[RenderableType] = [health_renderable(snapshot.health, snapshot.taken_at)]
    if snapshot.http or snapshot.host is not None:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True, min_width=4)
        # One line per probe: the panel has one row for each (a wrapped detail hid the next).
        grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        for probe in snapshot.http:
            grid.add_row(probe.name, probe_line(probe))
        if snapshot.host is not None:
            grid.add_row("host", host_line(snapshot.host))
        parts.append(grid)
    return Group(*parts)


def connections_summary(stats: ConnectionStats, thresholds: Thresholds) -> Text:
    usage = stats.usage_pct
    style = "bold green"
    if usage >= thresholds.connections_critical_pct:
        style = "bold white on red"
    elif usage >= thresholds.connections_warning_pct:
        style = "bold black on yellow"
    text = Text()
    text.append(f" {stats.total}/{stats.max_connections} ({usage:.0f} %) ", style=style)
    for state in STATE_ORDER:
        count = stats.by_state.get(state, 0)
        if state == "idle in transaction (aborted)" and not count:
            continue  # rare: shown only when it happens
        label = state.replace("idle in transaction (aborted)", "aborted").replace(
            "idle in transaction", "idle in tx"
        )
        state_style = "bold yellow" if state.startswith("idle in transaction") and count else ""
        text.append(f"  {label} ", style="dim")
        if stats.hidden and state.startswith("idle in transaction"):
            # Other roles' sessions are hidden: how many of them are idle in a transaction is
            # unknown, never 0 (the GRANT is on the line below).
            text.append(f"{count}+?" if count else "?", style="bold yellow")
            continue
        text.append(str(count), style=state_style)
    others = sum(v for k, v in stats.by_state.items() if k not in STATE_ORDER)
    if others:
        text.append("  other ", style="dim")
        text.append(str(others))
    if stats.oldest_idle_in_transaction_seconds is not None:
        age = stats.oldest_idle_in_transaction_seconds
        over = age > thresholds.idle_in_transaction
        text.append("  oldest ", style="dim")
        text.append(format_age(age), style="bold red" if over else "yellow")
    if stats.hidden:
        text.append(
            f"\n{stats.hidden} sessions of other roles hidden: GRANT pg_read_all_stats TO <role>;",
            style="yellow",
        )
    return text


def state_cell(state: str | None, age: float | None, thresholds: Thresholds) -> Text:
    label = state or "?"
    if label == "idle in transaction (aborted)":
        label = "idle in tx (aborted)"  # fits the column; the summary counts it as "aborted"
    if label.startswith("idle in transaction"):
        over = (age or 0) > thresholds.idle_in_transaction
        return Text(label, style="bold red" if over else "yellow")
    if label == "active":
        return Text(label, style="green")
    return Text(label, style="dim")


def session_rows(
    stats: ConnectionStats, thresholds: Thresholds, query_width: int = 300
) -> list[tuple[str, list[object]]]:
    rows: list[tuple[str, list[object]]] = []
    for s in stats.sessions:
        key = f"{s.pid}:{s.backend_start.isoformat() if s.backend_start else ''}"
        rows.append(
            (
                key,
                [
                    str(s.pid),
                    # Text, not str: DataTable would read "[...]" as markup; inert: the names
                    # are any client's to choose.
                    Text(inert(s.user, one_line=True)),
                    Text(inert(s.application, one_line=True)),
                    Text(inert(s.client_addr or "local", one_line=True)),
                    state_cell(s.state, s.state_age_seconds, thresholds),
                    format_age(s.state_age_seconds),
                    # ClientRead on an idle session is the normal state, not a wait worth reading.
                    Text(
                        inert(s.wait_event, one_line=True)
                        if s.wait_event
                        and (s.state == "active" or "ClientRead" not in s.wait_event)
                        else ""
                    ),
                    Text(inert(s.one_line_query(query_width), one_line=True)),
                ],
            )
        )
    return rows


def slow_query_rows(slow: SlowQueries, query_width: int = 300) -> list[tuple[str, list[object]]]:
    rows: list[tuple[str, list[object]]] = []
    for q in slow.queries:
        text = " ".join(q.query.split())
        if len(text) > query_width:
            text = text[: query_width - 1] + "…"
        rows.append(
            (
                str(q.queryid),
                [
                    Text(
                        f"{q.mean_ms:,.1f}",
                        justify="right",
                        style="bold" if q.mean_ms >= 1000 else "",
                    ),
                    Text(f"{q.calls:,}", justify="right"),
                    Text(f"{q.total_ms:,.0f}", justify="right"),
                    Text(f"{q.rows:,}", justify="right"),
                    Text(inert(text, one_line=True)),
                ],
            )
        )
    return rows


def slow_queries_summary(slow: SlowQueries) -> Text:
    text = Text()
    text.append(
        f"{len(slow.queries)} slow (mean > {slow.threshold_ms:g} ms)",
        style="bold" if slow.queries else "green",
    )
    if slow.note:
        text.append(f"\n{inert(slow.note)}", style="yellow")
    return text


def rls_rows(rls: RlsStatus) -> list[tuple[str, list[object]]]:
    rows: list[tuple[str, list[object]]] = []
    for t in rls.tables:
        if t.rls_enabled:
            flag = Text("FORCED" if t.rls_forced else "ON", style="green")
        else:
            flag = Text("OFF ✗", style="bold white on red")
        policies = Text(str(t.policy_count), justify="right")
        if t.rls_enabled and t.policy_count == 0:
            policies.stylize("yellow")  # RLS on with no policy: every non-owner is denied
        name = Text(
            inert(f"{t.schema}.{t.table}", one_line=True), style="bold" if not t.rls_enabled else ""
        )
        # The key carries schema and table apart: either may contain dots.
        rows.append((json.dumps([t.schema, t.table]), [flag, policies, name]))
    return rows


def rls_summary(rls: RlsStatus) -> Text:
    off = len(rls.disabled)
    text = Text()
    if off:
        text.append(f" {off} WITHOUT RLS ", style="bold white on red")
    else:
        text.append("RLS on everywhere", style="bold green")
    text.append(f"  {len(rls.tables)} tables", style="dim")
    return text


GROUP_OVER = 3
"""A rule firing for more subjects than this is one row in the panel (the Alerts screen lists all)."""


def alert_rows(alerts: tuple[Alert, ...], now: datetime) -> list[tuple[str, list[object]]]:
    rows: list[tuple[str, list[object]]] = []
    per_rule: dict[tuple[str, str], list[Alert]] = {}
    for a in alerts:
        per_rule.setdefault((a.rule, a.state), []).append(a)
    done: set[tuple[str, str]] = set()
    for a in alerts:
        group = per_rule[(a.rule, a.state)]
        if len(group) > GROUP_OVER:
            if (a.rule, a.state) in done:
                continue
            done.add((a.rule, a.state))
            oldest = min((g.since for g in group if g.since), default=None)
            subjects = ", ".join(g.subject for g in group[:5])
            a = replace(
                a,
                key=f"{a.rule}:*{a.state}",
                since=oldest,
                title=f"{a.title} ×{len(group)}",
                acknowledged=all(g.acknowledged for g in group),
                message=f"{len(group)} subjects: {subjects}{', …' if len(group) > 5 else ''} (A: all of them)",
            )
        since = format_age((now - a.since).total_seconds()) if a.since else "-"
        if a.state == "pending":
            badge = Text(" pending ", style="dim")
            title = Text(a.title, style="dim")
        else:
            badge = Text(f" {a.severity.value.upper()} ", style=SEVERITY_STYLE[a.severity])
            title = Text(a.title + (" ✓ack" if a.acknowledged else ""), style="bold")
        rows.append((a.key, [badge, title, since, Text(inert(a.message, one_line=True))]))
    return rows


def alerts_summary(alerts: tuple[Alert, ...]) -> RenderableType:
    firing = [a for a in alerts if a.state == "firing"]
    pending = len(alerts) - len(firing)
    text = Text()
    if not firing:
        text.append("no alert firing", style="bold green")
    counts = {sev: sum(1 for a in firing if a.severity is sev) for sev in Severity}
    for sev in Severity:
        if counts[sev]:
            text.append(f" {counts[sev]} {sev.value} ", style=SEVERITY_STYLE[sev])
            text.append(" ")
    if pending:
        text.append(f"  {pending} pending", style="dim")
    if alerts:
        text.append("  ! or Enter: details", style="dim")
    return Group(text)


def highlighted(code: str, lexer: str, **options: Any) -> RenderableType:
    """Syntax-highlighted code. rich.syntax pulls in Pygments, so it is imported when a dialog
    first shows code, not at startup."""
    from rich.syntax import Syntax

    return Syntax(code, lexer, **options)
