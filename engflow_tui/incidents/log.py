"""IncidentLog: the open incident and everything that happens to it, saved atomically on every
change so a killed console resumes it. Must not import Textual.

Two consoles of one operator share the file: every change is made under an exclusive lock on
``<file>.lock``, on the file as it is on disk (re-read first when another console wrote it since
we last read or wrote it), so neither silently overwrites the other's changes.

Other parts of the console feed the timeline through public methods: :meth:`IncidentLog.record`
(checklist steps), :meth:`IncidentLog.record_alert_events` (the alert engine's events) and
:meth:`IncidentLog.sync_audit` (actions, read back from the audit log).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: changes are still re-based, only unlocked
    fcntl = None  # type: ignore[assignment]

from .. import statefile as shape
from ..actions.audit import check_record
from ..atomic import write_text
from ..config import Config, incident_reports_dir, incident_state_path
from ..textsafe import dumps
from .model import Escalation, Incident, Status, TimelineEntry

Clock = Callable[[], datetime]

GROUP_ALERTS_ABOVE = 3
"""More events than this for one rule in one poll become one timeline entry."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def _hms(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M:%SZ")


# ------------------------------------------------------------------------------ serialisation


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def to_dict(incident: Incident) -> dict[str, Any]:
    return {
        "version": 1,
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "impact": incident.impact,
        "operator": incident.operator,
        "target": incident.target,
        "status": incident.status.value,
        "declared_at": _ts(incident.declared_at),
        "severity_since": _ts(incident.severity_since),
        "acknowledged_at": _ts(incident.acknowledged_at),
        "resolved_at": _ts(incident.resolved_at),
        "eta": incident.eta,
        "last_update_at": _ts(incident.last_update_at),
        "escalations": [
            {"at": _ts(e.at), "levels": list(e.levels), "severity": e.severity, "note": e.note}
            for e in incident.escalations
        ],
        "timeline": [
            {"at": _ts(t.at), "kind": t.kind, "text": t.text, "data": t.data}
            for t in incident.timeline
        ],
    }


def from_dict(data: Any) -> Incident:
    """An incident as saved; ShapeError (a ValueError) naming the field that does not fit."""
    data = shape.obj(data, "the incident")
    severity = shape.whole(data.get("severity"), "severity", (1, 2, 3, 4))
    declared = shape.moment(data.get("declared_at"), "declared_at")
    escalations = []
    for n, e in enumerate(shape.objects(data.get("escalations", []), "escalations")):
        where = f"escalations[{n}]"
        levels = shape.items(e.get("levels"), f"{where}.levels")
        escalations.append(
            Escalation(
                shape.optional_moment(e.get("at"), f"{where}.at") or declared,
                tuple(shape.text(v, f"{where}.levels[{i}]") for i, v in enumerate(levels)),
                shape.whole(e.get("severity"), f"{where}.severity", (1, 2, 3, 4)),
                shape.text(e.get("note", ""), f"{where}.note"),
            )
        )
    timeline = []
    for n, t in enumerate(shape.objects(data.get("timeline", []), "timeline")):
        where = f"timeline[{n}]"
        entry_data = shape.obj(t.get("data", {}), f"{where}.data")
        if "audit" in entry_data:
            check_record(entry_data["audit"])
        shape.optional_text(entry_data.get("text"), f"{where}.data.text")
        timeline.append(
            TimelineEntry(
                shape.optional_moment(t.get("at"), f"{where}.at") or declared,
                shape.text(t.get("kind"), f"{where}.kind"),
                shape.text(t.get("text"), f"{where}.text"),
                entry_data,
            )
        )
    return Incident(
        id=shape.text(data.get("id"), "id"),
        title=shape.text(data.get("title"), "title"),
        severity=severity,
        impact=shape.text(data.get("impact", ""), "impact"),
        operator=shape.text(data.get("operator", ""), "operator"),
        declared_at=declared,
        target=shape.text(data.get("target", ""), "target"),
        status=Status(
            shape.choice(data.get("status", "INVESTIGATING"), "status", (s.value for s in Status))
        ),
        severity_since=shape.optional_moment(data.get("severity_since"), "severity_since"),
        acknowledged_at=shape.optional_moment(data.get("acknowledged_at"), "acknowledged_at"),
        resolved_at=shape.optional_moment(data.get("resolved_at"), "resolved_at"),
        eta=shape.text(data.get("eta", ""), "eta"),
        last_update_at=shape.optional_moment(data.get("last_update_at"), "last_update_at"),
        escalations=tuple(escalations),
        timeline=tuple(timeline),
    )


