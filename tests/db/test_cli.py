"""The command line as a user runs it: real processes, real database, exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engflow_tui.pgserver import free_port

from ..pg import session


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PG") and k not in ("DATABASE_URL", "ENGFLOW_CONFIG")
    }
    base["XDG_CONFIG_HOME"] = str(cwd or Path("/nonexistent-engflow"))
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "engflow_tui", *args],
        capture_output=True,
        text=True,
        env=base,
        timeout=60,
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


def test_no_config_no_dsn_says_what_to_do(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert "engflow-tui demo" in lines[1] and "--dsn" in lines[1] and "config init" in lines[1]
    no_traceback(result)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--dsn", "mysql://x/y"], "--dsn: DSN scheme must be postgresql://"),
        (["--dsn", "host=db nonsense"], "expected key=value"),
        (["--dsn", "host=db password= s3cret nonsense"], "expected key=value"),
        (
            ["--refresh", "soon", "--dsn", "postgresql://h/db"],
            "--refresh: 'soon' is not a duration",
        ),
        (["--config", "/nonexistent/engflow.toml"], "/nonexistent/engflow.toml: file not found"),
    ],
)
def test_bad_command_line_is_one_clear_line(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    no_traceback(result)


def test_bad_config_file_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[targets.prod]\ndsn = "postgresql://h/db"\n[thresholds]\nslow_query_ms = "fast"\n'
    )
    result = run("--config", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{path}: thresholds.slow_query_ms: must be a non-negative number" in result.stderr
    no_traceback(result)


def test_config_init_check_show(tmp_path: Path) -> None:
    path = tmp_path / "engflow" / "config.toml"
    result = run("config", "init", str(path), cwd=tmp_path)
    assert result.returncode == 0 and path.exists()
    assert run("config", "init", str(path), cwd=tmp_path).returncode == 2  # no silent overwrite
    missing_env = run("config", "check", str(path), cwd=tmp_path)
    assert missing_env.returncode == 2
    assert (
        "targets.production.password_env: environment variable ENGFLOW_PG_PASSWORD is not set"
        in missing_env.stderr
    )
    half = run("config", "check", str(path), env={"ENGFLOW_PG_PASSWORD": "x"}, cwd=tmp_path)
    assert half.returncode == 2  # every named variable is checked, not only the password
    assert (
        "targets.production.rest_apikey_env: environment variable SUPABASE_ANON_KEY" in half.stderr
    )
    every = {"ENGFLOW_PG_PASSWORD": "x", "SUPABASE_ANON_KEY": "k", "ENGFLOW_EMERGENCY_TOKEN": "t"}
    ok = run("config", "check", str(path), env=every, cwd=tmp_path)
    assert ok.returncode == 0 and "OK (1 target(s): production)" in ok.stdout
    shown = run("config", "show", str(path), cwd=tmp_path)
    assert shown.returncode == 0
    assert (
        'refresh_interval = "2s"' in shown.stdout and 'idle_in_transaction = "30m"' in shown.stdout
    )
    # The default location (XDG) is where `config init` writes without a path.
    result = run("config", "init", cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "engflow-tui" / "config.toml").exists()


def test_config_check_checks_the_file_given_with_config_not_the_default(tmp_path: Path) -> None:
    # CI runs `engflow-tui --config deploy/console.toml config check`: a good default file in
    # ~/.config must not turn a bad file into a green check.
    (tmp_path / "engflow-tui").mkdir()
    (tmp_path / "engflow-tui" / "config.toml").write_text(
        '[targets.ok]\ndsn = "postgresql://h/db"\n'
    )
    bad = tmp_path / "deploy.toml"
    bad.write_text('[targets.""]\ndsn = "postgresql://h/db?sslmode=verify-everything"\n')
    result = run("--config", str(bad), "config", "check", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f'engflow-tui: {bad}: targets."": a target needs a name: [targets.production], '
        'not [targets.""]'
    )
    no_traceback(result)
    default = run("config", "check", cwd=tmp_path)
    assert default.returncode == 0
    assert "engflow-tui/config.toml: OK (1 target(s): ok)" in default.stdout


async def test_diagnose_json_contract_and_exit_codes(db) -> None:
    import asyncio

    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.orcamentos (id int); SELECT pg_sleep(0.11)")
    result = await asyncio.to_thread(run, "diagnose", "--dsn", db.dsn(), "--format", "json")
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    data = json.loads(result.stdout)
    assert (
        data["status"] == "critical"
        and data["target"] == f"postgres@127.0.0.1:{db.server.port}/{db.name}"
    )
    assert data["generated_at"].endswith("Z")
    checks = {c["id"]: c for c in data["checks"]}
    assert checks["rls.disabled"]["details"] == [
        {"schema": "public", "table": "orcamentos", "policies": 0}
    ]
    assert (
        checks["database.reachable"]["status"] == "ok"
        and checks["database.reachable"]["unit"] == "ms"
    )
    assert any("pg_sleep" in q["query"] for q in checks["queries.slow"]["details"])
    assert checks["connections.usage"]["unit"] == "%"

    quick = await asyncio.to_thread(
        run, "diagnose", "--quick", "--dsn", db.dsn(), "--format", "json"
    )
    assert "queries.slow" not in {c["id"] for c in json.loads(quick.stdout)["checks"]}

    async with session(db.dsn()) as admin:
        await admin.execute("ALTER TABLE public.orcamentos ENABLE ROW LEVEL SECURITY")
    text = await asyncio.to_thread(run, "diagnose", "--quick", "--dsn", db.dsn())
    assert text.returncode in (0, 1), text.stdout  # cache hit rate may be cold on a new database
    assert "OK        rls.disabled" in text.stdout
    md = await asyncio.to_thread(run, "diagnose", "--dsn", db.dsn(), "--format", "markdown")
    assert md.stdout.startswith(
        f"# EngFlow diagnosis: postgres@127.0.0.1:{db.server.port}/{db.name}"
    )


def test_diagnose_unreachable_is_unknown_exit_3(tmp_path: Path) -> None:
    result = run(
        "diagnose",
        "--dsn",
        f"postgresql://u@127.0.0.1:{free_port()}/x",
        "--format",
        "json",
        cwd=tmp_path,
    )
    no_traceback(result)
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["status"] == "unknown"
    assert data["checks"][0]["id"] == "database.reachable"
    assert "refused" in data["checks"][0]["summary"]


def test_pg_environment_and_database_url(db, tmp_path: Path) -> None:
    server = db.server
    env = {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(server.port),
        "PGUSER": "postgres",
        "PGDATABASE": db.name,
    }
    result = run("diagnose", "--quick", "--format", "json", env=env, cwd=tmp_path)
    no_traceback(result)
    assert json.loads(result.stdout)["target"] == "env"
    assert json.loads(result.stdout)["checks"][0]["status"] == "ok"
    result = run(
        "diagnose", "--quick", "--format", "json", env={"DATABASE_URL": db.dsn()}, cwd=tmp_path
    )
    assert json.loads(result.stdout)["checks"][0]["status"] == "ok"


def test_config_target_with_password_from_env(db, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[targets.staging]\ndsn = "{db.dsn()}"\npassword_env = "ENGFLOW_T_PW"\n'
        f'[targets.other]\ndsn = "postgresql://127.0.0.1:{free_port()}/x"\n'
        '[console]\ndefault_target = "staging"\n'
    )
    result = run(
        "diagnose",
        "--quick",
        "--config",
        str(config),
        "--format",
        "json",
        env={"ENGFLOW_T_PW": "unused"},
        cwd=tmp_path,
    )
    no_traceback(result)
    assert json.loads(result.stdout)["target"] == "staging"
    other = run(
        "diagnose",
        "--quick",
        "--config",
        str(config),
        "--target",
        "other",
        "--format",
        "json",
        env={"ENGFLOW_T_PW": "unused"},
        cwd=tmp_path,
    )
    assert other.returncode == 3


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--dsn", "postgresql://ops:SECRETPW@db:notaport/postgres"],
            "port 'notaport' is not a number",
        ),
        (["--dsn", "postgresql://u@[bad/db"], "DSN malformed"),
        (["--dsn", "host=h port=abc"], "port must be a number"),
        (["--refresh", "0", "--dsn", "postgresql://h/db"], "--refresh: must be at least 200ms"),
        (["--refresh", "nan", "--dsn", "postgresql://h/db"], "--refresh: 'nan' is not a duration"),
        (["config", "init", "/etc/passwd/x.toml"], "cannot write"),
        (["demo", "--keep", "/etc"], "--keep: must be an empty or new directory"),
    ],
)
def test_malformed_input_is_one_line_and_never_echoes_a_secret(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "SECRETPW" not in result.stderr + result.stdout
    no_traceback(result)


def test_config_with_secret_in_query_string_is_refused_and_never_shown(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[targets.p]\ndsn = "postgresql://u@h/db?password=hunter2"\n')
    result = run("config", "check", str(path), cwd=tmp_path)
    assert result.returncode == 2 and "targets.p.dsn: contains a password" in result.stderr
    assert "hunter2" not in result.stderr
    path.write_text('[targets.p]\ndsn = "postgresql://u@h:99999/db"\n')
    result = run("config", "check", str(path), cwd=tmp_path)
    assert result.returncode == 2 and "targets.p.dsn: port '99999'" in result.stderr


async def test_diagnose_fail_on_for_ci(db, tmp_path: Path) -> None:
    import asyncio

    # Deterministic: the cache hit rate of a fresh database and the archiver are left out.
    config = tmp_path / "c.toml"
    config.write_text(
        f'[targets.ci]\ndsn = "{db.dsn()}"\n'
        '[diagnose]\nexclude = ["cache.hit_rate", "backup.archiver"]\n'
    )
    async with session(db.dsn()) as admin:
        # A warning only: RLS on and no policy (every API role denied every row).
        await admin.execute(
            "CREATE TABLE public.logs (id int); ALTER TABLE logs ENABLE ROW LEVEL SECURITY"
        )

    def diagnose(*extra: str) -> subprocess.CompletedProcess[str]:
        return run("diagnose", "--quick", "--config", str(config), *extra, cwd=tmp_path)

    plain = await asyncio.to_thread(diagnose, "--format", "json")
    no_traceback(plain)
    data = json.loads(plain.stdout)
    assert plain.returncode == 1 and data["status"] == "warning", plain.stdout
    warning = next(c for c in data["checks"] if c["id"] == "rls.no_policies")
    assert warning["section"] == "Security" and warning["details"][0]["key"] == "public.logs"
    assert (await asyncio.to_thread(diagnose, "--fail-on", "critical")).returncode == 0
    assert (await asyncio.to_thread(diagnose, "--fail-on", "warning")).returncode == 1

    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.orcamentos (id int)")  # RLS off: critical
    assert (await asyncio.to_thread(diagnose, "--fail-on", "critical")).returncode == 2
    md = await asyncio.to_thread(diagnose, "--format", "markdown", "--fail-on", "critical")
    assert md.returncode == 2 and "| critical | `rls.disabled` |" in md.stdout

    bad = await asyncio.to_thread(diagnose, "--fail-on", "info")
    assert bad.returncode == 2 and "invalid choice: 'info'" in bad.stderr
    no_traceback(bad)
