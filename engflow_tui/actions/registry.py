"""The action registry: every action of the console, by its palette name.

Each action is one module of this package that declares ``ACTION = Action(…)``
(:mod:`engflow_tui.actions.action`); this module imports every module of the package but the
machinery below and collects them, so adding an action is adding its module. The palette, the
keys, the runner, the action flow, the checklists and the alert detail all read this registry.

Start-up: the keys are bound from this registry as the UI is imported, so every action module
is imported then, on the main thread, while the poll thread imports asyncpg to connect (the first
data overlaps the UI's start-up). An action module therefore imports ``db`` (asyncpg),
``redact``, httpx and the restore machinery inside the functions that use them: importing them
at module level put ~40 ms (asyncpg ~34 ms) on the main thread, contending with the poll thread.

No Textual. Must not import the runner (the runner imports this module).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from .action import Action, Where

_MACHINERY = frozenset({"action", "audit", "model", "registry", "runner", "sessions"})
"""Modules of the package that are not actions (the runner imports this one)."""

_ACTIONS: dict[str, Action] = {}


def register(action: Action) -> Action:
    """Add ``action`` (a name already registered is replaced: the latest module wins)."""
    _ACTIONS[action.name] = action
    return action


def unregister(name: str) -> None:
    _ACTIONS.pop(name, None)


def load() -> None:
    """Import every action module of the package and register its ACTION (again: a module
    added to the package's path since is registered too)."""
    package = importlib.import_module(__package__ or "engflow_tui.actions")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in _MACHINERY or info.ispkg:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        action = getattr(module, "ACTION", None)
        if isinstance(action, Action):
            register(action)


def actions() -> list[Action]:
    """Every action, in palette order."""
    return sorted(_ACTIONS.values(), key=lambda a: (a.order, a.name))


def names() -> frozenset[str]:
    return frozenset(_ACTIONS)


def find(name: str) -> Action | None:
    return _ACTIONS.get(name)


def keyed(where: Where) -> Iterator[Action]:
    """The actions whose key applies in ``where``, in the keys' order."""
    yield from sorted(
        (a for a in _ACTIONS.values() if a.key is not None and a.key.where == where),
        key=lambda a: a.key.rank if a.key is not None else 0,
    )


def with_keys() -> list[Action]:
    """Every action that has a key, in the keys' order (the Help screen)."""
    return sorted(
        (a for a in _ACTIONS.values() if a.key is not None),
        key=lambda a: a.key.rank if a.key is not None else 0,
    )


load()
