"""``rules export --format prometheus``: the runbook's 13 alert rules as Prometheus alerting
rules over the watcher's metrics (engflow_tui/watch/exposition.py).

Thresholds, ``for`` durations and severities come from rules.toml with the config's
[alerts.RULE] overrides and [thresholds] knobs, as the console's own engine reads them.
Where Prometheus cannot say what the engine does, the rule says the nearest thing and the
annotation ``differences`` says how it differs: a clear threshold (hysteresis) becomes
``keep_firing_for: clear_for``; a baseline from the history store becomes the series' own
7-day average. Written as YAML (every string double-quoted, as JSON writes it). No Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..config import Config
from ..textsafe import dumps
from ..thresholds import Thresholds
from .rules import Rule, load_rules, runbook_sections

GROUP = "engflow-runbook"


@dataclass(frozen=True, slots=True)
class PromRule:
    expr: str
    differences: str = ""


def _num(value: float) -> str:
    """The number exactly as configured (repr: the shortest text that reads back the same)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _error_rate(r: Rule, t: Thresholds) -> PromRule:
    commits, rollbacks = "engflow_xact_commit_total", "engflow_xact_rollback_total"
    total = f"(increase({commits}[5m]) + increase({rollbacks}[5m]))"
    probes, errors = "engflow_http_probes_total", "engflow_http_probe_errors_total"
    database = (
        f"100 * increase({rollbacks}[5m]) / {total} > {_num(r.threshold)}"
        f" and {total} >= {max(t.min_transactions, 1)}"
    )
    http = (
        f"100 * increase({errors}[5m]) / increase({probes}[5m]) > {_num(r.threshold)}"
        f" and increase({probes}[5m]) >= {max(t.min_probes, 2)}"
    )
    return PromRule(
        f'label_replace({database}, "subject", "database", "", "")'
        f' or label_replace({http}, "subject", "$1", "probe", "(.*)")'
    )


def _usage(r: Rule, t: Thresholds) -> PromRule:
    return PromRule(
        f"100 * sum without (state) (engflow_connections) / engflow_max_connections"
        f" > {_num(r.threshold)}"
    )


def _cache(r: Rule, t: Thresholds) -> PromRule:
    hit, read = "engflow_blocks_hit_total", "engflow_blocks_read_total"
    total = f"(increase({hit}[5m]) + increase({read}[5m]))"
    return PromRule(
        f"100 * increase({hit}[5m]) / {total} {r.op} {_num(r.threshold)}"
        f" and {total} >= {max(t.min_cache_blocks, 1)}"
    )


def _users(r: Rule, t: Thresholds) -> PromRule:
    base = "avg_over_time(engflow_active_users[7d])"
    return PromRule(
        f"engflow_active_users / {base} > {_num(r.threshold)} and {base} >= 10",
        "the baseline is the series' own 7-day average (the console: its history store's)",
    )


def _writes(r: Rule, t: Thresholds) -> PromRule:
    now, base = "rate(engflow_table_writes_total[5m])", "rate(engflow_table_writes_total[7d])"
    floor = "0.1 / 60"
    return PromRule(
        f"({now} / clamp_min({base}, {floor}) > {_num(r.threshold)}"
        f" or {base} / clamp_min({now}, {floor}) > {_num(r.threshold)})"
        f" and (60 * {now} >= 10 or 60 * {base} >= 10)",
        "the baseline is the series' own 7-day rate (the console: its history store's); "
        "tables past [watch] max_subjects are not exported",
    )


EXPRESSIONS: dict[str, Callable[[Rule, Thresholds], PromRule]] = {
    "database_down": lambda r, t: PromRule(
        f"engflow_up == 0 or engflow_round_trip_seconds > {_num(r.threshold)}",
        "a watcher that is not scraped at all is its heartbeat's business (EngflowWatcherHeartbeat)",
    ),
    "high_error_rate": _error_rate,
    "connection_pool_full": _usage,
    "rls_violation": lambda r, t: PromRule(f"engflow_table_rls_disabled > {_num(r.threshold)}"),
    "high_response_time": lambda r, t: PromRule(
        f"1000 * avg_over_time(engflow_http_probe_duration_seconds[1m]) > {_num(r.threshold)}"
    ),
    "high_cpu": lambda r, t: PromRule(f"100 * engflow_host_cpu_ratio > {_num(r.threshold)}"),
    "low_cache_hit_rate": _cache,
    "disk_usage": lambda r, t: PromRule(
        f"100 * engflow_host_disk_used_ratio > {_num(r.threshold)}"
    ),
    "connections_high": _usage,
    "idle_in_transaction": lambda r, t: PromRule(
        f"engflow_idle_in_transaction_over_threshold > {_num(r.threshold)}"
    ),
    "daily_backup": lambda r, t: PromRule(
        "increase(engflow_wal_archive_failures_total[1h]) > 0"
        " or engflow_wal_last_archived_age_seconds > 93600",
        "a failure counts for an hour (the console: since it started)",
    ),
    "user_growth": _users,
    "feature_usage": _writes,
}


