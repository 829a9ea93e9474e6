"""The garbage collector around the console's start-up (engflow_tui.startup_gc): paused by the
command before its imports, back on for every other command once its arguments are read, and
settled by the console once it is up. Each case runs in a process of its own: the collector's
state is the whole process's."""

from __future__ import annotations

import subprocess
import sys

import pytest

PREAMBLE = """
import gc, weakref
from engflow_tui import startup_gc

class Node:
    pass

def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)
"""


def run(program: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PREAMBLE + program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_settling_a_paused_start_collects_its_cycles_freezes_the_rest_and_resumes() -> None:
    out = run(
        """
startup_gc.pause()
print(gc.isenabled(), startup_gc.paused())
garbage = cycle()
for _ in range(100_000):  # allocations that would have triggered collections
    cycle()
print(garbage() is not None)  # nothing collected while paused
startup_gc.settle()
print(gc.isenabled(), startup_gc.paused(), garbage() is None, gc.get_freeze_count() > 0)
"""
    )
    assert out == ["False", "True", "True", "True", "False", "True", "True"]


def test_settling_without_a_pause_freezes_once_and_collects_nothing() -> None:
    # The tests and programs that embed the app: no extra collection pass, and one freeze per
    # process (a second app in the same process does not freeze the first one's leftovers).
    out = run(
        """
gc.disable()  # only so that no automatic collection runs during the check
garbage = cycle()
gc.enable()
startup_gc.settle()
frozen = gc.get_freeze_count()
print(garbage() is not None, frozen > 0, gc.isenabled())
later = [Node() for _ in range(1000)]
startup_gc.settle()
print(gc.get_freeze_count() == frozen)
"""
    )
    assert out == ["True", "True", "True", "True"]


def test_resume_leaves_a_collector_it_did_not_stop_alone() -> None:
    out = run(
        """
gc.disable()
startup_gc.resume()
print(gc.isenabled())
"""
    )
    assert out == ["False"]


@pytest.mark.parametrize(
    ("command", "runner"),
    [(["config", "check"], "run_config"), (["checklist", "list"], "run_checklist")],
)
def test_commands_other_than_the_console_run_with_the_collector_on(command, runner) -> None:
    out = run(
        f"""
startup_gc.pause()
from engflow_tui import cli
def runner(args):
    print("during", gc.isenabled())
    return 0
cli.{runner} = runner
print("code", cli.main({command!r}))
"""
    )
    assert out == ["during", "True", "code", "0"]
