"""The layers hold: only ui/, screens/ and widgets/ import Textual; the modules are found by
walking the package (never a hand-written list); the import-linter contracts of pyproject.toml
are kept; there is no import cycle, module-level or inside a function."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import engflow_tui

ROOT = Path(__file__).resolve().parents[2]
UI = ("engflow_tui.ui", "engflow_tui.screens", "engflow_tui.widgets")


def every_module() -> list[str]:
    return sorted(
        m.name for m in pkgutil.walk_packages(engflow_tui.__path__, prefix="engflow_tui.")
    )


def _is_ui(module: str) -> bool:
    return any(module == ui or module.startswith(ui + ".") for ui in UI)


def test_importing_every_non_ui_module_loads_no_textual() -> None:
    modules = [m for m in every_module() if not _is_ui(m)]
    assert len(modules) > 60  # the walk found the package
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_import_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is a test dependency"
    out = subprocess.run([lint], capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stdout[-4000:]
    assert "BROKEN" not in out.stdout


def test_every_module_is_covered_by_the_textual_contract() -> None:
    """A new top-level module or package cannot slip past the contract: every module is in the
    UI layer, or below a source of a contract forbidding Textual."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    sources = {
        s
        for contract in config["tool"]["importlinter"]["contracts"]
        if contract["type"] == "forbidden" and "textual" in contract["forbidden_modules"]
        for s in contract["source_modules"]
    }
    uncovered = [
        m
        for m in every_module()
        if not _is_ui(m) and not any(m == s or m.startswith(s + ".") for s in sources)
    ]
    assert uncovered == []


def test_no_import_cycles() -> None:
    """Between any modules, module-level or inside functions (TYPE_CHECKING imports aside)."""
    import grimp

    graph = grimp.build_graph("engflow_tui", exclude_type_checking_imports=True)
    modules = set(graph.modules)
    cycles = []
    for module in sorted(modules):
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append((module, imported))
    assert cycles == []


def test_ui_holds_no_sql() -> None:
    """Screens and widgets receive records: no SQL text (their imports: the contracts)."""
    import re

    root = ROOT / "engflow_tui"
    for folder in ("screens", "widgets"):
        for path in (root / folder).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+\w", text), path
