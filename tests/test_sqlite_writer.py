"""SQLite's writer thread (issue 16): a whole transaction in one hop, those that come together committed together.

``Database.transaction`` runs the service's asyncio code on a thread of its own over a synchronous connection;
``Database.grouped_transaction`` groups the works that arrive together into one transaction. What must hold:
a transaction commits or rolls back as a whole and its caller gets the error raised, of its own type; the caller's
loop never runs the statements; concurrent transactions (and ``write()``, and another process's) run one after the
other from their BEGIN, losing nothing; a group commits what its members did and a member that fails is rolled
back alone (its caller gets its error, the others their results); the writer's connection has the database's
settings; its thread ends however it is let go, with no warning; and the dispatcher can be woken from the writer's
thread. SQLite only: PostgreSQL runs the same works on the caller's loop (``transaction`` is ``write`` there), which
every service test covers on both databases.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
import time
import warnings
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.context import Context
from bot.scheduler.dispatch import Dispatcher
from bot.territory import Territory
from storage import database
from storage.database import Database, create_engine, sqlite_writer
from storage.models import InstanceSecret
from storage.sqlite_writer import InlineConnection, Outcome, SQLiteWriter
from tests.helpers.groups import counted_groups

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def secrets(db: Database) -> dict[str, str]:
    async with db.read() as session:
        rows = await session.execute(select(InstanceSecret.name, InstanceSecret.value))
        return {row[0]: row[1] for row in rows}


class RefusedError(Exception):
    pass


async def add_row(session: AsyncSession, name: str) -> None:
    session.add(InstanceSecret(name=name, value="x"))
    await session.flush()


def work_of(name: str, fails: bool) -> Callable[[AsyncSession], Awaitable[str]]:
    """A work that keeps a row named ``name``, then raises when it ``fails``."""

    async def work(session: AsyncSession) -> str:
        await add_row(session, name)
        if fails:
            raise RefusedError(name)
        return name

    return work


@dataclass(frozen=True)
class Case:
    label: str
    works: tuple[tuple[str, bool], ...]  # (the row a work keeps, whether it raises then)
    kept: frozenset[str]  # what the database holds afterwards
    failed: frozenset[int]  # the works (by position) whose caller gets an error


def ok(*names: str) -> tuple[tuple[str, bool], ...]:
    return tuple((name, False) for name in names)


CASES = [
    Case("one transaction commits", ok("a"), frozenset({"a"}), frozenset()),
    Case("one that raises leaves nothing", (("a", True),), frozenset(), frozenset({0})),
    Case("together: each is committed", ok(*"abcdef"), frozenset("abcdef"), frozenset()),
    Case(
        "together: the ones that fail are rolled back alone",
        (*ok("a", "b"), ("c", True), *ok("d"), ("e", True), *ok("f")),
        frozenset("abdf"),
        frozenset({2, 4}),
    ),
    Case(
        "together: a unique key taken twice is the second's error only",
        ok("a", "dup", "b", "dup"),
        frozenset({"a", "b", "dup"}),
        frozenset({3}),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_grouped_transactions_run_together(case: Case, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = counted_groups(monkeypatch)
    async with db.write():  # the writer is busy: what arrives meanwhile waits, and goes together
        calls = [asyncio.ensure_future(db.grouped_transaction(work_of(*work))) for work in case.works]
        await asyncio.sleep(0.05)
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    failed = {index for index, outcome in enumerate(outcomes) if isinstance(outcome, BaseException)}
    assert failed == case.failed, outcomes
    assert [o for o in outcomes if not isinstance(o, BaseException)] == [
        name for index, (name, _) in enumerate(case.works) if index not in case.failed
    ]
    assert set(await secrets(db)) == set(case.kept)
    assert groups[0] == len(case.works)  # they all arrived while the writer was busy: one group


async def test_works_beyond_the_group_limit_form_the_next_groups(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    groups = counted_groups(monkeypatch)
    monkeypatch.setattr(database, "GROUP_LIMIT", 4)
    names = [f"w{index}" for index in range(10)]
    async with db.write():  # the writer is busy: all ten wait
        calls = [asyncio.ensure_future(db.grouped_transaction(work_of(name, fails=False))) for name in names]
        await asyncio.sleep(0.05)
    assert await asyncio.gather(*calls) == names  # each its own result, in order
    assert groups == [4, 4, 2]
    assert set(await secrets(db)) == set(names)


async def changes_it_without_flushing(session: AsyncSession) -> str:
    secret = await session.get(InstanceSecret, "shared")
    assert secret is not None
    secret.value = "changed by the ORM"  # pending: flushed when the work ends, or never if another work flushes
    return secret.value


async def reads_it_as_a_turn_does(session: AsyncSession) -> str:
    """Through Core on the transaction's connection, as ``open_turn`` reads: no autoflush."""
    query = select(InstanceSecret.value).where(InstanceSecret.name == "shared")
    return str(await session.run_sync(lambda sync: sync.connection().execute(query).scalar_one()))


