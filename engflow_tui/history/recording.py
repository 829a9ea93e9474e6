"""Record and replay: full snapshots in a SQLite file (one zlib-compressed JSON row per refresh),
and a SnapshotSource that plays them back with a time cursor (step, seek, play at a speed).

The codec round-trips the model's frozen dataclasses, enums and datetimes exactly, so a replayed
snapshot is the recorded one. Must not import Textual.
"""

from __future__ import annotations

import bisect
import enum
import json
import os
import sqlite3
import time
import zlib
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .. import model
from ..model import Snapshot

FORMAT = "engflow-recording-1"

_TYPES: dict[str, type] = {
    name: cls
    for name, cls in vars(model).items()
    if isinstance(cls, type)
    and cls.__module__ == model.__name__
    and (is_dataclass(cls) or issubclass(cls, enum.Enum))
}


def encode(value: Any) -> Any:
    """Model records -> JSON-able data, tagged so :func:`decode` rebuilds the same records."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {"__t": type(value).__name__}
        for f in fields(value):
            out[f.name] = encode(getattr(value, f.name))
        return out
    if isinstance(value, enum.Enum):
        return {"__e": type(value).__name__, "v": value.value}
    if isinstance(value, datetime):
        return {"__dt": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__d": [[encode(k), encode(v)] for k, v in value.items()]}
    return value


def decode(data: Any) -> Any:
    if isinstance(data, list):
        return tuple(decode(v) for v in data)
    if not isinstance(data, dict):
        return data
    if "__t" in data:
        cls = _TYPES[data["__t"]]
        known = {f.name for f in fields(cls)}
        # A recording from an older version may lack newer fields (they have defaults) or carry
        # removed ones (ignored).
        return cls(**{k: decode(v) for k, v in data.items() if k in known})
    if "__e" in data:
        return _TYPES[data["__e"]](data["v"])
    if "__dt" in data:
        return datetime.fromisoformat(data["__dt"])
    if "__d" in data:
        return {decode(k): decode(v) for k, v in data["__d"]}
    raise ValueError(f"unknown record {sorted(data)[:3]}")


def pack(snapshot: Snapshot) -> bytes:
    return zlib.compress(json.dumps(encode(snapshot), separators=(",", ":")).encode(), 6)


def unpack(blob: bytes) -> Snapshot:
    value = decode(json.loads(zlib.decompress(blob)))
    if not isinstance(value, Snapshot):
        raise ValueError("not a snapshot")
    return value


class RecordingError(Exception):
    """A file that is not a recording (or a damaged one): the message says which and why."""


class RecordingWriter:
    """Appends snapshots; each in its own transaction (a crash loses at most the last one)."""

    def __init__(self, path: Path, target: str) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Sessions' query texts carry literal values: the file is for its owner only.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise RecordingError(f"{path}: cannot record there ({exc.strerror})") from None
        try:
            # Written from a worker thread, one write at a time.
            self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                "CREATE TABLE IF NOT EXISTS snapshots (ts REAL PRIMARY KEY, data BLOB NOT NULL);"
            )
            self.conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('format', ?), ('target', ?)", (FORMAT, target)
            )
            found = self.conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise RecordingError(f"{path}: cannot record there ({exc})") from None
        if found[0] != FORMAT:
            raise RecordingError(f"{path}: not an engflow-tui recording ({found[0]})")
        self.count = 0

    def add(self, snapshot: Snapshot) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO snapshots VALUES (?, ?)",
            (snapshot.taken_at.timestamp(), pack(snapshot)),
        )
        self.count += 1

    def close(self) -> None:
        self.conn.close()


class Recording:
    """A recording opened for reading: the frame times up front, each snapshot on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise RecordingError(f"{path}: no such recording")
        try:
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
            self.times = [r[0] for r in self.conn.execute("SELECT ts FROM snapshots ORDER BY ts")]
        except sqlite3.DatabaseError as exc:
            raise RecordingError(f"{path}: not a readable recording ({exc})") from None
        if meta.get("format") != FORMAT:
            raise RecordingError(f"{path}: not an engflow-tui recording")
        if not self.times:
            raise RecordingError(f"{path}: the recording holds no snapshot")
        self.target = meta.get("target", "?")

    def __len__(self) -> int:
        return len(self.times)

    def snapshot(self, index: int) -> Snapshot:
        row = self.conn.execute(
            "SELECT data FROM snapshots WHERE ts = ?", (self.times[index],)
        ).fetchone()
        try:
            return unpack(row[0])
        except (ValueError, KeyError, TypeError, zlib.error) as exc:
            raise RecordingError(f"{self.path}: frame {index + 1} is damaged ({exc})") from None

    def index_at(self, when: datetime) -> int:
        """The last frame taken at or before ``when`` (the first one when earlier)."""
        return max(bisect.bisect_right(self.times, when.timestamp()) - 1, 0)

    def close(self) -> None:
        self.conn.close()


