"""Reminders and promotion notices: outbox rows planned in advance (SPEC §5), never scheduler jobs.

Each runs inside the caller's write transaction, so that seating, cancelling or moving and the messages that
follow from it are one change. Idempotency keys make planning twice plan once; a moved workshop gets new keys
(the start time is part of them), so its old reminders can be cancelled and new ones planned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.understanding.names import first_name_of
from bot.scheduler.planning import is_urgent_change, reminder_times
from bot.service import spoken
from bot.service.calls import promotion_script, record_calls
from bot.service.recipients import address_of, why_unreachable
from storage.calls import NewCall
from storage.delivery import record_status
from storage.enums import Channel
from storage.models import CallKind, Enrolment, EnrolmentStatus, MessageKind, Workshop, WorkshopStatus
from storage.outbox.queueing import NewMessage, cancel_pending, enqueue, revive_cancelled
from storage.residents import household_ids, seated_household

log = logging.getLogger(__name__)

SEAT_NOTICES = (MessageKind.reminder, MessageKind.promotion, MessageKind.confirmation)


def reminder_key(*, enrolment_id: int, starts_at: datetime, label: str) -> str:
    return f"reminder:{enrolment_id}:{starts_at.isoformat()}:{label}"


def promotion_key(*, enrolment_id: int, workshop_id: int, promoted_at: datetime | None) -> str:
    """One notice per promotion, however many times it is asked for; a second promotion of the same row (they
    left the seat, waited again and were promoted again) gets its own."""
    at = f":{promoted_at.astimezone(UTC):%Y%m%d%H%M%S%f}" if promoted_at is not None else ""
    return f"promotion:{enrolment_id}:{workshop_id}{at}"


def venue_of(workshop: Workshop) -> str:
    """Where the workshop is, as residents read it."""
    return say.venue_label(workshop.venue.name, workshop.venue.commune.name)


def will_remind(*, ctx: Context, starts_at: datetime, now: datetime) -> bool:
    """Whether a seat taken now for a workshop starting at ``starts_at`` gets at least one reminder."""
    rules, quiet = ctx.settings.reminders, ctx.settings.quiet_hours
    return bool(reminder_times(starts_at=starts_at, rules=rules, quiet_hours=quiet, tz=ctx.tz, now=now))


async def _seated(session: AsyncSession, enrolment_id: int) -> Enrolment | None:
    enrolment = await session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.status != EnrolmentStatus.seated:
        return None
    if enrolment.workshop.status != WorkshopStatus.planned:
        return None
    return enrolment


def _named(together: list[Enrolment]) -> str:
    """Whom a reminder to a shared phone is for: "Colette et Bernard"; "" for someone alone on their phone."""
    if len(together) == 1 and together[0].resident.companion_of_id is None:
        return ""
    return say.names_fr([first_name_of(e.resident.name or "") for e in together])


async def _whose_seat(session: AsyncSession, enrolment: Enrolment) -> str:
    """Whom a promotion is for, on a phone two people share: their first name ("pour Bernard"), since both may be
    promoted at once, each told by a notice of their own; "" (pour vous) for someone alone on their phone."""
    if len(await household_ids(session=session, resident=enrolment.resident)) == 1:
        return ""
    return first_name_of(enrolment.resident.name or "")


async def plan_reminders(
    *, session: AsyncSession, ctx: Context, enrolment_id: int, now: datetime, together: list[Enrolment] | None = None
) -> int:
    """Plan the reminders of a seated enrolment (ATELIER_REMINDERS, moved out of closed windows, none in the
    past); returns how many were added. Nothing for someone not seated or with no channel left. People sharing a
    phone and seated together get one reminder naming both, planned on the first one's enrolment. ``together``:
    their ``seated_household`` when the caller has just read it (else read here)."""
    enrolment = await _seated(session, enrolment_id)
    if enrolment is None:
        return 0
    if together is None:
        together = await seated_household(session=session, enrolment=enrolment)
    if together and together[0].id != enrolment.id:
        return 0  # the reminder of the first one names this one too
    destination = address_of(enrolment.resident, calls=ctx.settings.calls_enabled)
    if destination is None:
        return 0
    channel, address = destination
    workshop = enrolment.workshop
    who = _named(together)
    calling = channel == Channel.voice
    planned = 0
    for reminder in reminder_times(
        starts_at=workshop.starts_at,
        rules=ctx.settings.reminders,
        quiet_hours=ctx.settings.quiet_hours,
        tz=ctx.tz,
        now=now,
        call_hours=ctx.settings.call_hours if calling else None,
    ):
        if calling:
            body, choices = spoken.reminder(workshop, ctx).body, spoken.COMING
        else:
            body = say.reminder_body(
                workshop.starts_at, ctx.tz, venue_of(workshop), asks_confirmation=reminder.asks_confirmation, who=who
            )
            choices = say.YES_NO if reminder.asks_confirmation else ()
        message = NewMessage(
            channel=channel,
            to_address=address,
            body=body,
            choices=choices,
            kind=MessageKind.reminder,
            due_at=reminder.due_at,
            expires_at=workshop.starts_at,
            idempotency_key=reminder_key(enrolment_id=enrolment.id, starts_at=workshop.starts_at, label=reminder.label),
            resident_id=enrolment.resident_id,
            workshop_id=workshop.id,
            enrolment_id=enrolment.id,
        )
        queued = await enqueue(session=session, message=message)
        revived = queued is None and await revive_cancelled(session=session, message=message)
        planned += int(queued is not None or revived)
    return planned


async def replan_reminders(
    *, session: AsyncSession, ctx: Context, enrolment_id: int, now: datetime, together: list[Enrolment] | None = None
) -> int:
    """Reminders planned again (who they name may have changed); other pending notices are left alone."""
    await cancel_pending(session=session, enrolment_id=enrolment_id, kinds=(MessageKind.reminder,))
    return await plan_reminders(session=session, ctx=ctx, enrolment_id=enrolment_id, now=now, together=together)


async def cancel_reminders(*, session: AsyncSession, enrolment_id: int) -> int:
    """The seat is given up: its pending reminders (and a promotion notice not yet sent) are cancelled."""
    return await cancel_pending(session=session, enrolment_id=enrolment_id, kinds=SEAT_NOTICES)


async def replan_workshop(*, session: AsyncSession, ctx: Context, workshop_id: int, now: datetime) -> int:
    """A workshop moved (or was cancelled): cancel the pending reminders of everyone in it and plan them again
    for the new time (none when cancelled). Returns how many reminders were planned."""
    await cancel_pending(session=session, workshop_id=workshop_id, kinds=(MessageKind.reminder,))
    seated = await session.scalars(
        select(Enrolment.id)
        .where(Enrolment.workshop_id == workshop_id, Enrolment.status == EnrolmentStatus.seated)
        .order_by(Enrolment.id)
    )
    planned = 0
    for enrolment_id in list(seated):
        planned += await plan_reminders(session=session, ctx=ctx, enrolment_id=enrolment_id, now=now)
    return planned


async def replan_resident(*, session: AsyncSession, ctx: Context, resident_id: int, now: datetime) -> int:
    """Plan again the reminders of every upcoming seat of the resident (a channel works again); returns how many."""
    seated = await session.scalars(
        select(Enrolment.id)
        .join(Workshop)
        .where(
            Enrolment.resident_id == resident_id,
            Enrolment.status == EnrolmentStatus.seated,
            Workshop.status == WorkshopStatus.planned,
            Workshop.starts_at > now,
        )
        .order_by(Enrolment.id)
    )
    planned = 0
    for enrolment_id in list(seated):
        planned += await plan_reminders(session=session, ctx=ctx, enrolment_id=enrolment_id, now=now)
    return planned


async def record_report(*, ctx: Context, report: dict[str, Any], now: datetime) -> bool:
    """A provider's delivery report (the keyword arguments of ``record_status``), in a grouped transaction
    (two or three come for every message sent: on SQLite those that arrive together are committed together);
    False when no message has its id. When it shows that a
    number marked as unable to receive SMS did receive one, the reminders that the mark had cancelled are planned
    again."""

    async def record(session: AsyncSession) -> bool:
        recorded = await record_status(session=session, **report)
        if recorded is None:
            return False
        if recorded.reachable_again and recorded.resident_id is not None:
            planned = await replan_resident(session=session, ctx=ctx, resident_id=recorded.resident_id, now=now)
            log.info("SMS delivered to a number marked unreachable: mark lifted, %d reminder(s) planned again", planned)
        return True

    return await ctx.db.grouped_transaction(record)


def seat_message(
    *,
    ctx: Context,
    enrolment: Enrolment,
    workshop: Workshop,
    destination: tuple[Channel, str],
    body: str,
    choices: tuple[str, ...],
    kind: MessageKind,
    key: str,
    now: datetime,
) -> NewMessage:
    """A message about one seat (a promotion, a phone enrolment's confirmation): it leaves at once, urgent when the
    workshop is within 24 hours (a call: at the first moment one may ring), and is void once the workshop starts."""
    channel, address = destination
    urgent = is_urgent_change(starts_at=workshop.starts_at, now=now)
    return NewMessage(
        channel=channel,
        to_address=address,
        body=body,
        choices=choices,
        kind=kind,
        due_at=spoken.first_moment(ctx=ctx, channel=channel, now=now, urgent=urgent),
        expires_at=workshop.starts_at,
        urgent=urgent,
        idempotency_key=key,
        resident_id=enrolment.resident_id,
        workshop_id=workshop.id,
        enrolment_id=enrolment.id,
    )


@dataclass(frozen=True)
class Promoted:
    """Someone from the waiting list who got a seat (given up, or added by a larger capacity)."""

    resident_id: int
    name: str | None
    told: bool  # a message tells them; otherwise they are on the "to call" list


async def notify_promotion(*, session: AsyncSession, ctx: Context, enrolment_id: int, now: datetime) -> int | None:
    """Tell someone promoted from the waiting list that they have a seat, and plan their reminders.

    The notice is not an answer: it respects the sending window, as an urgent one when the workshop is within
    24 hours. One notice per promotion, however many times this is called (``promotion_key``).
    Returns the queued notice's id, or None (already told, not seated any more, or no channel to reach them: then
    they are on the advisers' "to call" list, and the adviser in charge is told).
    """
    enrolment = await _seated(session, enrolment_id)
    if enrolment is None:
        return None
    workshop = enrolment.workshop
    notice: int | None = None
    # "You are on the waiting list", not sent yet (an adviser's phone enrolment in the quiet hours): the promotion
    # says more and says it right; both together would contradict each other.
    await cancel_pending(session=session, enrolment_id=enrolment.id, kinds=(MessageKind.confirmation,))
    destination = address_of(enrolment.resident, calls=ctx.settings.calls_enabled)
    if destination is None:
        # Nobody can tell them: an adviser phones them, and the adviser in charge of the workshop is told.
        call = NewCall(
            key=promotion_key(enrolment_id=enrolment.id, workshop_id=workshop.id, promoted_at=enrolment.promoted_at),
            kind=CallKind.promotion,
            resident_id=enrolment.resident_id,
            what_to_say=promotion_script(workshop=workshop, ctx=ctx),
            created_at=now,
            reason=why_unreachable(enrolment.resident),
            workshop_id=workshop.id,
            enrolment_id=enrolment.id,
        )
        await record_calls(session=session, ctx=ctx, calls=[call])
    else:
        who = await _whose_seat(session, enrolment)
        body = say.promotion_body(workshop.starts_at, ctx.tz, venue_of(workshop), who=who)
        choices: tuple[str, ...] = say.YES_NO
        if destination[0] == Channel.voice:
            body, choices = spoken.promotion(workshop, ctx).body, spoken.COMING
        key = promotion_key(enrolment_id=enrolment.id, workshop_id=workshop.id, promoted_at=enrolment.promoted_at)
        notice = await enqueue(
            session=session,
            message=seat_message(
                ctx=ctx, enrolment=enrolment, workshop=workshop, destination=destination, body=body, choices=choices,
                kind=MessageKind.promotion, key=key, now=now,
            ),
        )  # fmt: skip
    await plan_reminders(session=session, ctx=ctx, enrolment_id=enrolment.id, now=now)
    if notice is not None:
        log.info("promotion notice %s queued for enrolment %s", notice, enrolment.id)
        # The one thing done outside the database, and harmless if the transaction is rolled back or run again
        # (grouped_transaction): a wake only makes the dispatcher claim what is due; on SQLite its claim waits for
        # this transaction's commit behind the writer, elsewhere its next round finds the notice.
        ctx.wake_dispatcher()
    return notice
