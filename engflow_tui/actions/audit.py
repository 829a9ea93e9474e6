"""The audit log: one JSON line per confirmed action, refusal or failure, fsync'd, mode 0600.

A record is written *before* an action runs (``started``) and again with its outcome, so a crash
or kill right after an action never loses it. Never a password or a token. No Textual.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..textsafe import dumps
from .model import ActionError, ActionPlan, ActionResult


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
        """The newest records first; unreadable lines are reported as such, never fatal."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 2_000_000))
                data = handle.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            return [
                {"ts": "", "event": "error", "action": f"cannot read {self.path}: {exc.strerror}"}
            ]
        records: list[dict[str, Any]] = []
        for line in data.splitlines()[-limit:]:
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                records.append({"ts": "", "event": "unreadable", "action": line[:120]})
        return list(reversed(records))
