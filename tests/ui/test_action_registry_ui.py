"""Adding an action is one module: a test-only action module, registered in the test, is in the
palette, goes through the flow (confirmation, result) and the runner (audit records before and
after, read-only refusal) like the console's own."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from engflow_tui.actions import registry
from engflow_tui.screens.action_result_modal import ActionResultModal
from engflow_tui.screens.confirm_action_modal import ConfirmActionModal

from ..pg import wait_for
from ..unit.test_action_registry import PROBE
from .helpers import static_text
from .test_actions_ui import audit, make_app, screen_is, started


@pytest.fixture
def say_hello(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The test-only module, dropped beside the console's actions (a folder added to the
    package's path) and registered; removed after the test."""
    import engflow_tui.actions as package

    folder = tmp_path / "actions"
    folder.mkdir()
    (folder / "say_hello.py").write_text(PROBE, encoding="utf-8")
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(folder)])
    registry.load()
    try:
        yield sys.modules["engflow_tui.actions.say_hello"]
    finally:
        registry.unregister("Say hello")
        sys.modules.pop("engflow_tui.actions.say_hello", None)


async def test_a_registered_action_runs_from_the_palette(db18, tmp_path: Path, say_hello) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await started(app)
        assert app.has_command("Say hello")
        await pilot.press("ctrl+p")
        await pilot.press(*"Say hello")
        await wait_for(
            lambda: (
                bool(app.screen.query("CommandList"))
                and "Say hello"
                in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt)
            )
        )
        await pilot.press("enter")
        await screen_is(app, ConfirmActionModal)
        assert "nothing runs: a test-only action" in static_text(
            app.screen.query_one("#statement", Static)
        )
        await pilot.press("y")
        await screen_is(app, ActionResultModal)
        assert "Say hello — 1 said hello" in static_text(
            app.screen.query_one("#result-title", Static)
        )
    assert len(say_hello.RAN) == 1
    records = audit(tmp_path)
    assert [(r["event"], r["action"]) for r in records] == [
        ("started", "Say hello"),
        ("finished", "Say hello"),
    ]
    assert records[0]["id"] == records[1]["id"]


async def test_read_only_refuses_a_registered_action_in_the_runner(  # type: ignore[no-untyped-def]
    db18, tmp_path: Path, say_hello
) -> None:
    app = make_app(db18.dsn(), tmp_path, read_only=True)
    async with app.run_test(size=(140, 45)):
        await started(app)
        app.start_action("Say hello")
        await screen_is(app, ActionResultModal)  # no confirmation: refused, said
        assert "read-only" in static_text(app.screen.query_one("#result-title", Static))
    assert say_hello.RAN == []
    assert [r["event"] for r in audit(tmp_path)] == ["refused"]


async def test_a_screen_linked_from_an_rls_violation_opens_the_screen(  # type: ignore[no-untyped-def]
    db18, tmp_path: Path
) -> None:
    """The alert detail starts an action on the table the alert names, and only an action: its
    other links (Show RLS status) open their screen, as from the palette."""
    from engflow_tui.screens.alert_detail_modal import AlertDetailModal
    from engflow_tui.ui.messages import AlertSelected
    from engflow_tui.widgets.rls_panel import RlsPanel

    from ..pg import session

    async with session(db18.dsn()) as admin:
        await admin.execute("CREATE TABLE public.open_t (id int)")
    app = make_app(db18.dsn(), tmp_path)
    async with app.run_test(size=(140, 45)) as pilot:
        await started(app)
        engine = app.dashboard.monitor.engine
        await wait_for(
            lambda: any(
                a.subject == "public.open_t" and a.state == "firing" for a in engine.alerts()
            )
        )
        alert = next(a for a in engine.alerts() if a.subject == "public.open_t")
        app.post_message(AlertSelected(alert.key))
        await screen_is(app, AlertDetailModal)
        await pilot.press("2")  # Show RLS status (2)
        await wait_for(lambda: app.screen is app.dashboard)
        await wait_for(lambda: app.focused is app.dashboard.query_one(RlsPanel).table)
    assert audit(tmp_path) == []
