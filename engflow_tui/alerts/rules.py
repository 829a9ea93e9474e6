"""Alert rules: the shipped rules.toml, with per-rule overrides from the config. No Textual.

A rule whose threshold is a [thresholds] knob (``threshold_from`` in rules.toml) takes it from
there: one knob per threshold, that the panels and diagnose read too.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import Any

from ..durations import parse_bounded, parse_duration
from ..errors import ConfigError
from ..model import Severity
from ..thresholds import Thresholds


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    severity: Severity
    metric: str
    op: str
    threshold: float
    for_seconds: float
    clear_threshold: float
    clear_for: float
    runbook: str
    enabled: bool = True
    unit: str = ""
    """How its value, threshold and peak are shown (units.format_figure)."""
    threshold_from: str = ""
    """The [thresholds] key its threshold is read from (then [alerts.RULE] sets no threshold)."""

    def holds(self, value: float) -> bool:
        return value > self.threshold if self.op == ">" else value < self.threshold

    def cleared(self, value: float) -> bool:
        """Hysteresis: back past the clear threshold (not merely past the firing one)."""
        return value <= self.clear_threshold if self.op == ">" else value >= self.clear_threshold


RULE_WINDOW_MAX = "7d"
"""The longest ``for`` / ``clear_for`` an override may set."""

OVERRIDABLE = {"threshold", "for", "clear_threshold", "clear_for", "enabled", "severity"}


def _rule(rule_id: str, raw: dict[str, Any], where: str) -> Rule:
    try:
        knob = str(raw.get("threshold_from", ""))
        threshold = float(getattr(Thresholds(), knob) if knob else raw["threshold"])
        return Rule(
            id=rule_id,
            title=str(raw["title"]),
            severity=Severity(raw["severity"]),
            metric=str(raw["metric"]),
            op=str(raw["op"]),
            threshold=threshold,
            for_seconds=parse_duration(raw.get("for", "0s")),
            clear_threshold=float(raw.get("clear_threshold", threshold)),
            clear_for=parse_duration(raw.get("clear_for", "0s")),
            runbook=str(raw.get("runbook", "")),
            enabled=bool(raw.get("enabled", True)),
            unit=str(raw.get("unit", "")),
            threshold_from=knob,
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"bad alert rule: {exc}", where, rule_id) from None


@cache
def shipped_rules() -> dict[str, Rule]:
    data = tomllib.loads(
        files("engflow_tui.alerts").joinpath("rules.toml").read_text(encoding="utf-8")
    )
    return {rule_id: _rule(rule_id, raw, "rules.toml") for rule_id, raw in data.items()}


def _with_threshold(rule: Rule, value: float) -> Rule:
    """A new threshold; the clear threshold follows it when it was the same (no hysteresis)."""
    clear = value if rule.clear_threshold == rule.threshold else rule.clear_threshold
    return replace(rule, threshold=value, clear_threshold=clear)


def knob_problem(overrides: dict[str, Any], where: str = "<config>") -> ConfigError | None:
    """An [alerts.RULE] threshold for a rule whose threshold is a [thresholds] knob: the error
    that points at the one knob (the config reader raises it; code may still override)."""
    rules = shipped_rules()
    for rule_id, changes in overrides.items():
        rule = rules.get(rule_id)
        if rule and rule.threshold_from and isinstance(changes, dict) and "threshold" in changes:
            return ConfigError(
                f"set by thresholds.{rule.threshold_from} (one knob: the alert, the panels and "
                "diagnose all read it): write it there; clear_threshold, for and the rest stay "
                "here",
                where,
                f"alerts.{rule_id}.threshold",
            )
    return None


def load_rules(
    overrides: dict[str, dict[str, Any]] | None = None,
    where: str = "<config>",
    thresholds: Thresholds | None = None,
) -> tuple[Rule, ...]:
    """The shipped rules, their ``threshold_from`` read from ``thresholds`` (default: the
    defaults), then [alerts.RULE] overrides applied; unknown rules or keys are errors."""
    import difflib

    rules = dict(shipped_rules())
    if thresholds is not None:
        for rule_id, rule in rules.items():
            if rule.threshold_from:
                # The clear threshold keeps its distance: [thresholds] connections_critical_pct
                # = 85 must not leave Connection Pool Full clearing at 90, above where it fires.
                value = float(getattr(thresholds, rule.threshold_from))
                gap = rule.threshold - rule.clear_threshold
                rules[rule_id] = replace(rule, threshold=value, clear_threshold=value - gap)
    for rule_id, changes in (overrides or {}).items():
        if rule_id not in rules:
            close = difflib.get_close_matches(rule_id, list(rules), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"no alert rule named {rule_id!r}{hint}", where, f"alerts.{rule_id}")
        if not isinstance(changes, dict):
            raise ConfigError("must be a table", where, f"alerts.{rule_id}")
        rule = rules[rule_id]
        for key, value in changes.items():
            path = f"alerts.{rule_id}.{key}"
            if key not in OVERRIDABLE:
                raise ConfigError(
                    f"unknown key (one of {', '.join(sorted(OVERRIDABLE))})", where, path
                )
            try:
                if key == "threshold":
                    rule = _with_threshold(rule, float(value))
                elif key == "clear_threshold":
                    rule = replace(rule, clear_threshold=float(value))
                elif key == "for":
                    rule = replace(rule, for_seconds=parse_bounded(value, at_most=RULE_WINDOW_MAX))
                elif key == "clear_for":
                    rule = replace(rule, clear_for=parse_bounded(value, at_most=RULE_WINDOW_MAX))
                elif key == "enabled":
                    if not isinstance(value, bool):
                        raise ValueError("must be true or false")
                    rule = replace(rule, enabled=value)
                elif key == "severity":
                    rule = replace(rule, severity=Severity(value))
            except (ValueError, TypeError) as exc:
                raise ConfigError(str(exc), where, path) from None
        rules[rule_id] = rule
    return tuple(r for r in rules.values() if r.enabled)


@cache
def runbook_sections() -> dict[str, dict[str, Any]]:
    text = files("engflow_tui.alerts").joinpath("runbook.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def action_target(alert: Any, snapshot: Any) -> dict[str, Any]:
    """What an action linked from ``alert`` acts on: the table an RLS Violation names (matched
    against the latest snapshot's tables: a name may hold dots, so the subject alone cannot be
    split), else nothing (the action asks, as from the palette)."""
    rls = getattr(snapshot, "rls", None)
    if alert.rule == "rls_violation" and alert.subject and hasattr(rls, "tables"):
        matches = [t for t in rls.tables if f"{t.schema}.{t.table}" == alert.subject]
        if len(matches) == 1:
            return {"schema": matches[0].schema, "table": matches[0].table}
    return {}
