"""Seat operations: each runs inside the caller's write transaction (``Database.write()``).

Capacity is enforced here, inside the transaction, not by a check before it: on PostgreSQL the workshop row is
locked (``SELECT … FOR UPDATE``) so concurrent seatings of one workshop queue behind each other; on SQLite the
whole transaction holds the write lock from its ``BEGIN IMMEDIATE``. Fifty people answering at the same second for
the last seat give exactly one seat.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Enrolment, EnrolmentStatus, Resident, Workshop, WorkshopStatus

ACTIVE = (EnrolmentStatus.seated, EnrolmentStatus.waiting)


class SeatError(Exception):
    """The workshop cannot take this enrolment (unknown, cancelled, or already started)."""


class AlreadyThereError(SeatError):
    """A move to a workshop the person is already seated or waiting in: nothing to move."""


@dataclass(frozen=True)
class SeatOutcome:
    enrolment: Enrolment
    seated: bool  # False: on the waiting list at ``enrolment.position``
    already: bool  # the resident was already seated or waiting there: nothing changed


@dataclass(frozen=True)
class CancelOutcome:
    cancelled: Enrolment
    # Now seated: the first party waiting that fits in the freed seat (``promote_waiting``): one person, or the
    # people who share a phone, together; none when nobody fits.
    promoted: tuple[Enrolment, ...] = ()


# The statements of a seating are built once (they run for every sign-up); the values are bound at execution.


@cache
def _lock_statement() -> Select[Workshop]:
    return select(Workshop).where(Workshop.id == bindparam("workshop_id")).with_for_update(of=Workshop)


@cache
def _count_statement() -> Select[int]:
    return (
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.workshop_id == bindparam("workshop_id"), Enrolment.status == EnrolmentStatus.seated)
    )


@cache
def _seating_statement() -> Select[int, int | None, int]:
    """What a seating reads of the workshop besides its row, in one statement: its seated count, the last
    position on its waiting list, and how many rows the people already have there."""
    in_workshop = Enrolment.workshop_id == bindparam("workshop_id")
    last = select(func.max(Enrolment.position)).where(in_workshop, Enrolment.status == EnrolmentStatus.waiting)
    people = Enrolment.resident_id.in_(bindparam("resident_ids", expanding=True))
    theirs = select(func.count()).where(in_workshop, people)
    return select(_count_statement().scalar_subquery(), last.scalar_subquery(), theirs.scalar_subquery())


@cache
def _existing_statement() -> Select[Enrolment]:
    return select(Enrolment).where(
        Enrolment.resident_id.in_(bindparam("resident_ids", expanding=True)),
        Enrolment.workshop_id == bindparam("workshop_id"),
    )


async def lock_workshop(*, session: AsyncSession, workshop_id: int) -> Workshop | None:
    """Load the workshop, locking its row on PostgreSQL (SQLite already holds the write lock)."""
    result = await session.execute(_lock_statement(), {"workshop_id": workshop_id})
    return result.unique().scalar_one_or_none()


async def lock_workshops(*, session: AsyncSession, workshop_ids: Iterable[int]) -> None:
    """Lock several workshops in the order of their ids: two changes that lock the same two (moves in opposite
    directions) never wait for each other."""
    for workshop_id in sorted(set(workshop_ids)):
        await lock_workshop(session=session, workshop_id=workshop_id)


async def _joinable(*, session: AsyncSession, workshop_id: int, now: datetime) -> Workshop:
    """The workshop, locked, when it can take people; SeatError otherwise."""
    workshop = await lock_workshop(session=session, workshop_id=workshop_id)
    if workshop is None:
        raise SeatError(f"workshop {workshop_id} does not exist")
    if workshop.status != WorkshopStatus.planned:
        raise SeatError(f"workshop {workshop_id} is cancelled")
    if workshop.starts_at <= now:
        raise SeatError(f"workshop {workshop_id} has already started")
    return workshop


async def count_seated(*, session: AsyncSession, workshop_id: int) -> int:
    result = await session.execute(_count_statement(), {"workshop_id": workshop_id})
    return int(result.scalar_one())


async def seat_resident(
    *,
    session: AsyncSession,
    resident_id: int,
    workshop_id: int,
    now: datetime,
    allow_waiting: bool = True,
    adviser_id: int | None = None,
) -> SeatOutcome | None:
    """Seat the resident, or put them at the end of the waiting list when the workshop is full.

    Returns None when the workshop is full and ``allow_waiting`` is False. Raises SeatError when the workshop
    cannot be joined at all.
    """
    outcomes = await seat_together(
        session=session,
        resident_ids=(resident_id,),
        workshop_id=workshop_id,
        now=now,
        allow_waiting=allow_waiting,
        adviser_id=adviser_id,
    )
    return outcomes[0] if outcomes is not None else None


async def seat_together(
    *,
    session: AsyncSession,
    resident_ids: Sequence[int],
    workshop_id: int,
    now: datetime,
    allow_waiting: bool = True,
    adviser_id: int | None = None,
) -> list[SeatOutcome] | None:
    """Seat people who come together (two people, one phone) — all of them, or none: when the free seats are
    too few, all go to the end of the waiting list, one after the other (or None, nothing changed, without
    ``allow_waiting``). Someone already seated or waiting there stays as they are. Raises SeatError when the
    workshop cannot be joined at all."""
    workshop = await _joinable(session=session, workshop_id=workshop_id, now=now)
    ids = {"resident_ids": list(resident_ids), "workshop_id": workshop_id}
    taken, last, theirs = (await session.execute(_seating_statement(), ids)).one()
    existing = await _existing(session=session, ids=ids) if theirs else {}
    newcomers = [r for r in resident_ids if r not in existing or existing[r].status not in ACTIVE]
    seated = len(newcomers) <= workshop.capacity - taken
    if not seated and not allow_waiting:
        return None
    position = None if seated else int(last or 0)
    outcomes = []
    for resident_id in resident_ids:
        enrolment = existing.get(resident_id)
        if resident_id not in newcomers and enrolment is not None:
            outcomes.append(SeatOutcome(enrolment, enrolment.status == EnrolmentStatus.seated, already=True))
            continue
        if enrolment is None:
            enrolment = Enrolment(resident_id=resident_id, workshop_id=workshop_id)
            session.add(enrolment)
        if position is not None:
            position += 1
        enrolment.status = EnrolmentStatus.seated if seated else EnrolmentStatus.waiting
        enrolment.position, enrolment.confirmed = position, None
        enrolment.enrolled_by_adviser_id = adviser_id
        enrolment.updated_at = now
        await session.flush()
        # Its joined relationships loaded now: a lazy load later would be I/O outside the async context.
        await _load_relations(session=session, enrolment=enrolment, workshop=workshop)
        outcomes.append(SeatOutcome(enrolment, seated, already=False))
    return outcomes


async def _existing(*, session: AsyncSession, ids: dict[str, Any]) -> dict[int, Enrolment]:
    """Their enrolments in the workshop (any status), by resident, loaded whole (with the workshop and the
    resident joined: most people enrol in a workshop once, and ``_seating_statement`` says first whether there is
    any, which costs a sign-up far less)."""
    found = await session.execute(_existing_statement(), ids)
    return {e.resident_id: e for e in found.scalars()}


async def _load_relations(*, session: AsyncSession, enrolment: Enrolment, workshop: Workshop) -> None:
    """The enrolment's workshop and resident as loaded relationships: from what the session holds when it holds
    them whole, every attribute and relationship loaded (the workshop just locked, the resident the message came
    from: no statement), else read again. One statement fewer per seat taken, and on PostgreSQL one round trip
    fewer while the workshop's row is locked."""
    resident = await session.get(Resident, enrolment.resident_id)
    if resident is None or inspect(resident).unloaded or inspect(workshop).unloaded:
        await session.refresh(enrolment)
        return
    set_committed_value(enrolment, "workshop", workshop)
    set_committed_value(enrolment, "resident", resident)


