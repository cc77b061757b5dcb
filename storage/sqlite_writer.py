"""SQLite: a whole write transaction in one hop to a thread of its own, on a synchronous connection.

Through aiosqlite every statement is a round trip to aiosqlite's thread and back to the event loop (0.25 ms of CPU
for a bare ``SELECT 1``, more than the statement itself); a turn of the conversation runs a dozen. Here the whole
transaction is handed to one writer thread, which runs the very same asyncio code (``AsyncSession``, the service
and storage functions unchanged) on an event loop of its own, over a pysqlite connection called directly: each
``await`` on the database returns at once, with no thread hop. SQLite has one writer at a time anyway, so one
thread loses nothing, and the event loop of the web server never waits on SQLite's lock or on a checkpoint.

The connection is presented to SQLAlchemy's aiosqlite dialect as an aiosqlite look-alike whose coroutines never
suspend (``InlineConnection``), the way its ``async_creator`` parameter allows
(https://docs.sqlalchemy.org/en/21/orm/extensions/asyncio.html#using-a-custom-asyncio-connection-creator): the
dialect, its types and its statement caching are SQLAlchemy's own.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

T = TypeVar("T")


class InlineCursor:
    """An aiosqlite cursor's interface over a pysqlite cursor: every coroutine completes without suspending."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        self._cursor.execute(sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """An aiosqlite connection's interface over a pysqlite connection, used on the thread that made it."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection  # the attribute aiosqlite's adapter looks at

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def raw(self) -> sqlite3.Connection:
        """The pysqlite connection itself (``storage/prepared.py`` runs the hot path's statements on it)."""
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    def run_now(self, sql: str) -> None:
        """A statement with no result run at once (``BEGIN IMMEDIATE``), below SQLAlchemy's execution."""
        self._conn.execute(sql)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def stop(self) -> None:
        """What SQLAlchemy calls to drop a connection it gave up on (aiosqlite's thread stop)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(frozen=True)
class Outcome:
    """What one of the works run together gave: its result, or the error it raised."""

    value: Any
    error: Exception | None = None


async def _in_own_session(connection: AsyncConnection, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """One work in a session of its own, joined to the transaction of ``connection`` (which the caller ends): what
    it changed is flushed when it returns, and the next work of a group sees it through the database only, never as
    pending changes or objects loaded by another (each works as it would alone)."""
    session = AsyncSession(bind=connection, expire_on_commit=False)
    try:
        result = await work(session)
        await session.flush()
        return result
    finally:
        await session.close()


class SQLiteWriter:
    """Runs write transactions one after the other on its own thread, each in one hop from the caller's loop.

    ``prepare`` is called with each new pysqlite connection (the pragmas); ``begin`` is the statement that opens
    each transaction (``BEGIN IMMEDIATE``: the write lock up front). The thread, its event loop, its engine (with the
    SQL it compiled) and its one connection are made at the first transaction and kept until ``close()``;
    ``release()`` only closes the connection (the next transaction opens one again).
    """

    def __init__(self, url: str, *, prepare: Callable[[sqlite3.Connection], None], begin: str) -> None:
        self._path = make_url(url).database or ""
        self._prepare = prepare
        self._begin = begin
        self._thread = _Thread()
        # A writer dropped without close() still ends its thread and loop (no ResourceWarning, no thread left);
        # at the interpreter's exit, concurrent.futures ends the thread itself.
        self._finalizer = weakref.finalize(self, _Thread.stop, self._thread)
        self._finalizer.atexit = False  # type: ignore[misc]  # a documented attribute typeshed lacks

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """``work(session)`` inside one transaction, committed when it returns, rolled back when it raises.

        The caller's cancellation does not stop a transaction under way (its thread cannot be interrupted): it
        finishes, committed or rolled back, before this returns or raises.
        """
        future = asyncio.get_running_loop().run_in_executor(self._thread.executor(), self._run, work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])  # the next transaction must not start before this one ends
            raise

    def _run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        (result,) = self._thread.loop().run_until_complete(self._transaction([work]))
        return result

    async def run_together(self, works: Sequence[Callable[[AsyncSession], Awaitable[Any]]]) -> list[Outcome]:
        """Several works in one transaction, in one hop (group commit: one BEGIN and one COMMIT for all).
        When one raises, the transaction is rolled back and each is run again in a transaction of its own, so that
        one's failure is no other's: each outcome is then that of its own transaction."""
        future = asyncio.get_running_loop().run_in_executor(self._thread.executor(), self._run_together, works)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])  # the next transaction must not start before this one ends
            raise

    def _run_together(self, works: Sequence[Callable[[AsyncSession], Awaitable[Any]]]) -> list[Outcome]:
        loop = self._thread.loop()
        try:
            return [Outcome(value) for value in loop.run_until_complete(self._transaction(works))]
        except Exception:  # each is run again alone: its own outcome, error included
            return [self._alone(loop, work) for work in works]

    def _alone(self, loop: asyncio.AbstractEventLoop, work: Callable[[AsyncSession], Awaitable[Any]]) -> Outcome:
        try:
            (value,) = loop.run_until_complete(self._transaction([work]))
            return Outcome(value)
        except Exception as error:  # handed to the caller, who raises it
            return Outcome(None, error)

    async def _transaction(self, works: Sequence[Callable[[AsyncSession], Awaitable[T]]]) -> list[T]:
        """The works one after the other in one transaction (BEGIN IMMEDIATE, from the engine's "begin" event),
        committed when all have returned, rolled back when one raises."""
        connection = await self._connection()
        transaction = await connection.begin()
        try:
            results = [await _in_own_session(connection, work) for work in works]
        except BaseException:
            await transaction.rollback()
            raise
        await transaction.commit()
        return results

    async def _connection(self) -> AsyncConnection:
        """The writer's one connection, kept from one transaction to the next (no checkout from a pool each time)."""
        thread = self._thread
        if thread.engine is None:
            thread.engine = self._make_engine()
        if thread.connection is None or thread.connection.closed or thread.connection.invalidated:
            thread.connection = await thread.engine.connect()
        return thread.connection

    def _make_engine(self) -> AsyncEngine:
        # The engine lives on the thread, which the finalizer keeps: what it calls must not hold the writer itself,
        # or a writer dropped without close() would never be collected (nor its thread ended).
        path, prepare, begin = self._path, self._prepare, self._begin

        async def connect() -> InlineConnection:
            # isolation_level=None: pysqlite begins nothing by itself; the "begin" event below does.
            raw = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
            prepare(raw)
            return InlineConnection(raw)

        # The URL names the file only for the dialect's choices (a file's pool); ``connect`` makes the connections.
        url = f"sqlite+aiosqlite:///{path}"
        engine = create_async_engine(url, async_creator=connect, pool_size=1, max_overflow=0)

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.connection.driver_connection.run_now(begin)  # our InlineConnection

        return engine

    async def release(self) -> None:
        """Close the connection (on its thread); the engine and the SQL it compiled stay for the next one."""
        if self._thread.engine is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread.executor(), self._thread.release)

    async def close(self) -> None:
        """Close the connection, the event loop and the thread (a later transaction starts them again)."""
        await asyncio.get_running_loop().run_in_executor(None, self.stop)

    def stop(self) -> None:
        """``close()``, from outside any event loop (blocks until the thread has ended)."""
        self._thread.stop()


