"""engflow_tui.dsn: a pure leaf (issue 18) — parsing, validating, masking and naming DSNs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from engflow_tui.dsn import (
    connect_kwargs,
    dsn_has_password,
    mask_dsn,
    parse_kv_dsn,
    validate_dsn,
)
from engflow_tui.errors import DatabaseError

PACKAGE = Path(__file__).resolve().parents[2] / "engflow_tui"


def _package_imports(path: Path) -> set[str]:
    """Every module of the package a file imports, at module level or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            names.add(node.module or "")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engflow_tui"):
            names.add(node.module.removeprefix("engflow_tui.") if node.module else "")
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("engflow_tui"))
    return names


def test_dsn_is_a_leaf_that_imports_only_errors() -> None:
    assert _package_imports(PACKAGE / "dsn.py") == {"errors"}


def test_db_no_longer_imports_config() -> None:
    assert "config" not in _package_imports(PACKAGE / "db.py")


def test_importing_dsn_loads_neither_config_nor_db() -> None:
    code = (
        "import sys, engflow_tui.dsn\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('engflow_tui.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert set(out.stdout.strip().split(",")) == {
        "engflow_tui.dsn",
        "engflow_tui.errors",
        "engflow_tui.textsafe",
    }


@pytest.mark.parametrize(
    ("dsn", "kwargs"),
    [
        ("host=db port=5433 dbname=app", {"host": "db", "port": 5433, "database": "app"}),
        ("host = db user='o''k' sslmode=require", None),  # '' is not libpq's escape: refused
        ("host=db password='a b\\'c'", {"host": "db", "password": "a b'c"}),
    ],
)
def test_parse_kv_dsn(dsn: str, kwargs: dict[str, object] | None) -> None:
    if kwargs is None:
        with pytest.raises(ValueError, match="cannot parse"):
            parse_kv_dsn(dsn)
    else:
        assert parse_kv_dsn(dsn) == kwargs


def test_kv_errors_never_repeat_a_value() -> None:
    with pytest.raises(ValueError) as info:
        parse_kv_dsn("host=db password=hunter2 colour=red")
    assert "hunter2" not in str(info.value) and "'colour'" in str(info.value)


def test_connect_kwargs() -> None:
    assert connect_kwargs(None, None) == {}
    assert connect_kwargs(None, "pw") == {"password": "pw"}
    assert connect_kwargs("postgresql://h/db", "pw") == {
        "dsn": "postgresql://h/db",
        "password": "pw",
    }
    assert connect_kwargs("host=h dbname=d", None) == {"host": "h", "database": "d"}
    with pytest.raises(DatabaseError) as info:
        connect_kwargs("host=h port=99999", None)
    assert info.value.sqlstate == "dsn"


def test_validate_and_mask_never_show_the_password() -> None:
    for dsn in ("postgresql://u:hunter2@h:99999/db", "host=h password=hunter2 sslmode=on"):
        problem = validate_dsn(dsn)
        assert problem is not None and "hunter2" not in problem
        assert dsn_has_password(dsn)
        assert "hunter2" not in mask_dsn(dsn)