@dataclass(frozen=True)
class MoveOutcome:
    seated: list[Enrolment]  # in the new workshop: seated, or on its waiting list (``waiting``)
    cancelled: list[Enrolment]  # given up in the old one
    promoted: list[Enrolment]  # the people waiting who got the freed seats
    waiting: bool = False  # the new workshop was full: they wait for it (``allow_waiting``)


async def move_seats(
    *,
    session: AsyncSession,
    enrolment_ids: Sequence[int],
    workshop_id: int,
    now: datetime,
    promote: bool = True,
    allow_waiting: bool = False,
    adviser_id: int | None = None,
) -> MoveOutcome | None:
    """The same people seated in another workshop (or, with ``allow_waiting``, at the end of its waiting list when
    it is full), their old enrolments given up, the freed seats going to the people waiting (when ``promote``) —
    one change, inside the caller's transaction; ``adviser_id``: the adviser who made it. None (nothing changed)
    when the new workshop has not enough free seats (without ``allow_waiting``), or an enrolment is no longer
    active. Raises SeatError when the new workshop cannot be joined at all, AlreadyThereError (nothing changed) when one
    of them is already seated or waiting in it.

    Both workshops are locked in the order of their ids, so that two moves in opposite directions never wait for
    each other."""
    enrolments = [e for e in [await session.get(Enrolment, i) for i in enrolment_ids] if e is not None]
    if not enrolments or any(e.status not in ACTIVE for e in enrolments):
        return None
    await lock_workshops(session=session, workshop_ids=[*(e.workshop_id for e in enrolments), workshop_id])
    for enrolment in enrolments:
        await session.refresh(enrolment)
    if any(e.status not in ACTIVE for e in enrolments):  # cancelled while we waited for the locks
        return None
    await _joinable(session=session, workshop_id=workshop_id, now=now)
    residents = [e.resident_id for e in enrolments]
    there = await session.execute(
        select(Enrolment.id).where(
            Enrolment.workshop_id == workshop_id, Enrolment.resident_id.in_(residents), Enrolment.status.in_(ACTIVE)
        )
    )
    if there.first() is not None:
        raise AlreadyThereError(f"already enrolled in workshop {workshop_id}")
    seated = await seat_together(
        session=session,
        resident_ids=residents,
        workshop_id=workshop_id,
        now=now,
        allow_waiting=allow_waiting,
        adviser_id=adviser_id,
    )
    if seated is None:
        return None
    cancelled: list[Enrolment] = []
    for enrolment in enrolments:
        outcome = await cancel_enrolment(session=session, enrolment_id=enrolment.id, now=now, promote=False)
        if outcome is not None:
            cancelled.append(outcome.cancelled)
    # The seats given up are offered once all are free: two people waiting together can take two seats at once.
    promoted: list[Enrolment] = []
    for old_workshop in sorted({e.workshop_id for e in cancelled}) if promote else []:
        promoted += await fill_free_seats(session=session, workshop_id=old_workshop, now=now)
    waiting = not all(o.seated for o in seated)
    return MoveOutcome([o.enrolment for o in seated], cancelled, promoted, waiting)


