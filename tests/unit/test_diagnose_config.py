"""[diagnose], [security], [integrity], [backups]: good files, bad files (file + key in one line),
the shipped example documenting every key with its default, and --fail-on's exit codes."""

from __future__ import annotations

import dataclasses
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engflow_tui.config import (
    BackupsConfig,
    DiagnoseConfig,
    IntegrityRelation,
    SecurityConfig,
    load_config,
)
from engflow_tui.config_dump import dump_config
from engflow_tui.diagnose import Check, Report, by_section, render_text
from engflow_tui.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_good_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        """
[diagnose]
exclude = ["maintenance.unused_indexes", "security.function_search_path:public.my_fn"]
orphan_count_timeout = "2s"
long_running_query = "90s"
[security]
allowed_cidrs = ["10.0.0.0/8", "192.0.2.10"]
[[integrity.relations]]
child = "public.anexos.projeto_id"
parent = "public.projetos.id"
[backups]
path = "/var/backups/engflow"
max_age = "2d"
""",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.diagnose.exclude == (
        "maintenance.unused_indexes",
        "security.function_search_path:public.my_fn",
    )
    assert config.diagnose.orphan_count_timeout == 2.0
    assert config.diagnose.long_running_query == 90.0
    assert config.security.allowed_cidrs == ("10.0.0.0/8", "192.0.2.10")
    assert config.integrity.relations == (
        IntegrityRelation("public.anexos.projeto_id", "public.projetos.id"),
    )
    assert config.backups.path == "/var/backups/engflow" and config.backups.max_age == 172800.0
    # `config show` writes it back and it loads to the same thing.
    again = tmp_path / "again.toml"
    again.write_text(dump_config(config), encoding="utf-8")
    reloaded = load_config(again)
    assert reloaded.diagnose == config.diagnose and reloaded.integrity == config.integrity
    assert reloaded.backups == config.backups and reloaded.security == config.security


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[diagnose]\nexclud = []", "diagnose.exclud: unknown key (did you mean 'exclude'?)"),
        (
            '[diagnose]\nexclude = ["maintenance.unused_index:public.x"]',
            "diagnose.exclude: no check 'maintenance.unused_index' (did you mean 'maintenance.unused_indexes'?)",
        ),
        (
            '[diagnose]\nexclude = ["Not A Check!"]',
            "diagnose.exclude: 'Not A Check!' is not a check id",
        ),
        ('[diagnose]\norphan_count_timeout = "soon"', "diagnose.orphan_count_timeout: 'soon'"),
        ('[security]\nallowed_cidrs = ["10.0.0.0/33"]', "security.allowed_cidrs: '10.0.0.0/33'"),
        (
            '[security]\nallowed_cidrs = "10.0.0.0/8"',
            "security.allowed_cidrs: must be a non-empty list",
        ),
        ("[integrity]\nrelations = 3", "integrity.relations: must be an array of tables"),
        (
            '[[integrity.relations]]\nchild = "anexos.projeto_id"\nparent = "public.projetos.id"',
            "integrity.relations[0].child: must be schema.table.column",
        ),
        (
            '[[integrity.relations]]\nchild = "public.a.b"',
            "integrity.relations[0].parent: must be schema.table.column",
        ),
        ('[[integrity.relations]]\nchild = "public.a.b"\nparnet = "x"', "(did you mean 'parent'?)"),
        ("[backups]\npath = 5", "backups.path: must be a non-empty string"),
        ('[backups]\nmax_age = "-1h"', "backups.max_age"),
        ('[backups]\nglob = "/tmp/dumps/*.dump"', "backups.glob: '/tmp/dumps/*.dump': give a pattern"),
        ('[backups]\nglob = "../*.dump"', "backups.glob: '../*.dump': give a pattern"),
        ("[diagnostics]\n", "diagnostics: unknown key (did you mean 'diagnose'?)"),
    ],
)
def test_bad_file_is_one_line_naming_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message, message
    assert "\n" not in message


def test_example_documents_every_key_with_its_default() -> None:
    path = ROOT / "config.toml.example"
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    config = load_config(path)
    for section, cls in (
        ("diagnose", DiagnoseConfig),
        ("security", SecurityConfig),
        ("backups", BackupsConfig),
    ):
        documented = set(data.get(section, {}))
        for f in dataclasses.fields(cls):
            assert f.name in documented or f"# {f.name} =" in text, f"{section}.{f.name}"
        for key in documented:
            assert getattr(getattr(config, section), key) == getattr(cls(), key), key
    assert "# child = " in text and "# parent = " in text


def _report(*statuses: str, reachable: bool = True) -> Report:
    checks = [Check(f"maintenance.c{i}", s, "x") for i, s in enumerate(statuses)]
    return Report("t", datetime.now(UTC), checks, reachable=reachable)


@pytest.mark.parametrize(
    ("statuses", "fail_on", "code"),
    [
        (("ok", "warning"), None, 1),
        (("ok", "warning"), "critical", 0),
        (("ok", "warning"), "warning", 1),
        (("critical", "warning"), "critical", 2),
        (("critical",), "warning", 2),
        (("ok", "unknown"), "warning", 0),
        (("ok",), None, 0),
    ],
)
def test_fail_on(statuses: tuple[str, ...], fail_on: str | None, code: int) -> None:
    assert _report(*statuses).exit_code_failing_on(fail_on) == code


