"""The alert engine: rules x metrics -> pending / firing / resolved, with hysteresis,
acknowledgement, repeat notifications and a history that survives restarts. Time is passed in,
so tests run a 15-minute rule in milliseconds. No Textual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import statefile as shape
from ..atomic import write_text
from ..model import Alert, AlertEvent
from ..textsafe import dumps
from .metrics import Metrics
from .rules import Rule

HISTORY_LIMIT = 500
WHAT = "alert history"


@dataclass(slots=True)
class _State:
    rule: Rule
    subject: str
    state: str  # pending | firing
    since: datetime  # pending since / firing since
    value: float
    peak: float
    detail: str
    acknowledged: bool = False
    clear_since: datetime | None = None
    last_notified: datetime | None = None
    _shown: tuple[Any, ...] | None = None
    """What the last Alert was made of, and that Alert: made again only when it changed (at
    2,000 tables without RLS, making 2,000 Alerts a poll was the poll's largest cost)."""

    @property
    def key(self) -> str:
        return f"{self.rule.id}:{self.subject}" if self.subject else self.rule.id

    def alert(self) -> Alert:
        made = (self.state, self.since, self.value, self.peak, self.detail, self.acknowledged)
        shown = self._shown
        if shown is not None and shown[0] == made:
            alert: Alert = shown[1]
            return alert
        alert = self._make()
        self._shown = (made, alert)
        return alert

    def _make(self) -> Alert:
        return Alert(
            key=self.key,
            rule=self.rule.id,
            severity=self.rule.severity,
            title=self.rule.title,
            message=self.detail,
            value=self.value,
            threshold=self.rule.threshold,
            since=self.since,
            state=self.state,
            acknowledged=self.acknowledged,
            peak=self.peak,
            runbook=self.rule.runbook,
            subject=self.subject,
            unit=self.rule.unit,
        )


def check_store(data: Any) -> dict[str, Any]:
    """The alert history as saved: {"active": [{key, since, value, peak, message,
    acknowledged}], "history": [{...}]}; ShapeError (a ValueError) naming what does not fit."""
    saved = shape.obj(data, "the history file")
    for n, item in enumerate(shape.objects(saved.get("active", []), "active")):
        where = f"active[{n}]"
        shape.text(item.get("key"), f"{where}.key")
        shape.moment(item.get("since"), f"{where}.since")
        for key in ("value", "peak"):
            if item.get(key) is not None:  # None: not finite (Database Down's +inf)
                shape.number(item[key], f"{where}.{key}")
        shape.text(item.get("message", ""), f"{where}.message")
        shape.flag(item.get("acknowledged", False), f"{where}.acknowledged")
    for n, entry in enumerate(shape.objects(saved.get("history", []), "history")):
        for key in ("event", "at", "key", "rule", "title", "severity", "subject", "message"):
            if key in entry:
                shape.text(entry[key], f"history[{n}].{key}")
    return saved


def _saved(value: float) -> float | None:
    """JSON has no Infinity (Database Down's value is +inf): None stands for it."""
    return value if math.isfinite(value) else None


def _unsaved(value: float | None) -> float:
    return math.inf if value is None else float(value)


@dataclass
class AlertStore:
    """Active alerts (with acknowledgements) and the history, in one JSON file, written
    atomically on every change; a file that does not fit is set aside, never fatal, and a save
    cut short by a kill is recovered or removed (``problem`` says what was done)."""

    path: Path
    problem: str | None = field(default=None, init=False)

    def load(self) -> dict[str, Any]:
        said = shape.recover_saves(self.path, WHAT, check_store)
        if said:
            self.problem = "; ".join(said)
        try:
            return check_store(shape.read_json(self.path))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            self.problem = "; ".join([*said, shape.set_aside(self.path, WHAT, str(exc))])
            return {}

    def save(self, data: dict[str, Any]) -> None:
        try:
            write_text(self.path, dumps(data, default=str))
            self.problem = None
        except OSError as exc:
            self.problem = f"cannot write the alert history {self.path}: {exc.strerror or exc}"


class AlertEngine:
    def __init__(
        self,
        rules: tuple[Rule, ...],
        store: AlertStore | None = None,
        repeat_interval: float = 1800.0,
    ) -> None:
        self.rules = rules
        self.store = store
        self.repeat_interval = repeat_interval
        self._states: dict[str, _State] = {}
        self.history: list[dict[str, Any]] = []
        self._dirty_since: datetime | None = None
        if store is not None:
            data = store.load()
            self.history = list(data.get("history", []))[-HISTORY_LIMIT:]
            by_id = {r.id: r for r in rules}
            for saved in data.get("active", []):
                rule_id, _, subject = saved["key"].partition(":")
                if rule_id in by_id:  # a rule since disabled is not restored
                    self._restore(by_id[rule_id], subject, saved)

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, metrics: Metrics, now: datetime) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        changed = False
        by_rule: dict[str, list[_State]] = {}
        for st in self._states.values():
            by_rule.setdefault(st.rule.id, []).append(st)
        for rule in self.rules:
            family = metrics.get(rule.metric)
            known = by_rule.get(rule.id, ())
            if family is None:
                # Unknown right now: a firing alert keeps its state, but a pending one is
                # forgotten — the condition must hold without gaps for the whole 'for'.
                for st in known:
                    if st.state == "pending":
                        del self._states[st.key]
                continue
            subjects = set(family)
            subjects.update(st.subject for st in known)
            for subject in subjects:
                metric = family.get(subject)
                key = f"{rule.id}:{subject}" if subject else rule.id
                state = self._states.get(key)
                if metric is not None and rule.holds(metric.value):
                    if state is None:
                        state = _State(
                            rule, subject, "pending", now, metric.value, metric.value, metric.detail
                        )
                        self._states[key] = state
                    if self._update(state, metric.value, metric.detail) and state.state == "firing":
                        self._dirty_since = self._dirty_since or now
                    state.clear_since = None
                    if (
                        state.state == "pending"
                        and (now - state.since).total_seconds() >= rule.for_seconds
                    ):
                        state.state, state.since, state.last_notified = "firing", now, now
                        self.history.append(self._record(state, "fired", now))
                        events.append(AlertEvent("fired", state.alert(), now))
                        changed = True
                    elif (
                        state.state == "firing"
                        and not state.acknowledged
                        and state.last_notified is not None
                        and (now - state.last_notified).total_seconds() >= self.repeat_interval
                    ):
                        state.last_notified = now
                        events.append(AlertEvent("repeat", state.alert(), now))
                    continue
                if state is None:
                    continue
                if state.state == "pending":
                    del self._states[key]  # never fired: nothing to resolve
                    continue
                if metric is not None:
                    state.value = metric.value
                    if not rule.cleared(metric.value):
                        state.clear_since = None  # between the thresholds: hysteresis holds it
                        continue
                if state.clear_since is None:
                    state.clear_since = now
                if (now - state.clear_since).total_seconds() >= rule.clear_for:
                    del self._states[key]
                    self.history.append(self._record(state, "resolved", now))
                    events.append(AlertEvent("resolved", state.alert(), now))
                    changed = True
        # A new peak is saved within a minute (not on every poll), so a restart keeps it.
        if changed or (
            self._dirty_since is not None and (now - self._dirty_since).total_seconds() >= 60
        ):
            self._save()
        return events

    @staticmethod
    def _update(state: _State, value: float, detail: str) -> bool:
        """Record the latest value; True when it is a new peak."""
        state.value = value
        state.detail = detail
        peak = max(state.peak, value) if state.rule.op == ">" else min(state.peak, value)
        changed, state.peak = peak != state.peak, peak
        return changed

    def _restore(self, rule: Rule, subject: str, saved: dict[str, Any]) -> _State:
        """A firing alert from before a restart: listed at once, resolved when its data says so."""
        since = datetime.fromisoformat(saved["since"])
        value = _unsaved(saved.get("value", 0.0))
        peak = saved.get("peak", saved.get("value", 0.0))
        state = _State(
            rule,
            subject,
            "firing",
            since,
            value,
            _unsaved(peak),
            str(saved.get("message", "")),
            bool(saved.get("acknowledged", False)),
            last_notified=since,
        )
        self._states[state.key] = state
        return state

    def _record(self, state: _State, event: str, at: datetime) -> dict[str, Any]:
        return {
            "event": event,
            "at": at.isoformat(),
            "key": state.key,
            "rule": state.rule.id,
            "title": state.rule.title,
            "severity": state.rule.severity.value,
            "subject": state.subject,
            "message": state.detail,
            "value": _saved(state.value),
            "peak": _saved(state.peak),
            "threshold": _saved(state.rule.threshold),
            "unit": state.rule.unit,
            "since": state.since.isoformat(),
        }

    def _save(self) -> None:
        self._dirty_since = None
        self.history = self.history[-HISTORY_LIMIT:]
        if self.store is None:
            return
        active = [
            {
                "key": s.key,
                "since": s.since.isoformat(),
                "value": _saved(s.value),
                "peak": _saved(s.peak),
                "message": s.detail,
                "acknowledged": s.acknowledged,
            }
            for s in self._states.values()
            if s.state == "firing"
        ]
        self.store.save({"active": active, "history": self.history})

    def flush(self) -> None:
        """Save now what is not saved yet (a new peak): before the process stops."""
        if self._dirty_since is not None:
            self._save()

    # ------------------------------------------------------------------ queries and commands

    def alerts(self) -> tuple[Alert, ...]:
        """Firing first, worst severity first, then pending ones."""
        states = sorted(
            self._states.values(), key=lambda s: (s.state != "firing", s.rule.severity.rank, s.key)
        )
        return tuple(s.alert() for s in states)

    def acknowledge(self, key: str) -> bool:
        state = self._states.get(key)
        if state is None or state.state != "firing":
            return False
        state.acknowledged = True
        self.history.append(
            {
                **self._record(state, "acknowledged", datetime.now(state.since.tzinfo)),
                "event": "acknowledged",
            }
        )
        self._save()
        return True

    def recent(self, limit: int = 200) -> list[dict[str, Any]]:
        return list(reversed(self.history[-limit:]))
