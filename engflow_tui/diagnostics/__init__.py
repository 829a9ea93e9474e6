"""The full and quick diagnosis: one snapshot from the monitor (the dashboard's probes and alert
engine's HTTP checks), then every diagnostic section on a read-only connection of its own, each
query bounded by ``diagnose.statement_timeout``; a check that cannot run is ``unknown`` with its
fix, never an exception.

Used by ``engflow-tui diagnose`` and the Diagnose screen. Must not import Textual.
"""

from __future__ import annotations

from dataclasses import replace

from .. import db
from ..config import Config, TargetConfig, diagnose_checks
from ..diagnose import Check, Report, build_report
from ..errors import DatabaseError
from ..model import Snapshot
from . import (
    backups,
    capabilities,
    connectivity,
    integrity,
    maintenance,
    performance,
    replication,
    security,
)
from .base import Context, Probe, run_probe

LOCK_TIMEOUT = 2.0
"""A catalogue read that waits for a table another transaction locks gives up after this."""

PROBES: tuple[Probe, ...] = (
    connectivity.PROBES
    + performance.PROBES
    + security.PROBES
    + integrity.PROBES
    + maintenance.PROBES
    + backups.PROBES
    + replication.PROBES
    + capabilities.PROBES
)


def check_ids(quick: bool = False) -> list[str]:
    """Every check id the diagnosis can produce (``--quick``: the cheap ones), in report order:
    the catalogue diagnostics/checks.toml (a test checks the probes produce exactly these)."""
    return [c for c, runs_quick in diagnose_checks().items() if runs_quick or not quick]


def probe_check_ids(quick: bool = False) -> list[str]:
    """The ids the report and the probes below produce: what the catalogue must list."""
    ids = [
        "database.reachable",
        "connections.usage",
        "connections.idle_in_transaction",
        "cache.hit_rate",
        "rls.disabled",
    ]
    if not quick:
        ids.append("queries.slow")
    for probe in PROBES:
        if probe.quick or not quick:
            ids += [i for i in probe.ids if i != "connectivity.rest_api"]
    return ids + ["connectivity.rest_api", "connectivity.app_health"]


async def run_diagnosis(config: Config, target: TargetConfig, *, quick: bool = False) -> Report:
    """One report of ``target``; never raises for what it finds (an unreachable database is a
    report with status unknown)."""
    from ..collectors.postgres import PostgresCollector
    from ..monitor import Monitor

    timeout = config.diagnose.statement_timeout
    collector = PostgresCollector(
        target,
        # The history's own probes (table sizes, statement totals) are not part of a diagnosis.
        replace(config, history=replace(config.history, enabled=False)),
        statement_timeout=timeout,
        include_slow_queries=not quick,
        light_first_cycle=False,
    )
    monitor = Monitor(collector, config, target)
    try:
        # The connectivity checks read the HTTP probes: one round of them beside the collection.
        snapshot = (await monitor.poll(wait_for_http=True)).snapshot
    finally:
        await monitor.close()
    exclude = frozenset(config.diagnose.exclude)
    report = build_report(snapshot, config.thresholds, quick=quick, exclude=exclude)
    if not report.reachable:
        return report
    checks = list(report.checks)
    try:
        conn = await db.connect(
            target.dsn,
            password=target.password(),
            timeout=config.console.connect_timeout,
            statement_timeout=timeout,
            application_name="engflow-tui-diagnose",
            lock_timeout=LOCK_TIMEOUT,
        )
    except DatabaseError as exc:
        # Reachable a moment ago, but the checks could not connect (out of slots, a restart).
        checks = [
            replace(
                c,
                status="warning",
                summary=f"{c.summary}; then the diagnostic connection failed: {exc} — "
                "the other checks did not run",
                fix=exc.fix,
            )
            if c.id == "database.reachable"
            else c
            for c in checks
        ]
        return Report(report.target, report.generated_at, checks)
    try:
        version = conn.get_server_version()
        version_num = version.major * 10000 + version.minor
        ctx = Context(conn, config, target, snapshot, version_num, quick, exclude)
        for probe in PROBES:
            if quick and not probe.quick:
                continue
            checks += await run_probe(ctx, probe)
        if not quick:
            checks = [await _enrich(ctx, c) for c in checks]
    finally:
        try:
            await conn.close(timeout=2)
        except Exception:  # noqa: BLE001 - closing a broken connection
            conn.terminate()
    checks = [c for c in checks if c.id not in exclude]
    return Report(report.target, report.generated_at, checks)


async def checks_for(
    config: Config, target: TargetConfig, ids: set[str], snapshot: Snapshot | None
) -> dict[str, Check]:
    """Only the checks named, on a snapshot already taken (the checklists' auto items): the
    snapshot's own checks, plus the diagnostic probes that produce the others, on one short-lived
    connection. Never raises for what it finds; a check that could not run is ``unknown``."""
    if snapshot is None:
        return {}
    exclude = frozenset(config.diagnose.exclude)
    base = build_report(snapshot, config.thresholds, exclude=exclude)
    found = {c.id: c for c in base.checks if c.id in ids}
    probes = [p for p in PROBES if set(p.ids) & (ids - set(found))]
    if not probes or not base.reachable:
        return found
    try:
        conn = await db.connect(
            target.dsn,
            password=target.password(),
            timeout=config.console.connect_timeout,
            statement_timeout=config.diagnose.statement_timeout,
            application_name="engflow-tui-diagnose",
            lock_timeout=LOCK_TIMEOUT,
        )
    except DatabaseError as exc:
        return found | {
            i: Check(i, "unknown", f"cannot connect to check: {exc}", fix=exc.fix)
            for p in probes
            for i in p.ids
            if i in ids
        }
    try:
        version = conn.get_server_version()
        ctx = Context(
            conn, config, target, snapshot, version.major * 10000 + version.minor, False, exclude
        )
        for probe in probes:
            found |= {c.id: c for c in await run_probe(ctx, probe) if c.id in ids}
    finally:
        try:
            await conn.close(timeout=2)
        except Exception:  # noqa: BLE001 - closing a broken connection
            conn.terminate()
    return found


async def _enrich(ctx: Context, check: Check) -> Check:
    if check.id != "cache.hit_rate":
        return check
    try:
        return await performance.table_cache_details(ctx, check)
    except Exception as exc:  # noqa: BLE001 - the database-wide figure stands on its own
        error = db.translate_error(exc)
        return replace(check, details={"tables_error": str(error)})


__all__ = ["PROBES", "Report", "check_ids", "checks_for", "run_diagnosis"]
