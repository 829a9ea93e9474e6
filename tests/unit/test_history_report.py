"""The weekly report from an aged store, the `report weekly` command, and the recording codec."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engflow_tui.cli import main
from engflow_tui.history.recording import (
    Recording,
    RecordingError,
    RecordingWriter,
    ReplaySource,
    pack,
    parse_seek,
    unpack,
)
from engflow_tui.history.report import to_json, to_markdown, weekly_report
from engflow_tui.history.store import HistorySample, HistoryStore
from engflow_tui.model import Alert, HttpProbe, Severity, Sparklines, TableActivity, TableSize

from ..fixed_source import sample_snapshot

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def two_weeks(store: HistoryStore) -> None:
    """Hourly samples for 14 days: statement 42 goes from 50 ms to 120 ms a call this week,
    statement 7 stays at 10 ms; the database grows 1 MB an hour."""
    for hour in range(14 * 24, 0, -1):
        t = NOW - timedelta(hours=hour)
        this_week = hour <= 7 * 24
        store.write(
            HistorySample(
                t,
                3600.0,
                {
                    ("stmt.calls", "42"): 100.0,
                    ("stmt.total_ms", "42"): 100.0 * (120.0 if this_week else 50.0),
                    ("stmt.calls", "7"): 1000.0,
                    ("stmt.total_ms", "7"): 10000.0,
                    ("xact.commit", ""): 990.0,
                    ("xact.rollback", ""): 10.0,
                    ("blocks.hit", ""): 990.0,
                    ("blocks.read", ""): 10.0 if this_week else 1.0,
                    ("db.size", ""): 1e9 + (14 * 24 - hour) * 1024**2,
                    ("conn.total", ""): 20.0 + (hour % 5),
                    ("table.ins", "public.orders"): 50.0,
                    ("table.upd", "public.clients"): 5.0,
                },
                {42: "SELECT * FROM orders WHERE client = $1", 7: "SELECT 1"},
            )
        )


def test_weekly_report_compares_with_the_week_before(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite", clock=lambda: NOW)
    two_weeks(store)
    alerts = [
        {
            "event": "fired",
            "at": (NOW - timedelta(days=2)).isoformat(),
            "rule": "high_cpu",
            "title": "High CPU",
            "severity": "warning",
        },
        {
            "event": "fired",
            "at": (NOW - timedelta(days=1)).isoformat(),
            "rule": "high_cpu",
            "title": "High CPU",
            "severity": "warning",
        },
        {"event": "resolved", "at": (NOW - timedelta(days=1)).isoformat(), "rule": "high_cpu"},
        {
            "event": "fired",
            "at": (NOW - timedelta(days=10)).isoformat(),
            "rule": "disk_usage",
            "title": "Disk Usage",
            "severity": "warning",
        },
    ]
    report = weekly_report(store, "production", NOW, alerts)
    assert [s.queryid for s in report.slower] == [42]
    assert report.slower[0].mean_ms_before == pytest.approx(50)
    assert report.slower[0].mean_ms_now == pytest.approx(120)
    assert report.rollback_pct == pytest.approx(1.0)
    assert report.cache_hit_pct == pytest.approx(99.0)
    assert report.cache_hit_pct_before == pytest.approx(99.9, abs=0.01)
    assert report.db_size_end - report.db_size_start == pytest.approx(167 * 1024**2)  # type: ignore[operator]
    assert report.top_tables[0]["table"] == "public.orders"
    assert report.alerts == [
        {
            "rule": "high_cpu",
            "title": "High CPU",
            "severity": "warning",
            "count": 2,
            "last": (NOW - timedelta(days=1)).isoformat(),
        }
    ]
    text = to_markdown(report)
    assert "| `SELECT * FROM orders WHERE client = $1` | 50.0 ms | 120.0 ms | 2.4 | 16800 |" in text
    assert "Cache hit rate: 99.0 % (week before: 99.9 %)" in text
    assert "| High CPU | warning | 2 |" in text
    data = json.loads(to_json(report))
    assert data["slower"][0]["factor"] == 2.4 and data["target"] == "production"


def test_report_command_reads_the_targets_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    state = Path(os.environ["XDG_STATE_HOME"]) / "engflow-tui"
    store = HistoryStore(state / "history-u_h_5432_db.sqlite", clock=lambda: NOW)
    store.write(HistorySample(datetime.now(UTC), 60.0, {("conn.total", ""): 7.0}))
    store.close()
    assert main(["report", "weekly", "--dsn", "postgresql://u@h/db", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["target"] == "u@h:5432/db" and data["connections_peak"] == 7.0
    assert main(["report", "weekly", "--dsn", "postgresql://u@h/other"]) == 2
    assert "no history for target u@h:5432/other yet" in capsys.readouterr().err


def full_snapshot():  # type: ignore[no-untyped-def]
    snap = sample_snapshot()
    return replace(
        snap,
        alerts=(Alert("k", "high_cpu", Severity.WARNING, "High CPU", "cpu 91 %", 91.0, 80.0, NOW),),
        http=(HttpProbe("api", "https://x/rest/v1", "ok", "200", 12.5, 200),),
        table_activity=(TableActivity("public", "orders", 1, 2, 3),),
        table_sizes=(TableSize("public", "orders", 8192),),
        active_users=12,
        archiver={"failed_count": 0, "last_archived_at": NOW},
        sparklines=Sparklines((1.0, 2.0), (99.0,), (3.5,), (0.0,)),
    )


def test_codec_round_trips_a_full_snapshot() -> None:
    snap = full_snapshot()
    assert unpack(pack(snap)) == snap
    assert len(pack(snap)) < 2000  # compressed


def test_recording_cursor_step_seek_and_play(tmp_path: Path) -> None:
    path = tmp_path / "r.rec"
    writer = RecordingWriter(path, "production")
    base = full_snapshot()
    for i in range(10):  # one frame every 2 s
        writer.add(replace(base, taken_at=NOW + timedelta(seconds=2 * i), active_users=i))
    writer.close()
    clock = [0.0]
    source = ReplaySource(Recording(path), monotonic=lambda: clock[0])
    assert source.current().active_users == 0 and source.recording.target == "production"
    source.step(3)
    assert source.current().active_users == 3
    source.step(-10)
    assert source.index == 0
    source.seek(NOW + timedelta(seconds=9))
    assert source.current().active_users == 4  # the last frame at or before
    source.seek_offset(-4)
    assert source.current().active_users == 2
    source.set_speed(4)
    source.toggle_play()

    import asyncio

    async def play() -> list[int]:
        seen = []
        for _ in range(3):
            seen.append((await source.collect()).active_users)
            clock[0] += 1.0  # one wall second at x4 = 4 recorded seconds = 2 frames
        return seen

    assert asyncio.run(play()) == [2, 4, 6]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+5m", NOW + timedelta(minutes=5)),
        ("-30s", NOW - timedelta(seconds=30)),
        ("2026-11-29T08:12:00+00:00", NOW - timedelta(minutes=48)),
    ],
)
def test_parse_seek(text: str, expected: datetime) -> None:
    assert parse_seek(text, NOW) == expected


def test_parse_seek_clock_time_is_local() -> None:
    local = NOW.astimezone()
    assert parse_seek("03:12", NOW) == local.replace(hour=3, minute=12, second=0)
    with pytest.raises(ValueError, match="give a time"):
        parse_seek("yesterday", NOW)
    with pytest.raises(ValueError, match="too far from the recording"):
        parse_seek("+9999999999999999999999999999h", NOW)


def test_damaged_recording_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.rec"
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(RecordingError, match="not a readable recording"):
        Recording(path)
    assert main(["replay", str(path)]) == 2


def test_export_window_for_an_incident(tmp_path: Path) -> None:
    from engflow_tui.history.recording import export_window

    path = tmp_path / "all.rec"
    writer = RecordingWriter(path, "production")
    for i in range(10):
        writer.add(replace(full_snapshot(), taken_at=NOW + timedelta(minutes=i), active_users=i))
    writer.close()
    out = tmp_path / "incident" / "window.rec"
    out.parent.mkdir()
    assert export_window(path, out, NOW + timedelta(minutes=3), NOW + timedelta(minutes=5)) == 3
    assert sorted(p.name for p in out.parent.iterdir()) == ["window.rec"]  # one file to attach
    window = Recording(out)
    assert len(window) == 3 and window.target == "production"
    assert [window.snapshot(i).active_users for i in range(3)] == [3, 4, 5]
    with pytest.raises(RecordingError, match="no frame between"):
        export_window(path, out, NOW + timedelta(hours=1), NOW + timedelta(hours=2))


def test_recordings_and_stores_are_private(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path / "rec" / "r.rec", "production")
    writer.close()
    store = HistoryStore(tmp_path / "h.sqlite")
    store.close()
    assert (tmp_path / "rec" / "r.rec").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "rec").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "h.sqlite").stat().st_mode & 0o777 == 0o600
    with pytest.raises(RecordingError, match="cannot record there"):
        RecordingWriter(tmp_path / "h.sqlite" / "nested.rec", "production")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["record", "--dsn", "postgresql://u@h/db", "--duration", "fast"], "--duration: 'fast'"),
        (["replay", "x.rec", "--speed", "0"], "--speed: must be between 0.25 and 512, not 0"),
        (["replay", "missing.rec"], "missing.rec: no such recording"),
        (["report", "monthly"], "invalid choice: 'monthly'"),
    ],
)
def test_history_commands_refuse_bad_input(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code  # type: ignore[assignment]
    assert code == 2
    assert expected in capsys.readouterr().err


def test_an_incident_report_attaches_the_window_of_its_targets_recording(tmp_path: Path) -> None:
    """The recording of the incident's target with the most frames around the incident is cut
    to [declared - 10 min, resolved + 5 min] beside the report; others and junk are skipped."""
    from engflow_tui.history.recording import attach_window
    from engflow_tui.incidents.model import Incident
    from engflow_tui.incidents.report import markdown

    recordings = tmp_path / "recordings"
    for name, target, minutes in (("prod.rec", "production", 60), ("other.rec", "staging", 60)):
        writer = RecordingWriter(recordings / name, target)
        for i in range(minutes):
            writer.add(replace(full_snapshot(), taken_at=NOW + timedelta(minutes=i)))
        writer.close()
    (recordings / "junk.rec").write_bytes(b"not sqlite at all")
    declared, resolved = NOW + timedelta(minutes=30), NOW + timedelta(minutes=40)
    dest = tmp_path / "reports" / "INC-1.rec"
    dest.parent.mkdir()
    line = attach_window(recordings, "production", declared, resolved, dest)
    assert line is not None and "26 snapshots of `production`" in line  # minutes 20..45
    assert f"engflow-tui replay {dest}" in line
    window = Recording(dest)
    assert window.target == "production" and len(window) == 26
    assert attach_window(recordings, "nowhere", declared, resolved, tmp_path / "x.rec") is None

    incident = Incident("INC-1", "API 500", 1, "all users", "ana", declared, target="production")
    report = markdown(incident, resolved, recording=lambda i: line)
    section = report.split("## Recording", 1)[1].split("## Messages sent", 1)[0]
    assert "26 snapshots" in section
    assert "No recording covers" in markdown(incident, resolved)
