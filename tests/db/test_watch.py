"""`engflow-tui watch` as a service (issue 19): a real process against real PostgreSQL, read
through its /metrics, /healthz and JSON-line logs; stopped by the test, by its PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from engflow_tui.pgserver import free_port

from ..pg import session, wait_for


def write_config(path: Path, targets: dict[str, str], port: int, extra: str = "") -> None:
    lines = [
        "[console]",
        'refresh_interval = "500ms"',
        'catalog_interval = "1s"',
        "[watch]",
        f'metrics_listen = "127.0.0.1:{port}"',
        'check_interval = "1s"',
        extra,
    ]
    for name, dsn in targets.items():
        lines += [f"[targets.{name}]", f'dsn = "{dsn}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Watch:
    def __init__(self, process: subprocess.Popen[str], log: Path, port: int) -> None:
        self.process, self.log_path, self.port = process, log, port

    def logs(self) -> list[dict[str, Any]]:
        text = self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.logs() if r["event"] == name]

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")
        except OSError:
            return 0, ""

    def metrics(self) -> str:
        return self.get("/metrics")[1]


def start_watch(
    config: Path, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Watch:
    log = tmp_path / f"watch-{time.monotonic_ns()}.log"
    environment = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), **(env or {}))
    with open(log, "w", encoding="utf-8") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "engflow_tui", "watch", "--config", str(config), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=environment,
            text=True,
        )
    port = int(config.read_text().split('metrics_listen = "127.0.0.1:')[1].split('"')[0])
    return Watch(process, log, port)


@contextmanager
def running(config: Path, tmp_path: Path, *args: str, **kw: Any) -> Iterator[Watch]:
    watch = start_watch(config, tmp_path, *args, **kw)
    try:
        yield watch
    finally:
        if watch.process.poll() is None:
            watch.process.kill()
        watch.process.wait(timeout=10)


def stop(watch: Watch, sig: int = signal.SIGTERM) -> int:
    watch.process.send_signal(sig)
    return watch.process.wait(timeout=20)


async def test_every_target_is_watched_a_dead_one_alerted_on_and_the_rest_carry_on(
    db18, tmp_path
) -> None:
    dead_port = free_port()
    port = free_port()
    config = tmp_path / "config.toml"
    write_config(
        config,
        {"good": db18.dsn(), "dead": f"postgresql://ops@127.0.0.1:{dead_port}/x"},
        port,
        "max_subjects = 3",
    )
    async with session(db18.dsn()) as admin:
        # Five exposed tables without RLS, two with names meant to do harm in a terminal.
        await admin.execute(
            "CREATE TABLE public.a1 (id int); CREATE TABLE public.a2 (id int);"
            'CREATE TABLE public."evil\x1b[2J" (id int); CREATE TABLE public."x"" 1" (id int);'
            "CREATE TABLE public.a5 (id int)"
        )
    with running(config, tmp_path) as watch:
        await wait_for(lambda: "engflow_table_rls_disabled{" in watch.metrics(), timeout=20)
        await wait_for(
            lambda: (
                'engflow_alert_firing{rule="database_down",severity="critical",subject="",target="dead"} 1.0'
                in watch.metrics()
            ),
            timeout=20,
        )
        text = watch.metrics()
        assert 'engflow_up{target="good"} 1.0' in text
        assert 'engflow_up{target="dead"} 0.0' in text
        assert 'engflow_watch_authority{target="good"} 1.0' in text
        assert 'engflow_tables_without_rls{target="good"} 5.0' in text
        # Capped at 3 subjects, the cut counted; nothing raw from the database.
        assert text.count("engflow_table_rls_disabled{") == 3
        assert 'engflow_subjects_cut{metric="engflow_table_rls_disabled",target="good"} 2.0' in text
        assert "\x1b" not in text
        assert 'engflow_max_connections{target="good"} 100.0' in text
        # Unknown is absent, never 0: nothing about connections for the dead target.
        assert 'engflow_max_connections{target="dead"}' not in text

        status, body = watch.get("/healthz")
        assert status == 200
        health = json.loads(body)
        assert health["targets"]["dead"]["state"] == "down"
        assert health["targets"]["good"]["polling"] is True
        assert "this watcher" in health["targets"]["good"]["alerting"]
        assert watch.get("/nothing")[0] == 404

        # A console on the same database sees the watcher (the lock, the application name).
        async with session(db18.dsn()) as admin:
            apps = await admin.fetch(
                "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE $1",
                "engflow-tui watch@%",
            )
            assert len(apps) == 1

        started = watch.events("watch_started")
        assert started and sorted(started[0]["targets"]) == ["dead", "good"]
        assert watch.events("target_down")[0]["target"] == "dead"
        fired = [e for e in watch.events("alert_fired") if e["rule"] == "database_down"]
        assert [e["target"] for e in fired] == ["dead"]
        assert stop(watch) == 0
    records = watch.logs()
    assert records[-1]["event"] == "watch_stopped"
    assert all(set(r) >= {"ts", "level", "event"} for r in records)
    assert "Traceback" not in watch.log_path.read_text()
    # The alert states were saved in the watcher's own state directory.
    saved = json.loads(
        (tmp_path / "state" / "engflow-tui" / "watch" / "alerts-dead.json").read_text()
    )
    assert [a["key"] for a in saved["active"]] == ["database_down"]
    # And the history of the target it could read, closed and flushed.
    assert list((tmp_path / "state" / "engflow-tui" / "watch").glob("*good*"))


async def test_sighup_adds_and_removes_targets_and_keeps_running_on_a_bad_config(
    db18, tmp_path
) -> None:
    port = free_port()
    config = tmp_path / "config.toml"
    write_config(config, {"one": db18.dsn()}, port)
    with running(config, tmp_path) as watch:
        await wait_for(lambda: 'engflow_up{target="one"} 1.0' in watch.metrics(), timeout=20)
        write_config(config, {"one": db18.dsn(), "two": db18.dsn()}, port)
        watch.process.send_signal(signal.SIGHUP)
        await wait_for(lambda: 'engflow_up{target="two"} 1.0' in watch.metrics(), timeout=20)
        reloaded = watch.events("reloaded")[-1]
        assert reloaded["added"] == ["two"] and reloaded["removed"] == []

        config.write_text("[console]\nrefresh_interval = 'never'\n", encoding="utf-8")
        watch.process.send_signal(signal.SIGHUP)
        await wait_for(lambda: watch.events("reload_failed"), timeout=10)
        assert "refresh_interval" in watch.events("reload_failed")[-1]["message"]
        assert watch.process.poll() is None
        assert 'engflow_up{target="two"} 1.0' in watch.metrics()

        write_config(config, {"two": db18.dsn()}, port)
        watch.process.send_signal(signal.SIGHUP)
        await wait_for(lambda: len(watch.events("reloaded")) == 2, timeout=10)
        assert watch.events("reloaded")[-1]["removed"] == ["one"]
        assert 'target="one"' not in watch.metrics()
        assert stop(watch) == 0


def run_cli(
    *args: str, tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), **(env or {}))
    environment.pop("PGHOST", None)
    return subprocess.run(
        [sys.executable, "-m", "engflow_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        cwd=tmp_path,
    )


@pytest.mark.parametrize(
    ("content", "args", "said"),
    [
        ("[console]\nrefresh_interval = 'soon'\n", (), "refresh_interval"),
        (
            "[watch]\nmetrics_listen = 'everywhere'\n[targets.a]\ndsn = 'postgresql://x@h/d'\n",
            (),
            "HOST:PORT",
        ),
        ("[targets.a]\ndsn = 'postgresql://x@h/d'\n", ("--target", "b"), "no target named 'b'"),
        (
            "[targets.a]\ndsn = 'postgresql://x@h/d'\n",
            ("--metrics-listen", "1.2.3.4"),
            "--metrics-listen",
        ),
        ("[console]\nrefresh_interval = '1s'\n", (), "no [targets.NAME] section"),
    ],
    ids=["bad-duration", "bad-listen", "unknown-target", "bad-listen-option", "no-targets"],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path, content, args, said) -> None:
    config = tmp_path / "config.toml"
    config.write_text(content, encoding="utf-8")
    out = run_cli("watch", "--config", str(config), *args, tmp_path=tmp_path)
    assert out.returncode == 2, out.stderr
    assert said in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_nothing_to_watch_says_what_to_do(tmp_path) -> None:
    out = run_cli("watch", tmp_path=tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert out.returncode == 2
    assert "no database to watch" in out.stderr


async def test_one_watcher_per_state_directory(db18, tmp_path) -> None:
    config = tmp_path / "config.toml"
    write_config(config, {"one": db18.dsn()}, free_port())
    with running(config, tmp_path) as watch:
        await wait_for(lambda: watch.events("watch_started"), timeout=20)
        second = tmp_path / "second.toml"
        write_config(second, {"one": db18.dsn()}, free_port())
        out = run_cli("watch", "--config", str(second), tmp_path=tmp_path)
        assert out.returncode == 2
        assert (
            f"another engflow-tui watch uses this state directory (pid {watch.process.pid})"
            in out.stderr
        )
        assert stop(watch, signal.SIGINT) == 0


async def test_the_logs_carry_no_secret(db18, tmp_path) -> None:
    """A target's password (password_env) and a webhook URL's token never reach the log, even
    when the connection and the delivery fail."""
    port = free_port()
    config = tmp_path / "config.toml"
    write_config(config, {}, port)
    with open(config, "a", encoding="utf-8") as f:
        f.write(
            f'[targets.dead]\ndsn = "postgresql://ops@127.0.0.1:{free_port()}/x"\n'
            'password_env = "DEAD_PASSWORD"\n'
            '[[notifications.webhooks]]\nkind = "json"\nurl_env = "HOOK"\nmin_severity = "info"\n'
        )
    env = {
        "DEAD_PASSWORD": "s3cr3t-pw-value",
        "HOOK": f"http://user:hunter2-pass@127.0.0.1:{free_port()}/hook?token=t0k3n-in-url",
    }
    with running(config, tmp_path, env=env) as watch:
        await wait_for(lambda: watch.events("notice"), timeout=30)
        assert "webhook" in watch.events("notice")[0]["message"]
        assert stop(watch) == 0
    text = watch.log_path.read_text()
    for secret in ("s3cr3t-pw-value", "hunter2-pass", "t0k3n-in-url"):
        assert secret not in text


async def test_a_burst_of_sighups_leaves_one_monitor_per_target(db18, tmp_path) -> None:
    port = free_port()
    config = tmp_path / "config.toml"
    write_config(config, {"one": db18.dsn()}, port)

    async def watcher_sessions() -> int:
        async with session(db18.dsn()) as admin:
            return await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1",
                "engflow-tui watch@%",
            )

    with running(config, tmp_path) as watch:
        await wait_for(lambda: 'engflow_up{target="one"} 1.0' in watch.metrics(), timeout=20)
        write_config(config, {"one": db18.dsn() + "?sslmode=disable"}, port)  # changed
        for _ in range(10):
            watch.process.send_signal(signal.SIGHUP)
            time.sleep(0.003)
        await wait_for(lambda: watch.events("reloaded"), timeout=20)
        await wait_for(
            lambda: 'engflow_watch_authority{target="one"} 1.0' in watch.metrics(), timeout=20
        )
        time.sleep(1.5)
        assert await watcher_sessions() == 1
        # One reload at a time: the first restarts the changed target, the rest find nothing.
        reloads = watch.events("reloaded")
        assert [r["restarted"] for r in reloads if r["restarted"]] == [["one"]]
        assert all(r["added"] == [] for r in reloads)
        assert stop(watch) == 0
    assert await watcher_sessions() == 0