class _Thread:
    """The writer's thread and what lives on it, apart from the writer so that its finalizer can stop them."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ident: int | None = None  # the thread's, once it runs
        self.engine: AsyncEngine | None = None
        self.connection: AsyncConnection | None = None

    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atelier-sqlite-writer")
        return self._executor

    def loop(self) -> asyncio.AbstractEventLoop:
        """The thread's event loop (called on the thread)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._ident = threading.get_ident()
        return self._loop

    def release(self) -> None:
        """On the thread: close the connection."""
        connection, self.connection = self.connection, None
        if connection is not None:
            self.loop().run_until_complete(connection.close())
        if self.engine is not None:
            self.loop().run_until_complete(self.engine.dispose())

    def stop(self) -> None:
        """Close everything on the thread, then end it: waits for that from any other thread. On the thread itself
        (the finalizer runs where the writer's last reference goes, which may be the thread letting go of the work
        it just ran), it cannot wait for itself: the thread closes and ends once its current work is done."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        closing = executor.submit(self._close)
        if threading.get_ident() == self._ident:
            executor.shutdown(wait=False)
            return
        closing.result()
        executor.shutdown(wait=True)

    def _close(self) -> None:
        self.release()
        if self._loop is not None:
            self._loop.close()
        self._loop, self.engine, self._ident = None, None, None
