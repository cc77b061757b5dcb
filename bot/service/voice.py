"""The voice channel's decisions: what a call says, what its keys do, and what follows when a call ends (issue 17).

Residents with a landline are phoned with what others read by SMS (``bot.service.spoken`` writes the outbox rows).
The voice channel (``bot.handlers.voice``) asks here, and only renders what it is told:

- ``answer_call``: the call was answered — by a person (who is calling, the message twice, the keys), or by an
  answering machine (a short message with the advisers' number, once, and nothing more);
- ``press_keys``: 1 and 2 act exactly as OUI and NON do by SMS (the same operations: a confirmation, or the seat
  given up and handed to the first person waiting), 3 says the message again; the person hears what was done;
- ``record_call_status``: Twilio's report of the call's end. No answer or busy: one more call later the same day,
  in the call hours; then the person goes on the advisers' "to call" list. A failed call goes there at once;
- ``incoming_call`` / ``menu_keys``: someone phoned the territory's number: 1 a call-back request, 2 their next
  workshop, 3 cancel it (after a confirmation key);
- ``settle_unreported``: a call whose end Twilio never reported (a lost callback) is asked for.

A key that changes something acts once per call (the provider id ``CallSid:keys`` is recorded like an SMS's
MessageSid), and what the person heard is recorded in the outbox as the answer to it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import CallLookup, CallReport
from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.keypad import CHANGES, Action, CallMenu, Menu, action_for, menu_of
from bot.conversation.phones import is_landline, masked
from bot.scheduler.planning import next_call_at
from bot.service import spoken
from bot.service.callbacks import request_callback
from bot.service.calls import hand_over
from bot.service.changes import Told
from bot.service.enrolments import SeatError, cancel, enrol
from bot.service.reminders import replan_resident, will_remind
from storage.catalogue import active_bookings, find_resident
from storage.enums import Channel
from storage.inbound import record_inbound
from storage.models import (
    Broadcast,
    Enrolment,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    Venue,
    Workshop,
    WorkshopStatus,
)
from storage.outbox.queueing import NewMessage, enqueue, replies_for_inbound
from storage.voice import (
    FINAL,
    INBOUND,
    OUTBOUND,
    TAKE_OVER_WITHIN,
    UNANSWERED,
    call_again,
    calls_without_report,
    finish_call,
    locked_message,
    note_call,
    set_outcome,
    sms_lost_to_landlines,
    taken_over_key,
    unanswered_tries,
)

log = logging.getLogger(__name__)

MAX_UNANSWERED = 2  # calls nobody answers for one message: the first, and one more later the same day
MACHINE = ("machine", "fax")  # Twilio's AnsweredBy values that are not a person (machine_end_beep, fax…)
REPORT_OVERDUE = timedelta(minutes=15)  # a call placed this long ago with no end reported is asked for
ACTIVE = (EnrolmentStatus.seated, EnrolmentStatus.waiting)
# What a key does: (what the person hears, the outcome recorded on the call, their resident id).
_Act = Callable[[], Awaitable[tuple[str, str, int | None]]]


@dataclass(frozen=True)
class Script:
    """What a call says next. The voice channel says ``say`` in order; with ``gather``, it then listens for one key
    (sending it with ``gather`` as the query of its next request) while saying ``prompt``, asks once more, and says
    ``closing`` if no key came. Without ``gather`` it hangs up after ``say``."""

    say: tuple[str, ...] = ()
    prompt: str = ""
    gather: Mapping[str, str] | None = None
    closing: str = ""


def _goodbye() -> Script:
    return Script(say=(say.goodbye_spoken(),))


def _is_machine(answered_by: str | None) -> bool:
    return (answered_by or "").startswith(MACHINE)


def _message_script(ctx: Context, row: OutboundMessage, *, intro: bool) -> Script:
    """The message twice, then its keys."""
    menu = menu_of(row.choices)
    said = (say.call_intro(ctx.territory.name),) if intro else ()
    return Script(
        say=(*said, row.body, say.repeat_spoken(row.body)),
        prompt=say.KEYS_PROMPTS[menu.menu],
        gather={"outbox": str(row.id)},
        closing=say.no_key_spoken(ctx.territory.contact.phone),
    )


async def _call_row(session: AsyncSession, outbox_id: int) -> OutboundMessage | None:
    row = await session.get(OutboundMessage, outbox_id)
    if row is None or row.channel != Channel.voice or not row.to_address:  # "": erased since the call was placed
        return None
    return row


# ---------------------------------------------------------------------------------------------------------------
# A call we placed


async def answer_call(*, ctx: Context, outbox_id: int, call_sid: str, answered_by: str | None) -> Script:
    """The call of outbox row ``outbox_id`` was answered: what to say."""
    now = ctx.now()
    async with ctx.db.write() as session:
        row = await _call_row(session, outbox_id)
        if row is None:
            return _goodbye()
        await note_call(
            session=session, call_sid=call_sid, direction=OUTBOUND, now=now, status="in-progress",
            outbox_id=row.id, resident_id=row.resident_id, answered_by=answered_by,
        )  # fmt: skip
        if _is_machine(answered_by):
            # Left once: the call ends after it, and the message counts as delivered (no second call).
            await set_outcome(session=session, call_sid=call_sid, outcome="voicemail")
            text = say.machine_spoken(ctx.territory.name, row.body, ctx.territory.contact.phone)
            return Script(say=(text,))
        return _message_script(ctx, row, intro=True)


async def press_keys(*, ctx: Context, outbox_id: int, call_sid: str, digits: str) -> Script:
    """The person pressed a key after the message of outbox row ``outbox_id``."""
    now = ctx.now()
    async with ctx.db.write() as session:
        row = await _call_row(session, outbox_id)
        if row is None:
            return _goodbye()
        menu = menu_of(row.choices)
        action = action_for(menu.menu, digits)
        if action is None:
            again = _message_script(ctx, row, intro=False)
            return Script(
                say=(say.wrong_key_spoken(),), prompt=again.prompt, gather=again.gather, closing=again.closing
            )
        if action == Action.replay:
            return _message_script(ctx, row, intro=False)
        return await _act_once(
            session=session, ctx=ctx, call_sid=call_sid, digits=digits, now=now,
            act=lambda: _act_on_message(session=session, ctx=ctx, row=row, menu=menu, action=action, now=now),
        )  # fmt: skip


async def _act_once(
    *,
    session: AsyncSession,
    ctx: Context,
    call_sid: str,
    digits: str,
    now: datetime,
    act: _Act,
) -> Script:
    """Carry out a key that changes something once per call: Twilio may post the same key twice (a retry); the
    second time, the person hears again what the first one did."""
    record, new = await record_inbound(
        session=session, channel=Channel.voice, provider_id=f"{call_sid}:keys", body=digits.strip()[:1], now=now
    )
    if not new:
        previous = await replies_for_inbound(session=session, inbound_id=record.id)
        return Script(say=tuple(m.body for m in previous) or (say.goodbye_spoken(),))
    text, outcome, resident_id = await act()
    record.resident_id = resident_id
    await enqueue(
        session=session,
        message=NewMessage(
            channel=Channel.voice,
            to_address="",  # said in the call, to whoever holds the phone: no number kept for it
            body=text,
            kind=MessageKind.reply,
            due_at=now,
            idempotency_key=f"reply:{record.id}:0",
            resident_id=resident_id,
            inbound_id=record.id,
            status=MessageStatus.sent,
            sent_at=now,
        ),
    )
    await set_outcome(session=session, call_sid=call_sid, outcome=outcome)
    ctx.wake_dispatcher()  # a seat given up: the next person's notice
    return Script(say=(text,))


async def _act_on_message(
    *, session: AsyncSession, ctx: Context, row: OutboundMessage, menu: CallMenu, action: Action, now: datetime
) -> tuple[str, str, int | None]:
    phone = ctx.territory.contact.phone
    resident_id = row.resident_id
    if action == Action.enrol:  # the other workshop offered after a cancellation
        if resident_id is None or menu.subject is None:
            return say.already_changed_spoken(phone), "nothing", resident_id
        try:
            outcome = await enrol(
                session=session, ctx=ctx, resident_id=resident_id, workshop_id=menu.subject, now=now,
                allow_waiting=True,
            )  # fmt: skip
        except SeatError:
            return say.already_changed_spoken(phone), "nothing", resident_id
        assert outcome is not None  # noqa: S101 - allow_waiting=True always seats or queues
        workshop = outcome.enrolment.workshop
        text = say.enrolled_spoken(workshop.starts_at, ctx.tz, spoken.place_of(workshop), seated=outcome.seated)
        return text, "enrolled" if outcome.seated else "waiting", resident_id
    enrolment = await session.get(Enrolment, row.enrolment_id) if row.enrolment_id is not None else None
    if enrolment is None or enrolment.resident_id != resident_id or enrolment.status not in ACTIVE:
        return say.already_changed_spoken(phone), "nothing", resident_id
    return await _act_on_enrolment(session=session, ctx=ctx, enrolment=enrolment, action=action, now=now)


async def _act_on_enrolment(
    *, session: AsyncSession, ctx: Context, enrolment: Enrolment, action: Action, now: datetime
) -> tuple[str, str, int | None]:
    """OUI (1) and NON (2), through the operations the SMS words use."""
    workshop = enrolment.workshop
    enrolment.resident.last_activity_at = now
    if action == Action.confirm:
        if enrolment.status != EnrolmentStatus.seated:
            return say.already_changed_spoken(ctx.territory.contact.phone), "nothing", enrolment.resident_id
        enrolment.confirmed, enrolment.updated_at = True, now  # as OUI to a reminder does
        return say.confirmed_spoken(workshop.starts_at, ctx.tz), "confirmed", enrolment.resident_id
    waiting = enrolment.status == EnrolmentStatus.waiting
    done = await cancel(session=session, ctx=ctx, enrolment_id=enrolment.id, now=now)  # as NON does
    passed_on = done is not None and bool(done.promoted)
    text = say.seat_given_up_spoken(workshop.starts_at, ctx.tz, waiting=waiting, passed_on=passed_on)
    return text, "cancelled", enrolment.resident_id


async def record_call_status(*, ctx: Context, report: CallReport, outbox_id: int | None) -> None:
    """Twilio's news of a call (placed by us for ``outbox_id``, or received when None). The first report of its
    end decides: delivered; or, nobody answered, one more call later the same day, then the advisers' list."""
    now = ctx.now()
    async with ctx.db.write() as session:
        row = await _call_row(session, outbox_id) if outbox_id is not None else None
        await note_call(
            session=session, call_sid=report.call_sid, direction=OUTBOUND if outbox_id is not None else INBOUND,
            now=now, status=report.status, outbox_id=row.id if row else None,
            resident_id=row.resident_id if row else None, answered_by=report.answered_by,
            duration_seconds=report.duration_seconds,
        )  # fmt: skip
        if report.status not in FINAL or row is None:
            return
        if not await finish_call(session=session, call_sid=report.call_sid, now=now):
            return  # its end was reported before
        message = await locked_message(session=session, outbox_id=row.id)
        if message is None or message.provider_id not in (None, report.call_sid):
            return  # a report on an earlier call of this message, which was placed again since
        await _after_call(session=session, ctx=ctx, message=message, report=report, now=now)
    ctx.wake_dispatcher()


