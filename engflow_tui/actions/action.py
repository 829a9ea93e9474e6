"""What an action is: the :class:`Action` record each action module declares (``ACTION = …``),
and the :class:`ActionContext` the runner gives its ``plan`` and ``execute``.

One record says everything the console does with an action: its palette name and help, its key
and where that key applies, what it acts on and how that is chosen, how it plans and runs, its
SQL files, whether read-only mode refuses it, the follow-ups its result may offer, and what its
confirmation dialog does beyond the usual (re-read every second, a threshold to change, a wait
with Esc). The palette, the keys, the runner, the action flow, the checklists and the alert
detail read it through :mod:`engflow_tui.actions.registry`.

Must not import Textual, the runner or the registry (action modules import this one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from .model import ActionPlan, TargetOutcome

if TYPE_CHECKING:
    from ..config import Config, TargetConfig

T = TypeVar("T")

Scope = Literal["session", "sessions", "table", "database", "http", "scratch"]
"""What an action touches: one session, every session that matches, a table (or the whole
database), the database, an HTTP endpoint of the application, a scratch server."""
Choice = Literal["none", "selected session", "picker"]
"""How its target is chosen: nothing to choose, the session selected in the Connections panel,
or a picker over its candidates (unless the key's panel row or the caller names one)."""
Where = Literal["dashboard", "connections panel", "rls panel"]
"""Where its key applies."""


class ActionContext(Protocol):
    """What an action's ``plan`` and ``execute`` get from the runner: the configuration and
    target, and the shared machinery — one connection with the action timeouts (driver errors
    become :class:`~engflow_tui.actions.model.ActionError`) and the redaction of secrets."""

    @property
    def config(self) -> Config: ...

    @property
    def target(self) -> TargetConfig: ...

    async def with_conn(
        self, work: Callable[[Any], Awaitable[T]], statement_timeout: float | None = None
    ) -> T: ...

    def redact(self, text: str) -> str: ...


Target = Mapping[str, Any]
"""What an action acts on, as the key, the palette, a checklist or an alert names it
(``{"pid": …, "backend_start": …}``, ``{"schema": …, "table": …}``, or nothing)."""
Plan = Callable[[ActionContext, Target], Awaitable[ActionPlan]]
Execute = Callable[[ActionContext, ActionPlan], Awaitable[list[TargetOutcome]]]
Candidates = Callable[[ActionContext], Awaitable[list[tuple[dict[str, Any], str]]]]


@dataclass(frozen=True, slots=True)
class Key:
    """An action's key: where it applies, its footer label and binding id."""

    key: str
    where: Where
    label: str
    """In the footer."""
    binding_id: str
    """The binding's id (a ``[keymap]`` section remaps by it)."""
    help: str
    """Its line in the Help screen."""
    show: bool = True
    """Shown in the footer."""
    rank: int = 0
    """Its place among the action keys: in the Help screen, and among the bindings of one
    place."""


@dataclass(frozen=True, slots=True)
class Picker:
    """The picker over an action's candidates, when nothing names its target."""

    title: str
    candidates: Candidates
    """(target, label) pairs, in the order shown."""
    empty: str = "nothing to pick"


@dataclass(frozen=True, slots=True)
class Waiting:
    """An action the operator waits on in a dialog with Esc to give up (it may take its whole
    deadline): what the dialog and the give-up message say."""

    title: str
    deadline: Callable[[Config], float]
    gave_up: str
    gave_up_fix: str


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    """The palette name; also the plan's ``action``, the audit records' and the checklists'
    ``open``."""
    help: str
    """The palette's line under the name."""
    order: int
    """Its place in the palette."""
    scope: Scope
    choose: Choice
    plan: Plan
    """Reads what it would touch now: an :class:`ActionPlan` (raises ActionError)."""
    execute: Execute
    """Runs a confirmed plan: one outcome per target. The runner wraps it (read-only refusal,
    audit records before and after, redaction)."""
    sql: tuple[str, ...] = ()
    """Its files in ``sql/`` (without ``.sql``)."""
    key: Key | None = None
    target_fields: tuple[str, ...] = ()
    """The keys of a target that name it (a diagnose finding or an alert fills them)."""
    picker: Picker | None = None
    refused_read_only: bool = True
    """False: it leaves the live database untouched (Test restore), so read-only mode runs it."""
    untouched: str = "the database was not touched"
    """What a read-only refusal says was left alone (``str.format`` over the plan's params)."""
    follow_ups: tuple[str, ...] = ()
    """Actions its result may offer next (one key, ``f``), each with its own confirmation."""
    live: bool = False
    """The confirmation re-reads its target every second (what is confirmed is what it shows)."""
    threshold: bool = False
    """The confirmation lets the operator change the threshold for this run (re-plans)."""
    waiting: Waiting | None = None
    notice: str | None = None
    """A toast as it starts running (it takes a while)."""

    def named(self, target: Target) -> bool:
        """True when ``target`` names what to act on (else its picker asks)."""
        return bool(target.get("whole_database")) or all(
            target.get(f) is not None for f in self.target_fields
        )

    def names_any(self, target: Target) -> bool:
        """True when ``target`` fills any of the target fields (a session named by its pid
        alone is still that session)."""
        return any(target.get(f) is not None for f in self.target_fields)

    def target_of(self, plan: ActionPlan) -> dict[str, Any]:
        """The target a plan was made for (to plan it again)."""
        return {f: plan.params[f] for f in self.target_fields if f in plan.params}
