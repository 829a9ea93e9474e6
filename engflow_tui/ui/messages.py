"""App-level Textual messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.message import Message

from ..model import Snapshot


class SnapshotReady(Message):
    """A new snapshot of the target arrived from the poll worker, with the alert events and
    notices of that poll."""

    def __init__(
        self,
        snapshot: Snapshot,
        events: Sequence[Any] = (),
        notices: Sequence[str] = (),
        *,
        applied: bool = False,
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.events = tuple(events)
        self.notices = tuple(notices)
        self.applied = applied
        """Already on screen (the first poll, applied before the first paint): the message
        still announces its events and goes up to the app."""

    def can_replace(self, message: Message) -> bool:
        # A busy UI skips stale snapshots — but never one that carries alert events or notices.
        return isinstance(message, SnapshotReady) and not message.events and not message.notices


class PollFailed(Message):
    """The poll loop hit an unexpected error; it keeps going."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ActionRequested(Message):
    """A panel key or the palette asks for an action (by its palette name) on a target."""

    def __init__(self, action: str, **target: object) -> None:
        super().__init__()
        self.action = action
        self.target = target


class AlertSelected(Message):
    """An alert was picked in a panel: show its details, or acknowledge it."""

    def __init__(self, key: str, acknowledge: bool = False) -> None:
        super().__init__()
        self.key = key
        self.acknowledge = acknowledge


class ChecklistRequested(Message):
    """Open the named guided checklist (``sev1``, ``sev2``, ``sev3``, ``incident-response``)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