@dataclass
class IncidentStore:
    """The current incident in one JSON file; resolved incidents are also archived as
    ``<archive_dir>/<id>.json``. A corrupt file is set aside, never fatal."""

    path: Path
    archive_dir: Path | None = None
    problem: str | None = field(default=None, init=False)
    _seen: tuple[int, int, int] | None = field(default=None, init=False, repr=False)
    """The file as we last read or wrote it (mtime, size, inode): anything else is another's."""

    @classmethod
    def for_target(cls, config: Config, target: str) -> IncidentStore:
        """The store of ``target``'s incident (incidents.state_file / reports_dir)."""
        path = incident_state_path(config, target)
        if config.incidents.state_file is None:
            _adopt_legacy(
                Path(config.console.state_dir).expanduser() / "incident.json", path, target
            )
        return cls(path, incident_reports_dir(config))

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def changed(self) -> bool:
        """Written (by another console) since we last read or wrote it."""
        return self._signature() != self._seen

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive between consoles for one read-change-write (a lock on a sidecar file: the
        incident file itself is replaced on every write)."""
        fd = None
        if fcntl is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(
                    self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600
                )
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:  # cannot lock (read-only dir...): the save says what is wrong
                if fd is not None:
                    os.close(fd)
                fd = None
        try:
            yield
        finally:
            if fd is not None:
                os.close(fd)  # releases the lock

    def load(self) -> Incident | None:
        """The incident in the file (None when there is none). A file that does not fit is set
        aside and ``problem`` says so; a save cut short by a kill is recovered or removed (and
        said in ``problem`` too)."""
        said = shape.recover_saves(self.path, "incident file", from_dict)
        if said:
            self.problem = "; ".join(said)
        self._seen = self._signature()  # before reading: a write in between is seen next time
        try:
            return from_dict(shape.read_json(self.path))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self.problem = "; ".join([*said, shape.set_aside(self.path, "incident file", str(exc))])
            self._seen = None
            return None

    def save(self, incident: Incident) -> None:
        text = dumps(to_dict(incident), indent=1, default=str)
        try:
            write_text(self.path, text)
            self._seen = self._signature()
            if not incident.open and self.archive_dir is not None:
                write_text(self.archive_dir / f"{incident.id}.json", text)
            self.problem = None
        except OSError as exc:
            self.problem = f"cannot save the incident to {self.path}: {exc.strerror or exc}"


def _adopt_legacy(legacy: Path, path: Path, target: str) -> None:
    """Before incidents belonged to a target, one incident.json in the state directory held the
    open incident of whatever target: it becomes its target's file (nothing is lost)."""
    if path.exists() or not legacy.exists():
        return
    try:
        owner = json.loads(legacy.read_text(encoding="utf-8")).get("target")
        if owner in (target, "", None):
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(legacy, path)
    except (OSError, ValueError, AttributeError):
        return  # unreadable: left where it is, for the operator to look at


