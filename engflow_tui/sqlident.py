"""SQL identifiers and literals quoted for PostgreSQL, whatever they contain (quotes, dots,
spaces, unicode, ``;``): the one quoting helper. Statements the console runs bind their values
(``$1``); identifiers, which cannot be bound, go through :func:`quote_ident`.

A pure leaf: it imports nothing of the package, so everything may import it (the model names a
table with it, the database layer builds DDL with it).
"""

from __future__ import annotations


def quote_ident(name: str) -> str:
    """Quote an SQL identifier, whatever it contains (quotes, dots, spaces, unicode, ``;``)."""
    if "\x00" in name:
        raise ValueError("identifier contains a NUL byte")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A string as an SQL literal, for statements the console *shows* (a fix to copy); the
    statements it runs bind their values."""
    if "\x00" in value:
        raise ValueError("text contains a NUL byte")
    return "'" + value.replace("'", "''") + "'"


def quote_qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"
