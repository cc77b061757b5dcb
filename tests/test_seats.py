"""Seat operations on both databases, including the concurrency invariants of SPEC §4."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import Enrolment, EnrolmentStatus, Level, Resident, Venue, Workshop
from storage.seats import SeatError, cancel_enrolment, cancel_workshop, seat_resident

# On both databases: row locks (FOR UPDATE) or the write lock taken up front keep the capacity under concurrent seating.
pytestmark = pytest.mark.both_dialects


async def make_workshop(db: Database, now: datetime, capacity: int = 6) -> int:
    async with db.write() as session:
        venue = (await session.execute(select(Venue).limit(1))).unique().scalar_one()
        workshop = Workshop(
            venue_id=venue.id,
            starts_at=now + timedelta(days=3),
            ends_at=now + timedelta(days=3, hours=2),
            level=Level.beginner,
            topic="Premiers pas",
            capacity=capacity,
        )
        session.add(workshop)
        await session.flush()
        return workshop.id


async def make_residents(db: Database, count: int) -> list[int]:
    async with db.write() as session:
        residents = [Resident(phone=f"+3361234{i:04d}", name=f"Résident {i}") for i in range(count)]
        session.add_all(residents)
        await session.flush()
        return [r.id for r in residents]


async def seat(db: Database, resident_id: int, workshop_id: int, now: datetime) -> bool:
    async with db.write() as session:
        outcome = await seat_resident(session=session, resident_id=resident_id, workshop_id=workshop_id, now=now)
        assert outcome is not None
        return outcome.seated


async def statuses(db: Database, workshop_id: int) -> list[tuple[int, EnrolmentStatus, int | None]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Enrolment.resident_id, Enrolment.status, Enrolment.position)
            .where(Enrolment.workshop_id == workshop_id)
            .order_by(Enrolment.id)
        )
        return [(r, s, p) for r, s, p in rows]


async def test_seats_then_waiting_list_in_order(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now, capacity=2)
    residents = await make_residents(db, 4)
    results = [await seat(db, r, workshop, now) for r in residents]
    assert results == [True, True, False, False]
    assert [p for _, _, p in await statuses(db, workshop)] == [None, None, 1, 2]


async def test_same_resident_is_never_enrolled_twice(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now)
    [resident] = await make_residents(db, 1)
    await seat(db, resident, workshop, now)
    async with db.write() as session:
        outcome = await seat_resident(session=session, resident_id=resident, workshop_id=workshop, now=now)
    assert outcome is not None and outcome.already
    assert len(await statuses(db, workshop)) == 1


async def test_cancel_promotes_first_waiting_and_closes_the_gap(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now, capacity=1)
    first, second, third = await make_residents(db, 3)
    for r in (first, second, third):
        await seat(db, r, workshop, now)
    async with db.write() as session:
        enrolment = (
            (await session.execute(select(Enrolment).where(Enrolment.resident_id == first))).unique().scalar_one()
        )
        outcome = await cancel_enrolment(session=session, enrolment_id=enrolment.id, now=now)
    assert outcome is not None and outcome.promoted is not None
    assert outcome.promoted.resident_id == second
    assert await statuses(db, workshop) == [
        (first, EnrolmentStatus.cancelled, None),
        (second, EnrolmentStatus.seated, None),
        (third, EnrolmentStatus.waiting, 1),
    ]


async def test_cancelling_a_waiting_place_renumbers_the_rest(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now, capacity=1)
    residents = await make_residents(db, 4)
    for r in residents:
        await seat(db, r, workshop, now)
    async with db.write() as session:
        waiting = (
            (await session.execute(select(Enrolment).where(Enrolment.resident_id == residents[1])))
            .unique()
            .scalar_one()
        )
        outcome = await cancel_enrolment(session=session, enrolment_id=waiting.id, now=now)
    assert outcome is not None and outcome.promoted is None
    assert [p for _, s, p in await statuses(db, workshop) if s == EnrolmentStatus.waiting] == [1, 2]


async def test_cancel_twice_changes_nothing_the_second_time(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now, capacity=1)
    first, second = await make_residents(db, 2)
    await seat(db, first, workshop, now)
    await seat(db, second, workshop, now)
    async with db.write() as session:
        enrolment = (
            (await session.execute(select(Enrolment).where(Enrolment.resident_id == first))).unique().scalar_one()
        )
    for expected in (True, False):
        async with db.write() as session:
            outcome = await cancel_enrolment(session=session, enrolment_id=enrolment.id, now=now)
        assert (outcome is not None) is expected


async def test_cancelled_or_started_workshop_refuses_seats(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now)
    [resident] = await make_residents(db, 1)
    with pytest.raises(SeatError):
        await seat(db, resident, workshop, now + timedelta(days=4))
    async with db.write() as session:
        told = await cancel_workshop(session=session, workshop_id=workshop, reason="neige", now=now)
    assert told == []
    with pytest.raises(SeatError):
        await seat(db, resident, workshop, now)
    with pytest.raises(SeatError):
        await seat(db, resident, 999_999, now)


async def test_fifty_people_for_the_last_two_seats(db: Database, now: datetime) -> None:
    """50 concurrent attempts for the last 2 seats: exactly 2 seated, 48 waiting numbered 1..48."""
    workshop = await make_workshop(db, now, capacity=6)
    early = await make_residents(db, 4)
    for r in early:
        await seat(db, r, workshop, now)
    crowd = await make_residents_batch(db, 50, offset=100)
    results = await asyncio.gather(*(seat(db, r, workshop, now) for r in crowd))
    assert results.count(True) == 2
    rows = await statuses(db, workshop)
    seated = [r for r in rows if r[1] == EnrolmentStatus.seated]
    waiting = sorted(p for _, s, p in rows if s == EnrolmentStatus.waiting and p is not None)
    assert len(seated) == 6
    assert waiting == list(range(1, 49))


async def make_residents_batch(db: Database, count: int, offset: int) -> list[int]:
    async with db.write() as session:
        residents = [Resident(phone=f"+3369999{offset + i:04d}") for i in range(count)]
        session.add_all(residents)
        await session.flush()
        return [r.id for r in residents]
