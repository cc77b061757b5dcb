"""Seat operations on both databases, including the concurrency invariants of SPEC §4."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import Enrolment, EnrolmentStatus, Level, Resident, Venue, Workshop
from storage.seats import (
    SeatError,
    cancel_enrolment,
    cancel_workshop,
    move_seats,
    seat_resident,
    seat_together,
    take_seats,
)

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


async def test_a_resident_who_cancelled_comes_back_on_the_same_row(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now)
    [resident] = await make_residents(db, 1)
    await seat(db, resident, workshop, now)
    async with db.write() as session:
        (enrolment,) = (await session.execute(select(Enrolment).where(Enrolment.resident_id == resident))).scalars()
        await cancel_enrolment(session=session, enrolment_id=enrolment.id, now=now)
    async with db.write() as session:
        outcome = await seat_resident(session=session, resident_id=resident, workshop_id=workshop, now=now)
        assert outcome is not None and outcome.seated and not outcome.already
        assert outcome.enrolment.id == enrolment.id  # the row they had, seated again
        assert outcome.enrolment.workshop.id == workshop and outcome.enrolment.resident.id == resident  # loaded
    assert await statuses(db, workshop) == [(resident, EnrolmentStatus.seated, None)]


async def test_a_seat_taken_again_in_the_same_transaction_shows_on_the_enrolment_held(
    db: Database, now: datetime
) -> None:
    """The seat is written in Core: an ORM copy the transaction already holds (cancelled a moment ago, an answer
    to a reminder on it) is read again, never left saying what the row no longer says."""
    workshop = await make_workshop(db, now)
    [resident] = await make_residents(db, 1)
    await seat(db, resident, workshop, now)
    async with db.write() as session:
        (enrolment,) = (await session.execute(select(Enrolment).where(Enrolment.resident_id == resident))).scalars()
        not_coming: bool | None = False  # their answer to a reminder
        enrolment.confirmed = not_coming
        await cancel_enrolment(session=session, enrolment_id=enrolment.id, now=now)
        before = enrolment.status
        assert before == EnrolmentStatus.cancelled
        (taken,) = await take_seats(session=session, resident_ids=[resident], workshop_id=workshop, now=now) or []
        assert (taken.enrolment_id, taken.seated, taken.already) == (enrolment.id, True, False)
        assert (enrolment.status, enrolment.confirmed) == (EnrolmentStatus.seated, None)
        outcome = await seat_resident(session=session, resident_id=resident, workshop_id=workshop, now=now)
        assert outcome is not None and outcome.already and outcome.enrolment is enrolment
    assert await statuses(db, workshop) == [(resident, EnrolmentStatus.seated, None)]


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
    assert outcome is not None and [e.resident_id for e in outcome.promoted] == [second]
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
    assert outcome is not None and outcome.promoted == ()
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


# --- Two people, one phone; moving a seat (issue 13) ---------------------------------------------------------


async def seat_pair(
    db: Database, pair: list[int], workshop_id: int, now: datetime, *, waiting: bool = True
) -> bool | None:
    async with db.write() as session:
        outcomes = await seat_together(
            session=session, resident_ids=pair, workshop_id=workshop_id, now=now, allow_waiting=waiting
        )
    return None if outcomes is None else all(o.seated for o in outcomes)


async def test_two_people_take_two_seats_or_wait_together(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now, capacity=3)
    single, *pair = await make_residents(db, 3)
    other_pair = await make_residents_batch(db, 2, offset=200)
    await seat(db, single, workshop, now)
    assert await seat_pair(db, pair, workshop, now) is True
    # One seat left for two people: both wait, one after the other, never one seated without the other.
    assert await seat_pair(db, other_pair, workshop, now) is False
    rows = await statuses(db, workshop)
    assert [s for _, s, _ in rows].count(EnrolmentStatus.seated) == 3
    assert [p for r, _, p in rows if r in other_pair] == [1, 2]


async def test_two_people_without_the_waiting_list_change_nothing(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now, capacity=1)
    pair = await make_residents(db, 2)
    assert await seat_pair(db, pair, workshop, now, waiting=False) is None
    assert await statuses(db, workshop) == []


async def test_twenty_pairs_for_the_last_four_seats(db: Database, now: datetime) -> None:
    """Pairs answering at the same second for the last four seats: exactly two pairs seated, never a half pair."""
    workshop = await make_workshop(db, now, capacity=6)
    for resident in await make_residents(db, 2):
        await seat(db, resident, workshop, now)
    crowd = await make_residents_batch(db, 40, offset=300)
    pairs = [crowd[i : i + 2] for i in range(0, 40, 2)]
    results = await asyncio.gather(*(seat_pair(db, pair, workshop, now, waiting=False) for pair in pairs))
    assert results.count(True) == 2 and results.count(None) == 18
    seated = [r for r, s, _ in await statuses(db, workshop) if s == EnrolmentStatus.seated]
    assert len(seated) == 6
    assert all((a in seated) == (b in seated) for a, b in pairs)


async def enrolment_of(db: Database, resident_id: int, workshop_id: int) -> int:
    async with db.read() as session:
        return (
            await session.execute(
                select(Enrolment.id).where(Enrolment.resident_id == resident_id, Enrolment.workshop_id == workshop_id)
            )
        ).scalar_one()


async def test_moving_takes_the_new_seat_and_gives_the_old_one_to_the_first_waiting(
    db: Database, now: datetime
) -> None:
    old = await make_workshop(db, now, capacity=1)
    new = await make_workshop(db, now, capacity=6)
    mover, waiting = await make_residents(db, 2)
    await seat(db, mover, old, now)
    await seat(db, waiting, old, now)
    async with db.write() as session:
        moved = await move_seats(
            session=session, enrolment_ids=[await enrolment_of(db, mover, old)], workshop_id=new, now=now
        )
    assert moved is not None and [e.resident_id for e in moved.promoted] == [waiting]
    assert await statuses(db, old) == [
        (mover, EnrolmentStatus.cancelled, None),
        (waiting, EnrolmentStatus.seated, None),
    ]
    assert await statuses(db, new) == [(mover, EnrolmentStatus.seated, None)]


async def test_moving_to_a_full_workshop_changes_nothing(db: Database, now: datetime) -> None:
    old = await make_workshop(db, now, capacity=2)
    full = await make_workshop(db, now, capacity=1)
    mover, other = await make_residents(db, 2)
    await seat(db, mover, old, now)
    await seat(db, other, full, now)
    async with db.write() as session:
        moved = await move_seats(
            session=session, enrolment_ids=[await enrolment_of(db, mover, old)], workshop_id=full, now=now
        )
    assert moved is None
    assert await statuses(db, old) == [(mover, EnrolmentStatus.seated, None)]
    assert await statuses(db, full) == [(other, EnrolmentStatus.seated, None)]


async def test_crossed_moves_at_the_same_second_keep_every_capacity(db: Database, now: datetime) -> None:
    """Two people swapping workshops at once (locks taken in the same order: no deadlock) and a third person
    seating into one of them: capacities hold, nobody holds two seats."""
    a = await make_workshop(db, now, capacity=1)
    b = await make_workshop(db, now, capacity=2)
    first, second, third = await make_residents(db, 3)
    await seat(db, first, a, now)
    await seat(db, second, b, now)

    async def move(resident: int, source: int, target: int) -> bool:
        enrolment = await enrolment_of(db, resident, source)
        async with db.write() as session:
            return await move_seats(session=session, enrolment_ids=[enrolment], workshop_id=target, now=now) is not None

    results = await asyncio.gather(move(first, a, b), move(second, b, a), seat(db, third, b, now))
    seated_a = [r for r, s, _ in await statuses(db, a) if s == EnrolmentStatus.seated]
    seated_b = [r for r, s, _ in await statuses(db, b) if s == EnrolmentStatus.seated]
    assert len(seated_a) <= 1 and len(seated_b) <= 2
    assert not set(seated_a) & set(seated_b)
    assert {first, second} <= set(seated_a) | set(seated_b)  # a failed move kept its seat
    moved_first, moved_second, _ = results
    assert (first in seated_b) is moved_first and (second in seated_a) is moved_second
