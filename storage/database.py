"""Engine and sessions for SQLite (the embedded default) and PostgreSQL.

SQLite: WAL so readers never block the writer, ``busy_timeout`` so writers queue instead of failing, foreign keys
on, and pysqlite's own transaction handling switched off so that we emit ``BEGIN`` ourselves — ``BEGIN IMMEDIATE``
for the transactions that must take the write lock up front (seating, claiming). This is the recipe of
https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.sqlite_writer import Outcome, SQLiteWriter

T = TypeVar("T")

# At most this many works in one grouped transaction: a broadcast answered by thousands in the same minute makes
# several groups of a few tens of milliseconds each, not one that holds SQLite's write lock (and every caller)
# for seconds, nor one whose single failure runs thousands of works again.
GROUP_LIMIT = 64

_BEGIN_OPTION = "atelier_sqlite_begin"
BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection: Any) -> None:
    """Every SQLite connection's settings, whichever driver made it."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a power cut loses at most the last commits
    # Deleted or overwritten content is zeroed, not left in free space of the file: an erased resident's name
    # and number must not stay readable on disk (https://www.sqlite.org/pragma.html#pragma_secure_delete; some
    # builds, Debian's, have it on by default, others not).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        _sqlite_pragmas(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def dialect_insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_or_skip(session: AsyncSession, table: Table, *, unique: tuple[str, ...]) -> Any:
    """``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING id``: the new row's id, or nothing when the unique
    key exists. Built once per dialect and table (some run for every message); values are bound at execution,
    one row or many."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return _insert_or_skip(dialect, table, unique)


@cache
def insert_or_skip_statement(dialect: str, table: Table, unique: tuple[str, ...]) -> Any:
    """``insert_or_skip`` for a dialect named (a synchronous connection's)."""
    return _insert_or_skip(dialect, table, unique)


@cache
def _insert_or_skip(dialect: str, table: Table, unique: tuple[str, ...]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)


def sqlite_writer(engine: AsyncEngine) -> SQLiteWriter | None:
    """The writer thread for an SQLite file's ``Database.transaction()`` and ``grouped_transaction()``; None for
    an in-memory database (which only the engine's own connections can reach) and for PostgreSQL."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return SQLiteWriter(str(engine.url), prepare=_sqlite_pragmas, begin="BEGIN IMMEDIATE")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    # Enough connections kept open for a burst of webhooks (32 at once in bench/inbound_sms.py): a connection
    # opened beyond the pool's size is closed when given back, and opening one costs PostgreSQL a new backend
    # process — with 10 kept, that churn doubled the database's CPU per message. 30 at most per process: three
    # `atelier serve` workers stay under PostgreSQL's default max_connections (100).
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


@dataclass
class Database:
    """The engine and its session factory; built by the application factory, never at import time.

    ``writer``: SQLite's writer thread (``transaction()``), made here for a file database unless one is given (the
    tests keep one per file for the whole run, with its compiled SQL); one given is released, not closed, by
    ``dispose()``.
    """

    engine: AsyncEngine
    writer: SQLiteWriter | None = None

    def __post_init__(self) -> None:
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process queue here, in order, instead of polling the
        # file lock (busy_timeout sleeps up to 100 ms between tries, which makes the slowest requests very slow).
        # Other processes on the same file still meet at the file lock. Not re-entrant: never nest write().
        self._write_queue = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None
        self._own_writer = self.writer is None
        self._together: _Together | None = None  # transactions waiting to run together (SQLite)
        if self.writer is None and self._write_queue is not None:
            self.writer = sqlite_writer(self.engine)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(create_engine(url, **kwargs))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; commits if the caller wrote anything."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that takes the write lock up front on SQLite (BEGIN IMMEDIATE).

        On PostgreSQL it is an ordinary transaction: the operations inside take row locks (FOR UPDATE) where
        they need them.
        """
        async with self._queued(), self.sessions() as session:
            # connection() begins the transaction; the option must be set before that BEGIN is emitted
            options: dict[str, Any] = {_BEGIN_OPTION: "IMMEDIATE"}  # our own option: not in SQLAlchemy's TypedDict
            await session.connection(execution_options=options)
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``await work(session)`` in one write transaction, as inside ``write()``: committed when it returns,
        rolled back when it raises; its result is returned.

        On SQLite the whole transaction goes to the writer thread in one hop (``storage/sqlite_writer.py``), where
        each statement costs a direct call instead of a round trip through aiosqlite's thread. ``work`` then runs on
        that thread's event loop: it must touch the database through ``session`` only, and nothing bound to the
        caller's event loop. On PostgreSQL it runs on the caller's loop, through asyncpg, like ``write()``. The hot
        path (a resident's message, a delivery report) goes through ``grouped_transaction``; this one is for a work
        that must run alone and once.
        """
        if self.writer is None:
            async with self.write() as session:
                return await work(session)
        async with self._queued():
            return await self.writer.run(work)

    async def grouped_transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``transaction()`` for a work that comes often (a resident's message; a delivery report: two for every
        message sent). On SQLite, the works that arrive while the writer is busy are run together in one
        transaction when it is free (group commit: one hop, one BEGIN, one COMMIT), each committed with the others
        before its caller hears back; one that fails is run again alone, and only its caller gets the error.
        Elsewhere, ``transaction()``.

        A work may then run twice (rolled back with its group, then alone) and see what the works before it in its
        group wrote, not committed yet (each in a session of its own: through the database, never as another's
        pending changes or loaded objects): it must change nothing outside the database; what it learnt is kept by
        its caller once this returns (committed).
        """
        if self.writer is None:
            return await self.transaction(work)
        if self._together is None or not self._together.serves(asyncio.get_running_loop()):
            self._together = _Together(self._run_together(self.writer))
        result: T = await self._together.submit(work)
        return result

    def _run_together(
        self, writer: SQLiteWriter
    ) -> Callable[[list[Callable[[AsyncSession], Awaitable[Any]]]], Awaitable[list[Outcome]]]:
        async def run(works: list[Callable[[AsyncSession], Awaitable[Any]]]) -> list[Outcome]:
            async with self._queued():
                return await writer.run_together(works)

        return run

    @asynccontextmanager
    async def _queued(self) -> AsyncIterator[None]:
        if self._write_queue is None:
            yield
            return
        async with self._write_queue:
            yield

    async def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database file and empty it, so that the pages an erasure
        replaced no longer linger in the log (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint). Best
        effort: a reader still holding an old snapshot keeps its frames until the next checkpoint. Nothing to do on
        PostgreSQL (its dead rows are vacuumed)."""
        if self._write_queue is None:
            return
        async with self._write_queue, self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            cursor = await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            await cursor.close()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # any failure means "the database does not answer"
            return False
        return True

    async def dispose(self) -> None:
        if self.writer is not None:
            await (self.writer.close() if self._own_writer else self.writer.release())
        await self.engine.dispose()


class _Together:
    """Works submitted on the caller's loop, handed to ``run`` in groups: those that arrive while a group runs
    form the next one (``GROUP_LIMIT`` at most, in their order of arrival)."""

    def __init__(self, run: Callable[[list[Callable[[AsyncSession], Awaitable[Any]]]], Awaitable[list[Outcome]]]):
        self._run = run
        self._loop = asyncio.get_running_loop()
        self._waiting: list[tuple[Callable[[AsyncSession], Awaitable[Any]], asyncio.Future[Any]]] = []
        self._draining: asyncio.Task[None] | None = None

    def serves(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Its futures and task belong to one event loop (a database used by two loops, as tests do, makes two)."""
        return loop is self._loop

    async def submit(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain(), name="atelier-grouped-transactions")
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting[:GROUP_LIMIT], self._waiting[GROUP_LIMIT:]
                try:
                    outcomes = await self._run([work for work, _ in group])
                except BaseException as error:  # the writer itself failed (or we are cancelled): tell them all
                    for _, future in group:
                        if future.done():
                            continue
                        if isinstance(error, Exception):
                            future.set_exception(error)
                        else:
                            future.cancel()
                    raise
                for (_, future), outcome in zip(group, outcomes, strict=True):
                    if future.done():  # its caller gave up waiting; the work ran all the same
                        continue
                    if outcome.error is not None:
                        future.set_exception(outcome.error)
                    else:
                        future.set_result(outcome.value)
        finally:
            self._draining = None
