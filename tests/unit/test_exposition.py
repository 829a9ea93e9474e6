"""The watcher's /metrics from known records (issue 19): what could not be measured is absent,
never 0; an HTTP probe round is counted once; label values from the database are inert."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client.parser import text_string_to_metric_families

from engflow_tui.alerts.prometheus import EXPRESSIONS
from engflow_tui.alerts.rules import shipped_rules
from engflow_tui.model import (
    DbState,
    Health,
    HttpProbe,
    PollResult,
    ReplicationLag,
    TableRls,
    Unavailable,
)
from engflow_tui.watch.exposition import TargetFigures, WatchCollector, exposition_of

from ..fixed_source import sample_snapshot


def scrape(
    *figures: TargetFigures, cap: int = 500
) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = exposition_of(WatchCollector(lambda: figures, lambda: cap, {"version": "t"}))()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def test_a_target_that_is_down_has_up_0_and_no_figures_it_could_not_read() -> None:
    down = replace(
        sample_snapshot(),
        health=Health(state=DbState.DOWN, error="connection refused"),
        connections=Unavailable("down"),
        rls=Unavailable("down"),
        slow_queries=Unavailable("down"),
    )
    metrics = scrape(TargetFigures("prod", PollResult(down), poll_seconds=0.01, polls=3))
    assert metrics["engflow_up"] == [({"target": "prod"}, 0.0)]
    assert metrics["engflow_polls_total"] == [({"target": "prod"}, 3.0)]
    for name in (
        "engflow_connections",
        "engflow_max_connections",
        "engflow_tables_without_rls",
        "engflow_xact_commit_total",
        "engflow_slowest_statement_mean_seconds",
        "engflow_round_trip_seconds",
    ):
        assert name not in metrics, name


def test_a_healthy_target_s_figures_in_base_units() -> None:
    snapshot = replace(
        sample_snapshot(),
        replication=(ReplicationLag("replica-1", 2.5), ReplicationLag("r2", None)),
    )
    metrics = scrape(TargetFigures("prod", PollResult(snapshot), poll_seconds=0.02, polls=1))
    assert metrics["engflow_up"] == [({"target": "prod"}, 1.0)]
    assert metrics["engflow_round_trip_seconds"] == [({"target": "prod"}, 0.0032)]
    assert ({"target": "prod", "state": "idle"}, 80.0) in metrics["engflow_connections"]
    assert metrics["engflow_idle_in_transaction_oldest_seconds"] == [({"target": "prod"}, 2712.0)]
    assert metrics["engflow_idle_in_transaction_over_threshold"] == [({"target": "prod"}, 1.0)]
    assert metrics["engflow_slowest_statement_mean_seconds"][0][1] == 2.4505
    # A standby whose lag is not known yet is absent, not 0.
    assert metrics["engflow_replication_lag_seconds"] == [
        ({"target": "prod", "replica": "replica-1"}, 2.5)
    ]


def test_each_http_probe_round_is_counted_once() -> None:
    figures = TargetFigures("prod")
    round_one = (
        HttpProbe("api", "https://x/rest", "ok", "HTTP 200", 40.0, 200),
        HttpProbe("app", "https://x/health", "http_error", "HTTP 503", 12.0, 503),
    )
    result = PollResult(replace(sample_snapshot(), http=round_one))
    for _ in range(3):  # three polls carry the same round
        figures.count_http(result)
    figures.count_http(PollResult(replace(sample_snapshot(), http=tuple(round_one))))
    figures.result = result
    metrics = scrape(figures)
    assert sorted(metrics["engflow_http_probes_total"], key=str) == [
        ({"target": "prod", "probe": "api"}, 1.0),
        ({"target": "prod", "probe": "app"}, 1.0),
    ]
    assert ({"target": "prod", "probe": "app"}, 1.0) in metrics["engflow_http_probe_errors_total"]
    assert ({"target": "prod", "probe": "api"}, 0.0) in metrics["engflow_http_probe_errors_total"]


def test_hostile_table_names_are_inert_and_the_cap_is_counted() -> None:
    rls = sample_snapshot().rls
    tables = tuple(
        TableRls("public", name, False, False, 0)
        for name in ("evil\x1b]0;owned\x07", "line\nbreak", 'quote"d', "a", "b")
    )
    snapshot = replace(sample_snapshot(), rls=replace(rls, tables=tables))
    metrics = scrape(TargetFigures("prod", PollResult(snapshot)), cap=3)
    names = [labels["table"] for labels, _ in metrics["engflow_table_rls_disabled"]]
    assert names == ["public.evil\\x1b]0;owned\\x07", "public.line\\x0abreak", 'public.quote"d']
    assert metrics["engflow_subjects_cut"] == [
        ({"target": "prod", "metric": "engflow_table_rls_disabled"}, 2.0)
    ]
    assert metrics["engflow_tables_without_rls"] == [({"target": "prod"}, 5.0)]


def test_every_shipped_rule_has_a_prometheus_expression() -> None:
    assert set(EXPRESSIONS) == set(shipped_rules())


def test_the_fast_writer_writes_what_prometheus_client_writes() -> None:
    """watch/exposition.render skips the general writer's per-sample checks: the same bytes."""
    from prometheus_client import CollectorRegistry, generate_latest

    rls = sample_snapshot().rls
    tables = tuple(
        TableRls("public", name, False, False, 0)
        for name in ("evil\x1b]0;x\x07", "back\\slash", 'quo"te', "new\nline", "ok")
    )
    snapshot = replace(sample_snapshot(), rls=replace(rls, tables=tables))
    figures = TargetFigures('prod\\"x', PollResult(snapshot), poll_seconds=0.5, polls=7)
    collector = WatchCollector(lambda: [figures], lambda: 4, {"version": "1", "host": 'h"1'})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    assert exposition_of(collector)() == generate_latest(registry)
