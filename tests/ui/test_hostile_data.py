"""Hostile data (issue 16, items 1 and 3): what any database user can plant — a table named
with terminal escapes, a query text holding them, credentials in query text — never drives the
operator's terminal and is never persisted.

The console runs for real in a pseudo-terminal (and in tmux), against a real PostgreSQL; the
assertions read the bytes it wrote to the terminal and the files it wrote."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from engflow_tui import db as dbmod

from ..terminal import Console, Tmux

# OSC 2 retitles the terminal, OSC 52 writes its clipboard, CSI 41m paints red, CSI 2J clears.
TABLE = "evil\x1b]2;PWNED\x07\x1b[41mREDTABLE"
QUERY = "SELECT 1 /* \x1b[41mREDQUERY \x1b]52;c;SGVsbG8=\x07\x1b[2J\x9b31m */"
PLANTED = [b"\x1b]2;PWNED", b"\x1b]52;c;SGVsbG8=", b"\x1b[41mREDTABLE", b"\x1b[41mREDQUERY"]


async def _plant(dsn: str) -> asyncpg.Connection:
    """The hostile table, and a session idle in transaction on the hostile query text."""
    setup = await asyncpg.connect(dsn)
    try:
        await setup.execute(f"CREATE TABLE public.{dbmod.quote_ident(TABLE)} (id int)")  # ok-sql
    finally:
        await setup.close()
    holder = await asyncpg.connect(dsn, server_settings={"application_name": "hostile"})
    await holder.execute("BEGIN")
    await holder.execute(QUERY)
    return holder


def _env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path)}


async def test_escapes_from_the_database_never_reach_the_terminal(db18, tmp_path: Path) -> None:
    holder = await _plant(db18.dsn())
    try:
        with Console(["--dsn", db18.dsn(), "--refresh", "0.5s"], _env(tmp_path), 160, 48) as term:
            # The table and the query are on screen ...
            await asyncio.to_thread(term.read_until, r"REDTABLE", 40)
            await asyncio.to_thread(term.read_until, r"REDQUERY", 20)
            await asyncio.to_thread(term.read, 2.0)
        shown = term.output
        # None of the planted sequences reached the terminal as bytes ...
        for planted in PLANTED:
            assert planted not in shown, planted
        assert b"\xc2\x9b31m" not in shown  # the one-byte CSI, UTF-8 encoded
        # ... they are on screen as text.
        assert b"\\x1b]2;PWNED" in shown
        assert b"\\x1b[41mREDQUERY" in shown
    finally:
        await holder.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
async def test_the_terminal_title_stays_ours_in_tmux(db18, tmp_path: Path) -> None:
    holder = await _plant(db18.dsn())
    session = "console"
    env = " ".join(f"{k}={v}" for k, v in _env(tmp_path).items())
    command = f"env {env} {sys.executable} -m engflow_tui --dsn '{db18.dsn()}' --refresh 0.5s"
    tmux = Tmux()
    try:
        tmux.run("new-session", "-d", "-s", session, "-x", "160", "-y", "48", command)
        # A detached session keeps the server's default size on some tmux versions.
        tmux.run("resize-window", "-t", session, "-x", "160", "-y", "48", check=False)

        def capture(*flags: str) -> str:
            return tmux.run("capture-pane", "-p", *flags, "-t", session, check=False).stdout

        # The name on screen, as text (-J joins the lines a toast wraps).
        deadline = time.monotonic() + 40
        shown = ""
        while time.monotonic() < deadline and "\\x1b]2;P" not in shown:
            await asyncio.sleep(0.3)
            shown = capture("-J")
        assert "\\x1b]2;P" in shown, shown
        screen = capture("-e")
        title = tmux.run("display-message", "-p", "-t", session, "#{pane_title}").stdout
        assert "PWNED" not in title
        assert "\x1b[41mREDTABLE" not in screen
    finally:
        tmux.close()
        await holder.close()


async def _cli(env: dict[str, str], *args: str) -> tuple[bytes, bytes]:
    """``engflow-tui ARGS`` as a user runs it: (stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engflow_tui",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return await proc.communicate()


async def test_reports_hold_no_escape_and_json_keeps_the_name_exact(db18, tmp_path: Path) -> None:
    holder = await _plant(db18.dsn())
    env = _env(tmp_path)
    try:
        outputs = {}
        for fmt in ("text", "markdown", "json"):
            outputs[fmt], _ = await _cli(
                env, "diagnose", "--quick", "--format", fmt, "--dsn", db18.dsn()
            )
        for fmt, out in outputs.items():
            assert b"\x1b" not in out, fmt
            assert b"\xc2\x9b" not in out, fmt
        assert b"REDTABLE" in outputs["text"]
        report = json.loads(outputs["json"])
        rls = next(c for c in report["checks"] if c["id"] == "rls.disabled")
        assert any(item["table"] == TABLE for item in rls["details"])
        out, err = await _cli(
            env, "checklist", "run", "daily-morning", "--auto", "--dsn", db18.dsn()
        )
        assert b"REDTABLE" in out
        assert b"\x1b" not in out + err
    finally:
        await holder.close()
