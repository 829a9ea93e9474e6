"""IncidentFlows: the UI path of incident mode — declare, acknowledge, status, severity, escalate,
note, ETA, messages, report, resolve — and the incident bar on every screen.

UI layer (uses screens); the incident itself lives in
:class:`~engflow_tui.incidents.log.IncidentLog` (no Textual). A one-second display timer moves
the bar's clock, picks up new audit-log records (actions) and reminds the operator of due status
updates; nothing here polls the database.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import ModalScreen, Screen
from textual.widgets import Header

from ...actions.audit import AuditLog
from ...atomic import write_text
from ...config import incident_reports_dir
from ...durations import format_age
from ...incidents.log import IncidentLog, IncidentStore, utc_now
from ...incidents.model import SEVERITY_HELP, Status
from ...incidents.timers import (
    ALARM,
    deadlines,
    describe,
    matrix_duration,
    next_deadline,
    urgency,
)
from ...incidents.webhook import incident_webhook_env, post_text
from ...widgets.incident_bar import IncidentBar
from ..messages import ChecklistRequested

if TYPE_CHECKING:
    from ...incidents.report import ChecklistResults, RecordingAttachment
    from ..app import EngFlowApp

_S = TypeVar("_S", bound=Screen[Any])
_T = TypeVar("_T")


@functools.cache
def _ui() -> Any:
    """The incident screens, imported on first use (startup time: none is needed to start)."""
    from types import SimpleNamespace

    from ...incidents import templates
    from ...incidents.report import markdown
    from ...screens.confirm_modal import ConfirmModal
    from ...screens.declare_incident_modal import DeclareIncidentModal
    from ...screens.escalation_screen import EscalationScreen
    from ...screens.incident_message_modal import IncidentMessageModal
    from ...screens.incident_screen import IncidentScreen
    from ...screens.message_modal import MessageModal
    from ...screens.table_picker_modal import TablePickerModal
    from ...screens.text_prompt_modal import TextPromptModal
    from ...screens.waiting_modal import WaitingModal

    return SimpleNamespace(
        templates=templates,
        markdown=markdown,
        ConfirmModal=ConfirmModal,
        DeclareIncidentModal=DeclareIncidentModal,
        EscalationScreen=EscalationScreen,
        IncidentMessageModal=IncidentMessageModal,
        IncidentScreen=IncidentScreen,
        MessageModal=MessageModal,
        TablePickerModal=TablePickerModal,
        TextPromptModal=TextPromptModal,
        WaitingModal=WaitingModal,
    )


class IncidentFlows:
    def __init__(
        self,
        app: EngFlowApp,
        log: IncidentLog | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app = app
        self.config = app.config
        self.clock = clock or utc_now
        target = app.target.name if app.target is not None else ""
        self.log = log or IncidentLog(IncidentStore.for_target(self.config, target), self.clock)
        self.reports_dir = incident_reports_dir(self.config)
        self.audit = AuditLog.from_setting(
            self.config.console.audit_log, self.config.console.operator
        )
        self._audit_seen: tuple[float, int] | None = None
        self._rung: set[tuple[str, datetime]] = set()
        self._filled: dict[str, str] = {}
        """Each message template as last filled: the editor asks before discarding other text."""
        self.checklist_results: ChecklistResults | None = None
        self.recording: RecordingAttachment | None = None
        """Attaches the recording window of the incident to its report (set by the app)."""
        """Set by the checklists: the Markdown of the incident's checklist results."""

    # ---------------------------------------------------------------- wiring

    def start(self) -> None:
        """Put the bar on each screen as it is shown, and start the display clock."""
        self.app.screen_change_signal.subscribe(self.app, self._screen_changed)
        self.app.set_interval(1.0, self.tick, name="incident clock")
        if self.log.store is not None and self.log.store.problem:
            self.app.notify(self.log.store.problem, severity="warning", timeout=12, markup=False)
        if self.log.resumed and self.log.incident is not None:
            self.app.notify(
                f"resumed the open incident {self.log.incident.id}: {self.log.incident.title}",
                severity="warning",
                timeout=8,
                markup=False,
            )
        self.show_bar()  # the screen already shown (started once the dashboard is mounted)

    def _screen_changed(self, screen: Screen[Any]) -> None:
        self.show_bar(screen)

    def show_bar(self, screen: Screen[Any] | None = None) -> None:
        """Mount (once) and refresh the incident bar on a full screen; modals show the one below."""
        if screen is None:  # the top full screen: a modal shows the one below it
            screen = next(
                (s for s in reversed(self.app.screen_stack) if not isinstance(s, ModalScreen)),
                None,
            )
        if screen is None or isinstance(screen, ModalScreen) or not screen.is_attached:
            return
        incident = self.log.incident
        bars = screen.query(IncidentBar)
        if not bars:
            if incident is None:
                return
            bar = IncidentBar()
            headers = screen.query(Header)
            if headers:
                screen.mount(bar, after=headers.first())
            elif screen.children:
                screen.mount(bar, before=screen.children[0])
            else:
                screen.mount(bar)
        else:
            bar = bars.first()
        now = self.clock()
        deadline = (
            next_deadline(incident, self.config.escalation, self.config.incidents)
            if incident
            else None
        )
        bar.show(incident, deadline, now, self._closes_in(now))

    def _closes_in(self, now: datetime) -> float | None:
        return self.log.closes_in(self.config.incidents.close_resolved_after, now)

    def changed(self) -> None:
        """After every change: save problems said, bar and Incident screen refreshed."""
        if self.log.problem:
            self.app.notify(self.log.problem, severity="error", timeout=12, markup=False)
        self.show_bar()
        self._refill_screen()

    def _refill_screen(self) -> None:
        if not self.app.screen_stack:  # closing: the last snapshot's events still arrive
            return
        screen = self.app.screen
        incident = self.log.incident
        if isinstance(screen, _ui().IncidentScreen) and incident is not None:
            screen.refill(
                incident,
                deadlines(incident, self.config.escalation, self.config.incidents),
                self.clock(),
            )

    def tick(self) -> None:
        """Every second: the bar's clock, new audit records, reminders and passed deadlines."""
        if self.log.refresh():  # another console of this operator changed the incident
            self.changed()
        incident = self.log.incident
        if incident is None:
            return
        if self.log.open:
            self.sync_audit()
            self._remind()
        else:
            closes_in = self._closes_in(self.clock())
            if closes_in is not None and closes_in <= 0:
                after = format_age(self.config.incidents.close_resolved_after)
                self._close(f"closed by itself {after} after its resolution")
                return
        self.show_bar()
        self._refill_screen()

    def sync_audit(self) -> None:
        """New audit-log records (actions) -> timeline; read only when the file changed."""
        try:
            stat = self.audit.path.stat()
        except OSError:
            return
        seen = (stat.st_mtime, stat.st_size)
        if seen == self._audit_seen:
            return
        self._audit_seen = seen
        records = self.audit.read_recent(200)
        for problem in self.audit.take_problems():  # a bad line is skipped, said once
            self.app.notify(problem, severity="warning", timeout=15, markup=False)
        if self.log.sync_audit(reversed(records)):
            self.changed()

    def on_checklist_step(self, kind: str, text: str) -> None:
        """A checklist listener: its steps go to the open incident's timeline."""
        if self.log.record("checklist", text, data={"event": kind}):
            self.changed()

    def on_alert_events(self, events: Any) -> None:
        if events and self.log.record_alert_events(events):
            self.changed()

    def _remind(self) -> None:
        incident = self.log.incident
        if incident is None:
            return
        now = self.clock()
        for deadline in deadlines(incident, self.config.escalation, self.config.incidents):
            if urgency(deadline, now) != ALARM or (deadline.kind, deadline.due) in self._rung:
                continue
            self._rung.add((deadline.kind, deadline.due))
            hint = {
                "acknowledge": "k in the Incident screen (I)",
                "escalate": "e in the Incident screen (I)",
                "status update": "Incident message (M)",
            }[deadline.kind]
            self.app.notify(
                f"{incident.id}: {describe(deadline, now)} — {hint}",
                title="Status update due"
                if deadline.kind == "status update"
                else "Deadline passed",
                severity="error" if deadline.kind != "status update" else "warning",
                timeout=20,
                markup=False,
            )
            if self.config.notifications.bell:
                self.app.bell()

    def _apply(self, change: Callable[[], _T], what: str) -> _T | None:
        """A change the operator asked for; None (and why, with what they typed) when another
        console resolved or replaced the incident meanwhile."""
        try:
            return change()
        except ValueError as exc:
            self.changed()
            self.app.notify(f"not recorded: {what} — {exc}", severity="error", timeout=20)
            return None

    # ---------------------------------------------------------------- entry points

    def run(self, verb: str) -> None:
        """Dispatch a key or palette entry by verb."""
        handler = getattr(self, f"do_{verb}", None)
        if handler is None:
            self.app.notify(f"unknown incident command {verb!r}", severity="warning", markup=False)
            return
        if (
            verb
            not in (
                "declare",
                "close",
                "show",
                "show_escalation",
                "export",
                "message",
                "procedure",
                "incident_key",
            )
            and not self.log.open
        ):
            self.app.notify("no open incident: declare one first (I)", severity="warning")
            return
        handler()

    def do_incident_key(self) -> None:
        """I: declare when none is open, else show the incident."""
        if self.log.open:
            self.do_show()
        else:
            self.do_declare()

    def do_declare(self) -> None:
        if self.log.open:
            self.app.notify(
                f"{self.log.incident.id} is still open: resolve it first",  # type: ignore[union-attr]
                severity="warning",
                markup=False,
            )
            self.do_show()
            return
        help_ = {
            r.severity: (
                matrix_duration(r.initial_response),
                ("after " if r.escalate_after else "on the ")
                + matrix_duration(r.escalate_after)
                + " to "
                + " + ".join(r.escalate_to),
            )
            for r in self.config.escalation.matrix
        }
        self.app.push_screen(_ui().DeclareIncidentModal(help_), self._declared)

    def _declared(self, fields: dict[str, Any] | None) -> None:
        if fields is None:
            return
        dashboard = self.app.dashboard
        firing = dashboard.result.alerts if dashboard is not None and dashboard.result else ()
        try:
            incident = self.log.declare(
                fields["title"],
                fields["severity"],
                fields["impact"],
                self.config.console.operator,
                self.app.target.name if self.app.target else "",
                fields.get("eta", ""),
                firing=firing,
            )
        except ValueError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        self._rung.clear()
        self._audit_seen = None
        self.changed()
        self.app.notify(
            f"{incident.id} declared (SEV{incident.severity}): acknowledge within "
            f"{matrix_duration(self.config.escalation.rule(incident.severity).initial_response)}",
            severity="warning",
            markup=False,
        )
        if incident.severity <= 3:  # the runbook's procedure for this severity, time-boxed
            self.app.post_message(ChecklistRequested(f"sev{incident.severity}"))

    def do_show(self) -> None:
        if self.log.incident is None:
            self.app.notify("no incident: declare one first (I)", severity="warning")
            return
        if not self._back_to(_ui().IncidentScreen):
            self.app.push_screen(_ui().IncidentScreen())
        self.app.call_after_refresh(self.changed)

    def _back_to(self, kind: type[_S]) -> _S | None:
        """The screen of this kind already in the stack, made the top one by closing the full
        screens opened over it (what Esc would do); None when there is none, or when a dialog
        lies between (the palette runs over dialogs: closing one would lose what it holds)."""
        stack = self.app.screen_stack
        for index in range(len(stack) - 1, -1, -1):
            screen = stack[index]
            if isinstance(screen, kind):
                above = stack[index + 1 :]
                if any(isinstance(s, ModalScreen) for s in above):
                    return None
                for _ in above:
                    self.app.pop_screen()
                return screen
        return None

    def do_show_escalation(self) -> None:
        incident = self.log.incident
        text = ""
        if incident is not None and incident.open:
            pending = [
                describe(d, self.clock())
                for d in deadlines(incident, self.config.escalation, self.config.incidents)
                if d.kind == "escalate"
            ]
            done = " + ".join(sorted(incident.escalated_to())) or "nobody yet"
            text = f"{incident.id} SEV{incident.severity}: escalated to {done}. " + (
                pending[0] if pending else "Escalation complete for this severity."
            )
        screen = self._back_to(_ui().EscalationScreen)
        if screen is not None:
            screen.show_now(text)
        else:
            self.app.push_screen(_ui().EscalationScreen(self.config.escalation, text))

    def do_acknowledge(self) -> None:
        incident = self.log.incident
        if incident is not None and incident.acknowledged_at is not None:
            self.app.notify("already acknowledged", timeout=3)
            return
        if self._apply(self.log.acknowledge, "the acknowledgement") is None:
            return
        self.changed()
        self.app.notify("incident acknowledged", timeout=3)

    def do_status(self) -> None:
        items = [(s.value, s.value) for s in Status]

        def chosen(value: str | None) -> None:
            if value == Status.RESOLVED.value:
                self.do_resolve()
            elif value is not None:
                if self._apply(lambda: self.log.set_status(Status(value)), value) is None:
                    return
                self.changed()

        self.app.push_screen(_ui().TablePickerModal("Incident status", items), chosen)

    def do_severity(self) -> None:
        items = [(str(s), f"SEV{s} {title}") for s, (title, _) in SEVERITY_HELP.items()]

        def chosen(value: str | None) -> None:
            if value is not None:
                if self._apply(lambda: self.log.set_severity(int(value)), f"SEV{value}") is None:
                    return
                self._rung.clear()
                self.changed()

        self.app.push_screen(
            _ui().TablePickerModal("Change severity (if unsure, the higher one)", items), chosen
        )

    def do_escalate(self) -> None:
        incident = self.log.incident
        assert incident is not None
        rule = self.config.escalation.rule(incident.severity)
        items = [
            (
                "matrix:" + "|".join(rule.escalate_to),
                f"{' + '.join(rule.escalate_to)}  (the matrix, SEV{rule.severity})",
            )
        ]
        items += [
            (
                "level:" + level.name,
                f"{level.name} — {level.title}, {level.contact} ({level.availability})",
            )
            for level in self.config.escalation.levels
        ]

        def chosen(value: str | None) -> None:
            if value is None:
                return
            levels = value.split(":", 1)[1].split("|")

            def noted(note: str | None) -> None:
                if note is None:
                    return
                what = f"escalation to {' + '.join(levels)}: {note}"
                if self._apply(lambda: self.log.escalate(levels, note), what) is None:
                    return
                self.changed()
                self.app.notify(f"escalated to {' + '.join(levels)}", timeout=4, markup=False)

            self.app.push_screen(
                _ui().TextPromptModal(
                    f"Escalate to {' + '.join(levels)}",
                    "Who was contacted, and how? (e.g. paged the on-call via the rota)",
                ),
                noted,
            )

        self.app.push_screen(_ui().TablePickerModal("Escalate to", items), chosen)

    def do_note(self) -> None:
        def noted(text: str | None) -> None:
            if text and text.strip():
                if self._apply(lambda: self.log.note(text), f"the note {text!r}") is None:
                    return
                self.changed()
                self.app.notify("note added to the timeline", timeout=2)

        self.app.push_screen(
            _ui().TextPromptModal(
                "Incident note", "One line for the timeline: what you saw or did.", required=True
            ),
            noted,
        )

    def do_eta(self) -> None:
        incident = self.log.incident

        def chosen(text: str | None) -> None:
            if text is None:
                return
            if self._apply(lambda: self.log.set_eta(text), f"ETA {text!r}") is not None:
                self.changed()

        self.app.push_screen(
            _ui().TextPromptModal(
                "Estimated resolution",
                "When do you expect it fixed? (e.g. 15:30 UTC; empty: unknown)",
                incident.eta if incident else "",
            ),
            chosen,
        )

    def do_close(self) -> None:
        """Close incident: a resolved incident's bar leaves every screen now."""
        incident = self.log.incident
        if incident is None:
            self.app.notify("no incident to close", severity="warning")
        elif incident.open:
            self.app.notify(
                f"{incident.id} is still open: resolve it first (R in the Incident screen)",
                severity="warning",
                markup=False,
            )
        else:
            self._close("closed")

    def _close(self, how: str) -> None:
        incident = self.log.close()
        for screen in self.app.screen_stack:  # the bar leaves every screen, not only this one
            for bar in screen.query(IncidentBar):
                bar.show(None, None, self.clock())
        if isinstance(self.app.screen, _ui().IncidentScreen):
            self.app.pop_screen()  # nothing left to show there
        self.app.notify(
            f"{incident.id} {how}: its report and archive are in {self.reports_dir}",
            timeout=6,
            markup=False,
        )

    def do_resolve(self) -> None:
        def resolved(summary: str | None) -> None:
            if summary is None:
                return
            incident = self._apply(lambda: self.log.resolve(summary), f"resolved: {summary}")
            if incident is None:
                return
            self.changed()
            self.app.notify(
                f"{incident.id} resolved in {format_age(incident.elapsed(self.clock()))}: "
                "export the report (x) for the post-mortem",
                timeout=8,
                markup=False,
            )

        self.app.push_screen(
            _ui().TextPromptModal(
                "Resolve the incident", "What fixed it? (one line for the report; may be empty)"
            ),
            resolved,
        )

    def do_procedure(self) -> None:
        incident = self.log.incident
        if incident is None or incident.severity > 3:
            self.app.post_message(ChecklistRequested("incident-response"))
        else:
            self.app.post_message(ChecklistRequested(f"sev{incident.severity}"))

    # ---------------------------------------------------------------- messages

    def do_message(self, template: str | None = None) -> None:
        if self.log.incident is None:
            self.app.notify("no incident: declare one first (I)", severity="warning")
            return
        if template is None:
            self.app.push_screen(
                _ui().TablePickerModal(
                    "Which message?", [(t, t) for t in _ui().templates.TEMPLATES]
                ),
                lambda name: self.do_message(name) if name else None,
            )
            return
        settings = self.config.incidents
        text = _ui().templates.fill(
            template, self.log.incident, settings.system, settings.status_page_url
        )
        self._filled[template] = text
        self.edit_message(template, text)

    def edit_message(self, template: str, text: str) -> None:
        hook = incident_webhook_env(self.config)
        self.app.push_screen(
            _ui().IncidentMessageModal(template, text, hook, self._filled.get(template)),
            lambda result: self._message_chosen(template, result),
        )

    def _message_chosen(self, template: str, result: tuple[str, str] | None) -> None:
        if result is None:
            return
        verb, text = result
        if verb == "copy":
            self.app.copy_to_clipboard(text)
            self.log.message_sent(template, "clipboard", text, "copied (OSC 52)")
            self.changed()
            self.app.notify(f"{template} copied to the clipboard", timeout=4, markup=False)
        elif verb == "save":
            incident = self.log.incident
            assert incident is not None
            slug = re.sub(r"[^a-z]+", "-", template.lower()).strip("-")
            path = self.reports_dir / f"{incident.id}-{slug}-{self.clock():%H%M%S}.txt"
            try:
                write_text(path, text + "\n")
            except OSError as exc:
                self.app.push_screen(
                    _ui().MessageModal(
                        f"{template}: not saved",
                        f"{path}: {exc.strerror or exc}",
                        "fix incidents.reports_dir",
                    ),
                    lambda _: self.edit_message(template, text),
                )
                return
            self.log.message_sent(template, "file", text, str(path))
            self.changed()
            self.app.notify(f"saved to {path}", timeout=6, markup=False)
        elif verb == "post":
            self._post(template, text)

    def _post(self, template: str, text: str) -> None:
        hook = incident_webhook_env(self.config)
        if hook is None:
            self.app.push_screen(
                _ui().MessageModal(
                    f"{template}: no webhook",
                    "No Slack-compatible webhook is configured.",
                    "set incidents.webhook_url_env (or a [[notifications.webhooks]] of kind slack)",
                ),
                lambda _: self.edit_message(template, text),
            )
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                self.edit_message(template, text)
                return
            self.app.run_worker(
                self._deliver(template, text, hook),
                group="incident-post",
                description=f"post {template}",
                exit_on_error=False,
            )

        self.app.push_screen(
            _ui().ConfirmModal(f"Post the {template} to the webhook in ${hook}?", text, yes="Post"),
            confirmed,
        )

    async def _deliver(self, template: str, text: str, hook: str) -> None:
        seconds = self.config.actions.http_timeout
        started = time.monotonic()
        finished, answer = await _ui().WaitingModal.wait(
            self.app,
            post_text(hook, text, seconds),
            f"{template}: posting",
            f"POST to the webhook in ${hook}",
            seconds,
        )
        if finished and answer is not None:
            ok, outcome = answer
        else:
            ok, outcome = False, f"gave up waiting after {format_age(time.monotonic() - started)}"
        self.log.message_sent(template, f"webhook ${hook}", text, outcome, ok=ok)
        self.changed()
        if ok:
            self.app.notify(f"{template} posted ({outcome})", timeout=5, markup=False)
        else:
            await self.app.push_screen(
                _ui().MessageModal(
                    f"{template}: NOT posted",
                    f"The webhook in ${hook} did not take the message: {outcome}",
                    "the text is back in the editor: copy it (F2) and paste it by hand, or retry",
                ),
                lambda _: self.edit_message(template, text),
            )

    # ---------------------------------------------------------------- report

    def do_export(self) -> None:
        incident = self.log.incident
        if incident is None:
            self.app.notify("no incident to report on", severity="warning")
            return
        self.sync_audit()
        incident = self.log.incident
        assert incident is not None
        path = self.reports_dir / f"{incident.id}.md"
        try:
            write_text(
                path,
                _ui().markdown(incident, self.clock(), self.checklist_results, self.recording),
            )
        except OSError as exc:
            self.app.push_screen(
                _ui().MessageModal(
                    "Report not written",
                    f"{path}: {exc.strerror or exc}",
                    "fix incidents.reports_dir",
                )
            )
            return
        self.log.report_exported(str(path))
        self.changed()
        self.app.notify(f"report written to {path}", timeout=8, markup=False)
