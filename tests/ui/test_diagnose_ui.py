"""The Diagnose screen driven with real keys against a real database: sections worst first,
drill-down into findings, and the finding's console action through the confirmation dialog."""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import replace
from pathlib import Path

from textual.widgets import DataTable, Static

from engflow_tui.config import BackupsConfig
from engflow_tui.diagnostics.backups import pg_tool
from engflow_tui.screens.action_result_modal import ActionResultModal
from engflow_tui.screens.confirm_action_modal import ConfirmActionModal
from engflow_tui.screens.diagnose_screen import DiagnoseScreen

from ..db.test_diagnostics import dump_with_policies
from ..pg import session, wait_for
from .helpers import static_text, table_dicts
from .test_actions_ui import alive, audit, make_app, screen_is, started


async def open_diagnose(app, pilot) -> DiagnoseScreen:  # type: ignore[no-untyped-def]
    await pilot.press("D")
    await screen_is(app, DiagnoseScreen)
    screen = app.screen
    await wait_for(lambda: screen.runs >= 1, timeout=30)
    return screen


async def select_check(pilot, screen: DiagnoseScreen, check_id: str) -> None:  # type: ignore[no-untyped-def]
    checks = screen.query_one("#checks", DataTable)
    checks.focus()
    await pilot.press("ctrl+home")  # from the top
    for _ in range(checks.row_count):
        if (c := screen.selected_check()) is not None and c.id == check_id:
            return
        await pilot.press("down")
    raise AssertionError(f"{check_id} not in the list")


async def test_sections_worst_first_drill_down_and_enable_rls(db18, tmp_path: Path) -> None:
    dsn = db18.dsn()
    async with session(dsn) as admin:
        await admin.execute(
            "CREATE TABLE public.orcamentos (id int); "
            "CREATE POLICY own ON public.orcamentos USING (id > 0)"
        )
    app = make_app(dsn, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app)
        screen = await open_diagnose(app, pilot)
        rows = table_dicts(screen.query_one("#checks", DataTable))
        # Worst first: the critical Security section leads, ok sections come last.
        assert rows[0]["status"].strip() == "CRITICAL" and rows[0]["section"] == "Security"
        statuses = [r["status"].strip() for r in rows]
        assert statuses.index("OK") > statuses.index("CRITICAL")
        assert "CRITICAL" in static_text(screen.query_one("#diagnose-heading", Static))

        await select_check(pilot, screen, "rls.policy_without_rls")
        detail = static_text(screen.query_one("#check-detail", Static))
        assert "policies that do not apply" in detail and "a: Enable RLS" in detail
        await pilot.press("enter")  # drill down into the findings
        findings = screen.query_one("#findings", DataTable)
        assert app.focused is findings
        assert table_dicts(findings)[0]["key"] == "public.orcamentos"
        assert "a: Enable RLS (schema public, table orcamentos)" in static_text(
            screen.query_one("#check-detail", Static)
        )
        await pilot.press("a")
        await screen_is(app, ConfirmActionModal)
        target = table_dicts(app.screen.query_one("#targets", DataTable))[0]["target"]
        assert target == '"public"."orcamentos"'
        await pilot.press("y")
        await screen_is(app, ActionResultModal)
        await pilot.press("enter")
        await screen_is(app, DiagnoseScreen)
        await pilot.press("r")
        await wait_for(lambda: screen.runs >= 2, timeout=30)
        await select_check(pilot, screen, "rls.policy_without_rls")
        assert screen.selected_check().status == "ok"  # type: ignore[union-attr]
        # A check without a console action says so, with its fix, instead of doing anything.
        await select_check(pilot, screen, "capabilities")
        await pilot.press("a")
        assert isinstance(app.screen, DiagnoseScreen)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.dashboard)
        # The palette reaches it by name too.
        app.run_palette_name("Diagnose")
        await screen_is(app, DiagnoseScreen)
        again = app.screen
        await wait_for(lambda: again.runs >= 1, timeout=30)
    async with session(dsn) as admin:
        assert await admin.fetchval(
            "SELECT relrowsecurity FROM pg_class WHERE relname = 'orcamentos'"
        )
    assert [r["action"] for r in audit(tmp_path)] == ["Enable RLS", "Enable RLS"]