async def changes_it_in_core(session: AsyncSession) -> str:
    """As ``close_turn`` writes: Core, past any ORM copy."""
    query = text("UPDATE instance_secrets SET value = 'changed in Core' WHERE name = 'shared'")
    await session.run_sync(lambda sync: sync.connection().execute(query))
    return "changed in Core"


async def loads_it(session: AsyncSession) -> str:
    secret = await session.get(InstanceSecret, "shared")
    assert secret is not None
    return secret.value


async def test_each_work_of_a_group_sees_the_others_through_the_database_only(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The works of a group share a transaction, not a session: one's pending ORM changes are in the database when
    the next starts, and an object one loaded is never handed, stale, to the next."""
    async with db.write() as session:
        session.add(InstanceSecret(name="shared", value="as it was"))
    groups = counted_groups(monkeypatch)
    works = (changes_it_without_flushing, reads_it_as_a_turn_does, changes_it_in_core, loads_it)
    async with db.write():  # the writer is busy: the four wait, and go together
        calls = [asyncio.ensure_future(db.grouped_transaction(work)) for work in works]
        await asyncio.sleep(0.05)
    seen = await asyncio.gather(*calls)
    assert groups[0] == len(works)
    assert seen == ["changed by the ORM", "changed by the ORM", "changed in Core", "changed in Core"]


async def test_a_transaction_runs_off_the_callers_loop_and_returns_its_result(db: Database) -> None:
    caller = threading.get_ident()

    async def work(session: AsyncSession) -> tuple[int, int]:
        count = (await session.execute(select(func.count()).select_from(InstanceSecret))).scalar_one()
        await session.execute(text("INSERT INTO instance_secrets (name, value) VALUES ('t', 'v')"))
        return threading.get_ident(), int(count)

    where, count = await db.transaction(work)
    assert where != caller
    assert count == len(await secrets(db)) - 1


async def test_a_cancelled_caller_does_not_stop_its_transaction(db: Database) -> None:
    """Its thread cannot be interrupted: the transaction ends (here, commits) before the next one starts."""
    loop, started = asyncio.get_running_loop(), asyncio.Event()

    async def slow(session: AsyncSession) -> None:
        loop.call_soon_threadsafe(started.set)
        await asyncio.sleep(0.05)  # on the writer's own loop
        session.add(InstanceSecret(name="slow", value="x"))

    call = asyncio.ensure_future(db.transaction(slow))
    await started.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert "slow" in await secrets(db)


async def test_the_dispatcher_is_woken_from_another_thread(
    settings: Settings, db: Database, territory: Territory
) -> None:
    """A message's transaction runs on the writer's thread and may wake the dispatcher (a promotion notice
    queued): the dispatcher's loop hears it at once, not at its next wake-up for something else."""
    ctx = Context(settings=settings, db=db, territory=territory, clock=lambda: NOW)
    dispatcher = Dispatcher(ctx)
    woken = asyncio.ensure_future(dispatcher._wake.wait())  # what run() waits on
    await asyncio.sleep(0)  # it waits

    def later() -> None:
        time.sleep(0.2)  # the loop is asleep by then, waiting for the dispatcher's event and nothing else
        dispatcher.wake()

    thread = threading.Thread(target=later)
    thread.start()
    # Heard at once, not when the loop next wakes for something else (here, this sentinel).
    sentinel = asyncio.ensure_future(asyncio.sleep(5))
    done, _ = await asyncio.wait([woken, sentinel], return_when=asyncio.FIRST_COMPLETED)
    thread.join()
    sentinel.cancel()
    assert done == {woken}


# --- one transaction: all or nothing, errors as they were raised, the writer serving on ----------------------------


async def raises_after_flush(session: AsyncSession) -> None:
    await add_row(session, "a")
    raise RefusedError("after a flush")


async def raises_with_pending_rows(session: AsyncSession) -> None:
    session.add(InstanceSecret(name="a", value="x"))  # not flushed yet
    raise KeyError("before any flush")


async def raises_after_core(session: AsyncSession) -> None:
    await session.execute(text("INSERT INTO instance_secrets (name, value) VALUES ('a', 'x')"))
    raise ValueError("after a Core statement")


async def key_taken_twice(session: AsyncSession) -> None:
    await add_row(session, "a")
    await session.execute(text("INSERT INTO instance_secrets (name, value) VALUES ('b', 'x')"))
    await session.execute(text("INSERT INTO instance_secrets (name, value) VALUES ('b', 'y')"))


async def unknown_resident(session: AsyncSession) -> None:
    await add_row(session, "a")
    await session.execute(text("INSERT INTO enrolments (resident_id, workshop_id, status) VALUES (-1, -1, 'seated')"))


async def fails_at_commit(session: AsyncSession) -> None:
    """The unique key is broken by rows added but never flushed by the work: the writer's own flush fails."""
    session.add(InstanceSecret(name="a", value="x"))
    await session.execute(text("INSERT INTO instance_secrets (name, value) VALUES ('a', 'y')"))


async def commits(session: AsyncSession) -> str:
    await add_row(session, "a")
    await session.execute(text("INSERT INTO instance_secrets (name, value) VALUES ('b', 'x')"))
    return "done"


@dataclass(frozen=True)
class Ending:
    label: str
    work: Callable[[AsyncSession], Awaitable[Any]]
    error: type[Exception] | None  # what the caller gets, exactly that type (None: the work's result)
    kept: frozenset[str]


ENDINGS = [
    Ending("returns: committed, its result given back", commits, None, frozenset({"a", "b"})),
    Ending("raises after a flush: nothing kept", raises_after_flush, RefusedError, frozenset()),
    Ending("raises with rows not flushed: nothing kept", raises_with_pending_rows, KeyError, frozenset()),
    Ending("raises after a Core statement: nothing kept", raises_after_core, ValueError, frozenset()),
    Ending("a unique key taken twice: the database's error", key_taken_twice, IntegrityError, frozenset()),
    # The writer's connection has SQLite's foreign keys on (off by default: the pragma is the writer's own).
    Ending("a foreign key broken: the database's error", unknown_resident, IntegrityError, frozenset()),
    Ending("the writer's own flush fails: nothing kept", fails_at_commit, IntegrityError, frozenset()),
]


@pytest.mark.parametrize("ending", ENDINGS, ids=[e.label for e in ENDINGS])
async def test_a_transaction_is_all_or_nothing_and_the_writer_serves_on(ending: Ending, db: Database) -> None:
    if ending.error is None:
        assert await db.transaction(ending.work) == "done"
    else:
        with pytest.raises(ending.error) as raised:
            await db.transaction(ending.work)
        assert type(raised.value) is ending.error  # not wrapped, not replaced by the rollback's
    assert set(await secrets(db)) == ending.kept
    assert await db.transaction(work_of("next", fails=False)) == "next"  # the writer and its connection go on
    assert set(await secrets(db)) == {*ending.kept, "next"}


class Pause:
    """A transaction held open on the writer's loop until the caller's loop lets it go on."""

    def __init__(self) -> None:
        self._caller = asyncio.get_running_loop()
        self.reached = asyncio.Event()  # on the caller's loop
        self._release: Callable[[], None] | None = None

    async def here(self) -> None:
        """On the writer's loop: tell the caller, and wait for ``release()``."""
        loop, gate = asyncio.get_running_loop(), asyncio.Event()

        def release() -> None:
            loop.call_soon_threadsafe(gate.set)

        self._release = release
        self._caller.call_soon_threadsafe(self.reached.set)
        await gate.wait()

    def release(self) -> None:
        assert self._release is not None
        self._release()


async def test_a_transaction_sees_its_own_writes_and_others_only_once_committed(db: Database) -> None:
    """Inside: what the ORM flushed is seen by Core and the other way round. Outside (a reader on the engine's
    own connections, as any request's read): nothing until the commit, and the reader is not blocked meanwhile."""
    pause = Pause()

    async def work(session: AsyncSession) -> list[str]:
        await add_row(session, "orm")
        await session.execute(text("INSERT INTO instance_secrets (name, value) VALUES ('core', 'x')"))
        await session.execute(text("UPDATE instance_secrets SET value = 'changed' WHERE name = 'orm'"))
        seen = await session.execute(select(InstanceSecret.name, InstanceSecret.value).order_by(InstanceSecret.name))
        await pause.here()
        return [f"{name}={value}" for name, value in seen]

    call = asyncio.ensure_future(db.transaction(work))
    await pause.reached.wait()
    assert await secrets(db) == {}
    pause.release()
    assert await call == ["core=x", "orm=changed"]
    assert await secrets(db) == {"core": "x", "orm": "changed"}


async def test_what_a_transaction_returns_is_readable_after_it(db: Database) -> None:
    """Its objects are not expired at the commit: reading them on the caller's loop needs no statement (which
    would fail there: they belong to the writer's session, closed by then)."""

    async def work(session: AsyncSession) -> InstanceSecret:
        secret = InstanceSecret(name="kept", value="v")
        session.add(secret)
        return secret

    secret = await db.transaction(work)
    assert (secret.name, secret.value) == ("kept", "v")


# --- many at once: one after the other, nothing lost, never "database is locked" ----------------------------------


Run = Callable[[Database, Callable[[AsyncSession], Awaitable[None]]], Awaitable[None]]


async def by_transaction(db: Database, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    await db.transaction(work)


async def by_grouped_transaction(db: Database, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    await db.grouped_transaction(work)


async def by_write(db: Database, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    async with db.write() as session:  # the engine's own connection (aiosqlite), not the writer's
        await work(session)


@dataclass(frozen=True)
class Crowd:
    label: str
    runs: tuple[tuple[bool, Run], ...]  # (through the other database, how), taken in turn by the tasks


CROWDS = [
    Crowd("transactions", ((False, by_transaction),)),
    Crowd("transactions and grouped ones", ((False, by_transaction), (False, by_grouped_transaction))),
    Crowd("transactions and write()", ((False, by_transaction), (False, by_write))),
    Crowd(
        "and another database on the file, as another process",
        ((False, by_transaction), (True, by_transaction), (False, by_grouped_transaction), (True, by_write)),
    ),
]
TASKS = 48


@pytest.mark.parametrize("crowd", CROWDS, ids=[c.label for c in CROWDS])
async def test_concurrent_transactions_run_one_after_the_other(crowd: Crowd, db: Database, db_url: str) -> None:
    """Each task reads a counter, yields, and writes it plus one, and keeps a row of its own: a lost update or a
    lost row would show, and so would SQLite's "database is locked" (a deferred transaction cannot take the write
    lock once it has read while another holds it; each of ours takes it at its BEGIN)."""
    async with db.write() as session:
        await session.execute(text("INSERT INTO instance_secrets (name, value) VALUES ('counter', '0')"))

    def task(index: int) -> Callable[[AsyncSession], Awaitable[None]]:
        async def work(session: AsyncSession) -> None:
            read = await session.execute(text("SELECT value FROM instance_secrets WHERE name = 'counter'"))
            count = int(read.scalar_one())
            await asyncio.sleep(0)  # others may run now, if anything lets them
            await session.execute(
                text("UPDATE instance_secrets SET value = :value WHERE name = 'counter'"), {"value": str(count + 1)}
            )
            await add_row(session, f"task {index}")

        return work

    other = Database.from_url(db_url)
    try:
        calls = []
        for index in range(TASKS):
            elsewhere, run = crowd.runs[index % len(crowd.runs)]
            calls.append(run(other if elsewhere else db, task(index)))
        await asyncio.gather(*calls)
    finally:
        await other.dispose()
    kept = await secrets(db)
    assert kept.pop("counter") == str(TASKS)
    assert set(kept) == {f"task {index}" for index in range(TASKS)}


async def test_the_write_lock_is_taken_at_begin(db: Database, db_url: str) -> None:
    """``BEGIN IMMEDIATE``: from its first statement, a transaction holds SQLite's write lock, so what it read
    cannot change under it (capacity is counted on this). Another connection cannot start writing meanwhile."""
    pause = Pause()

    async def reads_only(session: AsyncSession) -> None:
        await session.execute(select(func.count()).select_from(InstanceSecret))
        await pause.here()

    call = asyncio.ensure_future(db.transaction(reads_only))
    await pause.reached.wait()
    other = sqlite3.connect(make_url(db_url).database or "", timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        pause.release()
        await call


# --- the writer's connection -------------------------------------------------------------------------------------


async def raw_connection(session: AsyncSession) -> sqlite3.Connection:
    """The pysqlite connection under the writer's session (inside our InlineConnection)."""
    proxied = await (await session.connection()).get_raw_connection()
    driver = proxied.driver_connection
    assert isinstance(driver, InlineConnection)
    return driver._conn


def closed(connection: sqlite3.Connection) -> bool:
    """From any thread (pysqlite lets only the thread that made it run statements)."""
    try:
        connection.in_transaction  # noqa: B018 - the attribute's check is the point
    except sqlite3.ProgrammingError as error:
        return "closed" in str(error)
    return False


PRAGMAS = [
    ("journal_mode", "wal"),  # readers never block the writer
    ("busy_timeout", 30_000),  # another process's writer is waited for
    ("foreign_keys", 1),
    ("synchronous", 1),  # NORMAL
    ("secure_delete", 1),  # an erased resident's data zeroed on disk
]


@pytest.mark.parametrize(("pragma", "expected"), PRAGMAS, ids=[p for p, _ in PRAGMAS])
async def test_the_writers_connection_has_the_databases_settings(pragma: str, expected: object, db: Database) -> None:
    async def read(session: AsyncSession) -> object:
        return (await session.execute(text(f"PRAGMA {pragma}"))).scalar_one()

    assert await db.transaction(read) == expected


async def test_one_connection_kept_from_one_transaction_to_the_next_until_released(db: Database) -> None:
    assert db.writer is not None
    first, second = await db.transaction(raw_connection), await db.transaction(raw_connection)
    assert first is second
    await db.writer.release()
    assert closed(first)
    third = await db.transaction(raw_connection)
    assert third is not first
    assert not closed(third)


# --- the writer's thread: ended, whichever way its owner lets it go -----------------------------------------------


@dataclass(frozen=True)
class Seen:
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    connection: sqlite3.Connection


async def seen_from_inside(session: AsyncSession) -> Seen:
    return Seen(threading.current_thread(), asyncio.get_running_loop(), await raw_connection(session))


async def dispose_own(db: Database, writer: SQLiteWriter) -> None:
    await db.dispose()


async def close_writer(db: Database, writer: SQLiteWriter) -> None:
    await writer.close()
    await db.dispose()


async def stop_writer(db: Database, writer: SQLiteWriter) -> None:
    await asyncio.to_thread(writer.stop)  # from a thread with no event loop, as the tests' session end does
    await db.dispose()


@dataclass(frozen=True)
class LettingGo:
    label: str
    given: bool  # the writer was given to the Database (the tests' way) rather than made by it
    end: Callable[[Database, SQLiteWriter], Awaitable[None]]
    thread_ends: bool


LETTING_GO = [
    LettingGo("its own writer, the database disposed", False, dispose_own, True),
    LettingGo("close()", False, close_writer, True),
    LettingGo("stop() from outside a loop", False, stop_writer, True),
    LettingGo("a writer given, the database disposed: only the connection", True, dispose_own, False),
]


@pytest.mark.parametrize("case", LETTING_GO, ids=[c.label for c in LETTING_GO])
async def test_letting_the_writer_go(case: LettingGo, db_url: str) -> None:
    engine = create_engine(db_url)
    given = sqlite_writer(engine) if case.given else None
    db = Database(engine, writer=given)
    writer = db.writer
    assert writer is not None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            seen = await db.transaction(seen_from_inside)
            await case.end(db, writer)
            gc.collect()
        assert caught == []
        assert closed(seen.connection)
        seen.thread.join(timeout=5)
        assert seen.thread.is_alive() is not case.thread_ends
        assert seen.loop.is_closed() is case.thread_ends
        # Whatever ended, a later transaction starts what it needs again.
        again = Database(create_engine(db_url), writer=writer)
        try:
            assert await again.transaction(work_of("again", fails=False)) == "again"
        finally:
            await again.dispose()
    finally:
        writer.stop()
        await engine.dispose()


async def test_a_writer_dropped_without_close_ends_its_thread(db_url: str) -> None:
    engine = create_engine(db_url)
    writer = sqlite_writer(engine)
    assert writer is not None
    try:
        seen = await writer.run(seen_from_inside)
        dropped = weakref.ref(writer)
        del writer
        # The thread lets go of the work it ran (the writer's method) just after answering: collect until it has.
        for _ in range(500):
            gc.collect()
            if dropped() is None:
                break
            await asyncio.sleep(0.01)
        seen.thread.join(timeout=5)
        assert not seen.thread.is_alive()
        assert seen.loop.is_closed()
        assert closed(seen.connection)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "has_writer"),
    [
        ("sqlite+aiosqlite:///{tmp}/atelier.db", True),
        ("sqlite+aiosqlite:///:memory:", False),  # only the engine's own connection reaches it
        ("sqlite+aiosqlite://", False),
        ("postgresql+asyncpg://atelier@127.0.0.1:1/atelier", False),  # asyncpg on the caller's loop
    ],
    ids=["an SQLite file", "SQLite in memory", "SQLite in memory, no name", "PostgreSQL"],
)
async def test_which_databases_have_a_writer_thread(url: str, has_writer: bool, tmp_path: Path) -> None:
    db = Database.from_url(url.format(tmp=tmp_path))
    try:
        assert (db.writer is not None) is has_writer
    finally:
        await db.dispose()


# --- grouped transactions: the group's own failures ------------------------------------------------------------------


async def test_when_the_writer_fails_the_whole_group_hears_it_and_the_next_group_runs(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_together, failures = SQLiteWriter.run_together, [OSError("disk I/O error")]

    async def failing_once(
        self: SQLiteWriter, works: Sequence[Callable[[AsyncSession], Awaitable[Any]]]
    ) -> list[Outcome]:
        if failures:
            raise failures.pop()
        return await run_together(self, works)

    monkeypatch.setattr(SQLiteWriter, "run_together", failing_once)
    async with db.write():  # busy: the three arrive together
        calls = [asyncio.ensure_future(db.grouped_transaction(work_of(name, fails=False))) for name in "abc"]
        await asyncio.sleep(0.05)
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert [type(o) for o in outcomes] == [OSError] * 3
    assert await db.grouped_transaction(work_of("d", fails=False)) == "d"
    assert set(await secrets(db)) == {"d"}


async def test_a_grouped_transactions_caller_who_gives_up_does_not_stop_it_nor_the_others(db: Database) -> None:
    async with db.write():
        calls = {name: asyncio.ensure_future(db.grouped_transaction(work_of(name, fails=False))) for name in "abc"}
        await asyncio.sleep(0.05)
        calls["b"].cancel()
    assert [await calls["a"], await calls["c"]] == ["a", "c"]
    assert calls["b"].cancelled()
    assert set(await secrets(db)) == {"a", "b", "c"}


async def test_grouped_transactions_from_two_event_loops(db: Database) -> None:
    """A database used by two loops one after the other (the tests' way: a loop per test, threads with their own):
    each loop's grouped transactions are grouped and answered on that loop."""
    assert await db.grouped_transaction(work_of("first loop", fails=False)) == "first loop"
    elsewhere = await asyncio.to_thread(asyncio.run, db.grouped_transaction(work_of("second loop", fails=False)))
    assert elsewhere == "second loop"
    assert await db.grouped_transaction(work_of("first loop again", fails=False)) == "first loop again"
    assert set(await secrets(db)) == {"first loop", "second loop", "first loop again"}
