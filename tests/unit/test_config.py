"""Config files, good and bad: every problem is one clear line naming file and key."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from engflow_tui.cli import build_parser, main, resolve
from engflow_tui.config import (
    ActionsConfig,
    Config,
    ConsoleConfig,
    HistoryConfig,
    TargetConfig,
    Thresholds,
    check_target_environment,
    find_config_path,
    load_config,
    parse_config,
)
from engflow_tui.dsn import mask_dsn
from engflow_tui.errors import ConfigError
from engflow_tui.history.store import store_path
from engflow_tui.monitor import alert_store_path

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_contract_example_from_the_issue(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[console]
refresh_interval = "2s"
read_only = false
operator = "ana"
audit_log = "~/.local/state/engflow-tui/audit.jsonl"

[targets.production]
dsn = "postgresql://ops_monitor@db.example.com:5432/postgres"
password_env = "ENGFLOW_PG_PASSWORD"
exposed_schemas = ["public"]
rest_url = "https://PROJECT.supabase.co/rest/v1"
rest_apikey_env = "SUPABASE_ANON_KEY"
app_health_url = "https://app.example.com/health"

[thresholds]
idle_in_transaction = "30m"
slow_query_ms = 100
""",
    )
    config = load_config(path)
    assert config.console.refresh_interval == 2.0
    assert config.console.operator == "ana"
    assert config.thresholds.idle_in_transaction == 1800.0
    target = config.target(None)
    assert target.name == "production"
    assert target.password_env == "ENGFLOW_PG_PASSWORD"
    assert target.exposed_schemas == ("public",)


