"""`engflow-tui demo` end to end in a pseudo-terminal: it opens on live data, and on quit or
SIGTERM its server and workload are gone (checked by port and by process command line)."""

from __future__ import annotations

import os
import pty
import re
import signal
import socket
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from ..terminal import read_until as _read_until


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("how", ["q", "ctrl+c", "sigterm"])
def test_demo_opens_on_live_data_and_leaves_nothing_behind(how: str) -> None:
    pid, fd = pty.fork()
    if pid == 0:  # child: the demo as a user runs it
        os.environ["TERM"] = "xterm-256color"
        os.environ["COLUMNS"], os.environ["LINES"] = "120", "40"
        os.execv(sys.executable, [sys.executable, "-m", "engflow_tui", "demo", "--refresh", "0.5"])
    port = 0
    try:
        started = _read_until(fd, r"on 127\.0\.0\.1:\d+", 60)
        port = int(re.search(r"on 127\.0\.0\.1:(\d+)", started).group(1))
        screen = _read_until(fd, "CONNECTED", 30)
        assert "EngFlow Ops Console" in started + screen
        # Beside the console, a watcher (engflow-tui watch) sends the alerts: the status line
        # says so once the console has read the target's alerting lock.
        watch_config = re.search(r"\(log: (\S+)/watch\.log\)", started + screen)
        assert watch_config, started + screen
        watch_config_path = f"{watch_config.group(1)}/watch-config.toml"
        assert _processes_mentioning(watch_config_path), "the demo's watcher runs"
        screen += _read_until(fd, "alerts: watcher on", 30)
        # The workload is live: its roles show up as sessions of the demo database.
        import asyncio

        async def observe() -> tuple[set[str], int]:
            conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/engflow")
            try:
                rows = await conn.fetch("SELECT DISTINCT application_name FROM pg_stat_activity")
                slow_reports = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%c.nome%' AND mean_exec_time > 100"
                )
                return {r[0] for r in rows}, slow_reports
            finally:
                await conn.close()

        deadline = time.monotonic() + 20
        apps: set[str] = set()
        slow_reports = 0
        while time.monotonic() < deadline and not (
            {"engflow-api", "engflow-batch"} <= apps and slow_reports
        ):
            apps, slow_reports = asyncio.run(observe())
            time.sleep(0.3)
        assert {"engflow-api", "engflow-batch", "engflow-tui"} <= apps
        assert slow_reports, "the workload's report queries are slow (they see rows despite RLS)"
        workload = _processes_mentioning(f"127.0.0.1:{port}/engflow")
        assert workload, "the workload process runs"
        if how == "q":
            # Kill every workload session, as the console's actions would: it reconnects.
            async def kill_and_count() -> int:
                conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/engflow")
                try:
                    await conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name LIKE 'engflow-%' AND application_name <> 'engflow-tui'"
                    )
                    for _ in range(300):  # ~1.5 s here; up to 30 s on a loaded CI machine
                        n = await conn.fetchval(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'engflow-api'"
                        )
                        if n >= 4:
                            return n
                        await asyncio.sleep(0.1)
                    return n
                finally:
                    await conn.close()

            reconnected = asyncio.run(kill_and_count())
            assert reconnected >= 4, (
                "the workload reconnects after its sessions are killed "
                f"(workload process alive: {bool(_processes_mentioning(f'127.0.0.1:{port}/engflow'))})"
            )
            assert _processes_mentioning(f"127.0.0.1:{port}/engflow") == workload
        if how == "q":
            os.write(fd, b"q")
        elif how == "ctrl+c":
            os.write(fd, b"\x03")
        else:
            os.kill(pid, signal.SIGTERM)
        tail = ""
        try:
            tail = _read_until(fd, "server stopped and removed", 40)
        except AssertionError:
            pass
        _, status = os.waitpid(pid, 0)
        pid = 0
        assert "server stopped and removed" in tail
        assert os.WIFEXITED(status)
        assert not _port_open(port)
        assert _processes_mentioning(f"127.0.0.1:{port}/engflow") == []
        assert _processes_mentioning(f"-c port={port} ") == []  # the postmaster itself
        assert _processes_mentioning(watch_config_path) == []  # the watcher
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            if port:
                _stop_what_the_demo_left(port)
        os.close(fd)


def _stop_what_the_demo_left(port: int) -> None:
    """After a failure the demo was killed before its cleanup: its workload is stopped by its
    own PID (found by this run's port), and its server removed as the demo would have
    (LocalPostgres.remove: its own postmaster, then its temporary directory)."""
    from engflow_tui.pgserver import LocalPostgres

    for leftover in _processes_mentioning(f"127.0.0.1:{port}/engflow"):
        os.kill(leftover, signal.SIGKILL)
    for postmaster in _processes_mentioning(f"-c port={port} "):  # the demo's watcher
        cmdline = Path(f"/proc/{postmaster}/cmdline").read_bytes().split(b"\0")
        if b"-D" in cmdline:
            base = Path(cmdline[cmdline.index(b"-D") + 1].decode()).parent
            for watcher in _processes_mentioning(f"{base}/watch-config.toml"):
                os.kill(watcher, signal.SIGKILL)
    for postmaster in _processes_mentioning(f"-c port={port} "):
        cmdline = Path(f"/proc/{postmaster}/cmdline").read_bytes().split(b"\0")
        if b"-D" not in cmdline:
            continue
        base = Path(cmdline[cmdline.index(b"-D") + 1].decode()).parent
        if base.name.startswith("engflow-demo-"):  # the demo's temporary server
            bin_dir = Path(cmdline[0].decode()).parent
            LocalPostgres(bin_dir=bin_dir, base_dir=base, port=port).remove()
