"""Records of an action: what it will touch (plan) and what happened (result). No Textual."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ActionTarget:
    key: str
    """Stable identity (e.g. ``pid:4242@<backend_start>`` or ``"public"."t"``)."""
    label: str
    """How the dialog names it, in full."""
    details: dict[str, Any] = field(default_factory=dict)
    """Shown in the dialog and written to the audit log (pid, user, application, query…)."""


@dataclass(frozen=True, slots=True)
class ActionPlan:
    action: str
    """The action's name as the palette shows it ("Terminate idle transactions")."""
    target_name: str
    """The configured target (database) it runs against."""
    targets: tuple[ActionTarget, ...]
    statement: str
    """The exact SQL (with its parameters) or HTTP request that will run."""
    description: str = ""
    warnings: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    """What execute() needs, beyond the targets."""

    @property
    def empty(self) -> bool:
        return not self.targets


@dataclass(frozen=True, slots=True)
class TargetOutcome:
    target: str
    status: str
    """done | partial | skipped | failed | refused"""
    message: str
    follow_up: str | None = None
    """An action the result offers next (one key), through its own confirmation: Cancel query
    when the confirmed statement ended and the session runs another one; Terminate session on
    the holder of the lock an Enable RLS gave up on."""
    follow_up_target: dict[str, Any] | None = None
    """What the follow-up acts on (pid and backend_start of a session)."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    plan: ActionPlan
    outcomes: tuple[TargetOutcome, ...]
    error: str | None = None
    fix: str | None = None
    audit_id: str | None = None
    """The id of its audit records (None: it was never recorded)."""

    @property
    def ok(self) -> bool:
        return self.error is None and all(o.status in ("done", "skipped") for o in self.outcomes)

    @property
    def refused(self) -> bool:
        return any(o.status == "refused" for o in self.outcomes)

    def summary(self) -> str:
        """One line: "2 terminated, 1 already gone or changed"."""
        if self.error and not self.outcomes:
            return self.error
        if self.plan.params.get("summary_first") and self.outcomes:
            return self.outcomes[0].message  # e.g. the test restore's overall figures
        word = self.plan.params.get("done_word", "done")
        if len(self.outcomes) == 1 and self.outcomes[0].message not in (word, "done"):
            return self.outcomes[0].message  # e.g. RLS enabled on "public"."Orçamentos Antigos"
        done = sum(1 for o in self.outcomes if o.status == "done")
        parts = [f"{done} {word}"] if done else []
        others: dict[str, int] = {}
        for o in self.outcomes:
            if o.status != "done":
                others[o.message] = others.get(o.message, 0) + 1
        parts += [f"{n} {message}" for message, n in others.items()]
        return ", ".join(parts) or "nothing to do"


class ActionError(Exception):
    """An action cannot be planned or run; the message says why and how to fix it."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix
