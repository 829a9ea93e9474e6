"""Actions driven through the real keys: confirmation dialogs, results, read-only, audit log."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

from textual.widgets import Button, DataTable, Input, Static

from engflow_tui.config import Config, ConsoleConfig, TargetConfig, Thresholds
from engflow_tui.db import quote_ident
from engflow_tui.screens.action_result_modal import ActionResultModal
from engflow_tui.screens.audit_log_screen import AuditLogScreen
from engflow_tui.screens.confirm_action_modal import ConfirmActionModal
from engflow_tui.screens.table_picker_modal import TablePickerModal
from engflow_tui.ui.app import EngFlowApp
from engflow_tui.ui.messages import AlertSelected
from engflow_tui.widgets.rls_panel import RlsPanel

from ..pg import session, wait_for
from .helpers import result_shown, static_text, table_dicts


def make_app(dsn: str, tmp_path: Path, *, read_only: bool = False, idle: float = 0.5) -> EngFlowApp:
    target = TargetConfig(name="prod", dsn=dsn)
    config = Config(
        console=ConsoleConfig(
            refresh_interval=0.3,
            catalog_interval=0.3,
            read_only=read_only,
            operator="ana",
            audit_log=str(tmp_path / "audit.jsonl"),
        ),
        targets={"prod": target},
        thresholds=Thresholds(idle_in_transaction=idle),
    )
    return EngFlowApp(config, target)


async def started(app: EngFlowApp) -> None:
    await wait_for(lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= 1)


async def screen_is(app: EngFlowApp, kind: type) -> None:
    """The screen is on top and mounted (composed: its widgets can be queried)."""
    await wait_for(lambda: isinstance(app.screen, kind) and app.screen.is_mounted)


def audit(tmp_path: Path) -> list[dict]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


async def alive(dsn: str, pid: int) -> bool:
    async with session(dsn) as conn:
        return bool(
            await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
        )


async def test_terminate_idle_transactions_cancel_then_confirm(db18, tmp_path: Path) -> None:
    dsn = db18.dsn()
    async with session(dsn, "stuck-batch") as stuck:
        pid = await stuck.fetchval("SELECT pg_backend_pid()")
        await stuck.execute("BEGIN; SELECT 42")
        await asyncio.sleep(0.7)
        app = make_app(dsn, tmp_path)
        async with app.run_test(size=(140, 45)) as pilot:
            await started(app)
            await pilot.press("T")
            await screen_is(app, ConfirmActionModal)
            modal = app.screen
            assert app.focused is modal.query_one("#cancel", Button), "focus starts on Cancel"
            rows = table_dicts(modal.query_one("#targets", DataTable))
            assert [r["pid"] for r in rows] == [str(pid)]
            assert (
                rows[0]["application"] == "stuck-batch"
                and rows[0]["last query"] == "BEGIN; SELECT 42"
            )
            assert "pg_terminate_backend" in static_text(modal.query_one("#statement", Static))
            # n cancels: nothing is run, nothing is recorded.
            await pilot.press("n")
            await wait_for(lambda: not isinstance(app.screen, ConfirmActionModal))
            assert await alive(dsn, pid)
            assert audit(tmp_path) == []
            # Enter on the focused Cancel button cancels too.
            await pilot.press("T")
            await screen_is(app, ConfirmActionModal)
            await pilot.press("enter")
            await wait_for(lambda: not isinstance(app.screen, ConfirmActionModal))
            assert await alive(dsn, pid)
            # y confirms.
            await pilot.press("T")
            await screen_is(app, ConfirmActionModal)
            await pilot.press("y")
            await screen_is(app, ActionResultModal)
            assert "1 terminated" in static_text(app.screen.query_one("#result-title", Static))
            await wait_for(lambda: _dead(dsn, pid))
            await pilot.press("enter")
            await wait_for(lambda: not isinstance(app.screen, ActionResultModal))
    events = [(r["event"], r["action"]) for r in audit(tmp_path)]
    assert events == [
        ("started", "Terminate idle transactions"),
        ("finished", "Terminate idle transactions"),
    ]
    assert audit(tmp_path)[1]["targets"][0]["pid"] == pid


async def _dead(dsn: str, pid: int) -> bool:
    return not await alive(dsn, pid)


async def test_threshold_can_be_changed_for_this_run(db18, tmp_path: Path) -> None:
    dsn = db18.dsn()
    async with session(dsn, "stuck") as stuck:
        pid = await stuck.fetchval("SELECT pg_backend_pid()")
        await stuck.execute("BEGIN; SELECT 1")
        await asyncio.sleep(0.6)
        app = make_app(dsn, tmp_path, idle=3600)
        async with app.run_test(size=(140, 45)) as pilot:
            await started(app)
            await pilot.press("T")
            await screen_is(app, ConfirmActionModal)
            modal = app.screen
            assert "Nothing to do" in static_text(modal.query_one("#target-count", Static))
            assert modal.query_one("#confirm", Button).disabled
            await pilot.press("y")  # nothing to confirm: stays open
            assert isinstance(app.screen, ConfirmActionModal)
            box = modal.query_one("#threshold", Input)
            box.focus()
            box.value = ""
            await pilot.press(*"500ms", "enter")
            await wait_for(lambda: modal.query_one("#targets", DataTable).row_count == 1)
            assert table_dicts(modal.query_one("#targets", DataTable))[0]["pid"] == str(pid)
            assert app.focused is modal.query_one("#cancel", Button)
            await pilot.press("n")
            await wait_for(lambda: not isinstance(app.screen, ConfirmActionModal))
        assert await alive(dsn, pid)


async def test_enable_rls_from_the_palette_with_a_nasty_name(db18, tmp_path: Path) -> None:
    name = 'Orçamentos "Antigos"; v2'
    async with session(db18.dsn()) as admin:
        await admin.execute(
            f"CREATE TABLE public.{quote_ident(name)} (id int); CREATE TABLE public.other (id int)"
        )  # ok-sql
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await started(app)
        await pilot.press("ctrl+p")
        await pilot.press(*"Enable RLS")
        await wait_for(
            lambda: (
                bool(app.screen.query("CommandList"))
                and "Enable RLS"
                in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt)
            )
        )
        await pilot.press("enter")
        await screen_is(app, TablePickerModal)
        await pilot.press(*"orç")
        await pilot.press("enter")
        await screen_is(app, ConfirmActionModal)
        modal = app.screen
        qualified = f'"public".{quote_ident(name)}'
        assert table_dicts(modal.query_one("#targets", DataTable))[0]["target"] == qualified
        assert f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY" in static_text(
            modal.query_one("#statement", Static)
        )
        assert "deny every non-owner role" in static_text(modal.query_one("#warnings", Static))
        await pilot.press("y")
        await screen_is(app, ActionResultModal)
        assert f"RLS enabled on {qualified}" in static_text(
            app.screen.query_one("#result-title", Static)
        )
    async with session(db18.dsn()) as admin:
        assert (
            await admin.fetchval("SELECT relrowsecurity FROM pg_class WHERE relname = $1", name)
            is True
        )
        assert (
            await admin.fetchval("SELECT relrowsecurity FROM pg_class WHERE relname = 'other'")
            is False
        )


async def test_enable_rls_key_on_the_selected_table(db18, tmp_path: Path) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute(
            "CREATE TABLE public.aaa_first (id int); CREATE TABLE public.zzz_second (id int)"
        )
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await started(app)
        panel = app.screen.query_one(RlsPanel)
        await wait_for(lambda: panel.table.row_count >= 2)
        app.dashboard.focus_panel("rls-panel")
        await pilot.press("down")  # the second row: zzz_second
        await pilot.press("e")
        await screen_is(app, ConfirmActionModal)
        assert (
            table_dicts(app.screen.query_one("#targets", DataTable))[0]["target"]
            == '"public"."zzz_second"'
        )
        await pilot.press("y")
        await screen_is(app, ActionResultModal)
    async with session(db18.dsn()) as admin:
        flags = dict(
            await admin.fetch(
                "SELECT relname, relrowsecurity FROM pg_class WHERE relname IN ('aaa_first', 'zzz_second')"
            )
        )
    assert flags == {"aaa_first": False, "zzz_second": True}


async def test_terminate_selected_session_with_x(db18, tmp_path: Path) -> None:
    dsn = db18.dsn()
    async with session(dsn, "victim-app") as victim:
        pid = await victim.fetchval("SELECT pg_backend_pid()")
        app = make_app(dsn, tmp_path)
        async with app.run_test(size=(140, 45)) as pilot:
            await started(app)
            conns = app.dashboard.query_one("#connections-panel")
            await wait_for(lambda: any(r["pid"] == str(pid) for r in table_dicts(conns.table)))
            index = [r["pid"] for r in table_dicts(conns.table)].index(str(pid))
            conns.table.move_cursor(row=index)
            await pilot.press("x")
            await screen_is(app, ConfirmActionModal)
            rows = table_dicts(app.screen.query_one("#targets", DataTable))
            assert rows[0]["pid"] == str(pid) and rows[0]["application"] == "victim-app"
            await pilot.press("y")
            await screen_is(app, ActionResultModal)
            assert "1 terminated" in static_text(app.screen.query_one("#result-title", Static))
        await wait_for(lambda: _dead(dsn, pid))


async def test_read_only_refuses_without_touching_the_database(db18, tmp_path: Path) -> None:
    dsn = db18.dsn()
    async with session(dsn, "stuck") as stuck:
        pid = await stuck.fetchval("SELECT pg_backend_pid()")
        await stuck.execute("BEGIN; SELECT 1")
        await asyncio.sleep(0.7)
        app = make_app(dsn, tmp_path, read_only=True)
        async with app.run_test(size=(140, 45)) as pilot:
            await started(app)
            assert "READ-ONLY" in static_text(app.screen.query_one("#status-line", Static))
            await pilot.press("T")
            await screen_is(app, ActionResultModal)
            title = static_text(app.screen.query_one("#result-title", Static))
            assert "read-only" in title
        assert await alive(dsn, pid)
    records = audit(tmp_path)
    assert [r["event"] for r in records] == ["refused"]


async def test_audit_log_screen_lists_the_records(db18, tmp_path: Path) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute("CREATE TABLE public.t1 (id int)")
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await started(app)
        app.start_action("Run ANALYZE", schema="public", table="t1")
        await screen_is(app, ConfirmActionModal)
        await pilot.press("y")
        await screen_is(app, ActionResultModal)
        await pilot.press("escape")
        await pilot.press("L")
        await screen_is(app, AuditLogScreen)
        rows = table_dicts(app.screen.query_one("#audit-table", DataTable))
        assert [(r["event"], r["action"]) for r in rows] == [
            ("finished", "Run ANALYZE"),
            ("started", "Run ANALYZE"),
        ]
        assert rows[0]["operator"] == "ana" and rows[0]["outcome"] == "1 analyzed"
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_emergency_fallback_key_posts_after_confirmation(
    db18, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import http.server
    import threading

    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            seen.append(self.headers.get("Authorization"))
            body = b'{"fallback": "enabled"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ENGFLOW_UI_TOKEN", "t0ken")
    try:
        from dataclasses import replace

        app = make_app(db18.dsn(), tmp_path)
        target = replace(
            app.target,
            app_url=f"http://127.0.0.1:{server.server_address[1]}",
            emergency_token_env="ENGFLOW_UI_TOKEN",
        )
        app = EngFlowApp(replace(app.config, targets={"prod": target}), target)
        async with app.run_test(size=(140, 45)) as pilot:
            await started(app)
            await pilot.press("F")
            await screen_is(app, ConfirmActionModal)
            statement = static_text(app.screen.query_one("#statement", Static))
            assert "POST http://127.0.0.1:" in statement and "t0ken" not in statement
            assert seen == [], "nothing is sent before the confirmation"
            await pilot.press("y")
            await screen_is(app, ActionResultModal)
            assert "HTTP 200 OK" in static_text(app.screen.query_one("#result-body", Static))
        assert seen == ["Bearer t0ken"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_terminate_dialog_shows_what_the_session_does_until_confirmed(
    db18, tmp_path: Path
) -> None:
    """The dialog re-reads the session while it is open: the engineer confirms what it does now,
    and the busy session is terminated although it ran statements meanwhile."""
    dsn = db18.dsn()
    async with session(dsn, "runaway") as runaway:
        pid = await runaway.fetchval("SELECT pg_backend_pid()")
        await runaway.execute("BEGIN; SELECT 'first statement'")
        app = make_app(dsn, tmp_path)
        async with app.run_test(size=(140, 45)) as pilot:
            await started(app)
            conns = app.dashboard.query_one("#connections-panel")
            await wait_for(lambda: any(r["pid"] == str(pid) for r in table_dicts(conns.table)))
            index = [r["pid"] for r in table_dicts(conns.table)].index(str(pid))
            conns.table.move_cursor(row=index)
            await pilot.press("x")
            await screen_is(app, ConfirmActionModal)
            modal = app.screen
            rows = table_dicts(modal.query_one("#targets", DataTable))
            assert "first statement" in rows[0]["last query"]
            await runaway.execute("SELECT 'second statement'; COMMIT")
            await wait_for(
                lambda: (
                    "second statement"
                    in table_dicts(modal.query_one("#targets", DataTable))[0]["last query"]
                )
            )
            await pilot.press("y")
            await screen_is(app, ActionResultModal)
            assert "1 terminated" in static_text(app.screen.query_one("#result-title", Static))
        await wait_for(lambda: _dead(dsn, pid))


async def test_a_second_e_on_a_table_already_enabled_says_so_and_runs_nothing(
    db18, tmp_path: Path
) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute(
            "CREATE TABLE public.done_already (id int); "
            "ALTER TABLE public.done_already ENABLE ROW LEVEL SECURITY"
        )
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await started(app)
        app.start_action("Enable RLS", schema="public", table="done_already")
        await screen_is(app, ConfirmActionModal)
        modal = app.screen
        await wait_for(
            lambda: "already enabled" in static_text(modal.query_one("#warnings", Static))
        )
        assert modal.query_one("#confirm", Button).disabled
        await pilot.press("y")  # nothing to confirm
        assert isinstance(app.screen, ConfirmActionModal)
        await pilot.press("n")
    assert not [r for r in audit(tmp_path) if r.get("action") == "Enable RLS"]


async def test_enable_rls_from_an_rls_violation_acts_on_the_table_it_names(
    db18, tmp_path: Path
) -> None:
    from engflow_tui.screens.alert_detail_modal import AlertDetailModal

    async with session(db18.dsn()) as admin:
        await admin.execute(
            'CREATE TABLE public."a.b" (id int); CREATE TABLE public.other (id int)'
        )
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await started(app)
        await wait_for(
            lambda: any(
                a.subject == "public.a.b" and a.state == "firing"
                for a in app.dashboard.monitor.engine.alerts()
            )
        )
        alert = next(a for a in app.dashboard.monitor.engine.alerts() if a.subject == "public.a.b")
        app.post_message(AlertSelected(alert.key))
        await screen_is(app, AlertDetailModal)
        await pilot.press("1")  # Enable RLS (1)
        await screen_is(app, ConfirmActionModal)  # no table picker: the alert's table
        rows = table_dicts(app.screen.query_one("#targets", DataTable))
        assert rows[0]["target"] == '"public"."a.b"'
        await pilot.press("n")


async def test_a_changed_threshold_is_what_the_header_lists_and_runs(db18, tmp_path: Path) -> None:
    dsn = db18.dsn()
    async with session(dsn, "stuck") as stuck:
        pid = await stuck.fetchval("SELECT pg_backend_pid()")
        await stuck.execute("BEGIN; SELECT 1")
        await asyncio.sleep(0.6)
        app = make_app(dsn, tmp_path, idle=3600)
        async with app.run_test(size=(140, 45)) as pilot:
            await started(app)
            await pilot.press("T")
            await screen_is(app, ConfirmActionModal)
            modal = app.screen
            assert "1h" in static_text(modal.query_one("#description", Static))
            box = modal.query_one("#threshold", Input)
            box.focus()
            box.value = ""
            await pilot.press(*"500ms", "enter")
            await wait_for(lambda: modal.query_one("#targets", DataTable).row_count == 1)
            header = static_text(modal.query_one("#description", Static))
            assert "500ms" in header and "1h" not in header
            assert "$3 = 0.5" in static_text(modal.query_one("#statement", Static))
            await pilot.press("y")
            await screen_is(app, ActionResultModal)
            assert "1 terminated" in static_text(app.screen.query_one("#result-title", Static))
        await wait_for(lambda: _dead(dsn, pid))


async def test_a_lock_timeout_names_the_holder_and_offers_to_terminate_it(
    db18, tmp_path: Path
) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute("CREATE TABLE public.held_table (id int)")
    app = make_app(db18.dsn(), tmp_path)
    app.config = replace(app.config, actions=replace(app.config.actions, lock_timeout=0.3))
    async with session(db18.dsn(), "nightly-report") as holder:
        pid = await holder.fetchval("SELECT pg_backend_pid()")
        await holder.execute("BEGIN; SELECT * FROM public.held_table")
        async with app.run_test(size=(140, 45)) as pilot:
            await started(app)
            app.start_action("Enable RLS", schema="public", table="held_table")
            await screen_is(app, ConfirmActionModal)
            await pilot.press("y")
            await screen_is(app, ActionResultModal)
            body = static_text(app.screen.query_one("#result-body", Static))
            assert f"pid {pid}" in body and "nightly-report" in body
            assert f"Terminate session on pid {pid}" in str(
                app.screen.query_one("#follow", Button).label
            )
            await pilot.press("f")
            await screen_is(app, ConfirmActionModal)
            rows = table_dicts(app.screen.query_one("#targets", DataTable))
            assert rows[0]["pid"] == str(pid)
            await pilot.press("y")
            await screen_is(app, ActionResultModal)
            assert "1 terminated" in static_text(app.screen.query_one("#result-title", Static))
        await wait_for(lambda: _dead(db18.dsn(), pid))


def fallback_app(dsn: str, tmp_path: Path, base: str, http_timeout: float) -> EngFlowApp:
    """An app whose target's emergency fallback endpoint is at ``base``, token in the env."""
    from dataclasses import replace

    app = make_app(dsn, tmp_path)
    target = replace(app.target, app_url=base, emergency_token_env="ENGFLOW_UI_TOKEN")
    config = replace(
        app.config,
        targets={"prod": target},
        actions=replace(app.config.actions, http_timeout=http_timeout),
    )
    return EngFlowApp(config, target)


async def confirm_fallback(app: EngFlowApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await started(app)
    await pilot.press("F")
    await screen_is(app, ConfirmActionModal)
    await pilot.press("y")


DRIPPING_FALLBACK = {"body": b'{"fallback": "enabled"}', "drip": 0.5, "drip_head": True}
"""A fallback endpoint that drips its whole answer, status line included, a byte every 0.5 s."""


async def test_the_emergency_fallback_shows_it_is_waiting_and_esc_gives_up(
    db18, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The endpoint drips its answer a byte every half second (a per-read timeout never trips):
    the operator sees what is waited on, for how long, and gives up with Esc."""
    from engflow_tui.screens.message_modal import MessageModal
    from engflow_tui.screens.waiting_modal import WaitingModal

    from ..httpserver import Route, http_server

    monkeypatch.setenv("ENGFLOW_UI_TOKEN", "t0ken")
    with http_server() as server:
        server.routes["/api/emergency/enable-fallback"] = Route(200, **DRIPPING_FALLBACK)
        app = fallback_app(db18.dsn(), tmp_path, server.base, http_timeout=60)
        async with app.run_test(size=(140, 45)) as pilot:
            await confirm_fallback(app, pilot)
            await screen_is(app, WaitingModal)
            modal = app.screen
            assert "POST http://127.0.0.1:" in static_text(modal.query_one("#waiting-detail"))
            await wait_for(lambda: "waiting 1" in static_text(modal.query_one("#waiting-elapsed")))
            elapsed = static_text(modal.query_one("#waiting-elapsed"))
            assert "gives up by itself after 1m" in elapsed
            assert "Esc" in str(modal.query_one("#give-up", Button).label)
            await pilot.press("escape")
            await screen_is(app, MessageModal)
            assert "gave up waiting" in static_text(app.screen.query_one("#message-title"))
            await pilot.press("enter")
            assert app.screen is app.dashboard
            assert not app.flows.busy, "another action can start"
    records = audit(tmp_path)
    assert [r["event"] for r in records] == ["started", "failed"]
    assert records[1]["error"].startswith("gave up waiting after 1")
    assert records[1]["outcomes"][0]["status"] == "gave up"
    assert "FALLBACK MODE ON" in records[1]["error"]


async def test_the_emergency_fallback_gives_up_by_itself_at_its_deadline(
    db18, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from ..httpserver import Route, http_server

    monkeypatch.setenv("ENGFLOW_UI_TOKEN", "t0ken")
    with http_server() as server:
        server.routes["/api/emergency/enable-fallback"] = Route(200, **DRIPPING_FALLBACK)
        app = fallback_app(db18.dsn(), tmp_path, server.base, http_timeout=2)
        async with app.run_test(size=(140, 45)) as pilot:
            await confirm_fallback(app, pilot)
            await wait_for(lambda: result_shown(app), timeout=2 + 3)
            body = static_text(app.screen.query_one("#result-body", Static))
            assert "FAILED" in body
            assert "no answer in time (deadline 2 s)" in body
    records = audit(tmp_path)
    assert [r["event"] for r in records] == ["started", "finished"]
    assert records[1]["outcomes"][0]["status"] == "failed"
    assert records[1]["summary"] == "timed out: no answer in time (deadline 2 s)"


async def test_the_emergency_fallback_answer_is_capped(db18, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A 200 MB answer: the request was taken (HTTP 200), the body is not read past 64 KiB."""
    from ..httpserver import Route, http_server

    monkeypatch.setenv("ENGFLOW_UI_TOKEN", "t0ken")
    with http_server() as server:
        server.routes["/api/emergency/enable-fallback"] = Route(
            200, b"x" * (1 << 20), repeat=200, chunked=True, content_type="text/plain"
        )
        app = fallback_app(db18.dsn(), tmp_path, server.base, http_timeout=10)
        async with app.run_test(size=(140, 45)) as pilot:
            await confirm_fallback(app, pilot)
            await wait_for(lambda: result_shown(app), timeout=10)
            body = static_text(app.screen.query_one("#result-body", Static))
    assert "DONE" in body
    assert "HTTP 200 OK (answer too large (> 65,536 bytes))" in body
    assert len(body) < 1000

