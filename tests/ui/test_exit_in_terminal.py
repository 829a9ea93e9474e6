"""Closing the terminal ends the console (issue 16, item 4): the real console, started in tmux
from a shell as a user starts it, its pane killed at different moments of its start-up — before
the first paint, during the first poll, after the settle timer —, and SIGTERM / SIGHUP / q in a
real pty: each time the process and its threads are gone within the deadline."""

from __future__ import annotations

import os
import pty
import shutil
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

from engflow_tui.exit_guard import terminal_lost

from ..terminal import Console, Tmux

DEADLINE = 2.5
"""The console must be gone 2 s after it was told; half a second more for a loaded machine."""
MOMENTS = (0.2, 0.35, 0.45, 0.55, 0.65, 0.8, 1.2, 2.5)
"""Seconds after the command is typed: during the imports, the first connection and poll, the
first paint (about 0.6 s here), the settle timer (1 s after the start), and later."""


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                if (entry / "stat").read_text().split()[2] != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def _gone_within(marker: str, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    left = _processes_with(marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = _processes_with(marker)
    return left


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
@pytest.mark.parametrize("moment", MOMENTS)
def test_killing_the_tmux_pane_ends_the_console(db18, tmp_path: Path, moment: float) -> None:
    left_behind = []
    for _ in range(2):
        marker = f"ENGFLOW_TEST_{uuid.uuid4().hex}"
        session = marker[-12:]
        with Tmux() as tmux:
            tmux.run(
                "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                "-e", f"{marker}=1", "bash --norc --noprofile",
            )  # fmt: skip
            time.sleep(0.3)  # the shell's prompt
            command = (
                f"XDG_STATE_HOME={tmp_path / 'state'} {sys.executable} -m engflow_tui "
                f"--dsn '{db18.dsn()}' --refresh 0.5s"
            )
            tmux.run("send-keys", "-t", session, command, "Enter")
            time.sleep(moment)
            tmux.run("kill-session", "-t", session, check=False)
        left = _gone_within(marker, DEADLINE)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        left_behind += left
    assert not left_behind, f"still running {DEADLINE}s after the pane closed: {left_behind}"


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "q"])
@pytest.mark.parametrize("moment", (0.3, 0.7, 2.0))
def test_signals_and_q_end_the_console_at_any_moment(
    db18, tmp_path: Path, how: str, moment: float
) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    with Console(["--dsn", db18.dsn(), "--refresh", "0.5s"], env) as term:
        term.read(moment)
        asked = time.monotonic()
        if how == "q":
            term.send(b"q")
        else:
            os.kill(term.pid, getattr(signal, how))
        status = term.wait(DEADLINE)
        took = time.monotonic() - asked
    assert status is not None, f"{how} at {moment}s: still running after {DEADLINE}s"
    assert took <= DEADLINE


def test_a_terminal_that_takes_no_more_output_does_not_keep_the_console_alive(
    db18, tmp_path: Path
) -> None:
    """The deterministic form of a closed pane: nothing reads the terminal, its buffer fills,
    Textual's writes block — and SIGTERM still ends the process in time."""
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    with Console(["--dsn", db18.dsn(), "--refresh", "0.2s"], env, 200, 60) as term:
        time.sleep(3.0)  # painting, never read: the pty's buffer is full
        asked = time.monotonic()
        os.kill(term.pid, signal.SIGTERM)
        status = None
        while status is None and time.monotonic() - asked < DEADLINE:
            pid, code = os.waitpid(term.pid, os.WNOHANG)
            status = code if pid else None
            time.sleep(0.05)
        term.status = status
    assert status is not None, f"still running {DEADLINE}s after SIGTERM"


def test_a_hung_up_terminal_is_told_from_a_live_one() -> None:
    master, slave = pty.openpty()
    try:
        assert not terminal_lost(slave)
        os.close(master)
        master = -1
        assert terminal_lost(slave)
    finally:
        os.close(slave)
        if master >= 0:
            os.close(master)
    read_end, write_end = os.pipe()
    try:
        assert not terminal_lost(read_end)  # not a terminal at all: nothing was lost
    finally:
        os.close(read_end)
        os.close(write_end)
