"""ChecklistFlows: the UI path of checklists — pick (or resume) -> walk -> sign -> export.

UI layer (uses screens); the work is the ChecklistSession's, the data the RunStore's. One run is
walked at a time; leaving its screen keeps it, and "Run checklist" brings it back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...checklists.export import render_json, render_markdown, runs_section
from ...checklists.loader import Catalog, load_catalog, user_checklist_dir
from ...checklists.model import for_run
from ...checklists.run import ChecklistRun, RunStore
from ...checklists.session import ChecklistSession
from ...screens.checklist_screen import ChecklistScreen
from ...screens.table_picker_modal import TablePickerModal

if TYPE_CHECKING:
    from ..app import EngFlowApp


class ChecklistFlows:
    def __init__(self, app: EngFlowApp, store: RunStore) -> None:
        self.app = app
        self.store = store
        self.diagnose: Any = None
        """The diagnose checks' provider of auto items (``checklists.session.DiagnoseProvider``)."""
        self._catalog: Catalog | None = None
        self.session: ChecklistSession | None = None
        self.screen: ChecklistScreen | None = None
        self.listeners: list[Callable[[str, str], None]] = []
        """Told of every checklist step (an open incident records them in its timeline)."""
        self._expecting: tuple[ChecklistSession, str, str] | None = None
        """(session, item id, action): the action an item opened, until it ends."""

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(user_checklist_dir(self.app.config.path))
            for problem in self._catalog.problems:
                self.app.notify(
                    f"checklist not loaded: {problem}", severity="error", timeout=15, markup=False
                )
        return self._catalog

    def _target(self) -> str:
        return self.app.target.name if self.app.target is not None else "?"

    def _problems(self) -> None:
        for problem in self.store.problems:
            self.app.notify(problem, severity="warning", timeout=15, markup=False)
        self.store.problems.clear()

    def offer_resume(self) -> None:
        """On start: name the unfinished runs of this target and how to resume them."""
        runs = self.store.unfinished(self._target())
        self._problems()
        if runs:
            names = "; ".join(
                f"{r.title} (started {r.started_at} by {r.operator})" for r in runs[:3]
            )
            self.app.notify(
                f"{len(runs)} unfinished checklist run(s): {names}. "
                "Resume: C on the dashboard, or Ctrl+P → Run checklist",
                timeout=20,
                markup=False,
            )

    def pick(self) -> None:
        """Palette "Run checklist": the walked run first, then unfinished runs, then every list."""
        if self.session is not None and not self.session.run.finished:
            # The run being walked (left for a screen its item opened): straight back to it.
            if self.screen is not None and self.screen in self.app.screen_stack:
                while self.app.screen is not self.screen:
                    self.app.pop_screen()
            else:
                self.screen = ChecklistScreen(self.session)
                self.app.push_screen(self.screen)
            return
        choices: list[tuple[str, str]] = []
        for run in self.store.unfinished(self._target()):
            done = sum(1 for i in run.items if i.status in ("done", "pass"))
            choices.append(
                (
                    f"resume:{run.run_id}",
                    f"Resume: {run.title} — started {run.started_at} by {run.operator} "
                    f"({done}/{len(run.items)} done)",
                )
            )
        self._problems()
        for checklist in self.catalog.checklists.values():
            choices.append((f"start:{checklist.id}", f"{checklist.title} — {checklist.when}"))
        operator = self.app.config.console.operator
        self.app.push_screen(
            TablePickerModal(f"Run checklist (as {operator})", choices, "no checklists"),
            self._picked,
        )

    def _picked(self, key: str | None) -> None:
        if key is None:
            return
        kind, _, name = key.partition(":")
        if kind == "resume":
            self.resume(name)
        else:
            self.start(name)

    def _open(self, run: ChecklistRun) -> None:
        checklist, warning = for_run(self.catalog.get(run.checklist), run)
        if warning:
            self.app.notify(warning, severity="warning", timeout=15, markup=False)
        monitor: Any = self.app.dashboard.monitor if self.app.dashboard is not None else None
        self.session = ChecklistSession(
            checklist,
            run,
            self.store,
            monitor,
            self.app.config.console.operator,
            diagnose=self.diagnose,
            listener=self._tell,
        )
        self.screen = ChecklistScreen(self.session)
        self.app.push_screen(self.screen)

    def _tell(self, kind: str, text: str) -> None:
        for listener in self.listeners:
            listener(kind, text)

    def start(
        self, checklist_id: str, incident: str | None = None, origin: datetime | None = None
    ) -> None:
        checklist = self.catalog.get(checklist_id)
        if checklist is None:
            self.app.notify(
                f"no checklist named {checklist_id!r}", severity="warning", markup=False
            )
            return
        operator = self.app.config.console.operator
        run = ChecklistRun.start(checklist, self._target(), operator, datetime.now(UTC))
        if incident is not None:
            run.incident = incident
            run.clock_origin = (
                origin.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if origin else None
            )
        self._open(run)
        assert self.session is not None
        problem = self.session.save()
        self._tell("started", f"{operator} started {checklist.title}")
        self.app.notify(
            f"Started {checklist.title} as {operator} on {run.target}",
            timeout=5,
            markup=False,
        )
        if problem:
            self.app.notify(problem, severity="error", timeout=15, markup=False)

    def open_procedure(
        self, checklist_id: str, incident: str | None, origin: datetime | None
    ) -> None:
        """Incident mode asks for a procedure: the incident's own run of it when there is one
        (walked where it was left), else a new run whose time boxes count from the declaration."""
        current = self.session
        if (
            current is not None
            and not current.run.finished
            and current.run.checklist == checklist_id
            and current.run.incident == incident
        ):
            self.pick()
            return
        for run in self.store.unfinished(self._target()):
            if run.checklist == checklist_id and run.incident == incident:
                self.resume(run.run_id)
                return
        self.start(checklist_id, incident, origin)

    def resume(self, run_id: str) -> None:
        try:
            run = self.store.load(run_id)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self._problems()
            self.app.notify(f"cannot resume {run_id}: {exc}", severity="error", markup=False)
            return
        self._problems()
        self._open(run)
        self.app.notify(
            f"Resumed {run.title} (started {run.started_at} by {run.operator})",
            timeout=5,
            markup=False,
        )

    def expect_action(self, item_id: str, action: str) -> None:
        """The walked run's item opened ``action``: its outcome is recorded on the item."""
        if self.session is not None:
            self._expecting = (self.session, item_id, action)

    def action_finished(self, action: str, result: Any, why: str) -> None:
        expecting = self._expecting
        if expecting is None or expecting[2] != action:
            return
        self._expecting = None
        session, item_id, _ = expecting
        if result is None and why.startswith("cancelled"):
            return  # nothing happened: the item stays as it was
        problem = session.action_outcome(item_id, result, why)
        if problem:
            self.app.notify(problem, severity="error", timeout=15, markup=False)

    def finished(self, session: ChecklistSession) -> None:
        """Signed, or left with Esc: "Run checklist" offers the picker again."""
        if self.session is session:
            self.session = None

    def export(self, run: ChecklistRun) -> None:
        """Write the run as Markdown and JSON next to the runs; say where."""
        folder = Path(self.store.directory) / "exports"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            md = folder / f"{run.run_id}.md"
            md.write_text(render_markdown(run), encoding="utf-8")
            (folder / f"{run.run_id}.json").write_text(render_json(run), encoding="utf-8")
        except OSError as exc:
            self.app.notify(
                f"cannot export to {folder}: {exc.strerror or exc}", severity="error", markup=False
            )
            return
        self.app.notify(f"exported to {md} (and .json)", timeout=10, markup=False)

    def results_between(self, target: str, start: datetime, end: datetime | None) -> str | None:
        """The runs of ``target`` started in [start, end] (an incident's report section)."""
        first = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        last = end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if end else "9999"
        runs = [r for r in self.store.all() if r.target == target and first <= r.started_at <= last]
        return runs_section(runs)
