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
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Enrolment, EnrolmentStatus, Resident, Workshop, WorkshopStatus
from storage.prepared import execute, reread_held

ACTIVE = (EnrolmentStatus.seated, EnrolmentStatus.waiting)

_ENROLMENTS = cast(Table, Enrolment.__table__)
_WORKSHOPS = cast(Table, Workshop.__table__)


class SeatError(Exception):
    """The workshop cannot take this enrolment (unknown, cancelled, or already started)."""


class AlreadyThereError(SeatError):
    """A move to a workshop the person is already seated or waiting in: nothing to move."""


@dataclass(frozen=True)
class Seat:
    """One person's place after a seating (``take_seats``), as the database now holds it."""

    enrolment_id: int
    seated: bool  # False: on the waiting list at ``position``
    position: int | None
    already: bool  # the resident was already seated or waiting there: nothing changed


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
    """The workshop loaded and locked, for the changes that use it (an edit, a cancellation); a seat locks its row
    only (``_lock_row_statement``)."""
    return select(Workshop).where(Workshop.id == bindparam("workshop_id")).with_for_update(of=Workshop)


@cache
def _count_statement() -> Select[int]:
    return (
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.workshop_id == bindparam("workshop_id"), Enrolment.status == EnrolmentStatus.seated)
    )


@cache
def _lock_row_statement() -> Select[int]:
    """The workshop's row locked for the transaction (``FOR UPDATE``, which SQLite leaves out)."""
    return select(_WORKSHOPS.c.id).where(_WORKSHOPS.c.id == bindparam("workshop_id")).with_for_update()


def _people(count: int) -> ColumnElement[bool]:
    """The enrolment is one of ``count`` residents' (``resident_0``, ``resident_1``…): bound one by one, not as
    an expanding ``IN``, so that the statement is compiled once (``storage/prepared.py``)."""
    column = _ENROLMENTS.c.resident_id
    return or_(*(column == bindparam(f"resident_{index}") for index in range(count)))


@cache
def _seating_statement(people: int) -> Select[WorkshopStatus, datetime, int, int, int | None, int]:
    """All a seating reads, in one statement: the workshop's status, start and capacity, its seated count, the
    last position on its waiting list, and how many rows the people already have there."""
    w, e = _WORKSHOPS.c, _ENROLMENTS.c
    in_workshop = e.workshop_id == bindparam("workshop_id")
    last = select(func.max(e.position)).where(in_workshop, e.status == EnrolmentStatus.waiting)
    theirs = select(func.count()).select_from(_ENROLMENTS).where(in_workshop, _people(people))
    return select(
        w.status,
        w.starts_at,
        w.capacity,
        _count_statement().scalar_subquery(),
        last.scalar_subquery(),
        theirs.scalar_subquery(),
    ).where(w.id == bindparam("workshop_id"))


@cache
def _theirs_statement(people: int) -> Select[int, int, EnrolmentStatus, int | None]:
    """The people's rows in the workshop, whatever their status."""
    e = _ENROLMENTS.c
    return select(e.id, e.resident_id, e.status, e.position).where(
        e.workshop_id == bindparam("workshop_id"), _people(people)
    )


@cache
def _insert_statement() -> Insert:
    e = _ENROLMENTS.c
    return (
        insert(_ENROLMENTS)
        .values(
            resident_id=bindparam("resident"),
            workshop_id=bindparam("workshop_id"),
            status=bindparam("to_status"),
            position=bindparam("to_position"),
            enrolled_by_adviser_id=bindparam("adviser"),
            created_at=bindparam("at"),
            updated_at=bindparam("at"),
        )
        .returning(e.id)
    )


@cache
def _rewrite_statement() -> Update:
    """A row given up before, taken again: its status, place, adviser and answer to a reminder (forgotten) as a
    new seat's; its creation and an earlier promotion's date stay, as they happened."""
    return (
        update(_ENROLMENTS)
        .where(_ENROLMENTS.c.id == bindparam("row"))
        .values(
            status=bindparam("to_status"),
            position=bindparam("to_position"),
            confirmed=None,
            enrolled_by_adviser_id=bindparam("adviser"),
            updated_at=bindparam("at"),
        )
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
    refuse_present: bool = False,
) -> list[SeatOutcome] | None:
    """``take_seats``, each place with its enrolment loaded whole (its workshop and resident)."""
    seats = await take_seats(
        session=session,
        resident_ids=resident_ids,
        workshop_id=workshop_id,
        now=now,
        allow_waiting=allow_waiting,
        adviser_id=adviser_id,
        refuse_present=refuse_present,
    )
    if seats is None:
        return None
    return [await outcome_of(session=session, seat=seat) for seat in seats]


