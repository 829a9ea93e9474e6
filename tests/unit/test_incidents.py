"""Incident core: deadlines with an injected clock, the timeline, templates, report, store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engflow_tui.alerts.engine import AlertEvent
from engflow_tui.config import EscalationConfig, IncidentsConfig, parse_config
from engflow_tui.errors import ConfigError
from engflow_tui.incidents import templates
from engflow_tui.incidents.log import IncidentLog, IncidentStore
from engflow_tui.incidents.model import Status
from engflow_tui.incidents.report import markdown
from engflow_tui.incidents.timers import (
    ALARM,
    OK,
    WARNING,
    deadlines,
    describe,
    next_business_day,
    next_deadline,
    urgency,
)
from engflow_tui.model import Alert, Severity

ESC = EscalationConfig()
INC = IncidentsConfig()
# A Wednesday, 14:00 UTC (11:00 in the runbook's UTC-3 business hours).
T0 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def declared(severity: int, clock: Clock | None = None, store: IncidentStore | None = None):
    log = IncidentLog(store, clock or Clock())
    log.declare("Database unreachable", severity, "every user sees errors", "ana", "prod")
    return log


@pytest.mark.parametrize(
    ("severity", "ack_in", "escalate_in", "levels"),
    [
        (1, timedelta(minutes=5), timedelta(minutes=15), "Level 2 + Level 3"),
        (2, timedelta(minutes=15), timedelta(minutes=30), "Level 2"),
        (3, timedelta(minutes=30), timedelta(hours=2), "Level 2"),
        # Sev4: next business day (Thursday) 08:00 UTC-3 = 11:00 UTC.
        (4, timedelta(hours=4), datetime(2026, 11, 26, 11, 0, tzinfo=UTC) - T0, "Level 1"),
    ],
)
def test_deadlines_follow_the_escalation_matrix(severity, ack_in, escalate_in, levels) -> None:
    log = declared(severity)
    pending = {d.kind: d for d in deadlines(log.incident, ESC, INC)}
    assert pending["acknowledge"].due == T0 + ack_in
    assert pending["escalate"].due == T0 + escalate_in
    assert pending["escalate"].label == f"escalate to {levels}"
    assert next_deadline(log.incident, ESC, INC).kind == "acknowledge"


@pytest.mark.parametrize("severity", [1, 2, 3, 4])
def test_urgency_turns_warning_then_alarm(severity: int) -> None:
    clock = Clock()
    log = declared(severity, clock)
    deadline = next_deadline(log.incident, ESC, INC)
    window = deadline.due - deadline.start
    assert urgency(deadline, clock.now) == OK
    assert urgency(deadline, deadline.due - window * 0.3) == OK
    assert urgency(deadline, deadline.due - window * 0.2) == WARNING
    assert urgency(deadline, deadline.due) == ALARM
    assert "OVERDUE 1m00s" in describe(deadline, deadline.due + timedelta(minutes=1))
    assert describe(deadline, deadline.due - timedelta(seconds=42)).endswith("in 42s")


@pytest.mark.parametrize(
    ("declared_at", "expected"),
    [
        # Friday 20:00 UTC-3 -> Monday 08:00 UTC-3.
        (datetime(2026, 11, 27, 23, 0, tzinfo=UTC), datetime(2026, 11, 30, 11, 0, tzinfo=UTC)),
        # Saturday -> Monday.
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), datetime(2026, 11, 30, 11, 0, tzinfo=UTC)),
        # Monday 01:00 UTC is still Sunday 22:00 in UTC-3 -> Monday 08:00 UTC-3.
        (datetime(2026, 11, 30, 1, 0, tzinfo=UTC), datetime(2026, 11, 30, 11, 0, tzinfo=UTC)),
        # Tuesday 10:00 UTC-3 -> Wednesday.
        (datetime(2026, 12, 1, 13, 0, tzinfo=UTC), datetime(2026, 12, 2, 11, 0, tzinfo=UTC)),
    ],
)
def test_next_business_day(declared_at: datetime, expected: datetime) -> None:
    assert next_business_day(declared_at, ESC) == expected


def test_acknowledge_escalate_and_updates_clear_their_deadlines() -> None:
    clock = Clock()
    log = declared(1, clock)
    clock.advance(minutes=3)
    log.acknowledge()
    assert [d.kind for d in deadlines(log.incident, ESC, INC)] == ["escalate", "status update"]
    log.escalate(["Level 2"], "paged the on-call")
    pending = next_deadline(log.incident, ESC, INC)
    assert pending.label == "escalate to Level 3", "one of the two levels is still missing"
    log.escalate(["Level 3"])
    pending = next_deadline(log.incident, ESC, INC)
    assert pending.kind == "status update"
    assert pending.due == T0 + timedelta(minutes=15)
    clock.advance(minutes=10)
    log.message_sent(templates.INCIDENT_ALERT, "clipboard", "text", "copied")
    assert next_deadline(log.incident, ESC, INC).due == clock.now + timedelta(minutes=15)
    log.resolve()
    assert next_deadline(log.incident, ESC, INC) is None


def test_raising_the_severity_restarts_the_escalation_window() -> None:
    clock = Clock()
    log = declared(3, clock)
    log.acknowledge()
    clock.advance(minutes=40)
    log.set_severity(1)
    escalate = next(d for d in deadlines(log.incident, ESC, INC) if d.kind == "escalate")
    assert escalate.due == clock.now + timedelta(minutes=15)
    assert escalate.label == "escalate to Level 2 + Level 3"


def test_timeline_collects_alerts_actions_notes_newest_last() -> None:
    clock = Clock()
    log = declared(2, clock)
    alert = Alert(
        key="database_down",
        rule="database_down",
        severity=Severity.CRITICAL,
        title="Database Down",
        message="connection refused",
        value=1.0,
        threshold=0.0,
        since=T0,
        state="firing",
    )
    at = clock.advance(seconds=30)
    assert (
        log.record_alert_events([AlertEvent("fired", alert, at), AlertEvent("repeat", alert, at)])
        == 1
    )
    before = {
        "ts": "2026-11-25T13:59:00.000000Z",
        "event": "finished",
        "action": "Old",
        "target": "prod",
    }
    audit = {
        "ts": "2026-11-25T14:01:00.000000Z",
        "event": "finished",
        "action": "Enable RLS",
        "summary": "1 done",
        "statement": "ALTER TABLE ...",
        "operator": "ana",
        "target": "prod",
    }
    started = dict(audit, event="started")
    # The audit log is shared by consoles on other targets: their actions are not this incident's.
    elsewhere = dict(audit, target="staging", action="Terminate idle transactions")
    untargeted = {k: v for k, v in dict(audit, action="Mystery").items() if k != "target"}
    assert log.sync_audit([audit, started, before, elsewhere, untargeted]) == 1
    assert log.sync_audit([audit]) == 0, "an audit record is recorded once"
    clock.advance(minutes=2)
    log.note("restarted the pooler")
    assert log.record("checklist", "SEV2 0-5 min: investigate cause — done")
    kinds = [e.kind for e in log.incident.timeline]
    assert kinds == ["declared", "alert", "action", "note", "checklist"]
    assert log.incident.timeline[2].text == "Enable RLS: 1 done"


def test_templates_filled_from_a_known_state() -> None:
    clock = Clock()
    log = declared(1, clock)
    log.set_eta("15:00 UTC")
    log.sync_audit(
        [
            {
                "ts": "2026-11-25T14:02:00Z",
                "event": "finished",
                "action": "Emergency fallback",
                "summary": "fallback enabled",
                "target": "prod",
            }
        ]
    )
    log.set_status(Status.FIXING)
    alert = templates.incident_alert(log.incident, "EngFlow Production")
    assert alert == "\n".join(
        [
            "🚨 INCIDENT ALERT - SEVERITY 1",
            "",
            "System: EngFlow Production",
            "Issue: Database unreachable",
            "Impact: every user sees errors",
            "ETA: 15:00 UTC",
            "",
            "Actions Taken:",
            "- Emergency fallback: fallback enabled",
            "",
            "Assigned: @ana",
            "Status: FIXING",
        ]
    )
    notice = templates.user_notification(log.incident, "https://status.example.com")
    assert "We're experiencing temporary issues: every user sees errors." in notice
    assert "Database unreachable" not in notice, "end users never see the internal title"
    assert "Estimated Resolution: 15:00 UTC" in notice
    assert "Current Status: The cause is identified and a fix is being applied." in notice
    assert notice.endswith("Updates: https://status.example.com")
    log.resolve()
    assert "Status: RESOLVED" in templates.incident_alert(log.incident, "X")
    assert "are resolved" in templates.user_notification(log.incident, "u")


def test_user_notification_never_names_internal_objects() -> None:
    """The title (here an alert's words naming a table) stays internal; users read the impact
    the operator wrote, or a neutral sentence when none was written."""
    log = IncidentLog(None, Clock())
    log.declare("RLS off on orcamentos_historico", 2, "", "ana", "prod")
    log.record("alert", "FIRED RLS Disabled (critical): RLS off on orcamentos_historico")
    notice = templates.user_notification(log.incident, "https://status.example.com")
    assert "orcamentos_historico" not in notice
    assert "RLS" not in notice
    assert "We're experiencing temporary issues with our service." in notice
    log.resolve()
    resolved = templates.user_notification(log.incident, "u")
    assert "orcamentos_historico" not in resolved
    assert "The temporary issues with our service are resolved." in resolved

    log = IncidentLog(None, Clock())
    log.declare("RLS off on orcamentos_historico", 2, "Quotes cannot be saved.", "ana", "prod")
    notice = templates.user_notification(log.incident, "u")
    assert "We're experiencing temporary issues: Quotes cannot be saved." in notice
    assert "orcamentos_historico" not in notice
    log.resolve()
    assert "The temporary issues we reported (Quotes cannot be saved) are resolved." in (
        templates.user_notification(log.incident, "u")
    )


def _audit(event: str, action: str, *outcomes: tuple[str, str, str], **extra: str) -> dict:
    record = {
        "ts": "2026-11-25T14:02:00Z",
        "event": event,
        "action": action,
        "target": "prod",
        "outcomes": [{"target": t, "status": s, "message": m} for t, s, m in outcomes],
        **extra,
    }
    return record


def test_actions_taken_marks_what_failed_and_lists_what_succeeded() -> None:
    clock = Clock()
    log = declared(2, clock)
    records = [
        # What the runner writes for a lock timeout: the action "finished", its target failed.
        _audit(
            "finished",
            "Enable RLS",
            ('"public"."orcamentos"', "failed", "not enabled: another transaction holds a lock"),
            summary="not enabled: another transaction holds a lock",
        ),
        _audit(
            "finished",
            "Enable RLS",
            ('"public"."orcamentos"', "done", 'RLS enabled on "public"."orcamentos"'),
            summary='RLS enabled on "public"."orcamentos"',
        ),
        _audit(
            "finished",
            "Terminate idle transactions",
            ("pid 10", "done", "terminated"),
            ("pid 11", "failed", "permission denied"),
            summary="1 terminated, 1 permission denied",
        ),
        _audit(
            "refused",
            "Emergency fallback",
            ("http://app/fallback", "refused", "refused: read-only mode"),
            summary="refused: read-only mode",
        ),
        _audit("failed", "Run ANALYZE", error="cannot connect: connection refused"),
        _audit("finished", "Cancel query", ("pid 12", "skipped", "nothing was running")),
    ]
    for n, record in enumerate(records):
        record["ts"] = f"2026-11-25T14:0{n + 1}:00Z"
    assert log.sync_audit(records) == 6
    alert = templates.incident_alert(log.incident, "EngFlow")
    taken = alert.split("Actions Taken:\n")[1].split("\n\n")[0].splitlines()
    assert taken == [
        '- FAILED: Enable RLS on "public"."orcamentos" — not enabled: another transaction '
        "holds a lock",
        '- Enable RLS: RLS enabled on "public"."orcamentos"',
        "- Terminate idle transactions: terminated: pid 10",
        "- FAILED: Terminate idle transactions on pid 11 — permission denied",
        "- REFUSED: Emergency fallback on http://app/fallback — refused: read-only mode",
        "- FAILED: Run ANALYZE — cannot connect: connection refused",
        "- NO EFFECT: Cancel query — nothing was running",
    ]
    # The timeline says it too: a target that failed is not a plain action.
    texts = [e.text for e in log.incident.timeline if e.kind == "action"]
    assert texts[0].startswith("FAILED Enable RLS: not enabled")
    assert texts[2].startswith("PARTLY FAILED Terminate idle transactions")


def test_report_has_every_section() -> None:
    clock = Clock()
    log = declared(2, clock)
    log.acknowledge()
    log.sync_audit(
        [
            {
                "ts": "2026-11-25T14:03:00Z",
                "event": "failed",
                "action": "Enable RLS",
                "statement": 'ALTER TABLE "public"."x" ENABLE ROW LEVEL SECURITY',
                "error": "lock timeout",
                "outcomes": [{"target": "public.x", "status": "failed", "message": "lock timeout"}],
                "target": "prod",
            }
        ]
    )
    log.message_sent(templates.INCIDENT_ALERT, "webhook", "🚨 INCIDENT ALERT", "HTTP 200")
    clock.advance(minutes=42)
    log.resolve("vacuum finished")
    text = markdown(log.incident, clock.now, lambda inc: "- SEV2 0-5 min: investigate — done")
    for needle in (
        "# Incident INC-20261125-140000: Database unreachable",
        "| Severity | SEV2 |",
        "| Resolution time | 42m00s |",
        "FAILED Enable RLS: lock timeout",
        'ALTER TABLE "public"."x" ENABLE ROW LEVEL SECURITY',
        "outcome: public.x: failed — lock timeout",
        "- SEV2 0-5 min: investigate — done",
        "🚨 INCIDENT ALERT",
        "resolved after 42 min: vacuum finished",
    ):
        assert needle in text, needle


def test_store_resumes_an_open_incident_and_sets_a_corrupt_one_aside(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path / "incident.json", tmp_path / "archive")
    log = declared(1, store=store)
    log.note("first note")
    again = IncidentLog(IncidentStore(tmp_path / "incident.json"), Clock())
    assert again.resumed
    assert again.incident == log.incident
    log.resolve()
    assert not IncidentLog(IncidentStore(tmp_path / "incident.json")).resumed
    archived = json.loads((tmp_path / "archive" / f"{log.incident.id}.json").read_text())
    assert archived["status"] == "RESOLVED"
    (tmp_path / "incident.json").write_text("{not json")
    broken = IncidentLog(IncidentStore(tmp_path / "incident.json"))
    assert broken.incident is None
    assert "set aside" in (broken.store.problem or "")


def test_declare_refuses_bad_input_and_a_second_open_incident() -> None:
    log = IncidentLog(None, Clock())
    with pytest.raises(ValueError, match="title"):
        log.declare("  ", 1, "", "ana")
    with pytest.raises(ValueError, match="severity"):
        log.declare("x", 5, "", "ana")
    log.declare("x", 1, "", "ana")
    with pytest.raises(ValueError, match="still open"):
        log.declare("y", 2, "", "ana")
    assert not IncidentLog(None).record("note", "no incident")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ({"escalation": {"levels": [{"nam": "x"}]}}, "escalation.levels[0].nam: unknown key"),
        ({"escalation": {"matrix": [{"severity": 5}]}}, "escalation.matrix[0].severity"),
        (
            {"escalation": {"matrix": [{"severity": 1, "escalate_after": "soon"}]}},
            "escalation.matrix[0].escalate_after",
        ),
        ({"escalation": {"business_day_start": "8am"}}, "escalation.business_day_start"),
        ({"incidents": {"status_update_every": {"5": "1m"}}}, "status_update_every.5"),
        ({"incidents": {"status_update_every": {"1": "0s"}}}, "must be above zero"),
        ({"incidents": {"webhook_url_env": "https://x"}}, "incidents.webhook_url_env"),
    ],
)
def test_bad_incident_config_names_the_key(toml, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(toml, "c.toml")


def test_config_overrides_levels_and_cadence() -> None:
    config = parse_config(
        {
            "escalation": {
                "levels": [{"name": "Ops", "contact": "ops@example.com"}],
                "matrix": [{"severity": s, "escalate_to": ["Ops"]} for s in (1, 2, 3, 4)],
            },
            "incidents": {"status_update_every": {"1": "10m"}},
        }
    )
    assert config.escalation.levels[0].contact == "ops@example.com"
    assert config.escalation.rule(1).escalate_after == 900.0
    assert config.incidents.status_update_every[1] == 600.0


def test_shipped_example_documents_incident_mode_with_its_defaults(monkeypatch) -> None:
    import dataclasses
    import tomllib

    from engflow_tui.config import load_config
    from engflow_tui.config_dump import dump_config

    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    path = Path(__file__).resolve().parents[2] / "engflow_tui" / "config.toml.example"
    text = path.read_text(encoding="utf-8")
    config = load_config(path)
    assert config.escalation == EscalationConfig()
    assert config.incidents == IncidentsConfig()
    documented = tomllib.loads(text)
    for section, cls in (("escalation", EscalationConfig), ("incidents", IncidentsConfig)):
        for f in dataclasses.fields(cls):
            assert (
                f.name in documented[section]
                or f"# {f.name} =" in text
                or f"[[{section}.{f.name}]]" in text
            ), f"{section}.{f.name}"
    # `config show` round-trips: what it prints loads back to the same settings.
    again = parse_config(tomllib.loads(dump_config(config)), "dumped")
    assert again.escalation == config.escalation
    assert again.incidents == config.incidents


def test_a_failed_save_is_said_and_the_incident_kept_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    log = declared(1, store=IncidentStore(blocker / "incident.json"))
    assert log.incident is not None
    assert log.incident.title == "Database unreachable"
    assert log.problem is not None
    assert log.problem.startswith(f"cannot save the incident to {blocker / 'incident.json'}")


def test_many_subjects_of_one_rule_in_one_poll_are_one_entry() -> None:
    clock = Clock()
    log = declared(1, clock)

    def rls(table: str) -> Alert:
        return Alert(
            key=f"rls_violation:{table}",
            rule="rls_violation",
            severity=Severity.CRITICAL,
            title="RLS Violation",
            message=f"{table}: RLS is OFF",
            value=1.0,
            threshold=0.0,
            since=T0,
            state="firing",
        )

    at = clock.advance(seconds=5)
    many = [AlertEvent("fired", rls(f"public.t{i}"), at) for i in range(2000)]
    few = [AlertEvent("resolved", rls(f"public.x{i}"), at) for i in range(3)]
    assert log.record_alert_events(many + few) == 4
    entries = [e for e in log.incident.timeline if e.kind == "alert"]
    assert entries[0].text == "FIRED RLS Violation ×2000 (critical): public.t0: RLS is OFF; …"
    assert len(entries[0].data["keys"]) == 2000
    assert [e.text for e in entries[1:]] == [
        f"RESOLVED RLS Violation (critical): public.x{i}: RLS is OFF" for i in range(3)
    ]


def test_two_consoles_on_one_incident_file_keep_each_others_changes(tmp_path: Path) -> None:
    path = tmp_path / "incident.json"
    clock = Clock()
    first = declared(2, clock, IncidentStore(path))
    second = IncidentLog(IncidentStore(path), clock)  # a second console of the same operator
    assert second.incident is not None
    assert second.incident.id == first.incident.id

    clock.advance(minutes=1)
    first.note("from the first console")
    clock.advance(minutes=1)
    second.note("from the second console")  # written over the first's note before: lost
    clock.advance(minutes=1)
    first.acknowledge()

    def notes(log: IncidentLog) -> list[str]:
        return [e.text for e in log.incident.timeline if e.kind == "note"]

    on_disk = IncidentLog(IncidentStore(path), clock)
    assert notes(on_disk) == ["from the first console", "from the second console"]
    assert on_disk.incident.acknowledged_at == clock.now

    # The display picks up the other console's changes, once.
    assert second.refresh()
    assert not second.refresh()
    assert notes(second) == notes(on_disk)
    assert second.incident.acknowledged_at == clock.now

    # Resolved in one console: the other's next change is refused with the reason, and the
    # resolution is not undone.
    first.resolve("pooler restarted")
    with pytest.raises(ValueError, match="resolved"):
        second.note("too late")
    saved = json.loads(path.read_text())
    assert saved["status"] == "RESOLVED"
    assert "too late" not in path.read_text()


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    """The read-change-write is under a lock: changes made at the same moment all land."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "incident.json"
    declared(2, store=IncidentStore(path))
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from engflow_tui.incidents.log import IncidentLog, IncidentStore
        log = IncidentLog(IncidentStore(Path(sys.argv[1])))
        for n in range(40):
            log.note(f"{sys.argv[2]} {n}")
        """
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(path), name]) for name in ("a", "b")
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    notes = [e.text for e in IncidentLog(IncidentStore(path)).incident.timeline if e.kind == "note"]
    assert len(notes) == 80
    assert sorted(notes) == sorted(f"{w} {n}" for w in "ab" for n in range(40))


def test_alerts_firing_before_the_declaration_are_in_its_timeline_and_report() -> None:
    """A SEV1 declared after the database went down: its report starts with Database Down
    firing (at its own time), not with its resolution."""
    clock = Clock()
    down_since = T0 - timedelta(minutes=4)
    firing = [
        Alert(
            key="database_down",
            rule="database_down",
            severity=Severity.CRITICAL,
            title="Database Down",
            message="the database does not answer: connection refused",
            since=down_since,
        ),
        *(
            Alert(
                key=f"rls_violation:public.t{i}",
                rule="rls_violation",
                severity=Severity.CRITICAL,
                title="RLS Violation",
                message=f'"public"."t{i}": RLS is OFF',
                since=T0 - timedelta(minutes=1),
                subject=f"public.t{i}",
            )
            for i in range(5)
        ),
        Alert(
            key="user_growth",
            rule="user_growth",
            severity=Severity.INFO,
            title="User Growth",
            message="x",
            since=T0,
            state="pending",
        ),
    ]
    log = IncidentLog(None, clock)
    incident = log.declare("Database unreachable", 1, "every user", "ana", "prod", firing=firing)
    alerts = [e for e in incident.timeline if e.kind == "alert"]
    assert [e.at for e in alerts] == [down_since, T0 - timedelta(minutes=1)]
    assert alerts[0].text.startswith("FIRING Database Down (critical) since 13:56:00Z")
    assert "RLS Violation ×5" in alerts[1].text
    assert not any("User Growth" in e.text for e in incident.timeline)  # pending: not firing
    assert incident.timeline[0].kind == "alert"  # before the declaration, in time order
    clock.advance(minutes=3)
    log.record_alert_events([AlertEvent("resolved", firing[0], clock.now)])
    report = markdown(log.incident, clock.now)  # type: ignore[arg-type]
    assert report.index("FIRING Database Down") < report.index("RESOLVED Database Down")


def test_the_single_incident_file_of_earlier_versions_becomes_its_targets(tmp_path: Path) -> None:
    from engflow_tui.config import Config, ConsoleConfig

    config = Config(console=ConsoleConfig(state_dir=str(tmp_path)))
    old = IncidentLog(IncidentStore(tmp_path / "incident.json"), Clock())
    old.declare("Database unreachable", 1, "every user", "ana", "prod")
    assert IncidentLog(IncidentStore.for_target(config, "staging"), Clock()).incident is None
    resumed = IncidentLog(IncidentStore.for_target(config, "prod"), Clock())
    assert resumed.incident is not None and resumed.incident.title == "Database unreachable"
    assert (tmp_path / "incidents" / "prod.json").exists()
    assert not (tmp_path / "incident.json").exists()


def test_a_closed_incident_stays_closed_here_when_another_console_writes_it(
    tmp_path: Path,
) -> None:
    clock = Clock()
    here = IncidentLog(IncidentStore(tmp_path / "incident.json"), clock)
    here.declare("Database unreachable", 2, "every user", "ana", "prod")
    there = IncidentLog(IncidentStore(tmp_path / "incident.json"), clock)
    assert there.incident is not None
    with pytest.raises(ValueError, match="resolve it first"):
        here.close()
    clock.advance(minutes=30)
    here.resolve("failover")
    assert here.closes_in(600, clock.now) == 600
    clock.advance(minutes=4)
    assert here.closes_in(600, clock.now) == 360
    closed = here.close()
    assert closed.status is Status.RESOLVED and here.incident is None
    assert here.closes_in(600, clock.now) is None
    there.refresh()
    there.report_exported("/tmp/r.md")  # another console writes the resolved incident
    assert not here.refresh() and here.incident is None
    # A new incident declared elsewhere is shown here.
    there.declare("Slow API", 3, "", "ana", "prod")
    assert here.refresh() and here.incident is not None and here.incident.title == "Slow API"
