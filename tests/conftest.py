"""Fixtures: real PostgreSQL servers (embedded 18; Debian 15 where installed), one per session,
and a fresh database per test. Servers are stopped by their own data directory / PID."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from engflow_tui.pgserver import (
    LocalPostgres,
    debian_bin_dir,
    embedded_bin_dir,
    temporary_server,
)

from .pg import create_database, drop_database

# Keep the user's real config and state out of the tests.
os.environ.pop("ENGFLOW_CONFIG", None)
for _name in ("DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD"):
    os.environ.pop(_name, None)

_servers: dict[int, LocalPostgres] = {}


@pytest.fixture(autouse=True)
def _private_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Audit logs and alert history go to a directory of each test's own, never the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


def _server(major: int) -> LocalPostgres:
    if major not in _servers:
        bins = embedded_bin_dir() if major == 18 else debian_bin_dir(major)
        if bins is None:
            pytest.skip(f"PostgreSQL {major} server binaries not installed")
        _servers[major] = temporary_server(bins, prefix=f"engflow-test-pg{major}-")
    return _servers[major]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for server in _servers.values():
        server.remove()


@pytest.fixture(
    scope="session", params=[18, pytest.param(15, marks=pytest.mark.pg15)], ids=["pg18", "pg15"]
)
def pg_server(request: pytest.FixtureRequest) -> Iterator[LocalPostgres]:
    """Each PostgreSQL version available here (tests using it run once per version)."""
    yield _server(request.param)


@pytest.fixture(scope="session")
def pg18() -> Iterator[LocalPostgres]:
    yield _server(18)


@dataclass
class Db:
    server: LocalPostgres
    name: str

    def dsn(self, user: str | None = None) -> str:
        return self.server.dsn(self.name, user=user)


@pytest.fixture
async def db(pg_server: LocalPostgres) -> AsyncIterator[Db]:
    """A fresh database (with pg_stat_statements) on each server version."""
    name = await create_database(pg_server)
    yield Db(pg_server, name)
    await drop_database(pg_server, name)


@pytest.fixture
async def db18(pg18: LocalPostgres) -> AsyncIterator[Db]:
    """A fresh database on PostgreSQL 18 (UI tests)."""
    name = await create_database(pg18)
    yield Db(pg18, name)
    await drop_database(pg18, name)
