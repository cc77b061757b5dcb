"""One move for a booking, whoever asks (issues 13 and 14): the resident's own move (the dialogue's ``MoveBooking``,
through ``bot.service.enrolments.move``) and an adviser's (``atelier residents move``, through
``bot.service.residents.move_person``) are the same operation — the new seat taken and the old one given up in one
transaction, both workshops locked in the order of their ids, the freed seat offered to the first person waiting,
the reminders planned for the new date. A table of moves, run both ways, must leave the same world behind; on
both databases (the locks and the seats' own SQL).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.context import Context
from bot.service.actors import Actor
from bot.service.enrolments import SeatError, move
from bot.service.residents import move_person
from bot.service.team import TeamError
from bot.territory import Territory
from storage.database import Database
from storage.models import Enrolment, MessageKind, MessageStatus
from tests.helpers.clock import Clock
from tests.helpers.world import Town, in_2026

pytestmark = pytest.mark.both_dialects

JULIE = Actor("Julie Martin", interface="cli")
MARTINE, PAUL, JEAN = "+33612345678", "+33698765432", "+33611223344"


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


Seat = tuple[str, str, str, int | None]  # who, which workshop, status, position on the waiting list
Told = tuple[str, str, str]  # who, which workshop, what: a reminder or a freed seat's notice, still to leave


@dataclass(frozen=True)
class Move:
    label: str
    martine_in_a: str  # "seated" or "waiting" (behind Paul: A has one seat)
    seats: frozenset[Seat]  # every enrolment afterwards
    told: tuple[Told, ...]  # the pending reminders and freed seats' notices afterwards, sorted
    b_capacity: int = 6  # one: Jean holds it
    martine_waits_in_b: bool = False
    moved: bool = True  # False: refused, nothing changed


REMINDERS = 2  # ATELIER_REMINDERS: the day before at 10:00, and three hours before


def seats(*rows: str) -> frozenset[Seat]:
    """ "paul A waiting 1": Paul is first on A's waiting list."""
    found = set()
    for row in rows:
        who, workshop, status, *position = row.split()
        found.add((who, workshop, status, int(position[0]) if position else None))
    return frozenset(found)


def told(*groups: tuple[Told, ...]) -> tuple[Told, ...]:
    return tuple(sorted(item for group in groups for item in group))


def reminders(who: str, workshop: str) -> tuple[Told, ...]:
    return ((who, workshop, "reminder"),) * REMINDERS


def freed_seat(who: str, workshop: str) -> tuple[Told, ...]:
    return ((who, workshop, "promotion"),)


MOVES = [
    Move("a seat, to a workshop with room: Paul gets the freed seat", "seated",
         seats("martine A cancelled", "paul A seated", "martine B seated"),
         told(reminders("martine", "B"), reminders("paul", "A"), freed_seat("paul", "A"))),
    Move("a waiting place, to a workshop with room: a seat", "waiting",
         seats("paul A seated", "martine A cancelled", "martine B seated"),
         told(reminders("martine", "B"), reminders("paul", "A"))),
    Move("to a full workshop: refused (no waiting list asked)", "seated",
         seats("martine A seated", "paul A waiting 1", "jean B seated"),
         told(reminders("jean", "B"), reminders("martine", "A")), b_capacity=1, moved=False),
    Move("to a workshop where she already waits: refused", "seated",
         seats("martine A seated", "paul A waiting 1", "jean B seated", "martine B waiting 1"),
         told(reminders("jean", "B"), reminders("martine", "A")), b_capacity=1, martine_waits_in_b=True,
         moved=False),
]  # fmt: skip


class World:
    """Workshop A at Saint-Victor (one seat) and B at Domérat; Martine and Paul in A; Jean fills B when it has one
    seat."""

    def __init__(self, town: Town) -> None:
        self.town = town
        self.people: dict[int, str] = {}
        self.workshops: dict[int, str] = {}

    async def build(self, case: Move) -> None:
        town = self.town
        a = await town.workshop("Saint-Victor", in_2026(5, 14), capacity=1)
        b = await town.workshop("Domérat", in_2026(10, 9, 30), capacity=case.b_capacity)
        self.workshops = {a: "A", b: "B"}
        martine = await town.resident("Martine Dupont", phone=MARTINE)
        paul = await town.resident("Paul Durand", phone=PAUL)
        self.people = {martine: "martine", paul: "paul"}
        for person in (martine, paul) if case.martine_in_a == "seated" else (paul, martine):
            await town.seat(person, a)
        if case.b_capacity == 1:
            jean = await town.resident("Jean Roux", phone=JEAN)
            self.people[jean] = "jean"
            await town.seat(jean, b)
        if case.martine_waits_in_b:
            await town.seat(martine, b)

    def person(self, name: str) -> int:
        return next(i for i, n in self.people.items() if n == name)

    def workshop(self, name: str) -> int:
        return next(i for i, n in self.workshops.items() if n == name)

    async def seats(self) -> frozenset[Seat]:
        async with self.town.ctx.db.read() as session:
            found = (await session.execute(select(Enrolment))).unique().scalars()
            return frozenset(
                (self.people[e.resident_id], self.workshops[e.workshop_id], e.status.value, e.position) for e in found
            )

    async def told(self) -> tuple[Told, ...]:
        pending = await self.town.messages(status=MessageStatus.pending)
        return tuple(
            sorted(
                (self.people[m.resident_id or 0], self.workshops[m.workshop_id or 0], m.kind.value)
                for m in pending
                if m.kind in (MessageKind.reminder, MessageKind.promotion)
            )
        )


async def by_the_resident(town: Town, martine: int, a: int, b: int) -> bool:
    """What the dialogue's MoveBooking does (``bot.service.inbound._move``)."""
    async with town.ctx.db.write() as session:
        query = select(Enrolment).where(Enrolment.resident_id == martine, Enrolment.workshop_id == a)
        enrolment = (await session.execute(query)).scalar_one()
        try:
            moved = await move(session=session, ctx=town.ctx, enrolment_ids=[enrolment.id], workshop_id=b,
                               now=town.clock.now)  # fmt: skip
        except SeatError:
            moved = None
    return moved is not None


async def by_an_adviser(town: Town, martine: int, a: int, b: int) -> bool:
    """``atelier residents move`` (and the console)."""
    try:
        await move_person(ctx=town.ctx, resident_id=martine, from_workshop_id=a, to_workshop_id=b, actor=JULIE)
    except TeamError:
        return False
    return True


MOVERS = {"the resident": by_the_resident, "an adviser": by_an_adviser}


@pytest.mark.parametrize("who", MOVERS)
@pytest.mark.parametrize("case", MOVES, ids=lambda c: c.label)
async def test_a_move_is_the_same_whoever_asks(town: Town, case: Move, who: str) -> None:
    world = World(town)
    await world.build(case)
    moved = await MOVERS[who](town, world.person("martine"), world.workshop("A"), world.workshop("B"))
    assert moved is case.moved, f"{case.label}, by {who}"
    assert await world.seats() == case.seats, f"{case.label}, by {who}"
    assert await world.told() == case.told, f"{case.label}, by {who}"
