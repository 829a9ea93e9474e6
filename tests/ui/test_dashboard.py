"""The dashboard driven by real keys, against a real PostgreSQL 18."""

from __future__ import annotations

import asyncio

from textual.widgets import Input, Static

from engflow_tui.config import Config, ConsoleConfig, TargetConfig, Thresholds
from engflow_tui.model import DbState, RlsStatus
from engflow_tui.pgserver import temporary_server
from engflow_tui.screens.help_screen import HelpScreen
from engflow_tui.ui.app import EngFlowApp
from engflow_tui.widgets.alerts_panel import AlertsPanel
from engflow_tui.widgets.connections_panel import ConnectionsPanel
from engflow_tui.widgets.health_panel import HealthPanel
from engflow_tui.widgets.rls_panel import RlsPanel
from engflow_tui.widgets.slow_queries_panel import SlowQueriesPanel

from ..pg import session, silent_server, wait_for
from .helpers import static_text, table_dicts


def make_app(dsn: str, refresh: float = 0.3) -> EngFlowApp:
    target = TargetConfig(name="prod-test", dsn=dsn)
    config = Config(
        console=ConsoleConfig(
            refresh_interval=refresh, slow_queries_interval=0.3, catalog_interval=0.3
        ),
        targets={"prod-test": target},
        thresholds=Thresholds(idle_in_transaction=0.5),
    )
    return EngFlowApp(config, target)


async def applied(app: EngFlowApp, count: int = 1) -> None:
    start = app.dashboard.snapshots_applied if app.dashboard else 0
    await wait_for(
        lambda: app.dashboard is not None and app.dashboard.snapshots_applied >= start + count
    )


async def full_snapshot(app: EngFlowApp) -> None:
    """Until a snapshot with the slow-cadence probes is on screen (the first reads activity
    only, or may meet a server still starting)."""
    await wait_for(
        lambda: (
            app.dashboard is not None
            and app.dashboard.snapshot is not None
            and isinstance(app.dashboard.snapshot.rls, RlsStatus)
        )
    )


async def test_panels_show_the_situation_in_the_database(db18) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute(
            "CREATE TABLE public.leaky (id int); CREATE TABLE public.safe (id int);"
            "ALTER TABLE public.safe ENABLE ROW LEVEL SECURITY;"
        )
        await admin.execute("SELECT pg_sleep(0.12)")
    async with session(db18.dsn(), "stuck-batch") as stuck:
        stuck_pid = await stuck.fetchval("SELECT pg_backend_pid()")
        await stuck.execute("BEGIN; UPDATE pg_catalog.pg_class SET relname = relname WHERE false")
        await asyncio.sleep(0.6)
        app = make_app(db18.dsn())
        async with app.run_test(size=(140, 45)) as pilot:
            await full_snapshot(app)
            await pilot.pause()
            screen = app.screen
            health = static_text(screen.query_one(HealthPanel))
            assert "CONNECTED" in health and "PG 18" in health
            conns = screen.query_one(ConnectionsPanel)
            rows = table_dicts(conns.table)
            stuck_row = next(r for r in rows if r["pid"] == str(stuck_pid))
            assert stuck_row["application"] == "stuck-batch"
            assert stuck_row["state"] == "idle in transaction"
            assert "UPDATE pg_catalog.pg_class" in stuck_row["query"]
            assert rows[0]["pid"] == str(stuck_pid), "worst sessions come first"
            summary = static_text(conns.query_one(".panel-summary", Static))
            assert "/100" in summary and "idle in tx 1" in summary
            rls_rows = table_dicts(screen.query_one(RlsPanel).table)
            assert rls_rows[0]["RLS"].startswith("OFF") and rls_rows[0]["table"] == "public.leaky"
            assert any(r["table"] == "public.safe" and r["RLS"] == "ON" for r in rls_rows)
            await wait_for(
                lambda: any(
                    "pg_sleep" in r["query"]
                    for r in table_dicts(screen.query_one(SlowQueriesPanel).table)
                )
            )
            alerts = table_dicts(screen.query_one(AlertsPanel).table)
            titles = [r["alert"] for r in alerts]
            assert "RLS Violation" in titles and "Idle In Transaction" in titles
            assert alerts[0]["severity"].strip() == "CRITICAL", "worst alerts first"
            status = static_text(screen.query_one("#status-line", Static))
            assert "CONNECTED" in status and "prod-test" in status


