"""The real console in a pseudo-terminal: spawn it, read what it writes to the terminal (every
byte kept, for tests about what reaches the terminal), send keys, end it by PID. And a tmux
server of a test's own, for the tests that run it in tmux."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Mapping
from fcntl import ioctl


def read_until(fd: int, pattern: str, timeout: float) -> str:
    """Read the pty until ``pattern`` (a regex) shows; what was read, decoded."""
    buffer = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk
            if re.search(pattern.encode(), buffer):
                return buffer.decode(errors="replace")
    raise AssertionError(f"{pattern!r} not seen within {timeout}s; got {buffer[-2000:]!r}")


class Console:
    """``python -m engflow_tui ARGS`` in a pty of ``columns`` x ``lines``."""

    def __init__(
        self,
        args: list[str],
        env: Mapping[str, str] | None = None,
        columns: int = 120,
        lines: int = 40,
    ) -> None:
        environment = {**os.environ, **(env or {}), "TERM": "xterm-256color"}
        environment["COLUMNS"], environment["LINES"] = str(columns), str(lines)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: the console as a user starts it
            os.execvpe(sys.executable, [sys.executable, "-m", "engflow_tui", *args], environment)
        ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.output = b""
        """Every byte the console wrote to the terminal so far."""
        self.status: int | None = None

    def read(self, seconds: float) -> None:
        """Keep reading for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self._read_some(deadline - time.monotonic()):
                return

    def read_until(self, pattern: str, timeout: float) -> None:
        start = len(self.output)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern.encode(), self.output[start:]):
                return
            if not self._read_some(min(0.2, deadline - time.monotonic())):
                break
        if re.search(pattern.encode(), self.output[start:]):
            return
        raise AssertionError(f"{pattern!r} not seen within {timeout}s; got {self.output[-2000:]!r}")

    def _read_some(self, timeout: float) -> bool:
        """False once the terminal is closed."""
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        self.output += chunk
        return bool(chunk)

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def wait(self, timeout: float) -> int | None:
        """The exit status once the process ended within ``timeout`` (None: still running)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                return status
            self._read_some(0.05)
        return None

    def close(self) -> None:
        """Kill it (if still running) and close the terminal."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                _, self.status = os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Tmux:
    """A tmux server of the test's own (its own socket, ``tmux -L``), ended by ``close``.

    On the default server, a test's ``new-session`` could reach a server that was exiting
    because another test (or this one, a moment before) killed its last session: tmux then
    fails with "server exited unexpectedly"."""

    def __init__(self) -> None:
        self.socket = f"engflow-test-{uuid.uuid4().hex[:12]}"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check
        )

    def close(self) -> None:
        self.run("kill-server", check=False)
        # The server leaves its socket file behind.
        folder = os.environ.get("TMUX_TMPDIR") or "/tmp"
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, f"tmux-{os.getuid()}", self.socket))

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