async def _after_call(
    *, session: AsyncSession, ctx: Context, message: OutboundMessage, report: CallReport, now: datetime
) -> None:
    if message.status not in (MessageStatus.sending, MessageStatus.sent):
        return  # settled otherwise already (cancelled, expired), or waiting for its next call
    message.provider_id = report.call_sid  # the report may come before the dispatcher's own record of it
    if report.status == "completed":
        message.status = MessageStatus.delivered
        message.sent_at = message.sent_at or now
        return
    if report.status in UNANSWERED:
        retry = await _retry_at(session=session, ctx=ctx, message=message, now=now)
        if retry is not None:
            await call_again(session=session, message=message, due_at=retry, error=report.status)
            log.info("call for message %s: %s, called again at %s", message.id, report.status, retry.isoformat())
            return
    message.status = MessageStatus.failed
    message.error = (report.status if report.error_code is None else f"{report.error_code}: {report.status}")[:300]
    log.info("call for message %s to %s: %s, handed to the advisers", message.id, masked(message.to_address),
             report.status)  # fmt: skip
    await hand_to_advisers(session=session, ctx=ctx, message=message, why=report.status, now=now)


async def _retry_at(*, session: AsyncSession, ctx: Context, message: OutboundMessage, now: datetime) -> datetime | None:
    """When to call again after nobody answered: ``ATELIER_CALL_RETRY`` later, in the call hours of the same day,
    before the message's deadline; None when it was the last try, or no such moment is left today."""
    if await unanswered_tries(session=session, outbox_id=message.id) >= MAX_UNANSWERED:
        return None
    settings = ctx.settings
    retry = next_call_at(now + settings.call_retry, hours=settings.call_hours, quiet_hours=settings.quiet_hours,
                         tz=ctx.tz)  # fmt: skip
    if retry.astimezone(ctx.tz).date() != now.astimezone(ctx.tz).date():
        return None
    if message.expires_at is not None and retry >= message.expires_at:
        return None
    return retry


