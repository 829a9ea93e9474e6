"""``engflow-tui checklist run NAME --auto``: poll the target once, verify every auto item, leave
manual items open, keep the run in the history. No Textual."""

from __future__ import annotations

from datetime import UTC, datetime

from ..config import Config, TargetConfig
from .model import Checklist
from .run import ChecklistRun, RunStore
from .session import ChecklistSession


async def run_auto(
    config: Config, target: TargetConfig, checklist: Checklist, store: RunStore
) -> tuple[ChecklistRun, str | None]:
    """The finished auto run and, if it could not be saved, why."""
    from dataclasses import replace

    from ..collectors.postgres import PostgresCollector
    from ..monitor import Monitor

    collector = PostgresCollector(
        target,
        replace(config, history=replace(config.history, enabled=False)),  # not the history's
        statement_timeout=10.0,
        include_slow_queries=True,
        light_first_cycle=False,
    )
    monitor = Monitor(collector, config, target)
    run = ChecklistRun.start(
        checklist, target.name, config.console.operator, datetime.now(UTC), mode="auto"
    )
    from ..diagnostics import checks_for

    session = ChecklistSession(
        checklist,
        run,
        store,
        monitor,
        config.console.operator,
        diagnose=lambda ids, snapshot: checks_for(config, target, ids, snapshot),
    )
    try:
        await monitor.poll(wait_for_http=True)
        await session.verify([i.id for i in checklist.items if i.verify])
    finally:
        await monitor.close()
    run.finished_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return run, session.save()
