"""A throwaway PostgreSQL 15 server for the test run.

``initdb`` refuses to run as root, and CI runs as root: the server then runs as the ``postgres`` system user
(``runuser``), with its data and socket in a temporary directory that user owns. It listens on loopback only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BIN_DIRS = [Path("/usr/lib/postgresql/15/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]


def find_bin(name: str) -> Path | None:
    env_dir = os.environ.get("ATELIER_PG_BIN")
    for directory in ([Path(env_dir)] if env_dir else []) + BIN_DIRS:
        candidate = directory / name
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    directory: Path
    port: int
    user: str

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def start() -> PostgresServer:
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("PostgreSQL binaries not found (set ATELIER_PG_BIN)")
    directory = Path(tempfile.mkdtemp(prefix="atelier-pg-"))
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    subprocess.run(
        _as_server_user([str(initdb), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = (
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=300"
    )
    subprocess.run(
        _as_server_user([str(pg_ctl), "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    return PostgresServer(directory, port, user)


def stop(server: PostgresServer) -> None:
    pg_ctl = find_bin("pg_ctl")
    if pg_ctl is not None:
        subprocess.run(
            _as_server_user([str(pg_ctl), "-D", str(server.directory / "data"), "-m", "immediate", "stop"]),
            capture_output=True,
        )
    shutil.rmtree(server.directory, ignore_errors=True)