async def hand_to_advisers(
    *,
    session: AsyncSession,
    ctx: Context,
    message: OutboundMessage,
    why: str,
    now: datetime,
) -> None:
    """The calls did not reach them: an adviser phones them — a call on the advisers' "to call" list, with what the
    call was to say, and the adviser in charge told."""
    if await hand_over(session=session, ctx=ctx, message=message, reason=why, now=now):
        ctx.wake_dispatcher()  # the advisers' notice leaves now
        log.info("resident %s: calls unanswered (%s), an adviser is asked to phone", message.resident_id, why)


async def settle_unreported(*, ctx: Context) -> int:
    """Ask Twilio about the calls whose end it never reported to us, and settle them; returns how many."""
    lookup = ctx.senders.get(Channel.voice)
    if not isinstance(lookup, CallLookup):
        return 0
    async with ctx.db.read() as session:
        overdue = await calls_without_report(session=session, sent_before=ctx.now() - REPORT_OVERDUE)
    settled = 0
    for outbox_id, call_sid in overdue:
        report = await lookup.call_report(call_sid)
        if report is None or report.status not in FINAL:
            continue
        await record_call_status(ctx=ctx, report=report, outbox_id=outbox_id)
        settled += 1
    return settled


# ---------------------------------------------------------------------------------------------------------------
# An SMS that found a landline: the call says it instead (within ``TAKE_OVER_WITHIN``: older news is stale)


