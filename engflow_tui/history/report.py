"""The weekly performance report (``engflow-tui report weekly``): this week vs the one before —
statements that got slower, growth, cache, errors, busiest tables, alerts of the week.

Built from the history store and the alert history file; rendered as Markdown or JSON. Pure
apart from the store reads. Must not import Textual.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from ..textsafe import dumps, inert
from .store import HistoryStore
from .trends import hit_rate, table_growth

WEEK = timedelta(days=7)
SLOWER = 1.2
"""A statement "got slower" when its mean time rose by at least this factor."""


@dataclass(frozen=True, slots=True)
class SlowerStatement:
    queryid: int
    query: str
    mean_ms_before: float
    mean_ms_now: float
    calls: int

    @property
    def factor(self) -> float:
        return self.mean_ms_now / self.mean_ms_before if self.mean_ms_before else 0.0


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    target: str
    start: datetime
    end: datetime
    samples: int
    slower: list[SlowerStatement]
    db_size_start: float | None
    db_size_end: float | None
    growth: list[dict[str, Any]]
    cache_hit_pct: float | None
    cache_hit_pct_before: float | None
    transactions: float
    rollbacks: float
    rollback_pct: float | None
    http_errors: dict[str, float]
    connections_peak: float | None
    connections_mean: float | None
    top_tables: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


def _sum(store: HistoryStore, metric: str, start: datetime, end: datetime) -> dict[str, float]:
    return {k: v[0] for k, v in store.totals(metric, start, end).items()}


def weekly_report(
    store: HistoryStore, target: str, now: datetime, alert_history: list[dict[str, Any]]
) -> WeeklyReport:
    start, before = now - WEEK, now - 2 * WEEK
    end = now + timedelta(seconds=1)

    calls_now, total_now = (
        _sum(store, "stmt.calls", start, end),
        _sum(store, "stmt.total_ms", start, end),
    )
    calls_before = _sum(store, "stmt.calls", before, start)
    total_before = _sum(store, "stmt.total_ms", before, start)
    slower = []
    for qid, calls in calls_now.items():
        if not calls or not calls_before.get(qid):
            continue
        mean_now = total_now.get(qid, 0.0) / calls
        mean_before = total_before.get(qid, 0.0) / calls_before[qid]
        if mean_before > 0 and mean_now >= mean_before * SLOWER:
            slower.append((int(qid), mean_before, mean_now, int(calls)))
    texts = store.statement_texts(q for q, *_ in slower)
    statements = sorted(
        (SlowerStatement(q, texts.get(q, "?"), b, n, c) for q, b, n, c in slower),
        key=lambda s: -s.factor,
    )

    sizes = store.series("db.size", "", start, end, even=False)
    hits, reads = _sum(store, "blocks.hit", start, end), _sum(store, "blocks.read", start, end)
    hits_b, reads_b = (
        _sum(store, "blocks.hit", before, start),
        _sum(store, "blocks.read", before, start),
    )
    commits = _sum(store, "xact.commit", start, end).get("", 0.0)
    rollbacks = _sum(store, "xact.rollback", start, end).get("", 0.0)
    conns = store.series("conn.total", "", start, end, even=False)

    writes: dict[str, dict[str, float]] = {}
    for kind in ("ins", "upd", "del"):
        for table, value in _sum(store, f"table.{kind}", start, end).items():
            writes.setdefault(table, {"ins": 0.0, "upd": 0.0, "del": 0.0})[kind] = value
    top = sorted(writes.items(), key=lambda kv: -sum(kv[1].values()))[:10]

    fired: dict[str, dict[str, Any]] = {}
    for event in alert_history:
        try:
            at = datetime.fromisoformat(str(event.get("at")))
        except ValueError:
            continue
        if event.get("event") != "fired" or not (start <= at <= end):
            continue
        entry = fired.setdefault(
            str(event.get("rule")),
            {
                "rule": event.get("rule"),
                "title": event.get("title"),
                "severity": event.get("severity"),
                "count": 0,
                "last": None,
            },
        )
        entry["count"] += 1
        entry["last"] = max(filter(None, [entry["last"], at.isoformat()]))

    return WeeklyReport(
        target=target,
        start=start,
        end=now,
        samples=len(conns),
        slower=statements,
        db_size_start=sizes[0].mean if sizes else None,
        db_size_end=sizes[-1].mean if sizes else None,
        growth=[asdict(g) for g in table_growth(store, now, WEEK, top=5)],
        cache_hit_pct=hit_rate(hits.get("", 0.0), reads.get("", 0.0)),
        cache_hit_pct_before=hit_rate(hits_b.get("", 0.0), reads_b.get("", 0.0)),
        transactions=commits + rollbacks,
        rollbacks=rollbacks,
        rollback_pct=100.0 * rollbacks / (commits + rollbacks) if commits + rollbacks else None,
        http_errors=_sum(store, "http.errors", start, end),
        connections_peak=max((p.vmax for p in conns), default=None),
        connections_mean=(sum(p.total for p in conns) / sum(p.n for p in conns)) if conns else None,
        top_tables=[{"table": t, **w, "total": sum(w.values())} for t, w in top],
        alerts=sorted(fired.values(), key=lambda a: -a["count"]),
    )


# ---------------------------------------------------------------------------------------------
# Rendering


def _bytes(value: float | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


def to_json(report: WeeklyReport) -> str:
    data = asdict(report)
    data["start"], data["end"] = report.start.isoformat(), report.end.isoformat()
    for item, s in zip(data["slower"], report.slower, strict=True):
        item["factor"] = round(s.factor, 2)
    return dumps(data, indent=2, default=str)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def to_markdown(report: WeeklyReport) -> str:
    r = report
    out = [
        f"# Weekly performance report — {r.target}",
        "",
        f"{r.start:%Y-%m-%d %H:%M} – {r.end:%Y-%m-%d %H:%M} UTC · samples: {r.samples}",
        "",
    ]
    if not r.samples:
        out += [
            "No samples this week: run the console or `engflow-tui record` to keep history.",
            "",
        ]
    out += ["## Statements that got slower", ""]
    if r.slower:
        out += [
            "| query | mean before | mean now | × | calls |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for s in r.slower[:15]:
            out.append(
                f"| `{_cell(s.query)[:120]}` | {s.mean_ms_before:.1f} ms | {s.mean_ms_now:.1f} ms "
                f"| {s.factor:.1f} | {s.calls} |"
            )
    else:
        out.append(f"None slower by {SLOWER:.1f}× or more than the week before.")
    growth = (
        f"{_bytes(r.db_size_start)} → {_bytes(r.db_size_end)}"
        f" ({'+' if (r.db_size_end or 0) >= (r.db_size_start or 0) else ''}"
        f"{_bytes((r.db_size_end or 0) - (r.db_size_start or 0))})"
        if r.db_size_start is not None
        else "no size samples"
    )
    out += ["", "## Growth", "", f"Database: {growth}"]
    if r.growth:
        out += ["", "| table | size | growth / month |", "| --- | ---: | ---: |"]
        out += [
            f"| {_cell(g['table'])} | {_bytes(g['size_bytes'])} | {_bytes(g['per_month'])} |"
            for g in r.growth
        ]
    errors = ", ".join(f"{k} {v:.0f}" for k, v in sorted(r.http_errors.items())) or "none"
    out += [
        "",
        "## Cache, errors, connections",
        "",
        f"- Cache hit rate: {_pct(r.cache_hit_pct)} (week before: {_pct(r.cache_hit_pct_before)})",
        f"- Transactions: {r.transactions:.0f}, "
        f"rolled back {r.rollbacks:.0f} ({_pct(r.rollback_pct)})",
        f"- Failed HTTP probes: {errors}",
        f"- Connections: peak {r.connections_peak or 0:.0f}, mean {r.connections_mean or 0:.1f}",
        "",
        "## Busiest tables (rows written)",
        "",
    ]
    if r.top_tables:
        out += ["| table | inserted | updated | deleted |", "| --- | ---: | ---: | ---: |"]
        out += [
            f"| {_cell(t['table'])} | {t['ins']:.0f} | {t['upd']:.0f} | {t['del']:.0f} |"
            for t in r.top_tables
        ]
    else:
        out.append("No writes recorded.")
    out += ["", "## Alerts of the week", ""]
    if r.alerts:
        out += ["| alert | severity | fired | last |", "| --- | --- | ---: | --- |"]
        out += [
            f"| {_cell(str(a['title']))} | {a['severity']} | {a['count']} | {a['last']} |"
            for a in r.alerts
        ]
    else:
        out.append("No alert fired.")
    return inert("\n".join(out) + "\n")