async def test_filter_pause_refresh_help_and_quit_keys(db18) -> None:
    async with session(db18.dsn(), "alpha-app"), session(db18.dsn(), "beta-app"):
        app = make_app(db18.dsn())
        async with app.run_test(size=(120, 40)) as pilot:
            await applied(app)
            await pilot.pause()
            conns = app.screen.query_one(ConnectionsPanel)
            assert conns.table.has_focus
            # "/" filters the focused table; typing narrows it, Enter keeps it.
            await pilot.press("slash")
            assert app.focused is app.screen.query_one("#filter-input", Input)
            await pilot.press(*"beta")
            await pilot.press("enter")
            assert [r["application"] for r in table_dicts(conns.table)] == ["beta-app"]
            assert "filter: beta" in str(conns.border_title)
            await applied(app)  # the filter survives a refresh
            assert [r["application"] for r in table_dicts(conns.table)] == ["beta-app"]
            # Escape clears it (the server had shipped only the matches: it polls again at once).
            await pilot.press("escape")
            await wait_for(
                lambda: (
                    {"alpha-app", "beta-app"}
                    <= {r["application"] for r in table_dicts(conns.table)}
                ),
                timeout=1.0,
            )

            # p pauses: no snapshot is applied while paused, the status line says so.
            await pilot.press("p")
            assert "PAUSED" in static_text(app.screen.query_one("#status-line", Static))
            count = app.dashboard.snapshots_applied
            await asyncio.sleep(1.0)
            assert app.dashboard.snapshots_applied == count
            # r refreshes at once (and resumes).
            await pilot.press("r")
            await applied(app)
            assert "PAUSED" not in static_text(app.screen.query_one("#status-line", Static))

            # Tab moves between panels.
            await pilot.press("tab")
            assert not conns.table.has_focus

            # ? opens the help, Escape closes it.
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)

            await pilot.press("q")
        assert app.return_code == 0


async def test_command_palette_reaches_panels_by_name(db18) -> None:
    app = make_app(db18.dsn())
    async with app.run_test(size=(120, 40)) as pilot:
        await applied(app)
        await pilot.press("ctrl+p")
        await pilot.press(*"Show slow queries")
        await wait_for(
            lambda: (
                "Show slow queries"
                in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt)
                if app.screen.query("CommandList")
                else False
            )
        )
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one(SlowQueriesPanel).table.has_focus


async def test_database_stopped_and_restarted_under_the_running_app() -> None:
    server = temporary_server(prefix="engflow-test-restart-")
    try:
        app = make_app(server.dsn(), refresh=0.3)
        async with app.run_test(size=(120, 40)) as pilot:
            await applied(app)
            assert app.dashboard.snapshot.health.state is DbState.CONNECTED
            await asyncio.to_thread(server.stop)
            await wait_for(lambda: app.dashboard.snapshot.health.state is DbState.DOWN, timeout=15)
            await pilot.pause()
            assert "DOWN" in static_text(app.screen.query_one(HealthPanel))
            assert "DOWN" in static_text(app.screen.query_one("#status-line", Static))
            assert "Database Down" in [
                r["alert"] for r in table_dicts(app.screen.query_one(AlertsPanel).table)
            ]
            # Keys still work while the database is down.
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await asyncio.to_thread(server.start)
            await wait_for(
                lambda: app.dashboard.snapshot.health.state is DbState.CONNECTED, timeout=40
            )
            await pilot.pause()
            assert "CONNECTED" in static_text(app.screen.query_one(HealthPanel))
            assert "Database Down" not in [
                r["alert"] for r in table_dicts(app.screen.query_one(AlertsPanel).table)
            ]
    finally:
        server.remove()