# ------------------------------------------------------------------------------ the log

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _change(
    method: Callable[Concatenate[IncidentLog, _P], _R],
) -> Callable[Concatenate[IncidentLog, _P], _R]:
    """A change, made under the file's lock on the incident as it is on disk now."""

    @functools.wraps(method)
    def changing(self: IncidentLog, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if self.store is None or self._changing:
            return method(self, *args, **kwargs)
        with self.store.locked():
            self._changing = True
            try:
                self.refresh()
                return method(self, *args, **kwargs)
            finally:
                self._changing = False

    return changing


class IncidentLog:
    """The current incident (open, or resolved and not yet replaced) and its changes."""

    def __init__(self, store: IncidentStore | None = None, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock
        self.incident: Incident | None = None
        self._changing = False
        self._closed: str | None = None
        """The id of the resolved incident closed here: another console's write of it does
        not bring it back."""
        loaded = store.load() if store is not None else None
        if loaded is not None and loaded.open:
            self.incident = loaded
        self.resumed = self.incident is not None
        """True when an open incident was resumed from the file at start."""

    def refresh(self) -> bool:
        """Re-read the file if another console wrote it since we last read or wrote it (True
        then). A file gone or unreadable keeps what we hold: the next change writes it again."""
        if self.store is None or not self.store.changed():
            return False
        loaded = self.store.load()
        if loaded is None:
            return False
        if loaded.id == self._closed and not loaded.open:
            return False
        self.incident = loaded
        return True

    @property
    def problem(self) -> str | None:
        """Why the last save failed (None when it worked)."""
        return self.store.problem if self.store is not None else None

    @property
    def open(self) -> bool:
        return self.incident is not None and self.incident.open

    def _save(self, incident: Incident) -> Incident:
        self.incident = incident
        if self.store is not None:
            self.store.save(incident)
        return incident

    def _entry(
        self, kind: str, text: str, at: datetime | None = None, data: dict[str, Any] | None = None
    ) -> TimelineEntry:
        return TimelineEntry(at or self.clock(), kind, text, dict(data or {}))

    def _current(self) -> Incident:
        if self.incident is not None and not self.incident.open:
            raise ValueError(f"{self.incident.id} is resolved (here or in another console)")
        if self.incident is None:
            raise ValueError("no open incident: declare one first")
        return self.incident

    def _append(self, incident: Incident, *entries: TimelineEntry, **changes: Any) -> Incident:
        timeline = tuple(sorted((*incident.timeline, *entries), key=lambda e: e.at))
        return self._save(replace(incident, timeline=timeline, **changes))

    # ---------------------------------------------------------------- lifecycle

    @_change
    def declare(
        self,
        title: str,
        severity: int,
        impact: str,
        operator: str,
        target: str = "",
        eta: str = "",
        at: datetime | None = None,
        firing: Iterable[Any] = (),
    ) -> Incident:
        """``firing``: the target's alerts firing at the declaration (``model.Alert``): each is
        recorded in the timeline at its own since-time — the report of a SEV1 declared after the
        database went down starts with Database Down firing, not with its resolution."""
        if self.open:
            raise ValueError(f"incident {self.incident.id} is still open: resolve it first")  # type: ignore[union-attr]
        title, impact = title.strip(), impact.strip()
        if not title:
            raise ValueError("an incident needs a title")
        if severity not in (1, 2, 3, 4):
            raise ValueError(f"severity must be 1, 2, 3 or 4, not {severity!r}")
        now = at or self.clock()
        incident = Incident(
            id=f"INC-{now:%Y%m%d-%H%M%S}",
            title=title,
            severity=severity,
            impact=impact,
            operator=operator,
            declared_at=now,
            target=target,
            severity_since=now,
            eta=eta.strip(),
        )
        text = f"declared SEV{severity}: {title}" + (f" — impact: {impact}" if impact else "")
        return self._append(
            incident, self._entry("declared", text, now), *self._already_firing(firing, now)
        )

    def _already_firing(self, alerts: Iterable[Any], now: datetime) -> list[TimelineEntry]:
        """Timeline entries for alerts firing before the declaration, one per rule when a rule
        fires for many subjects (2,000 tables without RLS)."""
        per_rule: dict[str, list[Any]] = {}
        for alert in alerts:
            if getattr(alert, "state", "firing") == "firing":
                per_rule.setdefault(alert.rule, []).append(alert)
        entries = []
        for group in per_rule.values():
            first = min(group, key=lambda a: a.since or now)
            since = first.since or now
            if len(group) > GROUP_ALERTS_ABOVE:
                text = (
                    f"FIRING {first.title} ×{len(group)} ({first.severity.value}) since "
                    f"{_hms(since)}, before the declaration: {first.message}; …"
                )
                data = {"event": "firing", "keys": [a.key for a in group]}
                entries.append(self._entry("alert", text, since, data))
                continue
            for alert in group:
                at = alert.since or now
                entries.append(
                    self._entry(
                        "alert",
                        f"FIRING {alert.title} ({alert.severity.value}) since {_hms(at)}, "
                        f"before the declaration: {alert.message}",
                        at,
                        {"event": "firing", "key": alert.key, "severity": alert.severity.value},
                    )
                )
        return entries

    @_change
    def acknowledge(self, at: datetime | None = None) -> Incident:
        incident = self._current()
        if incident.acknowledged_at is not None:
            return incident
        now = at or self.clock()
        late = (now - incident.declared_at).total_seconds()
        entry = self._entry(
            "acknowledged", f"acknowledged by {incident.operator} after {late:.0f}s", now
        )
        return self._append(incident, entry, acknowledged_at=now)

    @_change
    def set_status(self, status: Status, at: datetime | None = None) -> Incident:
        if status is Status.RESOLVED:
            return self.resolve(at=at)
        incident = self._current()
        if status is incident.status:
            return incident
        entry = self._entry("status", f"status {incident.status.value} -> {status.value}", at)
        return self._append(incident, entry, status=status)

    @_change
    def set_severity(self, severity: int, at: datetime | None = None) -> Incident:
        incident = self._current()
        if severity not in (1, 2, 3, 4):
            raise ValueError(f"severity must be 1, 2, 3 or 4, not {severity!r}")
        if severity == incident.severity:
            return incident
        now = at or self.clock()
        entry = self._entry("severity", f"severity SEV{incident.severity} -> SEV{severity}", now)
        return self._append(incident, entry, severity=severity, severity_since=now)

    @_change
    def escalate(
        self, levels: Iterable[str], note: str = "", at: datetime | None = None
    ) -> Incident:
        incident = self._current()
        levels = tuple(levels)
        if not levels:
            raise ValueError("escalate to which level?")
        now = at or self.clock()
        escalation = Escalation(now, levels, incident.severity, note.strip())
        text = "escalated to " + " + ".join(levels) + (f": {note.strip()}" if note.strip() else "")
        return self._append(
            incident,
            self._entry("escalation", text, now, {"levels": list(levels)}),
            escalations=(*incident.escalations, escalation),
        )

    @_change
    def resolve(self, summary: str = "", at: datetime | None = None) -> Incident:
        incident = self._current()
        now = at or self.clock()
        minutes = (now - incident.declared_at).total_seconds() / 60
        text = f"resolved after {minutes:.0f} min" + (
            f": {summary.strip()}" if summary.strip() else ""
        )
        return self._append(
            incident, self._entry("resolved", text, now), status=Status.RESOLVED, resolved_at=now
        )

    def close(self) -> Incident:
        """The resolved incident leaves this console (its bar, its screen); its file, its archive
        and its report keep it. Raises ValueError while it is open (resolve it first)."""
        incident = self.incident
        if incident is None:
            raise ValueError("no incident to close")
        if incident.open:
            raise ValueError(f"{incident.id} is still open: resolve it first")
        self._closed, self.incident = incident.id, None
        return incident

    def closes_in(self, after: float, now: datetime) -> float | None:
        """Seconds until a resolved incident closes by itself (``after`` seconds resolved);
        None while it is open or when there is none."""
        incident = self.incident
        if incident is None or incident.open or incident.resolved_at is None:
            return None
        return after - (now - incident.resolved_at).total_seconds()

    @_change
    def set_eta(self, eta: str, at: datetime | None = None) -> Incident:
        incident = self._current()
        entry = self._entry("eta", f"ETA: {eta.strip() or 'unknown'}", at)
        return self._append(incident, entry, eta=eta.strip())

    @_change
    def note(self, text: str, at: datetime | None = None) -> Incident:
        incident = self._current()
        if not text.strip():
            raise ValueError("an empty note")
        return self._append(incident, self._entry("note", text.strip(), at))

    # ---------------------------------------------------------------- fed by the console

    @_change
    def record(
        self, kind: str, text: str, at: datetime | None = None, data: dict[str, Any] | None = None
    ) -> bool:
        """Add any entry (checklists call this for their steps); False when no incident is open."""
        if not self.open:
            return False
        self._append(self._current(), self._entry(kind, text, at, data))
        return True

    @_change
    def record_alert_events(self, events: Iterable[Any]) -> int:
        """Alert engine events (fired / resolved; repeats are not news) -> timeline entries.
        One rule firing for many subjects in one poll (2,000 tables without RLS) is one entry."""
        if not self.open:
            return 0
        groups: dict[tuple[str, str], list[Any]] = {}
        for event in events:
            if event.kind in ("fired", "resolved"):
                groups.setdefault((event.kind, event.alert.rule), []).append(event)
        entries = []
        for (kind, _), group in groups.items():
            verb = "FIRED" if kind == "fired" else "RESOLVED"
            first = group[0].alert
            if len(group) > GROUP_ALERTS_ABOVE:
                text = (
                    f"{verb} {first.title} ×{len(group)} ({first.severity.value}): "
                    f"{first.message}; …"
                )
                keys = [e.alert.key for e in group]
                data = {"event": kind, "keys": keys, "severity": first.severity.value}
                entries.append(self._entry("alert", text, group[0].at, data))
                continue
            for event in group:
                alert = event.alert
                entries.append(
                    self._entry(
                        "alert",
                        f"{verb} {alert.title} ({alert.severity.value}): {alert.message}",
                        event.at,
                        {"event": kind, "key": alert.key, "severity": alert.severity.value},
                    )
                )
        if entries:
            self._append(self._current(), *entries)
        return len(entries)

    @_change
    def sync_audit(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Audit-log records of actions finished, failed or refused on the incident's target since
        the declaration -> timeline entries (each once, the whole record kept for the report).
        The audit log is shared by the consoles of one operator, whatever target each watches."""
        if not self.open:
            return 0
        incident = self._current()
        seen = {e.data.get("audit_key") for e in incident.timeline if e.kind == "action"}
        entries = []
        for record in records:
            if record.get("event") not in ("finished", "failed", "refused"):
                continue
            if record.get("target") != incident.target:
                continue
            try:
                at = datetime.fromisoformat(str(record.get("ts")))
            except ValueError:
                continue
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            key = f"{record.get('ts')}|{record.get('action')}|{record.get('event')}"
            if at < incident.declared_at or key in seen:
                continue
            seen.add(key)
            event = record["event"]
            outcome = (
                record.get("summary")
                or record.get("error")
                or ("refused" if event == "refused" else event)
            )
            verb = {"finished": "", "failed": "FAILED ", "refused": "REFUSED "}[event]
            statuses = {
                o.get("status") for o in record.get("outcomes") or () if isinstance(o, Mapping)
            }
            if event == "finished" and statuses & {"failed", "partial"}:  # failed somewhere
                verb = "PARTLY FAILED " if statuses & {"done", "partial"} else "FAILED "
            entries.append(
                self._entry(
                    "action",
                    f"{verb}{record.get('action')}: {outcome}",
                    at,
                    {"audit_key": key, "audit": dict(record)},
                )
            )
        if entries:
            self._append(incident, *entries)
        return len(entries)

    @_change
    def message_sent(
        self,
        template: str,
        channel: str,
        text: str,
        outcome: str,
        ok: bool = True,
        at: datetime | None = None,
    ) -> Incident:
        """A message copied, saved or posted; a delivered one counts as a status update."""
        incident = self._current() if self.open else self.incident
        if incident is None:
            raise ValueError("no incident")
        now = at or self.clock()
        entry = self._entry(
            "message",
            f"{template} {'sent' if ok else 'NOT sent'} via {channel}: {outcome}",
            now,
            {"template": template, "channel": channel, "text": text, "ok": ok},
        )
        changes = {"last_update_at": now} if ok else {}
        return self._append(incident, entry, **changes)

    @_change
    def report_exported(self, path: str, at: datetime | None = None) -> None:
        if self.incident is not None:
            self._append(self.incident, self._entry("report", f"report exported to {path}", at))
