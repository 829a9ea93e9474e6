"""App-level Textual messages."""

from __future__ import annotations

from textual.message import Message

from ..model import AlertEvent, PollResult, Snapshot


class SnapshotReady(Message):
    """A poll of the target finished: its PollResult (snapshot with alerts, this poll's alert
    events, the notices to show once). The one path from the monitor to the screen, the
    console's first poll included."""

    def __init__(self, result: PollResult) -> None:
        super().__init__()
        self.result = result

    @property
    def snapshot(self) -> Snapshot:
        return self.result.snapshot

    @property
    def events(self) -> tuple[AlertEvent, ...]:
        return self.result.events

    @property
    def notices(self) -> tuple[str, ...]:
        return self.result.notices

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
