"""Auto items against a real database in the matching situation, and the headless
`checklist run NAME --auto` / `runs` / `export` commands as a user runs them."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engflow_tui.checklists.loader import load_catalog
from engflow_tui.checklists.run import ChecklistRun, RunStore
from engflow_tui.checklists.session import ChecklistSession
from engflow_tui.config import BackupsConfig, Config, ConsoleConfig, TargetConfig, Thresholds
from engflow_tui.diagnostics import checks_for
from engflow_tui.monitor import live_monitor

from ..pg import session
from .test_cli import no_traceback, run

CATALOG = load_catalog()


async def _verify(
    dsn: str,
    checklist_id: str,
    tmp_path: Path,
    backups: BackupsConfig | None = None,
    **thresholds: float,
) -> ChecklistRun:
    target = TargetConfig(name="prod", dsn=dsn)
    config = Config(
        console=ConsoleConfig(state_dir=str(tmp_path)),
        targets={"prod": target},
        thresholds=Thresholds(**thresholds),  # type: ignore[arg-type]
        backups=backups or BackupsConfig(),
    )
    monitor = live_monitor(config, target, light_first_cycle=False)
    checklist = CATALOG.checklists[checklist_id]
    run_ = ChecklistRun.start(checklist, "prod", "alice", datetime.now(UTC))
    s = ChecklistSession(
        checklist,
        run_,
        RunStore(tmp_path),
        monitor,
        "alice",
        # As the console and `checklist run --auto` do: items naming a diagnose check run it.
        diagnose=lambda ids, snapshot: checks_for(config, target, ids, snapshot),
    )
    try:
        await monitor.poll()
        await s.verify([i.id for i in checklist.items if i.verify])
    finally:
        await monitor.close()
    return run_


async def test_morning_auto_items_on_a_healthy_database(db, tmp_path: Path) -> None:
    run_ = await _verify(db.dsn(), "daily-morning", tmp_path)
    status = {i.id: i.status for i in run_.items}
    assert status["connections"] == "pass" and run_.item("connections").value.endswith("%")
    assert status["rls-everywhere"] == "pass" and status["tables-status"] == "pass"
    assert status["no-critical-alerts"] == "pass"
    # Not configured here: pending with the reason, never a silent pass.
    assert status["api-response"] == "pending"
    assert "rest_url" in (run_.item("api-response").detail or "")
    assert status["cpu-memory"] == "pending" and "metrics_url" in run_.item("cpu-memory").detail
    assert status["open-dashboard"] == "pending"  # manual items stay open


async def test_rls_items_fail_when_a_table_lacks_rls(db, tmp_path: Path) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute("CREATE TABLE public.anexos (id int)")
    run_ = await _verify(db.dsn(), "daily-morning", tmp_path)
    item = run_.item("rls-everywhere")
    assert item.status == "fail" and item.value == "1" and "anexos" in (item.detail or "")


async def test_idle_in_transaction_item_fails_then_passes(db, tmp_path: Path) -> None:
    async with session(db.dsn(), application="stuck-worker") as stuck:
        await stuck.execute("BEGIN")
        await stuck.execute("SELECT 1")
        await asyncio.sleep(1.2)
        failing = await _verify(db.dsn(), "sev2", tmp_path, idle_in_transaction=1.0)
        item = failing.item("idle-connections")
        assert item.status == "fail" and item.value == "1"
        await stuck.execute("ROLLBACK")
    passing = await _verify(db.dsn(), "sev2", tmp_path, idle_in_transaction=1.0)
    assert passing.item("idle-connections").status == "pass"


def _config(tmp_path: Path, dsn: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[console]\noperator = "cron"\nstate_dir = "{tmp_path / "state"}"\n'
        f'[targets.prod]\ndsn = "{dsn}"\n'
    )
    return path


def test_checklist_run_auto_json_contract_and_exit_code(db, tmp_path: Path) -> None:
    config = _config(tmp_path, db.dsn())
    result = run("checklist", "run", "daily-morning", "--auto", "--format", "json", "--config", str(config))
    no_traceback(result)
    assert result.returncode == 1  # the API probe and host metrics are not configured
    data = json.loads(result.stdout)
    assert data["checklist"] == "daily-morning" and data["operator"] == "cron"
    for item in data["items"]:
        assert set(item) >= {"id", "text", "kind", "status", "value"}
        assert item["kind"] in ("manual", "auto")
        assert item["status"] in ("pass", "fail", "pending", "done", "skipped")
        if item["kind"] == "manual":
            assert item["status"] == "pending"
    by_id = {i["id"]: i for i in data["items"]}
    assert by_id["connections"]["status"] == "pass"

    listed = run("checklist", "runs", "--config", str(config))
    assert data["run_id"] in listed.stdout and "auto" in listed.stdout
    exported = run("checklist", "export", data["run_id"], "--config", str(config))
    assert exported.returncode == 0
    assert exported.stdout.startswith("# Daily Operations - ")
    assert "- [x] Database connections < 80 % of the limit — pass" in exported.stdout


def test_a_user_checklist_that_passes_exits_0(db, tmp_path: Path) -> None:
    config = _config(tmp_path, db.dsn())
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "release-gate.toml").write_text(
        'title = "Release gate"\n[[sections]]\ntitle = "Database"\n'
        '[[sections.items]]\nid = "up"\ntext = "database reachable"\n'
        'verify = [{ metric = "db.reachable", op = "==", value = 1 }]\n'
        '[[sections.items]]\nid = "conn"\ntext = "connections < 90 %"\n'
        'verify = [{ metric = "connections.usage_pct", op = "<", value = 90 }]\n'
    )
    listed = run("checklist", "list", "--config", str(config))
    assert "release-gate" in listed.stdout and "[2 items, 2 auto]" in listed.stdout
    result = run("checklist", "run", "release-gate", "--auto", "--config", str(config))
    no_traceback(result)
    assert result.returncode == 0, result.stdout
    assert "- [x] database reachable — pass: reachable" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["checklist", "run", "daily-mornin", "--auto"], "did you mean 'daily-morning'?"),
        (["checklist", "run", "daily-morning"], "interactive runs happen in the console"),
        (["checklist", "export", "../etc/passwd"], "no checklist run"),
    ],
)
def test_checklist_command_errors_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = run(*args, "--config", str(_config(tmp_path, "postgresql://127.0.0.1:1/x")))
    no_traceback(result)
    assert result.returncode == 2 and message in result.stderr


async def test_monthly_rls_review_fails_on_a_table_with_rls_and_no_policy(
    db, tmp_path: Path
) -> None:
    async with session(db.dsn()) as admin:
        await admin.execute(
            "CREATE TABLE public.locked_out (id int); "
            "ALTER TABLE public.locked_out ENABLE ROW LEVEL SECURITY"
        )
    item = (await _verify(db.dsn(), "monthly-operations", tmp_path)).item("rls-policies")
    assert item.status == "fail"
    assert "locked_out" in (item.detail or "") or "no polic" in (item.detail or "")


async def test_evening_backup_item_reads_the_dumps_when_archiving_is_off(
    db, tmp_path: Path
) -> None:
    """archive_mode is off on the test servers: the newest dump of [backups] is the evidence."""
    dumps = tmp_path / "backups"
    dumps.mkdir()
    (dumps / "nightly.dump").write_bytes(b"PGDMP not really")
    old = time.time() - 11 * 60
    os.utime(dumps / "nightly.dump", (old, old))
    item = (
        await _verify(db.dsn(), "daily-evening", tmp_path / "state", BackupsConfig(path=str(dumps)))
    ).item("backup-ran")
    assert item.status == "pass"
    assert item.value == "0.2 h"
    assert "evidence: the newest dump" in (item.detail or "")
    without = (await _verify(db.dsn(), "daily-evening", tmp_path / "state2")).item("backup-ran")
    assert without.status == "pending"
    assert "no [backups] path" in (without.detail or "")
