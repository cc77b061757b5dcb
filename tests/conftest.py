"""Shared fixtures: the territory, the clock's "now", and a fresh database per test.

Which database a test runs on
-----------------------------
A test that takes ``db``, ``db_url`` or ``settings`` gets a fresh, migrated database holding the territory. It runs
on **SQLite** only, unless it is marked ``both_dialects`` — on the module (``pytestmark = pytest.mark.both_dialects``)
or on the test — and then it runs on SQLite and on a throwaway **PostgreSQL** server the run starts itself
(``tests/helpers/pgserver.py``). Production runs on either, so every behaviour that can differ between the two runs on
both. Mark a test ``both_dialects`` when its outcome can depend on the engine:

- locks and concurrency: seating (``FOR UPDATE`` vs ``BEGIN IMMEDIATE``), claiming the outbox (``SKIP LOCKED``),
  the shared sending pace, leases, several dispatchers or processes;
- statements written per dialect: ``INSERT … ON CONFLICT`` (idempotency keys, inbound de-duplication, erased
  identities), the ``FOR UPDATE`` only PostgreSQL takes on delivery reports;
- what the engine does with values: time zones, JSON, aggregates and ``min``/``max`` of times, ordering of text
  and NULLs, integers too large for a column, transactions rolled back;
- the operations of ``bot/service`` and ``storage`` that run their own SQL (listings, reports, changes, reminders,
  stats, enrolments, the advisers' and residents' registers), and every transcript through the service.

Channels (SMS webhook, Telegram), interfaces (CLI, Telegram advisers) and the app's wiring reach the database only
through those operations: their tests run on SQLite, except the few that are the only ones to reach a dialect's
statement (a replayed provider message, a delivery report, an outbox id out of range), which are marked. The
modules and tests marked are listed by ``pytest --collect-only -q | grep postgresql``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import asyncpg
import httpx._config as httpx_config
import httpx._transports.default as httpx_transports  # the one function patched below
import pytest
import typer.main
import typer.testing as typer_testing  # the one function patched below
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import DEFAULT_TERRITORY, Settings, load_settings
from bot.service import accounts
from bot.service.places import sync_territory
from bot.territory import Territory, load_territory
from storage.database import Database, create_engine, sqlite_writer
from storage.migrate import upgrade
from storage.models import Base
from storage.sqlite_writer import SQLiteWriter
from tests.helpers import pgserver

os.environ.setdefault("PTB_TIMEDELTA", "true")

PG_DATABASE = "atelier_test"
TABLES = [table.name for table in Base.metadata.sorted_tables]  # parents before children


def run_sync(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run set-up coroutines of session fixtures in their own thread: they may be first requested from inside
    a test's running event loop (``getfixturevalue`` in an async fixture)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


async def _prepare(url: str, territory: Territory) -> None:
    db = Database.from_url(url)
    try:
        await upgrade(db.engine)
        await sync_territory(db=db, territory=territory)
    finally:
        await db.dispose()


def pytest_configure() -> None:
    """pytest-xdist's workers export ``COLUMNS=80`` and ``LINES=24``; rich freezes them into the consoles
    ``bot.interfaces.cli`` makes when first imported, and the CLI tests give each command its own ``COLUMNS``
    (``tests/helpers/cli.py``). Take them out before any test module imports the CLI."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules holding ``slow`` tests first, each module's tests in their order: two workers (``make test``) take
    a module at a time, and a long module taken last would leave the other worker idle at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with the smallest cost it accepts: the production cost (64 MiB, 3 passes, 4 lanes: a tenth of a
    second or more of CPU per hash or check) was spent two or three times in every console test.
    Same algorithm and format (``$argon2id$``), same decoy, same code; an ``atelier serve`` the tests start keeps
    the real cost."""
    cheap = accounts.PasswordHashing(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "hashing", lambda: cheap)
        yield


@pytest.fixture(scope="session", autouse=True)
def one_cli_command() -> Iterator[None]:
    """typer's ``CliRunner.invoke`` builds the click command tree anew from the app's annotations on every call (40 ms
    of CPU; 334 times in two of the CLI's test modules alone): built once per app. Click keeps each invocation's
    state in its own context, never in the commands."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer_testing, "_get_command", cache(typer.main.get_command))
        yield


@pytest.fixture(scope="session", autouse=True)
def one_tls_context() -> Iterator[None]:
    """Every HTTP client of the tests speaks plain HTTP on loopback, yet httpx loads the CA bundle for each client it
    makes (a tenth of a second or more; python-telegram-bot makes two per bot, hundreds in a run). One context per
    set of options, made once, serves them all; httpx only adds to a context for an HTTPS connection, never made."""
    made: dict[tuple[Any, ...], ssl.SSLContext] = {}
    create = httpx_config.create_ssl_context  # what httpx_transports calls

    def create_once(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if not isinstance(verify, bool) or cert is not None:
            return create(verify=verify, cert=cert, trust_env=trust_env)
        key = (verify, trust_env)
        if key not in made:
            made[key] = create(verify=verify, cert=cert, trust_env=trust_env)
        return made[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx_transports, "create_ssl_context", create_once)
        yield


@pytest.fixture(scope="session")
def territory() -> Territory:
    return load_territory(DEFAULT_TERRITORY)


@pytest.fixture(scope="session")
def pg_server(territory: Territory) -> Iterator[pgserver.PostgresServer]:
    """The run's PostgreSQL server, holding one migrated database with the territory (``PG_DATABASE``), whose rows
    are kept aside to be put back before each test."""
    server = pgserver.start()
    try:

        async def make_database() -> None:
            conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user=server.user, database="postgres")
            try:
                await conn.execute(f"CREATE DATABASE {PG_DATABASE}")
            finally:
                await conn.close()
            await _prepare(server.url(PG_DATABASE), territory)
            conn = await _connect(server)
            try:
                await pgserver.snapshot(conn, TABLES)
            finally:
                await conn.close()

        run_sync(make_database())
        yield server
    finally:
        pgserver.stop(server)


async def _connect(server: pgserver.PostgresServer) -> asyncpg.Connection:
    return await asyncpg.connect(host="127.0.0.1", port=server.port, user=server.user, database=PG_DATABASE)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory, territory: Territory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    run_sync(_prepare(f"sqlite+aiosqlite:///{path}", territory))
    return path


DIALECTS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``backend`` (what ``db_url`` and ``db`` are built on): SQLite, and PostgreSQL too for ``both_dialects``; a
    test that parametrizes ``backend`` itself keeps its choice."""
    if "backend" not in metafunc.fixturenames:
        return
    if any(_names(mark).count("backend") for mark in metafunc.definition.iter_markers("parametrize")):
        return
    both = metafunc.definition.get_closest_marker("both_dialects") is not None
    metafunc.parametrize("backend", DIALECTS if both else DIALECTS[:1])


def _names(mark: pytest.Mark) -> list[str]:
    names = mark.args[0]
    return [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)


@pytest.fixture
async def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database holding the territory, on the current backend: a copy of a template file on
    SQLite; on PostgreSQL, the run's database with its rows put back as they were after the migration."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = template.with_name("atelier.db")
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)  # a connection a test left open keeps the old files, not these
        copy = tmp_path / "copy.db"
        shutil.copy(template, copy)
        copy.replace(path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: pgserver.PostgresServer = request.getfixturevalue("pg_server")
    conn = await _connect(server)
    try:
        await pgserver.restore(conn, TABLES)
    finally:
        await conn.close()
    yield server.url(PG_DATABASE)


@pytest.fixture(scope="session")
def engines() -> dict[str, AsyncEngine]:
    """One engine per database URL for the whole run (each test's database has the URL of the one before): an
    engine keeps the SQL it compiled, a third of a database test's time when each test compiled it anew."""
    return {}


@pytest.fixture(scope="session")
def writers() -> Iterator[dict[str, SQLiteWriter | None]]:
    """SQLite's writer thread (``Database.transaction``) per database URL for the whole run, like ``engines``."""
    made: dict[str, SQLiteWriter | None] = {}
    yield made
    for writer in made.values():
        if writer is not None:
            writer.stop()


@pytest.fixture
async def db(
    db_url: str, engines: dict[str, AsyncEngine], writers: dict[str, SQLiteWriter | None]
) -> AsyncIterator[Database]:
    engine = engines.get(db_url)
    if engine is None:
        engine = engines[db_url] = create_engine(db_url)
    if db_url not in writers:
        writers[db_url] = sqlite_writer(engine)
    database = Database(engine, writer=writers[db_url])
    try:
        yield database
    finally:
        # Its connections belong to this test's event loop and database file; the compiled SQL stays.
        await database.dispose()


@pytest.fixture
def now() -> datetime:
    """A fixed 'now' for tests: Monday 2 March 2026, 09:00 in Paris."""
    return datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return load_settings({"ATELIER_DATABASE_URL": db_url})
