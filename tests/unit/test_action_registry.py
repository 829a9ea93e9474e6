"""The action registry: every name the console links to (checklists, alert runbook, diagnose
findings, follow-ups) is a registered action or a palette screen; every entry's SQL files exist
and are the ones its module loads; adding an action is one module in the package."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from engflow_tui.actions import registry
from engflow_tui.checklists.loader import load_catalog

PACKAGE = Path(__file__).resolve().parents[2] / "engflow_tui"

#: A test-only action: one module, nothing else edited.
PROBE = textwrap.dedent(
    '''
    """A test-only action."""
    from __future__ import annotations

    from engflow_tui.actions.action import Action, Key
    from engflow_tui.actions.model import ActionPlan, ActionTarget, TargetOutcome

    NAME = "Say hello"
    RAN: list[ActionPlan] = []


    async def plan(ctx, target):
        return ActionPlan(
            action=NAME,
            target_name=ctx.target.name,
            targets=(ActionTarget("hello", "hello"),),
            statement="-- nothing runs: a test-only action",
            params={"done_word": "said hello"},
        )


    async def execute(ctx, plan):
        RAN.append(plan)
        return [TargetOutcome("hello", "done", "said hello")]


    ACTION = Action(
        name=NAME,
        help="A test-only action",
        order=999,
        scope="scratch",
        choose="none",
        plan=plan,
        execute=execute,
        key=Key("Z", "dashboard", "Hello", "dashboard.say_hello", "Say hello: test only", rank=99),
    )
    '''
)


class _Anything:
    """Stands for the app and the dashboard: every attribute is a callable that does nothing."""

    dashboard: Any = None

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def palette_names() -> set[str]:
    from engflow_tui.ui.commands import palette_commands

    app = _Anything()
    app.dashboard = _Anything()
    return {command.title for command in palette_commands(app)}  # type: ignore[arg-type]


def screen_names() -> set[str]:
    """The palette's entries that are not actions: screens and commands of the console."""
    return palette_names() - registry.names()


def test_the_registry_holds_every_action_of_the_console() -> None:
    assert [a.name for a in registry.actions()] == [
        "Terminate idle transactions",
        "Terminate session",
        "Cancel query",
        "Enable RLS",
        "Run ANALYZE",
        "Emergency fallback",
        "Test restore",
    ]
    assert registry.names() <= palette_names()


def test_every_checklist_open_names_a_registered_action_or_a_screen() -> None:
    catalog = load_catalog()
    assert not catalog.problems
    known = registry.names() | screen_names()
    opens = {
        (checklist.id, item.id): item.open
        for checklist in catalog.checklists.values()
        for item in checklist.items
        if item.open
    }
    assert opens, "the shipped checklists open actions and screens"
    assert {k: name for k, name in opens.items() if name not in known} == {}
    # Actions among them, by their registry names.
    assert {"Test restore", "Run ANALYZE", "Enable RLS", "Emergency fallback"} <= set(
        opens.values()
    )


def test_every_runbook_action_names_a_registered_action_or_a_screen() -> None:
    text = files("engflow_tui.alerts").joinpath("runbook.toml").read_text(encoding="utf-8")
    sections = tomllib.loads(text)
    known = registry.names() | screen_names()
    named = {(section, name) for section, body in sections.items() for name in body["actions"]}
    assert named
    assert {pair for pair in named if pair[1] not in known} == set()


def _action_literals(path: Path) -> set[str]:
    """The string constants passed as ``action=`` in a module (diagnose findings' fixes)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "action":
            for value in ast.walk(node.value):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value)
    return found


def test_every_action_a_diagnose_finding_offers_is_registered() -> None:
    modules = [PACKAGE / "diagnose.py", *sorted((PACKAGE / "diagnostics").glob("*.py"))]
    named = {name for path in modules for name in _action_literals(path)}
    assert "Enable RLS" in named and "Test restore" in named
    assert named - registry.names() == set()


def test_follow_ups_keys_and_sql_files_are_consistent() -> None:
    sql = PACKAGE / "sql"
    ids, keys = [], []
    for action in registry.actions():
        assert set(action.follow_ups) <= registry.names(), action.name
        for name in action.sql:
            assert (sql / f"{name}.sql").is_file(), (action.name, name)
        if action.key is not None:
            ids.append(action.key.binding_id)
            keys.append((action.key.where, action.key.key))
        if action.picker is not None or action.live:
            assert action.target_fields, action.name
    assert len(ids) == len(set(ids)) and len(keys) == len(set(keys))
    # Every action statement in sql/ belongs to an action.
    claimed = {name for action in registry.actions() for name in action.sql}
    assert {p.stem for p in sql.glob("action_*.sql")} <= claimed


@pytest.mark.parametrize("action", registry.actions(), ids=lambda a: a.name)
def test_an_action_lists_the_sql_files_its_module_loads(action: Any) -> None:
    module = sys.modules[action.plan.__module__]
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    loaded = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "load_sql"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert loaded <= set(action.sql)


def test_adding_an_action_is_one_module_in_the_package(tmp_path: Path) -> None:
    """A module dropped beside the others (here: a folder added to the package's path, so the
    tree is not written to) is in the registry, the runner, the palette, the dashboard's keys
    and the Help screen — nothing else edited. A fresh interpreter: the keys are bound when the
    screens are imported."""
    (tmp_path / "say_hello.py").write_text(PROBE, encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import engflow_tui.actions as package
        package.__path__.append({str(tmp_path)!r})

        from engflow_tui.actions import registry
        from engflow_tui.actions.runner import ActionRunner
        from engflow_tui.screens.dashboard import DashboardScreen
        from engflow_tui.screens.help_screen import keys
        from tests.unit.test_action_registry import palette_names

        action = registry.find("Say hello")
        assert action is not None and action.plan.__module__ == "engflow_tui.actions.say_hello"
        assert ActionRunner.action("Say hello") is action
        assert "Say hello" in palette_names()
        bound = [b for b in DashboardScreen.BINDINGS if getattr(b, "id", None) == "dashboard.say_hello"]
        assert [(b.key, b.action, b.description) for b in bound] == [
            ("Z", "request('Say hello')", "Hello")
        ], bound
        assert ("Z", "Say hello: test only") in keys()
        print("ok")
        """
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
