"""The console's process ends when the console does, even when Textual's terminal reader is
left running (told to quit while starting, then its terminal closed: the reader spun on the
dead terminal at full CPU and kept the process alive)."""

from __future__ import annotations

import subprocess
import sys

STUCK_READER = """
import threading, time
from engflow_tui.cli import _exit_past_a_stuck_terminal_reader
reader = threading.Thread(target=lambda: time.sleep(3600), name="textual-input")
reader.start()
print("console done", flush=True)
_exit_past_a_stuck_terminal_reader({code})
print("not reached", flush=True)
"""


def test_a_reader_that_never_ends_does_not_keep_the_process_alive() -> None:
    done = subprocess.run(
        [sys.executable, "-c", STUCK_READER.format(code=3)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 3  # the console's own exit code
    assert done.stdout.splitlines() == ["console done"]


def test_a_reader_that_ends_lets_the_process_exit_normally() -> None:
    program = STUCK_READER.replace("time.sleep(3600)", "time.sleep(0.2)").format(code=0)
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["console done", "not reached"]
