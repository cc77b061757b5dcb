"""Seating and cancelling with their consequences: reminders planned or cancelled, the freed seat promoted.

Every interface (the conversation, an adviser's command, erasure) goes through these, inside one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.service.reminders import cancel_reminders, notify_promotion, plan_reminders
from storage.models import Enrolment, Workshop
from storage.seats import SeatError, SeatOutcome, cancel_enrolment, seat_resident


@dataclass(frozen=True)
class Cancelled:
    enrolment: Enrolment
    promoted: Enrolment | None
    promotion_notice: int | None = None  # the message telling the promoted person (None: nobody can tell them)


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
    """Seat (or put on the waiting list) and plan the reminders of a new seat. SeatError propagates."""
    outcome = await seat_resident(
        session=session,
        resident_id=resident_id,
        workshop_id=workshop_id,
        now=now,
        allow_waiting=allow_waiting,
        adviser_id=adviser_id,
    )
    if outcome is not None and outcome.seated and not outcome.already:
        await plan_reminders(session=session, ctx=ctx, enrolment_id=outcome.enrolment.id, now=now)
    return outcome


async def cancel(*, session: AsyncSession, ctx: Context, enrolment_id: int, now: datetime) -> Cancelled | None:
    """Cancel an enrolment; the seat goes to the first person waiting, unless the workshop is too close."""
    enrolment = await session.get(Enrolment, enrolment_id)
    if enrolment is None:
        return None
    workshop = await session.get(Workshop, enrolment.workshop_id)
    promote = workshop is not None and now < workshop.starts_at - ctx.settings.promotion_cutoff
    outcome = await cancel_enrolment(session=session, enrolment_id=enrolment_id, now=now, promote=promote)
    if outcome is None:
        return None
    await cancel_reminders(session=session, enrolment_id=enrolment_id)
    notice = None
    if outcome.promoted is not None:
        notice = await notify_promotion(session=session, ctx=ctx, enrolment_id=outcome.promoted.id, now=now)
    return Cancelled(outcome.cancelled, outcome.promoted, notice)


__all__ = ["Cancelled", "SeatError", "cancel", "enrol"]
