"""The history's command-line commands: ``report weekly``, ``record`` and ``replay``.

Bad input ends as an EngflowError (one line on stderr, exit 2). Must not import Textual at
module level (replay imports the app when it starts).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Config, TargetConfig
from ..errors import ConfigError, EngflowError
from ..textsafe import inert


class HistoryError(EngflowError):
    """No history / an unreadable recording: said in one line."""


def _alert_history(config: Config, target: TargetConfig) -> list[dict[str, Any]]:
    from ..monitor import alert_store_path

    path = alert_store_path(config, target)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    history = data.get("history", []) if isinstance(data, dict) else []
    return [h for h in history if isinstance(h, dict)]


def run_report(config: Config, target: TargetConfig, kind: str, fmt: str) -> int:
    from ..history.report import to_json, to_markdown, weekly_report
    from ..history.store import HistoryStore, StoreUnavailable, store_path

    if kind != "weekly":
        raise ConfigError(f"unknown report {kind!r} (reports: weekly)", None, "report")
    path = store_path(config.console.state_dir, target.name)
    if not path.exists():
        raise HistoryError(
            f"no history for target {target.name} yet ({path}): the console and "
            "`engflow-tui record` keep it"
        )
    try:
        store = HistoryStore(path, config.history, read_only=True)
    except StoreUnavailable as exc:
        raise HistoryError(str(exc)) from None
    if store.problem:
        print(f"engflow-tui: {store.problem}", file=sys.stderr)
    try:
        report = weekly_report(
            store, target.name, datetime.now(UTC), _alert_history(config, target)
        )
    finally:
        store.close()
    sys.stdout.write(to_json(report) + "\n" if fmt == "json" else to_markdown(report))
    return 0


def default_recording_path(config: Config, target: TargetConfig) -> Path:
    import re

    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", target.name)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(config.console.state_dir).expanduser() / "recordings" / f"{safe}-{stamp}.rec"


async def record(
    config: Config,
    target: TargetConfig,
    output: Path,
    *,
    duration: float | None = None,
    frames: int | None = None,
    monitor: Any = None,
    out: Any = sys.stderr,
) -> int:
    """Poll at the refresh cadence and append each snapshot to ``output`` until ``duration``
    seconds or ``frames`` snapshots (or Ctrl+C). Returns the number of snapshots written."""
    from ..history.recording import RecordingError, RecordingWriter
    from ..monitor import live_monitor

    try:
        writer = RecordingWriter(output, target.name)
    except RecordingError as exc:
        raise HistoryError(str(exc)) from None
    monitor = monitor or live_monitor(config, target, light_first_cycle=False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration if duration else None
    interval = config.console.refresh_interval
    print(
        f"recording {target.name} every {interval:g}s into {output} (Ctrl+C stops)",
        file=out,
        flush=True,
    )
    try:
        while True:
            started = loop.time()
            result = await monitor.poll()
            await asyncio.to_thread(writer.add, result.snapshot)
            for notice in result.notices:
                print(f"engflow-tui: {inert(notice)}", file=out, flush=True)
            if frames is not None and writer.count >= frames:
                break
            if deadline is not None and loop.time() >= deadline:
                break
            await asyncio.sleep(max(interval - (loop.time() - started), 0.0))
    finally:
        await monitor.close()
        writer.close()
        print(f"{writer.count} snapshots recorded in {output}", file=out, flush=True)
    return writer.count


def run_record(config: Config, target: TargetConfig, args: Any) -> int:
    from ..durations import parse_duration

    duration = None
    if args.duration:
        try:
            duration = parse_duration(args.duration)
        except ValueError as exc:
            raise ConfigError(str(exc), None, "--duration") from None
    output = (
        Path(args.output).expanduser() if args.output else default_recording_path(config, target)
    )
    # Ctrl+C is how a recording in a tmux pane ends: the file is complete.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(record(config, target, output, duration=duration))
    return 0


def run_replay(config: Config, path: str, speed: float) -> int:
    from ..history.recording import RecordingError
    from ..history.replay import replay_setup

    if not 0.25 <= speed <= 512:
        raise ConfigError(f"must be between 0.25 and 512, not {speed:g}", None, "--speed")
    try:
        config, target, recording = replay_setup(path, config)
    except RecordingError as exc:
        raise HistoryError(str(exc)) from None
    from ..ui.replay import ReplayApp

    app = ReplayApp(config, target, recording, speed=speed)
    app.run()
    return app.return_code or 0
