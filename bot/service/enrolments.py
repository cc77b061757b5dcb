"""Seating, moving and cancelling with their consequences: reminders planned or cancelled, freed seats promoted.

Every interface (the conversation, an adviser's command, erasure) goes through these, inside one transaction.
People who share a phone (a resident and their companion, ``Resident.companion_of``) get one reminder naming both
when they sit in the same workshop: whenever one of them is seated, moved or cancelled, the reminders of the
others in that workshop are planned again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.service.reminders import cancel_reminders, notify_promotion, replan_reminders
from storage.models import Enrolment, Workshop
from storage.residents import seated_household
from storage.seats import (
    AlreadyThereError,
    Seat,
    SeatError,
    SeatOutcome,
    cancel_enrolment,
    enrolment_of,
    move_seats,
    outcome_of,
    take_seats,
)


@dataclass(frozen=True)
class Cancelled:
    enrolment: Enrolment
    promoted: tuple[Enrolment, ...] = ()  # seated in the freed seat: one person, or a party sharing a phone
    # The message telling each of them, in the same order (None: nobody can tell them, an adviser will call).
    promotion_notices: tuple[int | None, ...] = ()


async def enrol(
    *,
    session: AsyncSession,
    ctx: Context,
    resident_id: int,
    workshop_id: int,
    now: datetime,
    allow_waiting: bool,
    adviser_id: int | None = None,
) -> SeatOutcome | None:
    """Seat (or put on the waiting list) and plan the reminders of a new seat, the enrolment loaded whole.
    SeatError propagates."""
    seats = await enrol_together(
        session=session,
        ctx=ctx,
        resident_ids=(resident_id,),
        workshop_id=workshop_id,
        now=now,
        allow_waiting=allow_waiting,
        adviser_id=adviser_id,
    )
    if seats is None:
        return None
    (seat,) = seats
    return await outcome_of(session=session, seat=seat)


async def enrol_together(
    *,
    session: AsyncSession,
    ctx: Context,
    resident_ids: Sequence[int],
    workshop_id: int,
    now: datetime,
    allow_waiting: bool,
    adviser_id: int | None = None,
) -> list[Seat] | None:
    """Seat people who come together, all or none (``storage.seats.take_seats``), and plan their reminders."""
    seats = await take_seats(
        session=session,
        resident_ids=resident_ids,
        workshop_id=workshop_id,
        now=now,
        allow_waiting=allow_waiting,
        adviser_id=adviser_id,
    )
    if seats is not None and any(seat.seated and not seat.already for seat in seats):
        first = await enrolment_of(session=session, seat=seats[0])
        await replan_household(session=session, ctx=ctx, enrolment=first, now=now)
    return seats


async def cancel(*, session: AsyncSession, ctx: Context, enrolment_id: int, now: datetime) -> Cancelled | None:
    """Cancel an enrolment; the seat goes to the first person waiting who fits in it
    (``storage.seats.promote_waiting``), unless the workshop is too close."""
    enrolment = await session.get(Enrolment, enrolment_id)
    if enrolment is None:
        return None
    workshop = await session.get(Workshop, enrolment.workshop_id)
    promote = workshop is not None and now < workshop.starts_at - ctx.settings.promotion_cutoff
    outcome = await cancel_enrolment(session=session, enrolment_id=enrolment_id, now=now, promote=promote)
    if outcome is None:
        return None
    await cancel_reminders(session=session, enrolment_id=enrolment_id)
    await replan_household(session=session, ctx=ctx, enrolment=outcome.cancelled, now=now)
    notices = [
        await notify_promotion(session=session, ctx=ctx, enrolment_id=promoted.id, now=now)
        for promoted in outcome.promoted
    ]
    return Cancelled(outcome.cancelled, outcome.promoted, tuple(notices))


@dataclass(frozen=True)
class Moved:
    seated: list[Enrolment]  # in the new workshop: seated, or on its waiting list (``waiting``)
    promoted: list[Enrolment]  # the people waiting who got the seats given up
    waiting: bool = False
    # for each person promoted, the message telling them (None: nothing reaches them, they are on the "to call" list)
    promotion_notices: tuple[int | None, ...] = ()


async def move(
    *,
    session: AsyncSession,
    ctx: Context,
    enrolment_ids: Sequence[int],
    workshop_id: int,
    now: datetime,
    allow_waiting: bool = False,
    adviser_id: int | None = None,
) -> Moved | None:
    """Move these enrolments (one person, or two coming together) to another workshop — the one move, whoever
    asks (the resident in the dialogue, an adviser for someone who phoned): the new seats are taken and the old
    ones given up in the caller's transaction, the freed seats offered to the people waiting (who are told), the
    reminders planned for the new date. With ``allow_waiting``, a full workshop puts them on its waiting list;
    ``adviser_id``: the adviser who made the move. None when the new workshop has not enough free seats (nothing
    changed). SeatError propagates (the new workshop was cancelled or has started), AlreadyThereError too (they are
    already in it; nothing changed)."""
    first = await session.get(Enrolment, enrolment_ids[0]) if enrolment_ids else None
    if first is None:
        return None
    old = await session.get(Workshop, first.workshop_id)
    promote = old is not None and now < old.starts_at - ctx.settings.promotion_cutoff
    outcome = await move_seats(
        session=session, enrolment_ids=enrolment_ids, workshop_id=workshop_id, now=now, promote=promote,
        allow_waiting=allow_waiting, adviser_id=adviser_id,
    )  # fmt: skip
    if outcome is None:
        return None
    for given_up in outcome.cancelled:
        await cancel_reminders(session=session, enrolment_id=given_up.id)
    if outcome.cancelled:
        await replan_household(session=session, ctx=ctx, enrolment=outcome.cancelled[0], now=now)
    await replan_household(session=session, ctx=ctx, enrolment=outcome.seated[0], now=now)
    notices = [
        await notify_promotion(session=session, ctx=ctx, enrolment_id=promoted.id, now=now)
        for promoted in outcome.promoted
    ]
    return Moved(outcome.seated, outcome.promoted, outcome.waiting, tuple(notices))


async def replan_household(*, session: AsyncSession, ctx: Context, enrolment: Enrolment, now: datetime) -> None:
    """Plan again the reminders of everyone of this enrolment's household seated in its workshop: one reminder
    for the household, naming whoever comes."""
    together = await seated_household(session=session, enrolment=enrolment)  # read once for all of them
    for member in together:
        await replan_reminders(session=session, ctx=ctx, enrolment_id=member.id, now=now, together=together)


__all__ = ["AlreadyThereError", "Cancelled", "Moved", "SeatError", "cancel", "enrol", "enrol_together", "move"]