def _duration(seconds: float) -> str:
    """A Prometheus duration (whole units, largest first: 1.5 s is "1s500ms")."""
    ms = round(seconds * 1000)
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts) or "0s"


def prometheus_rules(config: Config) -> dict[str, object]:
    """The rule file as data: one group, one alerting rule per enabled runbook rule."""
    overrides = {rule: dict(changes) for rule, changes in config.alerts.items()}
    rules = load_rules(overrides, thresholds=config.thresholds)
    sections = runbook_sections()
    out: list[dict[str, object]] = []
    for rule in rules:
        make = EXPRESSIONS.get(rule.id)
        if make is None:  # a rule of rules.toml this exporter does not know: a bug, said loudly
            raise KeyError(f"no Prometheus expression for alert rule {rule.id!r}")
        prom = make(rule, config.thresholds)
        section = sections.get(rule.runbook, {})
        actions = ", ".join(section.get("actions", ())) or "Diagnose"
        differences = "; ".join(
            part
            for part in (
                prom.differences,
                (
                    f"resolves {_duration(rule.clear_for)} after the condition stops (the "
                    f"console: once back past {_num(rule.clear_threshold)} for that long)"
                )
                if rule.clear_threshold != rule.threshold and rule.clear_for
                else "",
            )
            if part
        )
        entry: dict[str, object] = {"alert": rule.title.replace(" ", ""), "expr": prom.expr}
        if rule.for_seconds:
            entry["for"] = _duration(rule.for_seconds)
        if rule.clear_for:
            entry["keep_firing_for"] = _duration(rule.clear_for)
        entry["labels"] = {"severity": rule.severity.value, "rule": rule.id}
        value = (
            f"not answering, or slower than {_num(rule.threshold)} s"  # no value to show
            if rule.id == "database_down"
            else f"{{{{ $value | humanize }}}}{(' ' + rule.unit) if rule.unit else ''} "
            f"({rule.op} {_num(rule.threshold)})"
        )
        annotations = {
            "summary": f"{rule.title} on {{{{ $labels.target }}}}: {value}",
            "runbook_section": str(section.get("section", rule.runbook)),
            "console": f"engflow-tui --target {{{{ $labels.target }}}}, then: {actions}",
        }
        if differences:
            annotations["differences"] = differences
        entry["annotations"] = annotations
        out.append(entry)
    return {"groups": [{"name": GROUP, "rules": out}]}


def to_yaml(data: object, indent: int = 0) -> str:
    """YAML for dicts, lists, strings and numbers: strings double-quoted as JSON writes them
    (a JSON string is a YAML double-quoted scalar), so no value is ever read as something
    else."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict, list)) and value:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(value, indent + 2))
            else:
                lines.append(f"{pad}{key}: {_scalar(value)}")
    elif isinstance(data, list):
        for item in data:
            body = to_yaml(item, indent + 2).lstrip(" ")
            lines.append(f"{pad}- {body}")
    else:
        lines.append(pad + _scalar(data))
    return "\n".join(lines)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _num(float(value))
    if isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    return dumps(str(value))


def export(config: Config) -> str:
    header = (
        "# The EngFlow runbook's alert rules for Prometheus, over `engflow-tui watch`'s metrics.\n"
        "# Written by `engflow-tui rules export --format prometheus` from rules.toml and the\n"
        "# config's [alerts] / [thresholds]; check with `promtool check rules FILE`.\n"
    )
    return header + to_yaml(prometheus_rules(config)) + "\n"