async def test_several_targets_without_default_asks_which(db18) -> None:
    from engflow_tui.screens.target_picker import TargetPickerScreen

    first = TargetConfig(name="alpha", dsn=db18.dsn())
    second = TargetConfig(name="beta", dsn=db18.dsn())
    config = Config(
        console=ConsoleConfig(refresh_interval=0.3), targets={"alpha": first, "beta": second}
    )
    app = EngFlowApp(config, None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TargetPickerScreen)
        await pilot.press("down", "enter")
        await applied(app)
        assert app.dashboard is not None and app.dashboard.monitor.target.name == "beta"
        assert "beta" in static_text(app.screen.query_one("#status-line", Static))


async def test_large_tables_are_capped_with_a_visible_count(db18) -> None:
    async with session(db18.dsn()) as admin:
        await admin.execute(
            "DO $$ BEGIN FOR i IN 1..350 LOOP EXECUTE format('CREATE TABLE public.t_%s (id int)', i); END LOOP; END $$"
        )
    app = make_app(db18.dsn())
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(lambda: app.dashboard is not None)
        panel = app.dashboard.query_one(RlsPanel)
        await wait_for(lambda: panel.table.row_count > 0, timeout=15)
        await pilot.pause()
        assert panel.table.row_count == 300
        assert "+50 more: / to filter" in str(panel.border_subtitle)
        panel.set_filter("t_349")  # the filter searches every row, shown or not
        assert [r["table"] for r in table_dicts(panel.table)] == ["public.t_349"]


async def test_text_that_looks_like_markup_is_shown_literally(db18) -> None:
    """Queries, application names and table names are data: "[/b]" must not crash the console."""
    async with session(db18.dsn()) as admin:
        await admin.execute(
            'CREATE TABLE public."x[/b]" (id int); CREATE TABLE public."[red]orders" (id int)'
        )
    async with session(db18.dsn(), "[bold]app[/]") as stuck:
        await stuck.execute("BEGIN; SELECT 'a' ~ '[/a-z]'")
        await asyncio.sleep(0.6)
        app = make_app(db18.dsn())
        async with app.run_test(size=(140, 45)) as pilot:
            await applied(app, 2)
            await pilot.pause()
            assert app.is_running
            rows = table_dicts(app.screen.query_one(ConnectionsPanel).table)
            assert any(
                r["application"] == "[bold]app[/]" and "'[/a-z]'" in r["query"] for r in rows
            )
            rls = app.screen.query_one(RlsPanel)
            await wait_for(
                lambda: (
                    {"public.x[/b]", "public.[red]orders"}
                    <= {r["table"] for r in table_dicts(rls.table)}
                )
            )
            await pilot.pause()
            # Rendered, not just stored: the screen shows the brackets.
            svg = app.export_screenshot()
            assert "[/a-z]" in svg and "x[/b]" in svg


async def test_connections_filter_finds_a_session_the_cap_left_out(db18) -> None:
    target = TargetConfig(name="prod-test", dsn=db18.dsn())
    config = Config(
        console=ConsoleConfig(refresh_interval=0.3, max_sessions=2),
        targets={"prod-test": target},
    )
    async with (
        session(db18.dsn(), "batch-1") as b1,
        session(db18.dsn(), "batch-2") as b2,
        session(db18.dsn(), "lost-worker"),
    ):
        for conn in (b1, b2):
            await conn.execute("BEGIN; SELECT 1")  # worst first: these two fill the cap
        app = EngFlowApp(config, target)
        async with app.run_test(size=(140, 40)) as pilot:
            await applied(app)
            await pilot.pause()
            conns = app.screen.query_one(ConnectionsPanel)
            assert "lost-worker" not in {r["application"] for r in table_dicts(conns.table)}
            assert "sessions not listed: / to filter" in str(conns.border_subtitle)
            await pilot.press("slash", *"lost", "enter")
            await wait_for(
                lambda: [r["application"] for r in table_dicts(conns.table)] == ["lost-worker"]
            )
            await wait_for(lambda: "1 of " in str(conns.border_subtitle))
            assert "sessions match" in str(conns.border_subtitle)
            await pilot.press("escape")
            await applied(app, 2)
            assert "lost-worker" not in {r["application"] for r in table_dicts(conns.table)}
            assert "sessions not listed" in str(conns.border_subtitle)