def test_unreachable_is_3_whatever_fail_on_says() -> None:
    assert _report("unknown", reachable=False).exit_code_failing_on("critical") == 3


def test_sections_worst_first_and_text_groups_them() -> None:
    checks = [
        Check("database.reachable", "ok", "up"),
        Check("maintenance.vacuum", "warning", "dead tuples"),
        Check("rls.disabled", "critical", "1 table"),
        Check("capabilities", "unknown", "cannot see"),
    ]
    assert [s for s, _, _ in by_section(checks)] == [
        "Security",
        "Maintenance",
        "Privileges",
        "Connectivity",
    ]
    text = render_text(Report("t", datetime.now(UTC), checks))
    assert text.index("== Security (critical)") < text.index("== Maintenance (warning)")
    assert text.index("== Maintenance (warning)") < text.index("== Connectivity (ok)")


def test_readme_documents_every_check() -> None:
    from engflow_tui.diagnostics import check_ids

    # The checks table moved with the manual from README.md to docs/diagnostics.md.
    readme = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    table = readme[readme.index("| check id |") :]
    for check_id in check_ids():
        assert f"`{check_id}`" in table, check_id


@pytest.mark.parametrize(
    ("check", "item", "expected"),
    [
        (Check("capabilities", "warning", "x"), None, None),
        (
            Check("rls.disabled", "critical", "x", action="Enable RLS"),
            {"schema": "public", "table": "t", "policies": 0},
            ("Enable RLS", {"schema": "public", "table": "t"}),
        ),
        (Check("rls.disabled", "critical", "x", action="Enable RLS"), None, ("Enable RLS", {})),
        (
            Check(
                "locks.blocking",
                "warning",
                "x",
                action="Terminate session",
                action_target={"pid": 1, "backend_start": "t0"},
            ),
            None,
            ("Terminate session", {"pid": 1, "backend_start": "t0"}),
        ),
        (
            Check(
                "locks.blocking",
                "warning",
                "x",
                action="Terminate session",
                action_target={"pid": 1, "backend_start": "t0"},
            ),
            {"pid": 7, "backend_start": "t7", "depth": 1},
            ("Terminate session", {"pid": 7, "backend_start": "t7"}),
        ),
        (
            Check(
                "connections.idle_in_transaction",
                "warning",
                "x",
                action="Terminate idle transactions",
            ),
            {"pid": 3},
            ("Terminate idle transactions", {}),
        ),
    ],
)
def test_the_action_a_finding_offers(check: Check, item, expected) -> None:  # type: ignore[no-untyped-def]
    from engflow_tui.screens.diagnose_screen import action_for

    assert action_for(check, item) == expected


def test_blocking_tree_roots_first_by_how_many_they_hold_up() -> None:
    from engflow_tui.diagnostics.performance import blocking_tree

    def row(pid: int, *blocked_by: int) -> dict:  # type: ignore[type-arg]
        return {"pid": pid, "blocked_by": list(blocked_by), "user": "u", "state": "active"}

    rows = [row(1), row(2, 1), row(3), row(4, 3), row(5, 3), row(6, 4), row(7, 99)]
    tree = [(n["pid"], n["depth"], n["root"]) for n in blocking_tree(rows)]
    # 3 holds up three sessions (4, 5, and 6 behind 4): it comes first; 1 holds up one;
    # 99 is a blocker this role cannot see (or a prepared transaction, pid 0): still listed.
    assert tree == [
        (3, 0, 3),
        (4, 1, 3),
        (6, 2, 3),
        (5, 1, 3),
        (1, 0, 1),
        (2, 1, 1),
        (99, 0, 99),
        (7, 1, 99),
    ]


def test_a_check_with_one_table_acts_on_it_and_with_several_asks() -> None:
    from engflow_tui.diagnose import Check
    from engflow_tui.screens.diagnose_screen import action_for

    one = [{"schema": "public", "table": "orcamentos_historico", "policies": 0}]
    check = Check("rls.disabled", "critical", "1 table", 1, details=one, action="Enable RLS")
    assert action_for(check, None) == (
        "Enable RLS",
        {"schema": "public", "table": "orcamentos_historico"},
    )
    two = one + [{"schema": "public", "table": "anexos", "policies": 0}]
    check = Check("rls.disabled", "critical", "2 tables", 2, details=two, action="Enable RLS")
    assert action_for(check, None) == ("Enable RLS", {})  # the action's picker asks which
    assert action_for(check, two[1]) == ("Enable RLS", {"schema": "public", "table": "anexos"})


def test_the_check_catalogue_is_what_the_probes_produce() -> None:
    """diagnostics/checks.toml (what the config validates [diagnose] exclude against) lists
    exactly the checks the probes and the report produce, in their order, quick ones marked."""
    from engflow_tui.diagnostics import check_ids, probe_check_ids

    assert check_ids() == probe_check_ids()
    assert check_ids(quick=True) == probe_check_ids(quick=True)