def test_shipped_example_parses_and_matches_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    path = ROOT / "config.toml.example"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    config = load_config(path)
    # Every key of [console] and [thresholds] is documented in the example with its default.
    for section, cls in (
        ("console", ConsoleConfig),
        ("thresholds", Thresholds),
        ("actions", ActionsConfig),
        ("history", HistoryConfig),
    ):
        documented = set(data[section])
        text = path.read_text(encoding="utf-8")
        for f in dataclasses.fields(cls):
            assert f.name in documented or f"# {f.name} =" in text, (
                f"{section}.{f.name} not in the example"
            )
        for key in documented:
            assert getattr(getattr(config, section), key) == getattr(cls(), key), f"{section}.{key}"
    assert config.targets["production"].dsn is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[console\nrefresh_interval = 2", "TOML syntax error"),
        (
            '[console]\nrefresh_intervall = "2s"',
            "console.refresh_intervall: unknown key (did you mean 'refresh_interval'?)",
        ),
        (
            '[console]\nrefresh_interval = "fast"',
            "console.refresh_interval: 'fast' is not a duration",
        ),
        ('[console]\nread_only = "yes"', "console.read_only: must be true or false"),
        (
            '[thresholds]\nslow_query_ms = "100"',
            "thresholds.slow_query_ms: must be a non-negative number",
        ),
        ('[thresholds]\nidle_in_transaction = "-5m"', "thresholds.idle_in_transaction"),
        ("[targets.prod]\ndsn = 5", "targets.prod.dsn: must be a non-empty string"),
        (
            '[targets.prod]\ndsn = "postgresql://u:hunter2@h/db"',
            "targets.prod.dsn: contains a password",
        ),
        (
            '[targets.prod]\npassword_env = "my password"',
            "targets.prod.password_env: must be the NAME of an environment variable",
        ),
        (
            '[targets.prod]\nexposed_schemas = "public"',
            "targets.prod.exposed_schemas: must be a non-empty list",
        ),
        (
            '[targets.prod]\nrest_url = "ftp://x"',
            "targets.prod.rest_url: must be an http(s):// URL",
        ),
        ('[targets.prod]\nhost = "x"', "targets.prod.host: unknown key"),
        (
            '[console]\ndefault_target = "prdo"\n[targets.prod]\ndsn = "postgresql://h/db"',
            "console.default_target: names no target (did you mean 'prod'?)",
        ),
        ("[tresholds]\n", "tresholds: unknown key (did you mean 'thresholds'?)"),
        ("targets = 3", "targets: must be a table"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expected in message
    assert "\n" not in message
    assert "hunter2" not in message


def test_missing_target_and_several_targets(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path, '[targets.a]\ndsn = "postgresql://h/a"\n[targets.b]\ndsn = "postgresql://h/b"'
        )
    )
    with pytest.raises(ConfigError, match="several targets and no console.default_target"):
        config.target(None)
    with pytest.raises(ConfigError, match="no target named 'c'"):
        config.target("c")
    assert config.target("b").dsn == "postgresql://h/b"
    empty = load_config(write(tmp_path, "[console]\n"))
    with pytest.raises(ConfigError, match=r"no \[targets.NAME\] section"):
        empty.target(None)


def test_password_env_must_be_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(
        write(
            tmp_path, '[targets.p]\ndsn = "postgresql://u@h/db"\npassword_env = "ENGFLOW_TEST_PW"'
        )
    )
    monkeypatch.delenv("ENGFLOW_TEST_PW", raising=False)
    with pytest.raises(
        ConfigError, match="environment variable ENGFLOW_TEST_PW is not set"
    ) as info:
        check_target_environment(config.target("p"), str(tmp_path / "config.toml"))
    assert "targets.p.password_env" in str(info.value)
    monkeypatch.setenv("ENGFLOW_TEST_PW", "x")
    check_target_environment(config.target("p"), None)
    assert config.target("p").password() == "x"


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = write(tmp_path, "")
    env_file = tmp_path / "env.toml"
    env_file.write_text("")
    xdg = tmp_path / "xdg"
    (xdg / "engflow-tui").mkdir(parents=True)
    (xdg / "engflow-tui" / "config.toml").write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.setenv("ENGFLOW_CONFIG", str(env_file))
    assert find_config_path(str(explicit)) == explicit
    assert find_config_path(None) == env_file
    monkeypatch.delenv("ENGFLOW_CONFIG")
    assert find_config_path(None) == xdg / "engflow-tui" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    assert find_config_path(None) is None
    with pytest.raises(ConfigError, match="file not found"):
        find_config_path(str(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    ("dsn", "masked"),
    [
        ("postgresql://ops:s3cret@db:5432/postgres", "postgresql://ops:***@db:5432/postgres"),
        (
            "postgresql://ops@db/postgres?password=s3cret&sslmode=require",
            "postgresql://ops@db/postgres?password=***&sslmode=require",
        ),
        ("host=db user=ops password=s3cret dbname=x", "host=db user=ops password=*** dbname=x"),
        ("host=db password='a b c' dbname=x", "host=db password=*** dbname=x"),
        ("postgresql://ops@db/postgres", "postgresql://ops@db/postgres"),
    ],
)
def test_mask_dsn(dsn: str, masked: str) -> None:
    assert mask_dsn(dsn) == masked


def test_parse_config_defaults() -> None:
    config = parse_config({})
    assert config.console.refresh_interval == 2.0
    assert config.thresholds.slow_query_ms == 100.0
    assert config.thresholds.idle_in_transaction == 1800.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[history]\nsample_intervall = "1m"',
            "history.sample_intervall: unknown key (did you mean",
        ),
        ('[history]\nsample_interval = "0.5s"', "history.sample_interval: must be at least 1s"),
        ('[capacity]\nstorage_limit = "lots"', "capacity.storage_limit: must be a size"),
        ("[capacity]\nstorage_limt = 5", "capacity.storage_limt: unknown key"),
    ],
)
def test_history_and_capacity_errors_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert expected in info.value.render()


def test_history_and_capacity_values(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[history]\nsample_interval = "30s"\n[capacity]\nstorage_limit = "8GB"\n')
    )
    assert config.history.sample_interval == 30.0
    assert config.history.raw_retention == 86400.0
    assert config.capacity.storage_limit == 8 * 1024**3


