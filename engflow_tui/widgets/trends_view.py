"""Pure render of the Trends screen: a TrendsReport -> rich renderables (charts as wide
sparklines with min / max / latest, top growing tables, capacity projections)."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..history.trends import WINDOWS, Capacity, Chart, TrendsReport
from ..textsafe import inert
from .render import human_bytes
from .sparkline import spark


def _number(metric: str, value: float) -> str:
    if metric == "db_size":
        return human_bytes(int(value))
    if metric == "cache":
        return f"{value:.1f} %"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def chart_table(charts: tuple[Chart, ...], width: int) -> Table:
    table = Table(expand=True, show_edge=False, pad_edge=False, box=None)
    table.add_column("metric", style="bold", no_wrap=True)
    table.add_column("trend", no_wrap=True, ratio=1)
    table.add_column("min", justify="right", no_wrap=True)
    table.add_column("max", justify="right", no_wrap=True)
    table.add_column("now", justify="right", no_wrap=True, style="bold")
    spark_width = max(8, width - 60)
    for chart in charts:
        values = chart.values
        if not values:
            table.add_row(chart.label, Text("no samples yet", style="dim"), "-", "-", "-")
            continue
        floor = None if chart.metric in ("cache", "db_size") else 0.0
        table.add_row(
            chart.label,
            Text(spark(values, spark_width, floor), style="cyan"),
            _number(chart.metric, min(values)),
            _number(chart.metric, max(values)),
            _number(chart.metric, values[-1]),
        )
    return table


def _when(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "not at the current trend"
    if at <= now:
        return "reached now"
    days = (at - now).total_seconds() / 86400
    when = at.astimezone().strftime("%Y-%m-%d")
    if days >= 1:
        return f"in {days:.0f} days ({when})"
    hours = days * 24
    return f"in {hours:.1f} hours" if hours >= 1 else f"in {hours * 60:.0f} min"


def capacity_text(cap: Capacity, now: datetime) -> Text:
    text = Text()
    text.append("Storage  ", style="bold")
    if cap.db_size is None:
        text.append("no size samples yet", style="dim")
    else:
        text.append(human_bytes(int(cap.db_size)))
        if cap.db_per_month is not None:
            sign = "+" if cap.db_per_month >= 0 else "-"
            text.append(f"  {sign}{human_bytes(int(abs(cap.db_per_month)))}/month")
        if cap.note:
            pass  # no trend yet: said once below
        elif cap.storage_limit:
            text.append(f"  limit {human_bytes(int(cap.storage_limit))}: ")
            style = (
                "bold red" if cap.storage_full_at and (cap.storage_full_at - now).days < 30 else ""
            )
            text.append(_when(cap.storage_full_at, now), style=style)
        else:
            text.append("  (set [capacity] storage_limit to project when it is full)", style="dim")
    text.append("\nConnections  ", style="bold")
    if cap.connections is None or cap.max_connections is None:
        text.append("no samples yet", style="dim")
    elif cap.note:
        text.append(f"peak {cap.connections:.0f} of {cap.max_connections:.0f}")
    else:
        text.append(f"peak {cap.connections:.0f} of {cap.max_connections:.0f}")
        if cap.connections_per_day is not None:
            text.append(f"  {cap.connections_per_day:+.1f}/day")
        text.append("  max_connections: ")
        soon = cap.connections_full_at and (cap.connections_full_at - now).days < 14
        text.append(_when(cap.connections_full_at, now), style="bold red" if soon else "")
    if cap.note:
        text.append(f"\n{cap.note}", style="dim")
    return text


def growth_table(report: TrendsReport) -> RenderableType:
    if not report.growth:
        return Text(
            "Table growth: needs 6 h of table-size samples (taken every 10 min)", style="dim"
        )
    table = Table(title="Top growing tables", title_justify="left", expand=True, show_edge=False)
    table.add_column("table", overflow="ellipsis", no_wrap=True, ratio=1)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("growth / month", justify="right", no_wrap=True)
    for g in report.growth:
        rate = g.per_month
        table.add_row(
            Text(inert(g.table, one_line=True)),
            human_bytes(int(g.size_bytes)),
            ("+" if rate >= 0 else "-") + human_bytes(int(abs(rate))),
        )
    return table


def trends_renderable(report: TrendsReport, width: int = 80) -> RenderableType:
    since = (
        report.first_sample.astimezone().strftime("%Y-%m-%d %H:%M")
        if report.first_sample
        else "never"
    )
    window = WINDOWS[report.window]
    head = Text()
    head.append(f"Last {window.label or window.name}", style="bold")
    head.append(f"  · since {since} · h/d/w window · Esc back", style="dim")
    return Group(
        head,
        chart_table(report.charts, width),
        Text(""),
        capacity_text(report.capacity, report.now),
        Text(""),
        growth_table(report),
    )