async def _close_gap(*, session: AsyncSession, workshop_id: int, position: int) -> None:
    """Move everyone behind ``position`` one place up, so positions stay 1..N without gaps."""
    await session.execute(
        update(Enrolment)
        .where(
            Enrolment.workshop_id == workshop_id,
            Enrolment.status == EnrolmentStatus.waiting,
            Enrolment.position > position,
        )
        .values(position=Enrolment.position - 1)
        .execution_options(synchronize_session="fetch")
    )


async def _waiting_parties(*, session: AsyncSession, workshop_id: int) -> list[list[Enrolment]]:
    """The waiting list as parties, in order: someone alone, or the people who share a phone (a resident and
    their companion, ``Resident.companion_of``), who come together and are seated together or not at all. A
    party's place is that of its first member."""
    rows = await session.execute(
        select(Enrolment, Resident.companion_of_id)
        .join(Resident, Resident.id == Enrolment.resident_id)
        .where(Enrolment.workshop_id == workshop_id, Enrolment.status == EnrolmentStatus.waiting)
        .order_by(Enrolment.position)
    )
    parties: dict[int, list[Enrolment]] = {}
    for enrolment, companion_of_id in rows.unique().all():
        parties.setdefault(companion_of_id or enrolment.resident_id, []).append(enrolment)
    return list(parties.values())


