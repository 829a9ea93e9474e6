"""The runbook's rules in Prometheus and the watcher's heartbeat in Alertmanager (issue 19),
against the real servers from Debian's packages `prometheus` (with promtool) and
`prometheus-alertmanager`, started and stopped by these tests by PID; skipped, with the reason,
where a binary is not installed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from engflow_tui.alerts.prometheus import export, prometheus_rules
from engflow_tui.config import parse_config
from engflow_tui.pgserver import free_port

from ..httpserver import Route, http_server
from ..pg import session, wait_for
from .test_watch import running, write_config

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)"
)


def promtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )


@needs_promtool
def test_the_exported_rules_pass_promtool(tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "engflow_tui", "rules", "export", "--format", "prometheus"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, XDG_CONFIG_HOME=str(tmp_path)),
    )
    assert out.returncode == 0, out.stderr
    path = tmp_path / "rules.yml"
    path.write_text(out.stdout, encoding="utf-8")
    checked = promtool_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 13 rules found" in checked.stdout


@needs_promtool
def test_the_config_s_overrides_reach_the_exported_rules(tmp_path) -> None:
    config = parse_config(
        {
            "thresholds": {"connections_critical_pct": 85},
            "alerts": {
                "rls_violation": {"for": "2m", "severity": "warning"},
                "disk_usage": {"enabled": False},
                "high_cpu": {"threshold": 70},
            },
        }
    )
    rules = {r["labels"]["rule"]: r for r in prometheus_rules(config)["groups"][0]["rules"]}
    assert "disk_usage" not in rules and len(rules) == 12
    assert rules["rls_violation"]["for"] == "2m"
    assert rules["rls_violation"]["labels"]["severity"] == "warning"
    assert rules["high_cpu"]["expr"].endswith("> 70")
    assert rules["connection_pool_full"]["expr"].endswith("> 85")
    assert rules["low_cache_hit_rate"]["for"] == "30m"
    assert "Enable RLS" in rules["rls_violation"]["annotations"]["console"]
    path = tmp_path / "rules.yml"
    path.write_text(export(config), encoding="utf-8")
    checked = promtool_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


@contextmanager
def server(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus is not installed (Debian package prometheus)"
)
async def test_prometheus_scraping_a_watcher_fires_the_exported_rls_violation(
    db18, tmp_path
) -> None:
    assert PROMETHEUS is not None
    watch_port, prom_port = free_port(), free_port()
    config = tmp_path / "config.toml"
    write_config(config, {"prod": db18.dsn()}, watch_port)
    rules = tmp_path / "rules.yml"
    rules.write_text(export(parse_config({})), encoding="utf-8")
    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files:\n  - {json.dumps(str(rules))}\n"
        "scrape_configs:\n  - job_name: engflow\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{watch_port}']\n",
        encoding="utf-8",
    )
    argv = [
        PROMETHEUS,
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{prom_port}",
    ]
    api = f"http://127.0.0.1:{prom_port}/api/v1"

    def firing() -> list[dict[str, Any]]:
        try:
            alerts = get_json(f"{api}/alerts")["data"]["alerts"]
        except OSError:
            return []
        return [a for a in alerts if a["labels"]["alertname"] == "RLSViolation"]

    with running(config, tmp_path), server(argv, tmp_path / "prometheus.log"):

        def scraped() -> bool:
            try:
                targets = get_json(f"{api}/targets")["data"]["activeTargets"]
            except OSError:
                return False
            return any(t["health"] == "up" for t in targets)

        await wait_for(scraped, timeout=30, interval=0.5)
        assert firing() == []
        async with session(db18.dsn()) as admin:
            await admin.execute("CREATE TABLE public.orcamentos_historico (id int)")
        await wait_for(
            lambda: any(a["state"] == "firing" for a in firing()), timeout=60, interval=0.5
        )
        alert = firing()[0]
        assert alert["labels"]["table"] == "public.orcamentos_historico"
        assert alert["labels"]["target"] == "prod"
        assert alert["labels"]["severity"] == "critical"
        assert alert["annotations"]["console"].startswith("engflow-tui --target prod, then:")


@pytest.mark.skipif(
    ALERTMANAGER is None,
    reason="Alertmanager is not installed (Debian package prometheus-alertmanager)",
)
async def test_the_heartbeat_reaches_alertmanager_and_its_silence_pages(db18, tmp_path) -> None:
    """The watcher's always-firing heartbeat: Alertmanager shows it while the watcher runs;
    once the watcher is killed (-9), it lapses and the receiver gets it resolved."""
    assert ALERTMANAGER is not None
    am_port = free_port()
    with http_server() as receiver:
        receiver.routes["/page"] = Route(200, "{}")
        (tmp_path / "alertmanager.yml").write_text(
            "route:\n  receiver: page\n  group_by: [alertname]\n  group_wait: 1s\n"
            "  group_interval: 1s\n  repeat_interval: 1h\n"
            "receivers:\n  - name: page\n    webhook_configs:\n"
            f"      - url: {json.dumps(receiver.base + '/page')}\n        send_resolved: true\n",
            encoding="utf-8",
        )
        argv = [
            ALERTMANAGER,
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
        ]
        config = tmp_path / "config.toml"
        write_config(config, {"prod": db18.dsn()}, free_port(), 'heartbeat_interval = "1s"')
        with open(config, "a", encoding="utf-8") as f:
            f.write('[[notifications.webhooks]]\nkind = "alertmanager"\nurl_env = "AM_URL"\n')

        def pages(status: str) -> list[dict[str, Any]]:
            out = []
            for request in list(receiver.requests):
                if request["path"] == "/page":
                    for alert in json.loads(request["body"])["alerts"]:
                        if (
                            alert["labels"]["alertname"] == "EngflowWatcherHeartbeat"
                            and alert["status"] == status
                        ):
                            out.append(alert)
            return out

        with server(argv, tmp_path / "alertmanager.log"):
            env = {"AM_URL": f"http://127.0.0.1:{am_port}"}
            with running(config, tmp_path, env=env) as watch:

                def active() -> list[dict[str, Any]]:
                    try:
                        alerts = get_json(f"http://127.0.0.1:{am_port}/api/v2/alerts")
                    except OSError:
                        return []
                    return [
                        a
                        for a in alerts
                        if a["labels"]["alertname"] == "EngflowWatcherHeartbeat"
                        and a["status"]["state"] == "active"
                    ]

                await wait_for(active, timeout=30, interval=0.5)
                heartbeat = active()[0]
                assert heartbeat["labels"]["watcher"]
                assert heartbeat["labels"]["service"] == "engflow-tui"
                await wait_for(lambda: pages("firing"), timeout=30, interval=0.5)
                assert pages("resolved") == []
                watch.process.send_signal(signal.SIGKILL)
                watch.process.wait(timeout=10)
                await wait_for(lambda: pages("resolved"), timeout=30, interval=0.5)
                assert not watch.events("heartbeat_failed")


@needs_promtool
def test_the_exposition_follows_prometheus_conventions() -> None:
    """`promtool check metrics` lints names, units and types (counters end in _total...)."""
    from dataclasses import replace

    from engflow_tui.model import (
        HostMetrics,
        HttpProbe,
        PollResult,
        ReplicationLag,
        TableActivity,
    )
    from engflow_tui.watch.exposition import TargetFigures, WatchCollector, exposition_of

    from ..fixed_source import sample_snapshot

    snapshot = replace(
        sample_snapshot(),
        http=(HttpProbe("api", "https://x/rest", "ok", "HTTP 200", 40.0, 200),),
        replication=(ReplicationLag("replica-1", 1.0),),
        table_activity=(TableActivity("public", "a", 1, 2, 3),),
        host=HostMetrics(10.0, 20.0, 30.0, "/"),
        archiver={"failed_count": 0, "last_archived_age_s": 5.0},
        active_users=5,
    )
    figures = TargetFigures("prod", PollResult(snapshot), 0.1, 3)
    figures.count_http(figures.result)  # type: ignore[arg-type]
    text = exposition_of(WatchCollector(lambda: [figures], lambda: 500, {"version": "1"}))()
    assert PROMTOOL is not None
    out = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, timeout=60
    )
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr
    names = {line.split()[2] for line in text.decode().splitlines() if line.startswith("# TYPE")}
    assert len(names) >= 25


@needs_promtool
def test_odd_overrides_export_exactly_and_pass_promtool(tmp_path) -> None:
    config = parse_config(
        {
            "alerts": {
                "high_cpu": {"threshold": 80.1234567, "for": "1500ms"},
                "disk_usage": {"threshold": 1234567.5, "for": "1d"},
            }
        }
    )
    rules = {r["labels"]["rule"]: r for r in prometheus_rules(config)["groups"][0]["rules"]}
    assert rules["high_cpu"]["expr"].endswith("> 80.1234567")
    assert rules["high_cpu"]["for"] == "1s500ms"
    assert rules["disk_usage"]["expr"].endswith("> 1234567.5")
    assert rules["disk_usage"]["for"] == "1d"
    path = tmp_path / "rules.yml"
    path.write_text(export(config), encoding="utf-8")
    checked = promtool_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@needs_promtool
def test_the_rules_fire_on_the_series_the_watcher_exposes(tmp_path) -> None:
    """`promtool test rules`: synthetic series named as the watcher names them, and what each
    rule must say (labels included) at a given time: the PromQL means what the runbook says."""
    rules = tmp_path / "rules.yml"
    rules.write_text(export(parse_config({})), encoding="utf-8")
    tests = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'engflow_up{target="prod"}', "values": "1 1 0 0 1"},
                    {
                        "series": 'engflow_round_trip_seconds{target="prod"}',
                        "values": "0.01 0.01 _ _ 0.01",
                    },
                    {
                        "series": 'engflow_table_rls_disabled{target="prod",table="public.leaky"}',
                        "values": "_ _ 1 1 1",
                    },
                    {
                        "series": 'engflow_connections{target="prod",state="idle"}',
                        "values": "50 97 97 97 97",
                    },
                    {
                        "series": 'engflow_connections{target="prod",state="active"}',
                        "values": "1 1 1 1 1",
                    },
                    {
                        "series": 'engflow_max_connections{target="prod"}',
                        "values": "100 100 100 100 100",
                    },
                    {
                        "series": 'engflow_idle_in_transaction_over_threshold{target="prod"}',
                        "values": "0 0 2 2 2",
                    },
                    {"series": 'engflow_xact_commit_total{target="prod"}', "values": "0+100x10"},
                    {"series": 'engflow_xact_rollback_total{target="prod"}', "values": "0+10x10"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "2m",
                        "alertname": "DatabaseDown",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "target": "prod",
                                    "severity": "critical",
                                    "rule": "database_down",
                                },
                                "exp_annotations": _annotations(rules, "DatabaseDown", "prod"),
                            }
                        ],
                    },
                    {"eval_time": "4m", "alertname": "DatabaseDown", "exp_alerts": []},
                    {
                        "eval_time": "2m",
                        "alertname": "RLSViolation",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "target": "prod",
                                    "table": "public.leaky",
                                    "severity": "critical",
                                    "rule": "rls_violation",
                                },
                                "exp_annotations": _annotations(rules, "RLSViolation", "prod", "1"),
                            }
                        ],
                    },
                    {"eval_time": "0m", "alertname": "ConnectionPoolFull", "exp_alerts": []},
                    {
                        "eval_time": "1m",
                        "alertname": "ConnectionPoolFull",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "target": "prod",
                                    "severity": "critical",
                                    "rule": "connection_pool_full",
                                },
                                "exp_annotations": _annotations(
                                    rules, "ConnectionPoolFull", "prod", "98"
                                ),
                            }
                        ],
                    },
                    {
                        "eval_time": "2m",
                        "alertname": "IdleInTransaction",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "target": "prod",
                                    "severity": "warning",
                                    "rule": "idle_in_transaction",
                                },
                                "exp_annotations": _annotations(
                                    rules, "IdleInTransaction", "prod", "2"
                                ),
                            }
                        ],
                    },
                    # 10 rollbacks a minute against 100 commits: 9.1 % > 5 %, over 5 minutes.
                    {
                        "eval_time": "6m",
                        "alertname": "HighErrorRate",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "target": "prod",
                                    "subject": "database",
                                    "severity": "critical",
                                    "rule": "high_error_rate",
                                },
                                "exp_annotations": _annotations(
                                    rules, "HighErrorRate", "prod", "9.091"
                                ),
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "tests.yml"
    path.write_text(json.dumps(tests), encoding="utf-8")  # JSON is YAML
    assert PROMTOOL is not None
    out = subprocess.run(
        [PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _annotations(rules: Path, alert: str, target: str, value: str = "") -> dict[str, str]:
    """The annotations the exported rule gives ``alert`` for ``target`` and ``value`` (its
    templates filled in as Prometheus fills them)."""
    import re

    for rule in prometheus_rules(parse_config({}))["groups"][0]["rules"]:
        if rule["alert"] == alert:
            out = {}
            for key, text in rule["annotations"].items():
                text = text.replace("{{ $labels.target }}", target)
                text = re.sub(r"\{\{ \$value \| humanize \}\}", value, text)
                out[key] = text
            return out
    raise KeyError(alert)
