"""The audit log: one JSON line per confirmed action, refusal or failure, fsync'd, mode 0600.

A record is written *before* an action runs (``started``) and again with its outcome, so a crash
or kill right after an action never loses it. Never a password or a token. The log is
append-only, never rewritten: a line that is not a record (not JSON, not an object, a field of
the wrong type) is skipped when read, and said once with its line number. No Textual.
"""

from __future__ import annotations

import getpass
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import statefile as shape
from ..textsafe import dumps
from .model import ActionError, ActionPlan, ActionResult

TAIL_BYTES = 2_000_000
"""read_recent reads at most this much of the end of the log."""

_TEXT_FIELDS = ("operator", "os_user", "host", "target", "action", "statement", "summary", "error")


def check_record(record: Any) -> dict[str, Any]:
    """One audit record as written by :class:`AuditLog` (fields of a newer version are kept);
    ShapeError naming the field that does not fit."""
    if not isinstance(record, dict):
        raise shape.ShapeError("not an object")
    shape.text(record.get("ts"), "ts")
    shape.text(record.get("event"), "event")
    for key in _TEXT_FIELDS:
        shape.optional_text(record.get(key), key)
    for key in ("targets", "outcomes"):
        if key in record:
            shape.objects(record[key], key)
    return record


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_audit_id() -> str:
    """The id an action's records share (its start and its outcome): ``A-20261207-173012-3f9a``,
    what a checklist item ticked by the action names."""
    return f"A-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


@dataclass
class AuditLog:
    path: Path
    operator: str
    skipped: int = field(default=0, init=False)
    """Lines the last read_recent skipped (unreadable)."""
    _problems: list[str] = field(default_factory=list, init=False, repr=False)
    _reported: set[tuple[int, int]] = field(default_factory=set, init=False, repr=False)
    _counted: tuple[int, int, int] = field(default=(0, 0, 0), init=False, repr=False)
    """(inode, offset, newlines before offset): where line numbers were last counted to."""

    @classmethod
    def from_setting(cls, setting: str, operator: str) -> AuditLog:
        return cls(Path(os.path.expanduser(setting)), operator)

    def append(self, record: dict[str, Any]) -> None:
        """Append one record durably; raises ActionError if it cannot (the action must not run)."""
        line = dumps(record, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:  # a new file survives a crash only once its directory entry is on disk
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except OSError as exc:
            raise ActionError(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}",
                "fix the path or permissions of console.audit_log; nothing was run",
            ) from None

    def base(self, plan: ActionPlan, event: str, audit_id: str | None = None) -> dict[str, Any]:
        return {
            "ts": _now(),
            **({"id": audit_id} if audit_id else {}),
            "event": event,
            "operator": self.operator,
            "os_user": getpass.getuser(),
            "host": socket.gethostname(),
            "target": plan.target_name,
            "action": plan.action,
            "statement": plan.statement,
            "targets": [{"key": t.key, "label": t.label, **t.details} for t in plan.targets],
        }

    def started(self, plan: ActionPlan, audit_id: str | None = None) -> None:
        self.append(self.base(plan, "started", audit_id))

    def finished(self, result: ActionResult) -> None:
        record = self.base(
            result.plan,
            "refused" if result.refused else "finished" if result.error is None else "failed",
            result.audit_id,
        )
        record["outcomes"] = [
            {"target": o.target, "status": o.status, "message": o.message} for o in result.outcomes
        ]
        record["summary"] = result.summary()
        if result.error:
            record["error"] = result.error
        self.append(record)

    def read_recent(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest records first (of the last ``limit`` lines of the last 2 MB). A line that
        is not a record is skipped and said once (:meth:`take_problems`), never fatal."""
        try:
            with self.path.open("rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                start = max(0, size - TAIL_BYTES)
                handle.seek(max(0, start - 1))
                data = handle.read()
                inode = os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            return []
        except OSError as exc:
            self._say((0, -1), f"cannot read the audit log {self.path}: {exc.strerror or exc}")
            return []
        first = 0  # byte offset of the first whole line in data
        if start > 0:
            # data begins one byte before the tail: a line cut in half there is not a bad line.
            cut = data.find(b"\n")
            data = data[cut + 1 :] if cut >= 0 else b""
            first = start - 1 + cut + 1 if cut >= 0 else size
        lines = data.split(b"\n")
        skip = max(0, len(lines) - limit)
        records: list[dict[str, Any]] = []
        self.skipped = 0
        for index in range(skip, len(lines)):
            line = lines[index]
            if not line.strip():
                continue
            try:
                records.append(check_record(shape.parse_json(line)))
            except ValueError as exc:
                self.skipped += 1
                number = self._line_number(inode, first) + index
                self._say(
                    (inode, number),
                    f"audit log {self.path}: line {number} unreadable ({exc}), skipped",
                )
        return list(reversed(records))

    def take_problems(self) -> list[str]:
        """What read_recent found wrong since the last call (each bad line once per log)."""
        problems, self._problems = self._problems, []
        return problems

    def _say(self, key: tuple[int, int], message: str) -> None:
        if key not in self._reported:
            self._reported.add(key)
            self._problems.append(message)

    def _line_number(self, inode: int, offset: int) -> int:
        """The line number (from 1) of the line that starts at byte ``offset``: the newlines
        before it are counted once (the log only grows), only when a bad line needs a number."""
        seen_inode, seen_offset, count = self._counted
        if seen_inode != inode or seen_offset > offset:
            seen_offset, count = 0, 0
        try:
            with self.path.open("rb") as handle:
                handle.seek(seen_offset)
                remaining = offset - seen_offset
                while remaining > 0:
                    chunk = handle.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    count += chunk.count(b"\n")
                    remaining -= len(chunk)
        except OSError:
            return 0
        self._counted = (inode, offset, count)
        return count + 1
