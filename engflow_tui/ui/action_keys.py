"""The action keys as Textual bindings, read from the action registry: a screen or panel asks
for the actions whose key applies where it is, and names the method that takes the action's name
(``request``, ``session``, ``table_action``). The Help screen's lines come from the same entries.

UI layer (imports Textual); holds no SQL.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from ..actions import registry
from ..actions.action import Where


def action_bindings(where: Where, method: str) -> list[BindingType]:
    """One binding per action whose key applies in ``where``: ``method('<its name>')``."""
    return [
        Binding(
            action.key.key,
            f"{method}({action.name!r})",
            action.key.label,
            show=action.key.show,
            id=action.key.binding_id,
        )
        for action in registry.keyed(where)
        if action.key is not None
    ]


def action_key_help() -> list[tuple[str, str]]:
    """(key, what it does) for every action key, in the keys' order (the Help screen)."""
    return [(a.key.key, a.key.help) for a in registry.with_keys() if a.key is not None]
