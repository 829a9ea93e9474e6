"""The one place that talks to asyncpg: connect, timeouts, server version, quoting, error mapping.

Driver exceptions are translated here into :class:`engflow_tui.errors.DatabaseError` with the
server's message and, where we know it, the grant or setting that fixes it. The UI never imports
asyncpg. Must not import Textual.
"""

from __future__ import annotations

import asyncio
import re
from functools import cache
from importlib.resources import files

import asyncpg

from . import own_sessions
from .dsn import connect_kwargs, mask_dsn
from .errors import DatabaseError
from .sqlident import quote_ident, quote_literal, quote_qualified  # noqa: F401 - re-exported

APPLICATION_NAME = "engflow-tui"
#: Marker in every statement the console sends, so its own pg_stat_statements entries are skipped.
QUERY_MARKER = "/* engflow-tui */"


# ---------------------------------------------------------------------------------------------
# SQL as data


@cache
def _sql_names() -> frozenset[str]:
    return frozenset(p.name for p in files("engflow_tui").joinpath("sql").iterdir())


@cache
def load_sql(name: str, server_version_num: int = 999999) -> str:
    """The text of ``sql/<name>.sql``, or its newest ``<name>_post_<N>.sql`` variant with N <= the server version."""
    variants = []
    prefix = f"{name}_post_"
    for file_name in _sql_names():
        if file_name.startswith(prefix) and file_name.endswith(".sql"):
            number = int(file_name[len(prefix) : -4])
            if number <= server_version_num:
                variants.append((number, file_name))
    chosen = max(variants)[1] if variants else f"{name}.sql"
    text = files("engflow_tui").joinpath("sql", chosen).read_text(encoding="utf-8")
    # Insert the marker after the leading keyword so pg_stat_statements keeps it in the text.
    return re.sub(
        r"^(\s*(?:--[^\n]*\n\s*)*)(SELECT|WITH)\b", rf"\1\2 {QUERY_MARKER}", text, count=1
    )


# ---------------------------------------------------------------------------------------------
# Connecting


async def connect(
    dsn: str | None,
    *,
    password: str | None = None,
    timeout: float = 5.0,
    statement_timeout: float = 1.5,
    read_only: bool = True,
    application_name: str = APPLICATION_NAME,
    lock_timeout: float | None = None,
) -> asyncpg.Connection:
    """Open one connection; every statement on it is bounded by ``statement_timeout``."""
    settings = {
        "application_name": application_name,
        "statement_timeout": str(max(int(statement_timeout * 1000), 1)),
        "idle_in_transaction_session_timeout": "60000",
        # The server notices a client that vanished (a network break, a host gone) within about
        # a minute instead of the system's two hours: its session, and a watcher's alerting
        # lock with it, do not outlive the client for long. (TCP only; ignored on a socket.)
        "tcp_keepalives_idle": "30",
        "tcp_keepalives_interval": "10",
        "tcp_keepalives_count": "3",
    }
    if read_only:
        settings["default_transaction_read_only"] = "on"
    if lock_timeout is not None:
        settings["lock_timeout"] = str(max(int(lock_timeout * 1000), 1))
    conn = None
    try:
        conn = await asyncpg.connect(
            **connect_kwargs(dsn, password),
            timeout=timeout,
            command_timeout=statement_timeout + 1.0,
            server_settings=settings,
            statement_cache_size=100,
        )
        await _register_own(conn)
        return conn
    except BaseException as exc:  # noqa: BLE001 - translated, CancelledError re-raised
        if conn is not None:
            conn.terminate()
        if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
            raise
        raise translate_error(exc) from None


async def _register_own(conn: asyncpg.Connection) -> None:
    """Make the connection known as the console's own (own_sessions) until it closes."""
    pid = conn.get_server_pid()
    started = await conn.fetchval(load_sql("own_backend"))
    if started is None:
        return
    own_sessions.register(pid, started)
    conn.add_termination_listener(lambda _conn: own_sessions.unregister(pid, started))


# ---------------------------------------------------------------------------------------------
# Errors

_FIXES = {
    "42501": "grant the monitoring role pg_monitor (GRANT pg_monitor TO <role>;)",
    "28P01": "check the password (the variable named by password_env)",
    "28000": "check pg_hba.conf allows this user from this host",
    "3D000": "check the database name in the DSN",
    "57014": "the statement hit statement_timeout: the server is slow or the query is heavy",
    "55P03": "another transaction holds a lock on it: retry later or find the blocker",
    "53300": "the server is out of connection slots (max_connections): free some sessions",
}


def translate_error(exc: BaseException) -> DatabaseError:
    """A driver exception -> DatabaseError with the server's message and a fix when known."""
    if isinstance(exc, DatabaseError):
        return exc
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = getattr(exc, "sqlstate", None)
        message = getattr(exc, "message", None) or str(exc)
        detail = getattr(exc, "detail", None)
        if detail:
            message = f"{message} ({detail})"
        return DatabaseError(message, _FIXES.get(sqlstate or ""), sqlstate)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return DatabaseError("timed out", "the server did not answer in time", "timeout")
    if isinstance(exc, asyncpg.InterfaceError):
        return DatabaseError(f"connection problem: {exc}", None, "interface")
    if isinstance(exc, ConnectionRefusedError):
        return DatabaseError(
            "connection refused (is the server running and listening?)", None, "refused"
        )
    if isinstance(exc, OSError):
        text = exc.strerror or str(exc) or type(exc).__name__
        return DatabaseError(f"cannot reach the server: {text}", None, "os")
    if isinstance(exc, ValueError):
        return DatabaseError(f"invalid connection parameters: {mask_dsn(str(exc))}", None, "dsn")
    return DatabaseError(f"{type(exc).__name__}: {exc}", None, "unknown")


def is_connection_lost(exc: BaseException) -> bool:
    """True when the connection itself is gone (reconnect), not just one statement failed."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return False  # a slow statement: the connection is still there
    if isinstance(exc, DatabaseError):
        return exc.sqlstate in {"interface", "os", "refused"} or (exc.sqlstate or "").startswith(
            ("08", "57P")
        )
    if isinstance(
        exc,
        (
            asyncpg.ConnectionDoesNotExistError,
            asyncpg.InterfaceError,
            asyncpg.AdminShutdownError,
            asyncpg.CannotConnectNowError,
            ConnectionError,
            OSError,
        ),
    ):
        return True
    sqlstate = getattr(exc, "sqlstate", "") or ""
    return sqlstate.startswith(("08", "57P"))
