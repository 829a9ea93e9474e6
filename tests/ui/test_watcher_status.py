"""The console's status line says who sends the alerts (issue 19): "alerts: this console (no
watcher)", then "alerts: watcher on HOST since HH:MM" while a watcher holds the target's alerting
lock, and back, with a toast each time. A real console on a real PostgreSQL 18, a real
watcher's monitor beside it."""

from __future__ import annotations

from engflow_tui.collectors.postgres import PostgresCollector
from engflow_tui.config import Config, ConsoleConfig, TargetConfig, WatchConfig
from engflow_tui.monitor import Monitor
from engflow_tui.ui.app import EngFlowApp

from ..pg import wait_for
from .helpers import static_text


def _config(dsn: str) -> tuple[Config, TargetConfig]:
    target = TargetConfig(name="prod-test", dsn=dsn)
    config = Config(
        console=ConsoleConfig(refresh_interval=0.3),
        watch=WatchConfig(check_interval=1.0),
        targets={"prod-test": target},
    )
    return config, target


async def test_the_status_line_follows_the_watcher(db18) -> None:
    config, target = _config(db18.dsn())
    app = EngFlowApp(config, target)
    watcher = Monitor(
        PostgresCollector(
            target, config, claim_authority=True, application_name="engflow-tui watch@night-box"
        ),
        config,
        target,
        watcher=True,
    )
    toasts: list[str] = []
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            original = app.notify

            def spy(message: str, **kwargs: object) -> None:
                toasts.append(message)
                original(message, **kwargs)  # type: ignore[arg-type]

            app.notify = spy  # type: ignore[method-assign]

            def status() -> str:
                if app.dashboard is None:
                    return ""
                return static_text(app.dashboard.query_one("#status-line"))

            await wait_for(lambda: "alerts: this console (no watcher)" in status())
            await watcher.poll()  # the watcher takes the lock
            await wait_for(lambda: "alerts: watcher on night-box since " in status(), timeout=10)
            assert any("alerts: watcher on night-box" in t for t in toasts)
            await watcher.close()
            await wait_for(lambda: "alerts: this console (no watcher)" in status(), timeout=10)
            assert any(
                "the watcher on night-box is gone: this console notifies again" in t for t in toasts
            )
            await pilot.pause()
    finally:
        await watcher.close()
