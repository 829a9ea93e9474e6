"""What a dump and pg_restore say, read as text (pure: no I/O, no Textual).

- :func:`policy_entries` picks the POLICY lines of ``pg_restore --list``;
- :func:`policy_roles` reads the roles the ``CREATE POLICY … TO r1, r2`` statements of a dump
  name (a test restore creates them in its scratch server, or the policies would not restore);
- :func:`restore_errors` turns pg_restore's stderr into one complete line per error (the
  server's message in full, and the start of the statement it ran, cut between words);
- :func:`missing_roles` finds the roles an error says do not exist.
"""

from __future__ import annotations

import re

PSEUDO_ROLES = frozenset({"public", "current_user", "current_role", "session_user"})
"""Bare words a policy's TO list may hold that are not roles to create."""

COMMAND_CHARS = 160
"""How much of a failed statement an error line quotes (cut at a word boundary)."""

_TOKEN = re.compile(r'\s*("(?:[^"]|"")*"|[^\s"(),;.]+|[(),;.])', re.S)
_ERROR = re.compile(r"^pg_restore: error: (?:could not execute query: )?(?:ERROR:\s+)?(.*)$")
_TOC_ENTRY = re.compile(r"^pg_restore: from TOC entry \d+; \d+ \d+ (.*?)\s*$")
_MISSING_ROLE = re.compile(r'\brole "(.+?)" does not exist')


def policy_entries(toc: str) -> list[str]:
    """The lines of ``pg_restore --list`` output that restore a row-level security policy
    (``2564; 3256 16391 POLICY public orc p_read postgres``)."""
    entries = []
    for line in toc.splitlines():
        if line.startswith(";") or ";" not in line:
            continue
        fields = line.split(";", 1)[1].split()
        if len(fields) >= 3 and fields[2] == "POLICY":
            entries.append(line)
    return entries


def _identifier(token: str) -> str:
    if token.startswith('"'):
        return token[1:-1].replace('""', '"')
    return token.lower()  # unquoted: PostgreSQL folds it


def policy_roles(sql: str) -> list[str]:
    """The roles named by the ``TO`` clauses of the ``CREATE POLICY`` statements in ``sql``
    (pg_dump's output), in order of appearance, each once; PUBLIC and CURRENT_USER are not
    roles to create."""
    roles: list[str] = []
    for match in re.finditer(r"\bCREATE POLICY\b", sql):
        tokens = _TOKEN.finditer(sql, match.end())
        words = []
        for token in tokens:  # name ON table [AS x] [FOR x] [TO r, …] then USING / WITH / ;
            text = token.group(1)
            if text.upper() in ("USING", "WITH", ";", "("):
                break
            words.append(text)
        if "TO" not in (w.upper() for w in words):
            continue
        after = words[[w.upper() for w in words].index("TO") + 1 :]
        for word in after:
            if word == ",":
                continue
            if not word.startswith('"') and word.lower() in PSEUDO_ROLES:
                continue
            role = _identifier(word)
            if role not in roles:
                roles.append(role)
    return roles


def _cut(text: str, limit: int = COMMAND_CHARS) -> str:
    """``text`` whole when short, else cut at the last space before ``limit`` (never mid-word)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit].rsplit(" ", 1)[0]
    return head + " …"


def restore_errors(stderr: str) -> list[str]:
    """One line per error pg_restore reported: the TOC entry when it names one (pg_restore
    12-17), the server's message in full (DETAIL and HINT lines joined to it) and the start of
    the statement that failed."""
    errors: list[str] = []
    entry = ""
    message: list[str] = []
    command: list[str] = []
    in_command = False

    def close() -> None:
        nonlocal entry, message, command, in_command
        if message:
            text = " ".join(" ".join(message).split())
            if entry:
                text = f"{entry}: {text}"
            if command:
                text += f" — while running: {_cut(' '.join(command))}"
            errors.append(text)
            entry = ""
        message, command, in_command = [], [], False

    for line in stderr.splitlines():
        if found := _ERROR.match(line):
            close()
            message = [found.group(1)]
        elif toc := _TOC_ENTRY.match(line):
            close()
            entry = toc.group(1)
        elif line.startswith("pg_restore:"):  # a warning or the next step: the error is over
            close()
            entry = ""
        elif not message:
            continue
        elif line.startswith("Command was:"):
            command, in_command = [line.removeprefix("Command was:").strip()], True
        elif line.strip():
            (command if in_command else message).append(line.strip())  # DETAIL:/HINT:/body
    close()
    return errors


def missing_roles(errors: list[str]) -> list[str]:
    """The roles the errors say do not exist, each once."""
    roles: list[str] = []
    for error in errors:
        for found in _MISSING_ROLE.finditer(error.split(" — while running: ")[0]):
            if found.group(1) not in roles:
                roles.append(found.group(1))
    return roles
