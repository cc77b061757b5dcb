"""The workshops a process keeps between turns are never older than the database (issue 16).

A process keeps the workshops open for sign-up, with their free seats, from one turn to the next, and reads them
again only when the world's version has moved (``storage/world.py``). Each case changes the world through another
connection — another engine on the same database, as another ``atelier serve`` process, the command line or a
statement typed by hand would — between two turns of a resident, and checks what the next turn's dialogue was
given: never a seat that was taken meanwhile, always what the database holds (one case makes its change from
another Python process for real). A change that cannot alter an offer keeps what was kept (the same objects: the
cache is really used).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.context import Context
from bot.conversation import dialogue
from bot.conversation.turns import Turn, World
from bot.territory import Territory
from storage.database import Database
from storage.models import Enrolment, EnrolmentStatus, Workshop, WorkshopStatus, WorldVersion
from storage.seats import cancel_enrolment, seat_resident
from tests.helpers.clock import Clock
from tests.helpers.world import Town, in_2026

# Triggers written per dialect, and the cache's reads in each one's transactions: on both databases.
pytestmark = pytest.mark.both_dialects

MARTINE = "+33622000011"
BEFORE = ("Bonjour", "Martine Dupont", "st victor")  # the world is read and kept by these turns
AFTER = "1"  # the next turn (her level): its world is checked


@dataclass(frozen=True)
class Ids:
    workshop: int
    other: int  # another resident, whom the other connection seats or unseats
    seat: int | None  # the other resident's enrolment, when the case starts with the workshop full


Change = Callable[[AsyncSession, Ids], Awaitable[None]]


async def take_seat(session: AsyncSession, ids: Ids) -> None:
    await seat_resident(session=session, resident_id=ids.other, workshop_id=ids.workshop, now=in_2026(2, 9))


async def give_up_seat(session: AsyncSession, ids: Ids) -> None:
    assert ids.seat is not None
    await cancel_enrolment(session=session, enrolment_id=ids.seat, now=in_2026(2, 9))


async def cancel(session: AsyncSession, ids: Ids) -> None:
    await session.execute(update(Workshop).where(Workshop.id == ids.workshop).values(status=WorkshopStatus.cancelled))


async def move(session: AsyncSession, ids: Ids) -> None:
    start = in_2026(10, 9)
    values = {"starts_at": start, "ends_at": start + timedelta(hours=2)}
    await session.execute(update(Workshop).where(Workshop.id == ids.workshop).values(**values))


async def raise_capacity_by_hand(session: AsyncSession, ids: Ids) -> None:
    await session.execute(text("UPDATE workshops SET capacity = 3 WHERE id = :id"), {"id": ids.workshop})


async def rename_venue_by_hand(session: AsyncSession, ids: Ids) -> None:
    venue = (await session.execute(select(Workshop.venue_id).where(Workshop.id == ids.workshop))).scalar_one()
    await session.execute(text("UPDATE venues SET name = 'Salle Jean Moulin' WHERE id = :id"), {"id": venue})


async def confirm_by_hand(session: AsyncSession, ids: Ids) -> None:
    await session.execute(update(Enrolment).where(Enrolment.id == ids.seat).values(confirmed=True))


async def topic_by_hand_rolled_back(session: AsyncSession, ids: Ids) -> None:
    """A change that never commits: the version it moved goes back with it."""
    await session.execute(text("UPDATE workshops SET topic = 'Jamais' WHERE id = :id"), {"id": ids.workshop})
    await session.rollback()


@dataclass(frozen=True)
class Case:
    label: str
    change: Change
    full_first: bool  # the other resident holds the workshop's only seat before the change
    expect: Callable[[World, int], bool]  # on the world of the turn after the change, given the workshop's id
    moved: bool = True  # the world's version moved
    process: bool = False  # made by another Python process (else another engine in this one)


def free_seats(world: World, workshop: int) -> int | None:
    return next((w.free_seats for w in world.workshops if w.id == workshop), None)


def option(world: World, workshop: int) -> Any:
    return next((w for w in world.workshops if w.id == workshop), None)


CASES = [
    Case("a seat taken elsewhere is not offered as free", take_seat, False, lambda w, i: free_seats(w, i) == 0),
    Case(
        "a seat taken by another process is not offered as free",
        take_seat,
        False,
        lambda w, i: free_seats(w, i) == 0,
        process=True,
    ),
    Case("a seat given up elsewhere is offered again", give_up_seat, True, lambda w, i: free_seats(w, i) == 1),
    Case("a workshop cancelled elsewhere is not offered", cancel, False, lambda w, i: option(w, i) is None),
    Case(
        "a workshop moved elsewhere is offered at its new time",
        move,
        False,
        lambda w, i: option(w, i).starts_at == in_2026(10, 9),
    ),
    Case(
        "a capacity raised by a statement typed by hand",
        raise_capacity_by_hand,
        False,
        lambda w, i: free_seats(w, i) == 3,
    ),
    Case(
        "a venue renamed by a statement typed by hand",
        rename_venue_by_hand,
        False,
        lambda w, i: option(w, i).venue.startswith("Salle Jean Moulin"),
    ),
    Case(
        "a confirmation elsewhere keeps what was kept",
        confirm_by_hand,
        True,
        lambda w, i: free_seats(w, i) == 0,
        moved=False,
    ),
    Case(
        "a change rolled back elsewhere keeps what was kept",
        topic_by_hand_rolled_back,
        False,
        lambda w, i: option(w, i).topic == "Premiers pas",
        moved=False,
    ),
]


@pytest.fixture
def worlds(monkeypatch: pytest.MonkeyPatch) -> list[World]:
    """Every world the dialogue is given, in order."""
    seen: list[World] = []
    respond = dialogue.respond

    def spy(**kwargs: Any) -> Turn:
        seen.append(kwargs["world"])
        return respond(**kwargs)

    monkeypatch.setattr(dialogue, "respond", spy)
    return seen


async def change_elsewhere(db_url: str, change: Change, ids: Ids) -> None:
    """The change through another engine, other connections: as another process would."""
    elsewhere = Database.from_url(db_url)
    try:
        async with elsewhere.write() as session:
            await change(session, ids)
    finally:
        await elsewhere.dispose()


ROOT = Path(__file__).resolve().parent.parent
_IN_ANOTHER_PROCESS = """
import asyncio, sys
from tests import test_world_cache as here
url, change, workshop, other, seat = sys.argv[1:]
ids = here.Ids(int(workshop), int(other), None if seat == "-" else int(seat))
asyncio.run(here.change_elsewhere(url, getattr(here, change), ids))
"""


async def in_another_process(db_url: str, change: Change, ids: Ids) -> None:
    """The change made by another Python process (the change's function, run there by name)."""
    seat = "-" if ids.seat is None else str(ids.seat)
    command = [sys.executable, "-c", _IN_ANOTHER_PROCESS, db_url, change.__name__, str(ids.workshop), str(ids.other)]
    done = await asyncio.to_thread(subprocess.run, [*command, seat], cwd=ROOT, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


async def version(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(select(WorldVersion.version))).scalar_one())


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_a_change_elsewhere_between_two_turns(
    case: Case, settings: Settings, db: Database, db_url: str, territory: Territory, worlds: list[World]
) -> None:
    clock = Clock(in_2026(2, 9))
    town = Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)
    workshop = await town.workshop("Saint-Victor", in_2026(9, 14), capacity=1)
    other = await town.resident("Odette Martin", phone="+33622000012")
    seat = await town.seat(other, workshop) if case.full_first else None
    ids = Ids(workshop, other, seat)
    for message in BEFORE:
        await town.say(MARTINE, message)
    kept = worlds[-1].workshops
    assert worlds[-2].workshops is kept  # nothing changed between these turns: the kept workshops were used
    assert free_seats(worlds[-1], workshop) == (0 if case.full_first else 1)

    before = await version(db)
    if case.process:
        await in_another_process(db_url, case.change, ids)
    else:
        await change_elsewhere(db_url, case.change, ids)
    moved = await version(db) != before

    await town.say(MARTINE, AFTER)
    assert moved is case.moved
    assert case.expect(worlds[-1], workshop), option(worlds[-1], workshop)
    assert (worlds[-1].workshops is kept) is not case.moved


async def test_the_seats_a_turn_takes_itself_are_seen_by_the_next_turn(
    settings: Settings, db: Database, territory: Territory, worlds: list[World]
) -> None:
    """The last seat taken by one resident's turn (in the same process) is not offered to the next resident."""
    clock = Clock(in_2026(2, 9))
    town = Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)
    workshop = await town.workshop("Saint-Victor", in_2026(9, 14), capacity=1)
    for message in (*BEFORE, "1", "rien", "oui"):
        await town.say(MARTINE, message)
    async with db.read() as session:
        seated = await session.execute(
            select(Enrolment.id).where(Enrolment.workshop_id == workshop, Enrolment.status == EnrolmentStatus.seated)
        )
        assert len(seated.all()) == 1
    await town.say("+33622000013", "Bonjour")
    assert free_seats(worlds[-1], workshop) == 0
