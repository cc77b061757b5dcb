"""Engine and sessions for SQLite (the embedded default) and PostgreSQL.

SQLite: WAL so readers never block the writer, ``busy_timeout`` so writers queue instead of failing, foreign keys
on, and pysqlite's own transaction handling switched off so that we emit ``BEGIN`` ourselves — ``BEGIN IMMEDIATE``
for the transactions that must take the write lock up front (seating, claiming). This is the recipe of
https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#serializable-isolation-savepoints-transactional-ddl
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_BEGIN_OPTION = "atelier_sqlite_begin"
BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
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
def _insert_or_skip(dialect: str, table: Table, unique: tuple[str, ...]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)


async def lock_key(session: AsyncSession, key: str) -> None:
    """Serialise the transactions that take the same key until they end: a PostgreSQL advisory lock
    (https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS). Nothing to do on SQLite,
    where a writing transaction holds the database's one write lock from its start (``Database.write``)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


@dataclass
class Database:
    """The engine and its session factory; built by the application factory, never at import time."""

    engine: AsyncEngine

    def __post_init__(self) -> None:
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process queue here, in order, instead of polling the
        # file lock (busy_timeout sleeps up to 100 ms between tries, which makes the slowest requests very slow).
        # Other processes on the same file still meet at the file lock. Not re-entrant: never nest write().
        self._write_queue = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None

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
        await self.engine.dispose()
