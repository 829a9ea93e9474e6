"""DSN handling, pure: parse libpq key=value strings, validate, mask the password, name a target.

A leaf: it imports nothing from the package but ``errors``, so config, db and the CLI can all
use it without importing each other. Never echoes a password. Must not import Textual.
"""

from __future__ import annotations

import getpass
import os
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import DatabaseError

# ---------------------------------------------------------------------------------------------
# libpq key=value strings

_KV_KEYS = {
    "host": "host",
    "hostaddr": "host",
    "port": "port",
    "user": "user",
    "dbname": "database",
    "password": "password",
    "sslmode": "ssl",
    "connect_timeout": None,
    "application_name": None,
}
_KV_TOKEN = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)")


def parse_kv_dsn(dsn: str) -> dict[str, Any]:
    """libpq ``key=value`` strings (spaces around ``=`` allowed, values may be quoted) ->
    asyncpg.connect() keyword arguments. Errors never repeat a value (it may be a password)."""
    kwargs: dict[str, Any] = {}
    position = 0
    text = dsn.strip()
    while position < len(text):
        match = _KV_TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(
                f"cannot parse the connection string after {text[:position].split('=')[0][-20:] or 'its start'!r} (expected key=value)"
            )
        key, value = match.group(1), match.group(2)
        if value.startswith("'"):
            value = value[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        if key not in _KV_KEYS:
            raise ValueError(f"connection string key {key!r} is not supported")
        target = _KV_KEYS[key]
        if target == "port":
            if not (value.isdigit() and 0 < int(value) < 65536):
                raise ValueError("port must be a number between 1 and 65535")
            kwargs[target] = int(value)
        elif target is not None:
            kwargs[target] = value
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return kwargs


def connect_kwargs(dsn: str | None, password: str | None) -> dict[str, Any]:
    if dsn is None:
        return {"password": password} if password else {}
    if "://" in dsn:
        kwargs: dict[str, Any] = {"dsn": dsn}
    else:
        try:
            kwargs = parse_kv_dsn(dsn)
        except ValueError as exc:
            raise DatabaseError(str(exc), sqlstate="dsn") from None
    if password:
        kwargs["password"] = password
    return kwargs


# ---------------------------------------------------------------------------------------------
# Masking, validating, naming

_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"^([a-z]+://[^:/@?#]*:)[^@/?#]*(@)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def dsn_has_password(dsn: str) -> bool:
    """True when the DSN carries a password (user:pw@, ?password=, or password=...)."""
    if "://" in dsn:
        return bool(
            _URI_PASSWORD.search(dsn) and not re.search(r"^[a-z]+://[^:/@?#]*:@", dsn, re.I)
        ) or bool(_QUERY_PASSWORD.search(dsn))
    return _KV_PASSWORD.search(dsn) is not None


def mask_dsn(dsn: str) -> str:
    """The DSN with any password replaced by ``***`` (URI and key=value forms).

    Works on text, not on a parsed URL, so a malformed DSN (bad port, several hosts) is still
    masked rather than raising."""
    if "://" in dsn:
        masked = _URI_PASSWORD.sub(lambda m: m.group(1) + "***" + m.group(2), dsn)
        masked = re.sub(r"^([a-z]+://[^:/@?#]*:)\*\*\*(@)", r"\1***\2", masked, flags=re.I)
        if re.search(r"^[a-z]+://[^:/@?#]*:@", dsn, re.I):
            masked = dsn  # an empty password: nothing to hide
        return _QUERY_PASSWORD.sub(r"\1***", masked)
    return _KV_PASSWORD.sub(r"\1***", dsn)


SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
"""libpq's sslmode values (asyncpg refuses any other when it connects)."""


def _sslmode_problem(sslmode: str | None) -> str | None:
    if sslmode is None or sslmode in SSLMODES:
        return None
    return f"sslmode {sslmode!r} is not one of {', '.join(SSLMODES)}"


def validate_dsn(dsn: str) -> str | None:
    """Why this DSN cannot be used (None when it looks right). Never echoes a password."""
    if not dsn.strip():
        return "is empty"
    if "://" in dsn:
        scheme = dsn.split("://", 1)[0]
        if scheme not in ("postgres", "postgresql"):
            return f"scheme must be postgresql://, not {scheme}://"
        try:
            parts = urlsplit(dsn)
            sslmode = parse_qs(parts.query).get("sslmode")
            if sslmode and (problem := _sslmode_problem(sslmode[-1])):
                return problem
            hosts = parts.netloc.rsplit("@", 1)[-1]
            for host in hosts.split(","):
                if host.startswith("["):
                    _, _, rest = host.partition("]")
                    port = rest[1:] if rest.startswith(":") else ""
                else:
                    port = host.rpartition(":")[2] if ":" in host else ""
                if port and not (port.isdigit() and 0 < int(port) < 65536):
                    return f"port {port!r} is not a number between 1 and 65535"
            parts.port  # noqa: B018 - raises ValueError on a malformed netloc
        except ValueError as exc:
            if "Port" in str(exc) or "port" in str(exc):
                return None if "," in dsn else f"malformed host or port ({exc})"
            return f"malformed ({exc})"
        return None
    try:
        fields = parse_kv_dsn(dsn)
    except ValueError as exc:
        return str(exc)
    return _sslmode_problem(fields.get("ssl"))


def dsn_target_name(dsn: str) -> str:
    """The name of a target given only by a DSN (``--dsn``): ``[user@]host:port/database``.

    It keys the target's alert history and history store, so two servers on different ports,
    or the same server as two users, never share them; the same DSN always gives the same name.
    The user only where the DSN gives one; the port as given, else $PGPORT, else 5432. Never the
    password."""
    default_port = os.environ.get("PGPORT") or "5432"
    if "://" in dsn:
        parts = urlsplit(dsn)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        userinfo, at, hosts = parts.netloc.rpartition("@")
        user = unquote(userinfo.split(":", 1)[0]) if at else ""
        user = query.get("user", user)
        database = unquote(parts.path.lstrip("/")) or query.get("dbname", "")
        hosts = hosts or query.get("host", "local")
        listed = []
        for host in hosts.split(","):
            bracket_end = host.rfind("]")
            has_port = host.rfind(":") > bracket_end and not host.startswith("/")
            listed.append(host if has_port else f"{host}:{query.get('port', default_port)}")
        where = ",".join(listed)
    else:
        try:
            fields = parse_kv_dsn(dsn)
        except ValueError:
            fields = {}
        user = str(fields.get("user", ""))
        database = str(fields.get("database", ""))
        where = f"{fields.get('host', 'local')}:{fields.get('port', default_port)}"
    database = database or user or "postgres"  # libpq's default database is the user's name
    return f"{user + '@' if user else ''}{where}/{database}"


def describe_env_dsn() -> str:
    """What the PG* environment / DATABASE_URL points at, without secrets."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return mask_dsn(url)
    user = os.environ.get("PGUSER") or os_user()
    host = os.environ.get("PGHOST", "localhost")
    port = os.environ.get("PGPORT", "5432")
    database = os.environ.get("PGDATABASE", user)
    return f"postgresql://{user}@{host}:{port}/{database} (PG* environment)"


def pg_environment_present() -> bool:
    return any(
        os.environ.get(name)
        for name in ("DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER")
    )


def os_user() -> str:
    """The OS user's name (libpq's default user); containers often run as a UID with no passwd
    entry."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or f"uid-{os.getuid()}"