async def promote_waiting(*, session: AsyncSession, workshop_id: int, now: datetime) -> list[Enrolment]:
    """Give free seats to the first party waiting that fits in them, as a restaurant does: two people who share a
    phone get two seats at once or keep their place, and a single seat goes to the first person alone behind them
    (or stays free when nobody alone waits). Returns the people seated (none, one, or the party). The caller holds
    the workshop lock."""
    workshop = await session.get(Workshop, workshop_id)
    if workshop is None or workshop.status != WorkshopStatus.planned:
        return []
    free = workshop.capacity - await count_seated(session=session, workshop_id=workshop_id)
    if free <= 0:
        return []
    parties = await _waiting_parties(session=session, workshop_id=workshop_id)
    party = next((p for p in parties if len(p) <= free), [])
    # From the back, so that each gap closed leaves the positions of the ones still to seat as they were.
    for enrolment in sorted(party, key=lambda e: e.position or 0, reverse=True):
        old_position = enrolment.position or 1
        enrolment.status, enrolment.position = EnrolmentStatus.seated, None
        enrolment.promoted_at, enrolment.updated_at = now, now
        await session.flush()
        await _close_gap(session=session, workshop_id=workshop_id, position=old_position)
    return party


async def fill_free_seats(*, session: AsyncSession, workshop_id: int, now: datetime) -> list[Enrolment]:
    """Give every free seat to the parties waiting, in order (``promote_waiting`` until nobody fits): the seats a
    move gives up, or the ones a larger capacity adds. Returns the people seated, party after party. The caller
    holds the workshop lock."""
    seated: list[Enrolment] = []
    while party := await promote_waiting(session=session, workshop_id=workshop_id, now=now):
        seated += party
    return seated


async def cancel_enrolment(
    *, session: AsyncSession, enrolment_id: int, now: datetime, promote: bool = True
) -> CancelOutcome | None:
    """Cancel a seated or waiting enrolment; a freed seat goes to the first person waiting when ``promote``.

    Returns None when there was nothing to cancel (unknown, or already cancelled).
    """
    enrolment = await session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.status not in ACTIVE:
        return None
    await lock_workshop(session=session, workshop_id=enrolment.workshop_id)
    await session.refresh(enrolment)
    if enrolment.status not in ACTIVE:  # someone cancelled it while we waited for the lock
        return None
    was_seated, old_position = enrolment.status == EnrolmentStatus.seated, enrolment.position
    enrolment.status, enrolment.position, enrolment.updated_at = EnrolmentStatus.cancelled, None, now
    await session.flush()
    promoted: list[Enrolment] = []
    if was_seated and promote:
        promoted = await promote_waiting(session=session, workshop_id=enrolment.workshop_id, now=now)
    elif old_position is not None:
        await _close_gap(session=session, workshop_id=enrolment.workshop_id, position=old_position)
    return CancelOutcome(enrolment, tuple(promoted))


async def cancel_workshop(
    *, session: AsyncSession, workshop_id: int, reason: str, now: datetime
) -> list[Enrolment] | None:
    """Mark the workshop cancelled; returns the seated and waiting enrolments (the people to tell).

    Their enrolments keep their status (history and statistics), but the workshop's status makes them void.
    Returns None for an unknown or already cancelled workshop.
    """
    workshop = await lock_workshop(session=session, workshop_id=workshop_id)
    if workshop is None or workshop.status == WorkshopStatus.cancelled:
        return None
    workshop.status, workshop.cancel_reason, workshop.updated_at = WorkshopStatus.cancelled, reason, now
    result = await session.execute(
        select(Enrolment)
        .where(Enrolment.workshop_id == workshop_id, Enrolment.status.in_(ACTIVE))
        .order_by(Enrolment.status, Enrolment.position, Enrolment.id)
    )
    await session.flush()
    return list(result.unique().scalars())
