"""The alert engine with an injected clock: pending -> firing after `for`, hysteresis,
acknowledgement, repeat notifications, history across restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engflow_tui.alerts.engine import AlertEngine, AlertStore
from engflow_tui.alerts.metrics import Metric
from engflow_tui.alerts.rules import load_rules, shipped_rules
from engflow_tui.errors import ConfigError

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def cpu(value: float) -> dict:
    return {"host.cpu_pct": {"": Metric(value, f"CPU {value:.0f} %")}}


def engine(tmp_path: Path | None = None, **overrides) -> AlertEngine:  # type: ignore[no-untyped-def]
    rules = load_rules(overrides or None)
    store = AlertStore(tmp_path / "alerts.json") if tmp_path else None
    return AlertEngine(rules, store, repeat_interval=600)


def test_every_runbook_alert_is_shipped_with_its_severity() -> None:
    rules = shipped_rules()
    expected = {
        "Database Down": "critical",
        "High Error Rate": "critical",
        "Connection Pool Full": "critical",
        "RLS Violation": "critical",
        "High Response Time": "warning",
        "High CPU": "warning",
        "Low Cache Hit Rate": "warning",
        "Disk Usage": "warning",
        "Daily Backup": "info",
        "User Growth": "info",
        "Feature Usage": "info",
    }
    by_title = {r.title: r.severity.value for r in rules.values()}
    assert expected.items() <= by_title.items()
    assert rules["high_cpu"].for_seconds == 15 * 60 and rules["high_cpu"].threshold == 80
    assert (
        rules["low_cache_hit_rate"].for_seconds == 30 * 60 and rules["low_cache_hit_rate"].op == "<"
    )
    assert (
        rules["high_response_time"].for_seconds == 10 * 60
        and rules["high_response_time"].threshold == 500
    )
    assert rules["connection_pool_full"].threshold == 95 and rules["disk_usage"].threshold == 85
    assert rules["database_down"].threshold == 10 and rules["high_error_rate"].threshold == 5


def test_high_cpu_stays_pending_for_less_than_15_minutes() -> None:
    e = engine()
    assert e.evaluate(cpu(90), at(0)) == []
    assert [a.state for a in e.alerts()] == ["pending"]
    assert e.evaluate(cpu(91), at(14.9)) == []
    e.evaluate(cpu(70), at(15))  # drops before its duration: forgotten, nothing fired
    assert e.alerts() == ()
    assert e.evaluate(cpu(95), at(16)) == []
    events = e.evaluate(cpu(96), at(31))
    assert [(ev.kind, ev.alert.title) for ev in events] == [("fired", "High CPU")]
    alert = e.alerts()[0]
    assert (
        alert.state == "firing" and alert.value == 96 and alert.peak == 96 and alert.threshold == 80
    )
    assert alert.since == at(31)


def test_hysteresis_and_resolution() -> None:
    e = engine()
    e.evaluate(cpu(90), at(0))
    e.evaluate(cpu(90), at(15))
    assert e.alerts()[0].state == "firing"
    e.evaluate(cpu(78), at(16))  # below 80 but above the clear threshold 75: still firing
    e.evaluate(cpu(77), at(30))
    assert e.alerts()[0].state == "firing"
    assert e.evaluate(cpu(70), at(31)) == []  # cleared, but clear_for is 1 minute
    events = e.evaluate(cpu(70), at(32))
    assert [ev.kind for ev in events] == ["resolved"]
    assert e.alerts() == ()
    assert [h["event"] for h in e.history] == ["fired", "resolved"]
    assert e.history[-1]["peak"] == 90


def test_unknown_metric_keeps_the_state() -> None:
    e = engine()
    e.evaluate(cpu(99), at(0))
    e.evaluate(cpu(99), at(15))
    assert e.evaluate({}, at(40)) == []  # the metrics endpoint is down: the alert stays
    assert e.alerts()[0].state == "firing"


def test_subjects_fire_and_resolve_separately() -> None:
    e = engine()
    both = {"rls.violation": {"public.a": Metric(1, "a off"), "public.b": Metric(1, "b off")}}
    fired = e.evaluate(both, at(0))
    assert sorted(ev.alert.key for ev in fired) == [
        "rls_violation:public.a",
        "rls_violation:public.b",
    ]
    events = e.evaluate({"rls.violation": {"public.b": Metric(1, "b off")}}, at(1))
    assert [(ev.kind, ev.alert.subject) for ev in events] == [("resolved", "public.a")]


def test_acknowledge_silences_repeats_but_keeps_the_alert(tmp_path: Path) -> None:
    e = engine(tmp_path)
    full = {"connections.usage_pct": {"": Metric(97, "97 %")}}
    e.evaluate(full, at(0))

    def pool(events: list) -> list[str]:  # type: ignore[type-arg]
        return [ev.kind for ev in events if ev.alert.rule == "connection_pool_full"]

    assert pool(e.evaluate(full, at(11))) == ["repeat"]
    assert e.acknowledge("connection_pool_full")
    assert pool(e.evaluate(full, at(30))) == []
    assert [a.acknowledged for a in e.alerts() if a.rule == "connection_pool_full"] == [True]
    assert not e.acknowledge("no_such_alert")


def test_history_and_acknowledgements_survive_a_restart(tmp_path: Path) -> None:
    e = engine(tmp_path)
    full = {"connections.usage_pct": {"": Metric(97, "97 %")}}
    e.evaluate(full, at(0))
    e.acknowledge("connection_pool_full")
    saved = json.loads((tmp_path / "alerts.json").read_text())
    assert saved["active"][0]["key"] == "connection_pool_full"

    again = engine(tmp_path)  # a restarted console
    assert [h["event"] for h in again.recent()][-1] == "fired"
    restarted = again.evaluate({"connections.usage_pct": {"": Metric(98, "98 %")}}, at(5))
    assert [ev for ev in restarted if ev.alert.rule == "connection_pool_full"] == []  # not re-fired
    alert = next(a for a in again.alerts() if a.rule == "connection_pool_full")
    assert alert.since == at(0) and alert.acknowledged and alert.peak == 98
    events = again.evaluate({"connections.usage_pct": {"": Metric(50, "50 %")}}, at(6))
    events += again.evaluate({"connections.usage_pct": {"": Metric(50, "50 %")}}, at(7))
    assert "resolved" in [ev.kind for ev in events if ev.alert.rule == "connection_pool_full"]


def test_corrupt_history_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "alerts.json").write_text("{not json")
    e = engine(tmp_path)
    assert e.store is not None and e.store.problem is not None and "set aside" in e.store.problem
    assert list(tmp_path.glob("alerts.json.corrupt-*"))


def test_overrides_from_config() -> None:
    rules = {
        r.id: r
        for r in load_rules(
            {"high_cpu": {"threshold": 90, "for": "5m"}, "user_growth": {"enabled": False}}
        )
    }
    assert rules["high_cpu"].threshold == 90 and rules["high_cpu"].for_seconds == 300
    assert "user_growth" not in rules
    with pytest.raises(
        ConfigError,
        match="alerts.hihg_cpu: no alert rule named 'hihg_cpu' \\(did you mean 'high_cpu'\\?\\)",
    ):
        load_rules({"hihg_cpu": {"threshold": 1}})
    with pytest.raises(ConfigError, match="alerts.high_cpu.for"):
        load_rules({"high_cpu": {"for": "soon"}})
    with pytest.raises(ConfigError, match="alerts.high_cpu.colour: unknown key"):
        load_rules({"high_cpu": {"colour": "red"}})


def test_a_pending_alert_does_not_survive_a_gap_in_its_data() -> None:
    e = engine()
    e.evaluate(cpu(81), at(0))
    for minute in range(1, 20):
        e.evaluate({}, at(minute))  # the metrics endpoint is down for 19 minutes
    assert e.evaluate(cpu(81), at(20)) == []  # pending again from 20, not firing
    assert [a.state for a in e.alerts()] == ["pending"]


def test_a_restored_alert_is_listed_at_once_and_resolves_if_its_subject_is_gone(
    tmp_path: Path,
) -> None:
    e = engine(tmp_path)
    e.evaluate({"rls.violation": {"public.t": Metric(1, "t off")}}, at(0))
    again = engine(tmp_path)
    assert [a.key for a in again.alerts()] == ["rls_violation:public.t"]  # before any data arrives
    events = again.evaluate({"rls.violation": {}}, at(1))  # the table was fixed meanwhile
    assert [(ev.kind, ev.alert.key) for ev in events] == [("resolved", "rls_violation:public.t")]
    assert [h["event"] for h in again.recent()][:2] == ["resolved", "fired"]


def test_the_peak_survives_a_restart(tmp_path: Path) -> None:
    e = engine(tmp_path)
    e.evaluate(cpu(81), at(0))
    e.evaluate(cpu(81), at(15))  # fires at 81
    e.evaluate(cpu(99), at(16))  # new peak
    e.evaluate(cpu(90), at(17))  # a minute later: the peak is saved
    again = engine(tmp_path)
    assert again.alerts()[0].peak == 99


@pytest.mark.parametrize(
    "content",
    [
        '{"history": 5}',
        '{"active": 3}',
        '{"history": ["x"]}',
        '{"active": [{"key": "high_cpu", "since": "yesterday"}]}',
        "[]",
    ],
)
def test_a_store_of_the_wrong_shape_is_set_aside(tmp_path: Path, content: str) -> None:
    (tmp_path / "alerts.json").write_text(content)
    e = engine(tmp_path)
    assert e.alerts() == () and e.recent() == []
    assert e.store is not None and e.store.problem and "set aside" in e.store.problem


def test_database_down_survives_a_restart_without_firing_again(tmp_path: Path) -> None:
    """Its value is +inf, which JSON cannot hold: the state saved on stop must load on start
    (a watcher or console restarted during an outage must not page Database Down again)."""
    import math

    down = {"db.round_trip_s": {"": Metric(math.inf, "the database does not answer")}}
    first = engine(tmp_path)
    assert [ev.kind for ev in first.evaluate(down, at(0))] == ["fired"]
    first.flush()
    text = (tmp_path / "alerts.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the saved state"))

    again = engine(tmp_path)
    assert again.store is not None and again.store.problem is None
    assert not list(tmp_path.glob("alerts.json.corrupt-*"))
    assert again.evaluate(down, at(1)) == []  # still firing, not fired again
    alert = next(a for a in again.alerts() if a.rule == "database_down")
    assert alert.since == at(0) and alert.value == math.inf
    back = {"db.round_trip_s": {"": Metric(0.002, "round trip 2 ms")}}
    assert [ev.kind for ev in again.evaluate(back, at(2))] == ["resolved"]