async def take_over_from_sms(*, ctx: Context) -> int:
    """SMS that failed because the number is a landline (Twilio 21614, 21635, 30006), or were withdrawn when it was
    found to be one, are said by a call, once each, while they still hold (the seat, the workshop); the reminders
    the mark cancelled are planned again, as calls. Returns how many calls were queued."""
    if not ctx.settings.calls_enabled:
        return 0
    now = ctx.now()
    queued = 0
    async with ctx.db.write() as session:
        replanned: set[int] = set()
        for sms in await sms_lost_to_landlines(session=session, since=now - TAKE_OVER_WITHIN):
            if sms.resident_id is not None and sms.resident_id not in replanned:
                replanned.add(sms.resident_id)
                queued += await replan_resident(session=session, ctx=ctx, resident_id=sms.resident_id, now=now)
            call = await _spoken_instead(session=session, ctx=ctx, sms=sms, now=now)
            if call is not None and await enqueue(session=session, message=call) is not None:
                queued += 1
    if queued:
        ctx.wake_dispatcher()
        log.info("%d call(s) queued for SMS that found a landline", queued)
    return queued


async def _spoken_instead(
    *, session: AsyncSession, ctx: Context, sms: OutboundMessage, now: datetime
) -> NewMessage | None:
    """The call that says what ``sms`` said, if it still holds; None otherwise (and for a reminder, planned again
    by ``replan_resident`` if its seat still holds)."""
    resident = await session.get(Resident, sms.resident_id) if sms.resident_id is not None else None
    workshop = await session.get(Workshop, sms.workshop_id) if sms.workshop_id is not None else None
    enrolment = await session.get(Enrolment, sms.enrolment_id) if sms.enrolment_id is not None else None
    if resident is None or resident.phone is None or (workshop is not None and workshop.starts_at <= now):
        return None
    said = await _said_again(session=session, ctx=ctx, sms=sms, workshop=workshop, enrolment=enrolment)
    if said is None:
        return None
    return NewMessage(
        channel=Channel.voice,
        to_address=resident.phone,
        body=said.body,
        choices=said.choices,
        kind=MessageKind(sms.kind),
        due_at=spoken.first_moment(ctx=ctx, channel=Channel.voice, now=now, urgent=sms.urgent),
        expires_at=sms.expires_at,
        urgent=sms.urgent,
        idempotency_key=taken_over_key(sms.id),
        resident_id=resident.id,
        adviser_id=sms.adviser_id,
        workshop_id=sms.workshop_id,
        enrolment_id=sms.enrolment_id,
        broadcast_id=sms.broadcast_id,
        change=sms.change,
    )


