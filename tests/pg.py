"""Helpers for tests: real PostgreSQL servers and per-test databases (no mocks)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg

from engflow_tui.pgserver import LocalPostgres


async def create_database(server: LocalPostgres, *, pgss: bool = True) -> str:
    """A fresh database on ``server``; returns its name."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(server.dsn(), timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')  # generated name, not input  # ok-sql
    finally:
        await conn.close()
    if pgss:
        conn = await asyncpg.connect(server.dsn(name), timeout=10)
        try:
            await conn.execute("CREATE EXTENSION pg_stat_statements")
        finally:
            await conn.close()
    return name


async def drop_database(server: LocalPostgres, name: str) -> None:
    conn = await asyncpg.connect(server.dsn(), timeout=10)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # ok-sql
    finally:
        await conn.close()


@asynccontextmanager
async def session(dsn: str, application: str = "test-client") -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn, server_settings={"application_name": application}, timeout=10)
    try:
        yield conn
    finally:
        await conn.close()


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    """Wait for a condition the server or the app will reach, never for a fixed time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s: {predicate}")
        await asyncio.sleep(interval)


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that accepts TCP and never answers the startup message: a server that
    hangs. Yields the port; closed on exit."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        yield silent.getsockname()[1]
    finally:
        silent.close()