async def enrolment_of(*, session: AsyncSession, seat: Seat) -> Enrolment:
    """The seat's enrolment as an ORM object, with its workshop and resident (one statement)."""
    enrolment = await session.get(Enrolment, seat.enrolment_id)
    if enrolment is None:
        raise LookupError(f"enrolment {seat.enrolment_id} was just written and is not there")
    return enrolment


async def outcome_of(*, session: AsyncSession, seat: Seat) -> SeatOutcome:
    """The seat with its enrolment loaded whole (``enrolment_of``)."""
    return SeatOutcome(await enrolment_of(session=session, seat=seat), seat.seated, seat.already)


async def take_seats(
    *,
    session: AsyncSession,
    resident_ids: Sequence[int],
    workshop_id: int,
    now: datetime,
    allow_waiting: bool = True,
    adviser_id: int | None = None,
    refuse_present: bool = False,
) -> list[Seat] | None:
    """Seat people who come together (two people, one phone) — all of them, or none: when the free seats are
    too few, all go to the end of the waiting list, one after the other (or None, nothing changed, without
    ``allow_waiting``). Someone already seated or waiting there stays as they are, unless ``refuse_present``
    (a move): then AlreadyThereError, nothing changed. Raises SeatError when the workshop cannot be joined at all.

    Core statements on the transaction's connection (``seat_rows``): a sign-up is the most frequent change, and
    through the ORM's unit of work it cost more than the rest of its turn."""
    await session.flush()  # the ORM's pending changes first: the seats counted must include them
    seats = await session.run_sync(
        lambda sync: seat_rows(
            sync.connection(),
            resident_ids=resident_ids,
            workshop_id=workshop_id,
            now=now,
            allow_waiting=allow_waiting,
            adviser_id=adviser_id,
            refuse_present=refuse_present,
        )
    )
    for seat in seats or ():
        if not seat.already:  # a row written again (someone who had cancelled comes back)
            await reread_held(session=session, model=Enrolment, row_id=seat.enrolment_id)
    return seats


def seat_rows(
    connection: Connection,
    *,
    resident_ids: Sequence[int],
    workshop_id: int,
    now: datetime,
    allow_waiting: bool,
    adviser_id: int | None,
    refuse_present: bool = False,
) -> list[Seat] | None:
    """``take_seats`` on a synchronous connection: the workshop's row locked (PostgreSQL; SQLite's transaction
    already holds the write lock), what the seating needs read in one statement, then a row written per person
    (or one written again, for someone who had left)."""
    people = {f"resident_{index}": resident_id for index, resident_id in enumerate(resident_ids)}
    ids = {"workshop_id": workshop_id, **people}
    # The lock is a statement of its own: on PostgreSQL (READ COMMITTED) the next statement reads what was
    # committed while it waited; counted in the same statement, the seats would be those of before the wait.
    execute(connection, _lock_row_statement(), {"workshop_id": workshop_id})
    found = execute(connection, _seating_statement(len(people)), ids)
    if not found:
        raise SeatError(f"workshop {workshop_id} does not exist")
    status, starts_at, capacity, taken, last, theirs = found[0]
    if status != WorkshopStatus.planned:
        raise SeatError(f"workshop {workshop_id} is cancelled")
    if starts_at <= now:
        raise SeatError(f"workshop {workshop_id} has already started")
    # Most people enrol in a workshop once: their rows there are read only when the count says there are some.
    existing = {row[1]: row for row in execute(connection, _theirs_statement(len(people)), ids)} if theirs else {}
    newcomers = [r for r in resident_ids if r not in existing or existing[r][2] not in ACTIVE]
    if refuse_present and len(newcomers) < len(resident_ids):
        raise AlreadyThereError(f"already enrolled in workshop {workshop_id}")
    seated = len(newcomers) <= capacity - taken
    if not seated and not allow_waiting:
        return None
    position = None if seated else int(last or 0)
    seats = []
    for resident_id in resident_ids:
        row = existing.get(resident_id)
        if resident_id not in newcomers and row is not None:
            seats.append(Seat(row[0], row[2] == EnrolmentStatus.seated, row[3], already=True))
            continue
        if position is not None:
            position += 1
        values = {
            "to_status": EnrolmentStatus.seated if seated else EnrolmentStatus.waiting,
            "to_position": position,
            "adviser": adviser_id,
            "at": now,
        }
        if row is None:
            ((enrolment_id,),) = execute(connection, _insert_statement(), values | ids | {"resident": resident_id})
        else:
            enrolment_id = row[0]
            execute(connection, _rewrite_statement(), values | {"row": enrolment_id})
        seats.append(Seat(int(enrolment_id), seated, position, already=False))
    return seats


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
    seated = await seat_together(
        session=session,
        resident_ids=[e.resident_id for e in enrolments],
        workshop_id=workshop_id,
        now=now,
        allow_waiting=allow_waiting,
        adviser_id=adviser_id,
        refuse_present=True,
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