async def _said_again(
    *,
    session: AsyncSession,
    ctx: Context,
    sms: OutboundMessage,
    workshop: Workshop | None,
    enrolment: Enrolment | None,
) -> spoken.Spoken | None:
    kind = MessageKind(sms.kind)
    if kind == MessageKind.broadcast:
        broadcast = await session.get(Broadcast, sms.broadcast_id) if sms.broadcast_id is not None else None
        moot = broadcast is None or (workshop is not None and workshop.status != WorkshopStatus.planned)
        return None if moot else spoken.broadcast(broadcast.body if broadcast else "")
    if workshop is None or enrolment is None:
        return None
    if kind == MessageKind.change_notice and workshop.status == WorkshopStatus.cancelled:
        commune = workshop.venue.commune.name
        return spoken.cancelled(
            starts_at=workshop.starts_at, commune=commune, reason=workshop.cancel_reason or "", offer=None, ctx=ctx
        )
    if workshop.status != WorkshopStatus.planned or enrolment.status not in ACTIVE:
        return None
    seated = enrolment.status == EnrolmentStatus.seated
    if kind == MessageKind.change_notice:
        before = await _told_before(session, sms.change)
        if before is None:
            return None
        return spoken.moved(old_start=before[0], old_commune=before[1], workshop=workshop, seated=seated, ctx=ctx)
    if kind == MessageKind.promotion and seated:
        return spoken.promotion(workshop, ctx)
    if kind == MessageKind.confirmation:
        reminded = seated and will_remind(ctx=ctx, starts_at=workshop.starts_at, now=ctx.now())
        if seated:
            return spoken.seated(workshop, ctx, reminded=reminded)
        return spoken.waiting(workshop, ctx, position=enrolment.position or 1)
    if kind == MessageKind.reminder and sms.status == MessageStatus.failed and seated:
        return spoken.reminder(workshop, ctx)  # it was due when it failed: said now
    return None  # a reminder withdrawn before its time: planned again as a call by replan_resident


async def _told_before(session: AsyncSession, change: Mapping[str, Any] | None) -> tuple[datetime, str] | None:
    """Where and when a move notice said the workshop was (its row's ``change``)."""
    told = Told.of(change)
    venue = await session.get(Venue, told.venue_id) if told is not None else None
    if told is None or venue is None:
        return None
    return told.starts_at, venue.commune.name


# ---------------------------------------------------------------------------------------------------------------
# Someone called the territory's number


def _welcome(ctx: Context, *, before: tuple[str, ...] = ()) -> Script:
    return Script(
        say=before,
        prompt=say.KEYS_PROMPTS[Menu.welcome],
        gather={"step": Menu.welcome.value},
        closing=say.no_key_spoken(ctx.territory.contact.phone),
    )


async def incoming_call(*, ctx: Context, call_sid: str) -> Script:
    """Someone phoned the territory's number: the menu."""
    async with ctx.db.write() as session:
        await note_call(session=session, call_sid=call_sid, direction=INBOUND, now=ctx.now(), status="in-progress")
    return _welcome(ctx, before=(say.call_intro(ctx.territory.name),))


