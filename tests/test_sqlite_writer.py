"""SQLite's writer thread (issue 16): a whole transaction in one hop, small ones committed together.

``Database.transaction`` runs the service's asyncio code on a thread of its own over a synchronous connection;
``Database.small_transaction`` groups the small works that arrive together into one transaction. What must hold:
a transaction commits or rolls back as a whole, the caller's loop never runs the statements, a group commits what
its members did and a member that fails is rolled back alone (its caller gets its error, the others their
results), and the dispatcher can be woken from the writer's thread. SQLite only: PostgreSQL runs the same works on
the caller's loop (``transaction`` is ``write`` there), which every service test covers on both databases.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.context import Context
from bot.scheduler.dispatch import Dispatcher
from bot.territory import Territory
from storage.database import Database
from storage.models import InstanceSecret
from storage.sqlite_writer import Outcome, SQLiteWriter

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def secrets(db: Database) -> dict[str, str]:
    async with db.read() as session:
        rows = await session.execute(select(InstanceSecret.name, InstanceSecret.value))
        return {row[0]: row[1] for row in rows}


class RefusedError(Exception):
    pass


def work_of(name: str, fails: bool) -> Callable[[AsyncSession], Awaitable[str]]:
    """A work that keeps a row named ``name``, then raises when it ``fails``."""

    async def work(session: AsyncSession) -> str:
        session.add(InstanceSecret(name=name, value="x"))
        await session.flush()
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
async def test_small_transactions_run_together(case: Case, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    groups: list[int] = []
    run_together = SQLiteWriter.run_together

    async def counted(self: SQLiteWriter, works: Sequence[Callable[[AsyncSession], Awaitable[Any]]]) -> list[Outcome]:
        groups.append(len(works))
        return await run_together(self, works)

    monkeypatch.setattr(SQLiteWriter, "run_together", counted)
    async with db.write():  # the writer is busy: what arrives meanwhile waits, and goes together
        calls = [asyncio.ensure_future(db.small_transaction(work_of(*work))) for work in case.works]
        await asyncio.sleep(0.05)
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    failed = {index for index, outcome in enumerate(outcomes) if isinstance(outcome, BaseException)}
    assert failed == case.failed, outcomes
    assert [o for o in outcomes if not isinstance(o, BaseException)] == [
        name for index, (name, _) in enumerate(case.works) if index not in case.failed
    ]
    assert set(await secrets(db)) == set(case.kept)
    assert groups[0] == len(case.works)  # they all arrived while the writer was busy: one group


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
