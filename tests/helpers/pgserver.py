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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

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


# --- one database per run, put back as it was before each test ---------------------------------------------------
# Creating a database per test from a template costs a quarter of a second; putting the rows back costs a few
# milliseconds. The rows the migrated, territory-holding database starts with are copied once into a schema of
# their own; before each test every table is emptied, refilled from that copy and its id sequence restarted, and
# whatever connection a previous test left open is ended first (what DROP DATABASE … WITH (FORCE) would do).

SNAPSHOT_SCHEMA = "pristine"


async def snapshot(conn: asyncpg.Connection, tables: Sequence[str]) -> None:
    """Keep a copy of ``tables``' rows (in the database ``conn`` is connected to)."""
    await conn.execute(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}")
    for table in tables:
        await conn.execute(f'CREATE TABLE {SNAPSHOT_SCHEMA}."{table}" AS TABLE public."{table}"')


async def restore(conn: asyncpg.Connection, tables: Sequence[str]) -> None:
    """Put ``tables`` (parents before children) back as the snapshot has them, id sequences included."""
    await conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    sequences = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')"
    )
    # The names below are the models' tables and columns, not input: S608 does not apply.
    statements = [f'DELETE FROM public."{table}"' for table in reversed(tables)]  # noqa: S608
    statements += [f'INSERT INTO public."{t}" SELECT * FROM {SNAPSHOT_SCHEMA}."{t}"' for t in tables]  # noqa: S608
    statements += [
        f"SELECT setval(pg_get_serial_sequence('public.\"{table}\"', '{column}'),"  # noqa: S608
        f' coalesce((SELECT max("{column}") FROM public."{table}"), 0) + 1, false)'
        for table, column in sequences
    ]
    async with conn.transaction():
        await conn.execute(";\n".join(statements))