async def menu_keys(
    *, ctx: Context, call_sid: str, caller: str | None, step: str, subject: int | None, digits: str
) -> Script:
    """A key pressed in the menu of the territory's number. ``caller``: their number (E.164), None when hidden."""
    phone = ctx.territory.contact.phone
    menu = Menu(step) if step in (Menu.welcome.value, Menu.cancel_next.value) else Menu.welcome
    action = action_for(menu, digits)
    if action is None:
        if menu == Menu.cancel_next:
            return Script(say=(say.kept_spoken(),))
        return _welcome(ctx, before=(say.wrong_key_spoken(),))
    if caller is None:
        return Script(say=(say.hidden_number_spoken(phone),))
    now = ctx.now()
    async with ctx.db.write() as session:
        resident = await find_resident(session=session, phone=caller)
        if action == Action.keep:
            return Script(say=(say.kept_spoken(),))
        if action == Action.next_workshop:
            return _next_workshop(ctx, await _bookings(session, resident, now))
        if action == Action.cancel_next:
            bookings = await _bookings(session, resident, now)
            if not bookings:
                return _welcome(ctx, before=(say.no_workshop_spoken(),))
            first = bookings[0]
            asked = say.ask_cancel_next_spoken(first.workshop.starts_at, ctx.tz, spoken.place_of(first.workshop))
            return Script(
                say=(asked,),
                prompt=say.KEYS_PROMPTS[Menu.cancel_next],
                gather={"step": Menu.cancel_next.value, "subject": str(first.id)},
                closing=say.kept_spoken(),
            )
        assert action in CHANGES  # noqa: S101 - callback or give_up, by the two menus' tables
        return await _act_once(
            session=session, ctx=ctx, call_sid=call_sid, digits=digits, now=now,
            act=lambda: _act_from_menu(session=session, ctx=ctx, resident=resident, caller=caller, action=action,
                                       subject=subject, now=now),
        )  # fmt: skip


async def _bookings(session: AsyncSession, resident: Resident | None, now: datetime) -> list[Enrolment]:
    if resident is None:
        return []
    return await active_bookings(session=session, resident_id=resident.id, now=now)


def _next_workshop(ctx: Context, bookings: list[Enrolment]) -> Script:
    if not bookings:
        return _welcome(ctx, before=(say.no_workshop_spoken(),))
    first = bookings[0]
    workshop: Workshop = first.workshop
    text = say.next_workshop_spoken(workshop.starts_at, ctx.tz, spoken.place_of(workshop), first.position)
    return _welcome(ctx, before=(text, say.repeat_spoken(text)))


async def _act_from_menu(
    *,
    session: AsyncSession,
    ctx: Context,
    resident: Resident | None,
    caller: str,
    action: Action,
    subject: int | None,
    now: datetime,
) -> tuple[str, str, int | None]:
    if action == Action.callback:
        if resident is None:  # a first contact: asking to be called back is consent to be called back
            resident = Resident(
                phone=caller, interests=[], created_at=now, last_activity_at=now, consent_at=now,
                consent_channel=Channel.voice.value, sms_unreachable=is_landline(caller),
            )  # fmt: skip
            session.add(resident)
            await session.flush()
            await session.refresh(resident, attribute_names=["commune"])
        resident.last_activity_at = now
        await request_callback(session=session, resident=resident, now=now)
        return say.callback_spoken(), "callback", resident.id
    enrolment = await session.get(Enrolment, subject) if subject is not None else None
    if resident is None or enrolment is None or enrolment.resident_id != resident.id or enrolment.status not in ACTIVE:
        return say.already_changed_spoken(ctx.territory.contact.phone), "nothing", resident.id if resident else None
    return await _act_on_enrolment(session=session, ctx=ctx, enrolment=enrolment, action=Action.give_up, now=now)


__all__ = [
    "MAX_UNANSWERED",
    "Script",
    "answer_call",
    "hand_to_advisers",
    "incoming_call",
    "menu_keys",
    "press_keys",
    "record_call_status",
    "settle_unreported",
]