async def test_terminate_the_root_blocker_from_the_locks_finding(db18, tmp_path: Path) -> None:
    dsn = db18.dsn()
    async with session(dsn) as admin:
        await admin.execute("CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
    async with session(dsn, "root-batch") as root, session(dsn, "victim") as victim:
        root_pid = await root.fetchval("SELECT pg_backend_pid()")
        victim_pid = await victim.fetchval("SELECT pg_backend_pid()")
        await root.execute("BEGIN; UPDATE t SET id = 1")
        waiting = asyncio.create_task(victim.execute("UPDATE t SET id = 1"))

        async def blocked() -> bool:
            async with session(dsn) as probe:
                return bool(
                    await probe.fetchval("SELECT cardinality(pg_blocking_pids($1)) > 0", victim_pid)
                )

        await wait_for(blocked)
        app = make_app(dsn, tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:  # readable at 80x24 too
            await started(app)
            screen = await open_diagnose(app, pilot)
            await select_check(pilot, screen, "locks.blocking")
            assert f"a: Terminate session (pid {root_pid})" in static_text(
                screen.query_one("#check-detail", Static)
            )
            await pilot.press("a")
            await screen_is(app, ConfirmActionModal)
            assert table_dicts(app.screen.query_one("#targets", DataTable))[0]["pid"] == str(
                root_pid
            )
            await pilot.press("y")
            await screen_is(app, ActionResultModal)
        await waiting  # the victim's update went through once the root blocker was gone
        assert not await alive(dsn, root_pid)


async def restore_from_the_palette(dsn: str, tmp_path: Path, backups: Path) -> tuple[str, str]:
    """Palette *Test restore* in read-only mode, confirmed with `y`: the result dialog's title
    and body as the user reads them."""
    app = make_app(dsn, tmp_path, read_only=True)
    app.config = replace(app.config, backups=BackupsConfig(path=str(backups)))
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app)
        app.run_palette_name("Test restore")
        await screen_is(app, ConfirmActionModal)
        modal = app.screen
        statement = modal.query_one("#statement", Static)
        await wait_for(lambda: "pg_restore --no-owner" in static_text(statement))
        assert "CREATE ROLE <each role the dump's policies name>" in static_text(statement)
        await pilot.press("y")
        await wait_for(
            lambda: (
                isinstance(app.screen, ActionResultModal) and bool(app.screen.query("#result-body"))
            ),
            timeout=60,
        )
        return (
            static_text(app.screen.query_one("#result-title", Static)),
            static_text(app.screen.query_one("#result-body", Static)),
        )


async def test_test_restore_from_the_palette_in_read_only_mode(db18, tmp_path: Path) -> None:
    dsn = db18.dsn()
    async with session(dsn) as admin:
        await admin.execute(
            "CREATE TABLE public.clientes (id int); INSERT INTO clientes SELECT generate_series(1, 40); ANALYZE"
        )
    backups = tmp_path / "backups"
    backups.mkdir()
    tool = pg_tool("pg_dump")
    assert tool is not None
    await asyncio.to_thread(
        subprocess.run,
        [str(tool), "-Fc", "-f", str(backups / "n.dump"), dsn],
        check=True,
        capture_output=True,
    )
    text, body = await restore_from_the_palette(dsn, tmp_path, backups)
    assert "restored n.dump: 1 table(s), 40 row(s) in" in text
    assert "public.clientes" in body and "40 rows restored, live estimate 40" in body
    records = audit(tmp_path)
    assert [r["event"] for r in records] == ["started", "finished"]
    assert records[0]["action"] == "Test restore"


LONG_CHECK = "ledger_amount_must_be_restorable_in_a_scratch_server_check"
"""A constraint whose full name ends the error message: a cut message loses it."""


async def test_test_restore_with_an_error_is_partial_with_every_error_in_full(
    db18, tmp_path: Path
) -> None:
    """The roles the policies name are created on the scratch server (and the result says so);
    a row the dump cannot restore (its CHECK reads a setting only the live database had) makes
    the restore PARTIAL, not DONE, with pg_restore's error whole."""
    dump, role, _ = await dump_with_policies(
        db18,
        tmp_path,
        f"""
        CREATE FUNCTION public.restorable(v int) RETURNS bool LANGUAGE sql STABLE
            AS $$ SELECT coalesce(current_setting('engflow.test_ok', true), '') = 'yes' $$;
        SET engflow.test_ok = 'yes';
        CREATE TABLE public.ledger (id int CONSTRAINT {LONG_CHECK} CHECK (public.restorable(id)));
        INSERT INTO public.ledger VALUES (1);
        """,
    )
    backups = tmp_path / "backups"
    backups.mkdir()
    dump.rename(backups / "n.dump")
    title, body = await restore_from_the_palette(db18.dsn(), tmp_path, backups)
    assert "partial: 1 error(s) restoring" in title
    first = body.splitlines()[0]
    assert first.startswith("PARTIAL") and "restored n.dump" in first, body
    assert not any(line.startswith("DONE") and "n.dump" in line for line in body.splitlines())
    flat = " ".join(body.split())
    assert f'violates check constraint "{LONG_CHECK}"' in flat, body
    assert "created the role(s) the dump names, on the scratch server only" in flat
    assert f'"{role}"' in flat
    assert "does not exist" not in flat, "the policies restored: their roles were created"
    assert "public.orcamentos: 30 rows restored" in flat
    records = audit(tmp_path)
    assert records[-1]["event"] == "finished"
    assert records[-1]["outcomes"][0]["status"] == "partial"


async def test_run_analyze_and_terminate_idle_from_their_findings(db18, tmp_path: Path) -> None:
    dsn = db18.dsn()
    async with session(dsn) as admin:
        await admin.execute(
            "CREATE TABLE public.events (id int) WITH (autovacuum_enabled = off); "
            "INSERT INTO public.events SELECT generate_series(1, 5000)"
        )
        await admin.execute("SELECT pg_stat_force_next_flush()")
    async with session(dsn, "stuck-batch") as stuck:
        stuck_pid = await stuck.fetchval("SELECT pg_backend_pid()")
        await stuck.execute("BEGIN; SELECT 1")
        await asyncio.sleep(0.6)  # past the 0.5 s threshold of make_app
        app = make_app(dsn, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app)
            screen = await open_diagnose(app, pilot)
            # Stale statistics -> Run ANALYZE on that table.
            await select_check(pilot, screen, "maintenance.vacuum")
            await pilot.press("enter")
            assert table_dicts(screen.query_one("#findings", DataTable))[0]["key"] == (
                "public.events"
            )
            await pilot.press("a")
            await screen_is(app, ConfirmActionModal)
            targets = table_dicts(app.screen.query_one("#targets", DataTable))
            assert targets[0]["target"] == '"public"."events"'
            await pilot.press("y")
            await screen_is(app, ActionResultModal)
            await pilot.press("enter")
            await screen_is(app, DiagnoseScreen)
            # Idle in transaction -> Terminate idle transactions (its own dialog lists them).
            await select_check(pilot, screen, "connections.idle_in_transaction")
            assert "a: Terminate idle transactions" in static_text(
                screen.query_one("#check-detail", Static)
            )
            await pilot.press("a")
            await screen_is(app, ConfirmActionModal)
            modal = app.screen
            await wait_for(lambda: modal.query_one("#targets", DataTable).row_count >= 1)
            pids = [r["pid"] for r in table_dicts(modal.query_one("#targets", DataTable))]
            assert str(stuck_pid) in pids
            await pilot.press("n")  # cancelled: nothing runs
            await screen_is(app, DiagnoseScreen)
        assert await alive(dsn, stuck_pid)
    async with session(dsn) as admin:
        assert await admin.fetchval(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'events'"
        )