async def test_a_server_that_does_not_answer_shows_connecting_and_keys_wait_for_the_dashboard(
    tmp_path,
) -> None:
    """The dashboard is shown at once and its first poll arrives like every other (one path): a
    server that accepts and then says nothing shows CONNECTING, and a key pressed at the start
    opens its screen on top of the dashboard, never beneath it."""
    from engflow_tui.screens.table_picker_modal import TablePickerModal

    with silent_server() as port:
        target = TargetConfig(name="silent", dsn=f"postgresql://ops@127.0.0.1:{port}/postgres")
        config = Config(
            console=ConsoleConfig(connect_timeout=5.0, state_dir=str(tmp_path)),
            targets={"silent": target},
        )
        app = EngFlowApp(config, target)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(lambda: app.screen is app.dashboard, timeout=2.0)
            assert "CONNECTING" in static_text(app.screen.query_one("#status-line", Static))
            await pilot.press("C")  # it opens on top of the dashboard
            await wait_for(lambda: isinstance(app.screen, TablePickerModal))
            assert app.screen_stack[-2] is app.dashboard
            await pilot.press("escape")
            await pilot.press("q")


async def test_a_console_started_with_the_collector_paused_gets_it_back_once_up(db18) -> None:
    # What the engflow-tui command does (engflow_tui.__main__): the garbage collector is
    # paused before the imports; the console turns it back on once it has opened its target,
    # and also while its target picker waits (that may be minutes).
    import gc

    from engflow_tui import startup_gc

    two = Config(
        console=ConsoleConfig(refresh_interval=0.3),
        targets={n: TargetConfig(name=n, dsn=db18.dsn()) for n in ("alpha", "beta")},
    )
    try:
        for app in (make_app(db18.dsn()), EngFlowApp(two, None)):
            startup_gc.pause()
            assert not gc.isenabled()
            async with app.run_test(size=(120, 40)):
                await wait_for(gc.isenabled, timeout=10)
                assert not startup_gc.paused()
                if app.target is not None:
                    await applied(app)  # and the console runs on
    finally:
        startup_gc.resume()
        gc.enable()


async def test_started_while_health_drips_the_console_shows_the_database(db18) -> None:
    """In an incident the application's /health hanging is exactly when the console is opened:
    the database is on screen at once, the probe says TIMEOUT when its deadline passes."""
    import json

    from ..httpserver import Route, http_server

    healthy = {"status": "healthy", "database": "connected", "version": "2", "timestamp": "t"}
    with http_server() as server:
        server.routes["/health"] = Route(200, json.dumps(healthy), drip=2)
        target = TargetConfig(
            name="prod-test", dsn=db18.dsn(), app_health_url=f"{server.base}/health"
        )
        config = Config(
            console=ConsoleConfig(refresh_interval=0.3, http_timeout=3),
            targets={"prod-test": target},
        )
        app = EngFlowApp(config, target)
        async with app.run_test(size=(140, 45)) as pilot:
            await applied(app)
            await pilot.pause()
            health = static_text(app.screen.query_one(HealthPanel))
            assert "CONNECTED" in health
            assert "PG 18" in health
            status = static_text(app.screen.query_one("#status-line", Static))
            assert "CONNECTING" not in status
            assert not [line for line in health.splitlines() if line.startswith("app ")]
            # The probe's deadline (3 s) passes: TIMEOUT, the database panels still live.
            await wait_for(lambda: "TIMEOUT" in static_text(app.screen.query_one(HealthPanel)))
            assert "no answer in time (deadline 3 s)" in static_text(
                app.screen.query_one(HealthPanel)
            )
