"""Python's cyclic garbage collector around the console's start-up.

Start-up (imports, Textual's DOM and styles, the first snapshot) allocates a few hundred
thousand objects that live as long as the console. With the collector on, that allocation
triggers ~170 collections, each walking what is already there: ~45 ms of the time to first
data. The ``engflow-tui`` command pauses the collector before it imports anything
(:func:`pause`); the console settles it one second after it starts, by when the first data
is on screen or the target picker waits for a choice (:func:`settle`); every other command
resumes it as soon as its arguments are read (:func:`resume`). Reference counting frees
everything as before the whole time: only reference cycles wait.

Must not import Textual.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop automatic collections (the command's first step)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Collections as usual again, if :func:`pause` stopped them."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()


def paused() -> bool:
    return _paused


def settle() -> None:
    """Once the console is up (a second after it started): what start-up built is
    moved out of the collector's reach (gc.freeze), so later full collections walk only what
    came after (~2.5 ms at large scale instead of 30-65 ms each, landing inside refreshes).

    After a paused start-up, the reference cycles it left (~14,000 objects, ~1.5 MB: Textual's
    throw-away style nodes and caches) are collected first, in one pass while the console is
    idle (~50 ms), and collections resume. Without a pause (the tests, an embedding program)
    nothing is collected here: that pass would be one more pause. The freeze happens once per
    process: a process that runs several apps (the tests) would otherwise freeze the cycles of
    the apps it has closed."""
    global _paused
    if _paused:
        gc.collect()
    if gc.get_freeze_count() == 0:
        gc.freeze()
    resume()
