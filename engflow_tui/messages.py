"""App-level Textual messages."""

from __future__ import annotations

from textual.message import Message

from .model import Snapshot


class SnapshotReady(Message):
    """A new snapshot of the target arrived from the poll worker."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        # A busy UI skips stale snapshots: only the newest one matters.
        return isinstance(message, SnapshotReady)


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
