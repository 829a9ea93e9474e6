"""Reading a dump's policies and pg_restore's errors as text: every role, every error whole."""

from __future__ import annotations

import pytest

from engflow_tui.diagnostics.dump_text import (
    COMMAND_CHARS,
    missing_roles,
    policy_entries,
    policy_roles,
    restore_errors,
)

TOC = """;
; Selected TOC Entries:
;
219; 1259 16386 TABLE public orc postgres
2567; 0 16386 TABLE DATA public orc postgres
2563; 0 16386 ROW SECURITY public orc postgres
2566; 3256 16393 POLICY public orc p TO x postgres
2564; 3256 16391 POLICY public orc p_read postgres
"""


def test_policy_entries_are_the_policy_lines_of_the_list() -> None:
    assert policy_entries(TOC) == [
        "2566; 3256 16393 POLICY public orc p TO x postgres",
        "2564; 3256 16391 POLICY public orc p_read postgres",
    ]


@pytest.mark.parametrize(
    ("sql", "roles"),
    [
        ("CREATE POLICY p ON public.t USING (true);", []),
        (
            "CREATE POLICY p ON public.t FOR SELECT TO authenticated USING (true);",
            ["authenticated"],
        ),
        (
            'CREATE POLICY "p TO x" ON "my schema"."T.x" AS RESTRICTIVE FOR INSERT '
            'TO anon, "Weird ""Role"", x" WITH CHECK (true);',
            ["anon", 'Weird "Role", x'],
        ),
        ("CREATE POLICY p ON public.t TO PUBLIC, CURRENT_USER, service_role;", ["service_role"]),
        (
            "CREATE POLICY a ON public.t TO anon USING (true);\n"
            "CREATE POLICY b ON public.t TO anon, authenticated USING (true);",
            ["anon", "authenticated"],
        ),
    ],
)
def test_policy_roles_reads_every_to_list(sql: str, roles: list[str]) -> None:
    assert policy_roles(sql) == roles


PG18_STDERR = """pg_restore: error: could not execute query: ERROR:  role "authenticated" does not exist
Command was: CREATE POLICY p_read ON public.orc FOR SELECT TO authenticated USING ((owner = CURRENT_USER));


pg_restore: error: COPY failed for table "ledger": ERROR:  new row for relation "ledger" violates check constraint "c"
DETAIL:  Failing row contains (1).
CONTEXT:  COPY ledger, line 1: "1"
pg_restore: warning: errors ignored on restore: 2
"""

PG15_STDERR = """pg_restore: while PROCESSING TOC:
pg_restore: from TOC entry 2564; 3256 16391 POLICY public orc p_read postgres
pg_restore: error: could not execute query: ERROR:  role "anon" does not exist
Command was: CREATE POLICY p_read ON public.orc FOR SELECT TO anon USING ((owner = CURRENT_USER));


pg_restore: warning: errors ignored on restore: 1
"""


def test_restore_errors_are_whole_one_per_error() -> None:
    assert restore_errors(PG18_STDERR) == [
        'role "authenticated" does not exist — while running: CREATE POLICY p_read ON '
        "public.orc FOR SELECT TO authenticated USING ((owner = CURRENT_USER));",
        'COPY failed for table "ledger": ERROR: new row for relation "ledger" violates check '
        'constraint "c" DETAIL: Failing row contains (1). CONTEXT: COPY ledger, line 1: "1"',
    ]
    assert restore_errors(PG15_STDERR) == [
        'POLICY public orc p_read postgres: role "anon" does not exist — while running: '
        "CREATE POLICY p_read ON public.orc FOR SELECT TO anon USING ((owner = CURRENT_USER));"
    ]
    assert missing_roles(restore_errors(PG18_STDERR + PG15_STDERR)) == ["authenticated", "anon"]


def test_a_long_statement_is_cut_between_words_and_the_message_never() -> None:
    message = "x" * 700 + " the end"
    statement = "CREATE FUNCTION f() " + " ".join(f"word{n}" for n in range(200))
    errors = restore_errors(f"pg_restore: error: {message}\nCommand was: {statement}\n")
    assert errors[0].startswith(message + " — while running: CREATE FUNCTION f() word0")
    quoted = errors[0].split(" — while running: ")[1]
    assert quoted.endswith(" …") and len(quoted) <= COMMAND_CHARS + 2
    assert quoted.removesuffix(" …").split()[-1] in statement.split()