class ReplaySource:
    """A SnapshotSource over a recording, with a time cursor. Playing advances the cursor by
    ``speed`` x the wall time between two collects."""

    def __init__(
        self, recording: Recording, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.recording = recording
        self.index = 0
        self.playing = False
        self.speed = 1.0
        self._monotonic = monotonic
        self._last: float | None = None
        self._cache: tuple[int, Snapshot] | None = None

    @property
    def at(self) -> datetime:
        return self.current().taken_at

    def current(self) -> Snapshot:
        if self._cache is None or self._cache[0] != self.index:
            self._cache = (self.index, self.recording.snapshot(self.index))
        return self._cache[1]

    def step(self, frames: int) -> None:
        self.index = min(max(self.index + frames, 0), len(self.recording) - 1)

    def seek(self, when: datetime) -> None:
        self.index = self.recording.index_at(when)

    def seek_offset(self, seconds: float) -> None:
        self.seek(
            datetime.fromtimestamp(self.recording.times[self.index] + seconds, self.at.tzinfo)
        )

    def toggle_play(self) -> None:
        self.playing = not self.playing
        self._last = None

    def set_speed(self, speed: float) -> None:
        self.speed = min(max(speed, 0.25), 512.0)

    @property
    def at_end(self) -> bool:
        return self.index >= len(self.recording) - 1

    async def collect(self) -> Snapshot:
        now = self._monotonic()
        if self.playing and self._last is not None:
            target = self.recording.times[self.index] + (now - self._last) * self.speed
            self.index = max(self.index, bisect.bisect_right(self.recording.times, target) - 1)
            if self.at_end:
                self.playing = False
        self._last = now
        return self.current()  # one row read and decoded: well under a millisecond

    async def close(self) -> None:
        self.recording.close()

    def force_refresh(self) -> None:
        return None


def parse_seek(text: str, current: datetime) -> datetime:
    """``03:12``, ``03:12:30``, ``2026-11-29 03:12`` (local time) or ``+5m`` / ``-30s``."""
    from ..durations import parse_duration

    text = text.strip()
    if text[:1] in "+-":
        seconds = parse_duration(text[1:])
        try:
            return current.fromtimestamp(
                current.timestamp() + (seconds if text[0] == "+" else -seconds), current.tzinfo
            )
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{text!r}: too far from the recording") from None
    local = current.astimezone()
    for fmt in ("%H:%M:%S", "%H:%M"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return local.replace(
            hour=parsed.hour, minute=parsed.minute, second=parsed.second, microsecond=0
        )
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r}: give a time (03:12, 03:12:30, 2026-11-29 03:12) or an offset (+5m, -30s)"
        ) from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def export_window(source: Path, target: Path, start: datetime, end: datetime) -> int:
    """Copy the frames taken in [start, end] into a new recording (an incident's attachment:
    the window around the incident, replayable with ``engflow-tui replay``). Returns the count."""
    recording = Recording(source)
    try:
        first = bisect.bisect_left(recording.times, start.timestamp())
        last = bisect.bisect_right(recording.times, end.timestamp())
        if first >= last:
            raise RecordingError(
                f"{source}: no frame between {start.isoformat()} and {end.isoformat()}"
            )
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.unlink(missing_ok=True)
        writer = RecordingWriter(tmp, recording.target)
        try:
            rows = recording.conn.execute(
                "SELECT ts, data FROM snapshots WHERE ts >= ? AND ts <= ? ORDER BY ts",
                (recording.times[first], recording.times[last - 1]),
            ).fetchall()
            writer.conn.executemany("INSERT OR REPLACE INTO snapshots VALUES (?, ?)", rows)
            writer.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            writer.close()
        for suffix in ("-wal", "-shm"):
            tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)
        tmp.replace(target)
        return len(rows)
    finally:
        recording.close()


BEFORE = timedelta(minutes=10)
"""An incident's recording window starts this long before its declaration (what led to it)."""
AFTER = timedelta(minutes=5)


def attach_window(
    recordings: Path, target: str, start: datetime, end: datetime, dest: Path
) -> str | None:
    """An incident's attachment: of the recordings of ``target`` in ``recordings``, the one with
    the most frames in [start - 10 min, end + 5 min] is cut to that window into ``dest`` (a
    replayable file). Returns the report's Markdown about it, or None when no recording covers
    the window. Damaged or foreign files are skipped, never fatal."""
    lo, hi = (start - BEFORE).timestamp(), (end + AFTER).timestamp()
    best: tuple[int, Path] | None = None
    for path in sorted(recordings.glob("*.rec")) if recordings.is_dir() else []:
        try:
            recording = Recording(path)
        except RecordingError:
            continue
        try:
            if recording.target != target:
                continue
            inside = bisect.bisect_right(recording.times, hi) - bisect.bisect_left(
                recording.times, lo
            )
        finally:
            recording.conn.close()
        if inside > 0 and (best is None or inside > best[0]):
            best = (inside, path)
    if best is None:
        return None
    try:
        count = export_window(best[1], dest, start - BEFORE, end + AFTER)
    except (RecordingError, OSError, sqlite3.DatabaseError) as exc:
        return f"A recording covers the incident ({best[1]}) but could not be cut: {exc}"
    return (
        f"`{dest}`: {count} snapshots of `{target}` from 10 min before the declaration to "
        f"5 min after {'the resolution' if end != start else 'the export'} "
        f"(cut from `{best[1]}`). Replay it: `engflow-tui replay {dest}`"
    )
