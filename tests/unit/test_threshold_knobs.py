"""One knob per threshold (issue 18): the connection alerts take their thresholds from
[thresholds], which the Connections panel and diagnose read too; an [alerts.RULE] threshold for
them is one clear config error pointing at the knob."""

from __future__ import annotations

import dataclasses
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from engflow_tui.alerts.rules import load_rules, shipped_rules
from engflow_tui.cli import main
from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import Thresholds, load_config
from engflow_tui.diagnose import build_report
from engflow_tui.errors import ConfigError
from engflow_tui.model import ConnectionStats
from engflow_tui.monitor import Monitor
from engflow_tui.widgets.render import connections_summary

from ..fixed_source import sample_snapshot

TARGET = '[targets.t]\ndsn = "postgresql://h/db"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(TARGET + text, encoding="utf-8")
    return path


def _at(pct: float) -> ConnectionStats:
    return ConnectionStats(round(pct), 100, 0, {"active": round(pct)}, None, ())


def test_one_knob_moves_the_alert_the_panel_and_diagnose(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path, "[thresholds]\nconnections_warning_pct = 70\nconnections_critical_pct = 85\n"
        )
    )
    target = config.target("t")
    monitor = Monitor(PostgresCollector(target, config), config, target)
    rules = {r.id: r for r in monitor.engine.rules}
    high, full = rules["connections_high"], rules["connection_pool_full"]
    assert (high.threshold, full.threshold) == (70, 85)
    # The hysteresis keeps its distance (80/75 and 95/90 shipped): a pool-full alert at 85
    # must not count as cleared at 87.
    assert (high.clear_threshold, full.clear_threshold) == (65, 80)
    assert high.holds(72) and not full.holds(72) and full.holds(87) and not full.cleared(87)

    snapshot = dataclasses.replace(sample_snapshot(), connections=_at(72))
    usage = next(
        c for c in build_report(snapshot, config.thresholds).checks if c.id == "connections.usage"
    )
    assert usage.status == "warning"
    assert "yellow" in str(connections_summary(_at(72), config.thresholds).spans[0].style)
    snapshot = dataclasses.replace(sample_snapshot(), connections=_at(87))
    usage = next(
        c for c in build_report(snapshot, config.thresholds).checks if c.id == "connections.usage"
    )
    assert usage.status == "critical"
    assert "red" in str(connections_summary(_at(87), config.thresholds).spans[0].style)


def test_the_defaults_are_the_runbooks() -> None:
    rules = {r.id: r for r in load_rules(thresholds=Thresholds())}
    assert rules == {r.id: r for r in load_rules()}
    assert (rules["connections_high"].threshold, rules["connection_pool_full"].threshold) == (
        80,
        95,
    )
    assert (
        rules["connections_high"].clear_threshold,
        rules["connection_pool_full"].clear_threshold,
    ) == (75, 90)


@pytest.mark.parametrize(
    ("rule", "knob"),
    [
        ("connections_high", "connections_warning_pct"),
        ("connection_pool_full", "connections_critical_pct"),
    ],
)
def test_an_alert_threshold_for_a_knob_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rule: str, knob: str
) -> None:
    path = write(tmp_path, f"[alerts.{rule}]\nthreshold = 85\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: alerts.{rule}.threshold: set by thresholds.{knob}")
    assert "\n" not in message
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"alerts.{rule}.threshold: set by thresholds.{knob}" in err[0]


def test_the_knob_rules_other_keys_stay_in_alerts(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[alerts.connection_pool_full]\nclear_threshold = 92\nfor = "1m"\n')
    )
    full = next(
        r
        for r in load_rules(dict(config.alerts), thresholds=config.thresholds)
        if r.id == "connection_pool_full"
    )
    assert (full.threshold, full.clear_threshold, full.for_seconds) == (95, 92, 60)


def test_a_knob_rule_writes_no_figure_of_its_own() -> None:
    """rules.toml names the knob instead of repeating its number; every knob exists."""
    raw = tomllib.loads(files("engflow_tui.alerts").joinpath("rules.toml").read_text("utf-8"))
    knobs = {f.name for f in dataclasses.fields(Thresholds)}
    with_knob = {rule_id for rule_id, r in shipped_rules().items() if r.threshold_from}
    assert with_knob == {"connections_high", "connection_pool_full"}
    for rule_id in with_knob:
        assert "threshold" not in raw[rule_id]
        assert raw[rule_id]["threshold_from"] in knobs


def test_the_cache_hit_figures_are_two_runbook_figures() -> None:
    """The daily check's 80 % (diagnose) and the alert's 70 % over 30 min are different
    figures of the runbook: two settings, on purpose."""
    assert Thresholds().cache_hit_warning_pct == 80
    low = shipped_rules()["low_cache_hit_rate"]
    assert low.threshold == 70 and low.threshold_from == ""