# ------------------------------------------------------------------ targets named from --dsn


def _dsn_target(dsn: str) -> tuple[Config, TargetConfig]:
    config, target = resolve(build_parser().parse_args(["--dsn", dsn]))
    assert target is not None
    return config, target


@pytest.mark.parametrize(
    ("dsn", "name"),
    [
        ("postgresql://db.example.com:5433/postgres", "db.example.com:5433/postgres"),
        ("postgresql://ops@db:5432/postgres", "ops@db:5432/postgres"),
        ("postgresql://ops:s3cret@db/app", "ops@db:5432/app"),
        ("postgresql://[::1]:6432/app", "[::1]:6432/app"),
        ("postgresql://h1:5432,h2:5433/app", "h1:5432,h2:5433/app"),
        ("postgresql:///app?host=/run/pg&port=5434&user=ops", "ops@/run/pg:5434/app"),
        ("host=db port=5433 user=ops dbname=app", "ops@db:5433/app"),
        ("host=db dbname=app password='a b'", "db:5432/app"),
        ("dbname=app", "local:5432/app"),
    ],
)
def test_a_dsn_target_is_named_by_user_host_port_and_database(
    dsn: str, name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no config file
    monkeypatch.delenv("PGPORT", raising=False)
    _, target = _dsn_target(dsn)
    assert target.name == name
    assert "s3cret" not in target.name
    assert "a b" not in target.name


def test_dsn_targets_on_two_ports_keep_apart_alert_and_history_stores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("PGPORT", raising=False)
    paths = []
    for dsn in (
        "postgresql://ops@db.example.com:5432/postgres",
        "postgresql://ops@db.example.com:5433/postgres",
        "postgresql://audit@db.example.com:5433/postgres",
    ):
        config, target = _dsn_target(dsn)
        paths.append(
            (alert_store_path(config, target), store_path(config.console.state_dir, target.name))
        )
    alert_paths = {a for a, _ in paths}
    history_paths = {h for _, h in paths}
    assert len(alert_paths) == 3
    assert len(history_paths) == 3
    # The same DSN twice is the same target: its history is found again after a restart.
    config, target = _dsn_target("postgresql://ops@db.example.com:5433/postgres")
    assert alert_store_path(config, target) == paths[1][0]


# ------------------------------------------------------------- what the console cannot run


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


GOOD = '[targets.prod]\ndsn = "postgresql://ops@db:5432/postgres"\n'


def test_config_check_checks_the_file_named_by_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A good default file must not stand in for the bad one the command line names.
    (tmp_path / "engflow-tui").mkdir()
    (tmp_path / "engflow-tui" / "config.toml").write_text(GOOD)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    bad = tmp_path / "ci.toml"
    bad.write_text(GOOD + '[console]\nconnect_timeout = "0s"\n')
    for argv in (
        ["--config", str(bad), "config", "check"],
        ["config", "check", "--config", str(bad)],
    ):
        code, out, err = _cli(argv, capsys)
        assert code == 2, out
        assert err.strip() == (
            f"engflow-tui: {bad}: console.connect_timeout: must be above zero, not '0s'"
        )
        assert "OK" not in out
    good = tmp_path / "good.toml"
    good.write_text(GOOD)
    code, out, _ = _cli(["--config", str(good), "config", "check"], capsys)
    assert code == 0
    assert out.strip() == f"{good}: OK (1 target(s): prod)"
    code, out, _ = _cli(["--config", str(bad), "config", "show"], capsys)
    assert code == 2
    code, _, err = _cli(["--config", str(good), "config", "check", str(bad)], capsys)
    assert code == 2
    assert "give the file once" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[console]\noperator = 'ana'\n", "no [targets.NAME] section"),
        (
            GOOD + '[console]\nconnect_timeout = "0s"\n',
            "console.connect_timeout: must be above zero",
        ),
        (GOOD + "[console]\nhttp_timeout = 0\n", "console.http_timeout: must be above zero"),
        (GOOD + '[actions]\nlock_timeout = "0ms"\n', "actions.lock_timeout: must be above zero"),
        (GOOD + '[actions]\nstatement_timeout = "0s"\n', "actions.statement_timeout: must be"),
        (GOOD + '[diagnose]\nstatement_timeout = "0s"\n', "diagnose.statement_timeout: must be"),
        (GOOD + "[notifications]\nrepeat_interval = 0\n", "notifications.repeat_interval: must"),
        (
            GOOD + "[console]\nrefresh_interval = 1e23\n",
            "console.refresh_interval: must be at most 1h",
        ),
        (GOOD + "[console]\nsize_interval = 1e23\n", "console.size_interval: must be at most 1d"),
        (
            GOOD + '[console]\nconnect_timeout = "2h"\n',
            "console.connect_timeout: must be at most 5m",
        ),
        (
            GOOD + "[history]\nraw_retention = 1e23\n",
            "history.raw_retention: must be at most 3650d",
        ),
        (
            GOOD + "[[escalation.matrix]]\nseverity = 1\ninitial_response = 1e23\n",
            "escalation.matrix[0].initial_response: must be at most 30d",
        ),
        (
            GOOD + "[incidents.status_update_every]\n1 = 1e23\n",
            "incidents.status_update_every.1: must be at most 7d",
        ),
        (
            '[targets.p]\ndsn = "postgresql://h/db?sslmode=bogus"\n',
            "targets.p.dsn: sslmode 'bogus' is not one of disable, allow, prefer, require, "
            "verify-ca, verify-full",
        ),
        ('[targets.p]\ndsn = "host=h sslmode=requir"\n', "targets.p.dsn: sslmode 'requir'"),
        (
            '[targets.p]\ndsn = "postgresql://h/db"\naction_dsn = "postgresql://h/db?sslmode=on"\n',
            "targets.p.action_dsn: sslmode 'on'",
        ),
        ('[targets.""]\ndsn = "postgresql://h/db"\n', 'targets."": a target needs a name'),
        ('[targets."  "]\ndsn = "postgresql://h/db"\n', 'targets."  ": a target needs a name'),
        pytest.param("x = " + "[" * 5000 + "]" * 5000, "nested too deeply", id="deep-array"),
        pytest.param(
            "x = " + "{a=" * 3000 + "1" + "}" * 3000, "nested too deeply", id="deep-table"
        ),
        pytest.param("[" + ".".join(["alerts"] * 3000) + "]", "nested too deeply", id="deep-keys"),
    ],
)
def test_config_check_refuses_what_the_console_cannot_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    expected: str,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = write(tmp_path, text)
    code, out, err = _cli(["config", "check", str(path)], capsys)
    assert code == 2, out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"engflow-tui: {path}: "), err
    assert expected in lines[0]
    assert "Traceback" not in err


def test_a_file_used_only_with_dsn_is_checked_with_dsn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = write(tmp_path, "[console]\noperator = 'ana'\n")
    code, out, _ = _cli(["--dsn", "postgresql://ops@db/app", "config", "check", str(path)], capsys)
    assert code == 0
    assert out.strip() == f"{path}: OK (no target in the file; --dsn names ops@db:5432/app)"
    bogus = "postgresql://127.0.0.1:1/app?sslmode=bogus"
    code, _, err = _cli(["diagnose", "--dsn", bogus, "--quick"], capsys)
    assert code == 2
    assert err.strip().startswith("engflow-tui: --dsn: DSN sslmode 'bogus' is not one of")


UNREACHABLE = "postgresql://127.0.0.1:1/x"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["diagnose", "--refresh", "100000000000h", "--dsn", UNREACHABLE], "--refresh: must"),
        (["diagnose", "--refresh", "2d", "--dsn", UNREACHABLE], "--refresh: must be at most 1h"),
    ],
)
def test_absurd_refresh_on_the_command_line(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(argv, capsys)
    assert code == 2
    assert err.strip().startswith(f"engflow-tui: {expected}")
