"""The advisers' "to call" list: everyone an adviser should phone today, why, and what to tell them (issue 14).

One list for every kind of need (``CallKind``, data: a later voice channel adds its own):

- ``callback``: the resident wrote CONSEILLER (``bot.service.callbacks`` adds the call with the request);
- ``promotion``: a seat freed up for someone no message can reach (``bot.service.reminders.notify_promotion``);
- ``change_notice``: their workshop was cancelled or moved and no message can reach them (``bot.service.changes``);
- ``broadcast``: an adviser's message to many did not reach them (``bot.service.broadcasts``, and the sweep);
- ``unanswered_reminder``: seated for a workshop within 48 hours, asked to confirm, no answer — when the territory
  asks for confirmation (``[confirmation]`` in the territory file);
- ``noted``: a call an adviser made or took outside the list, noted on the person's record (``note_call``), done
  as soon as it is written.

What to say is said for any interface (no command in it); what may follow the call — unenrol them if they will
not come, offer another workshop when theirs was cancelled — is data (``CallItem.follow_up``), which each
interface offers its own way (a command line, a button).

Needs that appear after the fact — a delivery that failed or expired, a notice withdrawn because the person sent
STOP or their number turned out to be a landline (unless the voice channel says it instead), a reminder left
unanswered — are found by ``sweep``, which the scheduler runs every minute and ``list_calls`` runs before reading,
so the list is right even without ``atelier serve``. The adviser in charge of the workshop is told of each new
undeliverable notice or promotion (one message per adviser and batch); a call whose reason went away (the person
answered, the workshop started) closes itself.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.phones import national
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.reach import adviser_address, advisers_for
from bot.service.recipients import TO_PHONE_REASON_FR
from bot.service.workshops import WorkshopError
from storage.calls import (
    NewCall,
    add_call,
    close_call,
    handle_callback_request,
    load_calls,
    moot_open_calls,
    seated_without_answer,
    undelivered_messages,
)
from storage.enums import Channel
from storage.models import (
    Adviser,
    Broadcast,
    Call,
    CallbackRequest,
    CallKind,
    Enrolment,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    Workshop,
    WorkshopStatus,
)
from storage.outbox.queueing import NewMessage, enqueue
from storage.voice import TAKE_OVER_WITHIN, said_by_calls

log = logging.getLogger(__name__)

# The messages the sweep looks for among those that did not arrive, per channel, and the call each becomes. By SMS
# or Telegram, a reminder or a confirmation that fails is not worth a call of its own (the unanswered reminder is,
# when the territory asks for confirmation); by phone, nothing else will reach the person: every call that could not
# say its message (refused by Twilio, unanswered, failed) is an adviser's call.
NOTICES: Mapping[MessageKind, CallKind] = {
    MessageKind.promotion: CallKind.promotion,
    MessageKind.change_notice: CallKind.change_notice,
    MessageKind.broadcast: CallKind.broadcast,
}
UNDELIVERED: Mapping[Channel, Mapping[MessageKind, CallKind]] = {
    Channel.sms: NOTICES,
    Channel.telegram: NOTICES,
    Channel.voice: {
        **NOTICES,
        MessageKind.reminder: CallKind.unanswered_call,
        MessageKind.confirmation: CallKind.unanswered_call,
    },
}
SWEPT_KINDS: dict[str, tuple[MessageKind, ...]] = {channel: tuple(kinds) for channel, kinds in UNDELIVERED.items()}
# What still holds for a message about an enrolment to be worth a call: the enrolment in one of these statuses.
HOLDS: Mapping[MessageKind, tuple[EnrolmentStatus, ...]] = {
    MessageKind.promotion: (EnrolmentStatus.seated,),
    MessageKind.reminder: (EnrolmentStatus.seated,),
    MessageKind.confirmation: (EnrolmentStatus.seated, EnrolmentStatus.waiting),
}
LOOK_BACK = timedelta(days=7)  # failed deliveries older than this are not looked for again
ANSWER_DELAY = timedelta(hours=2)  # a reminder asking OUI / NON is given this long to be answered before a call
# the adviser in charge is told of these (a list to go through, not a page, for the others)
TOLD_KINDS = (CallKind.promotion, CallKind.change_notice, CallKind.broadcast, CallKind.unanswered_call)
# calls about a seat the person holds: if they will not come, the adviser unenrols them
FOLLOWED_BY_UNENROL = (
    CallKind.promotion, CallKind.change_notice, CallKind.unanswered_reminder, CallKind.unanswered_call
)  # fmt: skip

KIND_FR = {
    CallKind.callback: "demande de rappel",
    CallKind.promotion: "place libérée",
    CallKind.change_notice: "atelier changé",
    CallKind.broadcast: "message non reçu",
    CallKind.unanswered_reminder: "pas de réponse au rappel",
    CallKind.unanswered_call: "appel automatique sans succès",  # unanswered, failed, or refused by the operator
    CallKind.noted: "appel noté",
}
# The reasons to phone (one table for every interface), and how an automatic call to a landline ended.
REASON_FR = TO_PHONE_REASON_FR | {
    "no-answer": "ne décroche pas",  # Twilio's CallStatus for the calls to a landline
    "busy": "ligne occupée",
    "canceled": "appel interrompu",
}


class CallError(WorkshopError):
    """A refusal for the adviser (nothing was changed)."""


class FollowUp(StrEnum):
    """What an adviser may do once they have spoken to the person (each interface offers it its own way)."""

    unenrol = "unenrol"  # if they will not come: take them off the workshop (the seat goes to the next waiting)
    enrol_elsewhere = "enrol_elsewhere"  # their workshop was cancelled: offer them another one


@dataclass(frozen=True)
class CallItem:
    """One person to phone, as every interface shows it (full number: advisers phone people).

    ``kind`` and ``reason`` are data (``CallKind`` values; ``no_channel``, ``sms_unreachable``, ``opted_out``,
    ``failed``, ``expired``, ``cancelled`` or None); ``kind_label`` / ``reason_label`` say them in French.
    ``what_to_say`` is the message they did not get, or what to ask them."""

    id: int
    kind: CallKind
    reason: str | None
    resident_id: int
    name: str | None
    phone: str | None  # E.164; ``phone_display`` as advisers dial it
    telegram_chat_id: int | None
    commune: str | None
    workshop_id: int | None
    workshop_start: datetime | None
    workshop_place: str | None
    adviser: str | None  # the adviser in charge of the workshop
    what_to_say: str
    created_at: datetime
    done_at: datetime | None
    done_by: str | None
    outcome: str | None
    workshop_cancelled: bool = False
    said: str | None = None  # a call-back request: what the person said they need, in their words

    @property
    def kind_label(self) -> str:
        return KIND_FR.get(self.kind, str(self.kind))

    @property
    def reason_label(self) -> str | None:
        return REASON_FR.get(self.reason, self.reason) if self.reason else None

    @property
    def phone_display(self) -> str:
        return national(self.phone)

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def follow_up(self) -> FollowUp | None:
        """What may follow the call: another workshop when theirs was cancelled; unenrolling them when the call is
        about a workshop they hold a seat in (a seat given, a change, a reminder left unanswered)."""
        if self.workshop_id is None or self.done:
            return None
        if self.workshop_cancelled:
            return FollowUp.enrol_elsewhere
        if self.kind in FOLLOWED_BY_UNENROL:
            return FollowUp.unenrol
        return None


def _item(call: Call) -> CallItem:
    resident, workshop = call.resident, call.workshop
    place = None
    if workshop is not None:
        place = say.venue_label(workshop.venue.name, workshop.venue.commune.name)
    return CallItem(
        id=call.id,
        kind=CallKind(call.kind),
        reason=call.reason,
        resident_id=resident.id,
        name=resident.name,
        phone=call.phone or resident.phone,
        telegram_chat_id=resident.telegram_chat_id,
        commune=resident.commune.name if resident.commune else None,
        workshop_id=workshop.id if workshop is not None else None,
        workshop_start=workshop.starts_at if workshop is not None else None,
        workshop_place=place,
        adviser=workshop.adviser.name if workshop is not None and workshop.adviser is not None else None,
        what_to_say=call.what_to_say,
        created_at=call.created_at,
        done_at=call.done_at,
        done_by=call.done_by,
        outcome=call.outcome,
        workshop_cancelled=workshop is not None and workshop.status == WorkshopStatus.cancelled,
        said=call.callback_request.reason if call.callback_request is not None else None,
    )


def _sorted(items: Sequence[CallItem]) -> list[CallItem]:
    """Open calls first, the soonest workshop first (a call about tomorrow's workshop before a general one)."""
    far = datetime.max.replace(tzinfo=items[0].created_at.tzinfo) if items else None
    return sorted(items, key=lambda i: (i.done, i.workshop_start or far, i.created_at, i.id))


# ---------------------------------------------------------------------------------------------------------------
# What to say


def promotion_script(*, workshop: Workshop, ctx: Context) -> str:
    venue = say.venue_label(workshop.venue.name, workshop.venue.commune.name)
    return (
        f"Une place s'est libérée pour vous à l'atelier du {say.when_fr(workshop.starts_at, ctx.tz)}, {venue}. "
        "Vous venez ? Si elle ne vient pas, désinscrivez-la : la place ira à la personne suivante."
    )


def cancelled_script(*, starts_at: datetime, commune: str, reason: str, ctx: Context) -> str:
    return (
        f"L'atelier du {say.when_fr(starts_at, ctx.tz)} à {commune} n'aura pas lieu ({reason}). "
        "Proposez-lui un autre atelier."
    )


def moved_script(*, old_start: datetime, commune: str, new_start: datetime, place: str, ctx: Context) -> str:
    return (
        f"L'atelier du {say.when_fr(old_start, ctx.tz)} à {commune} est déplacé au "
        f"{say.when_fr(new_start, ctx.tz)}, {place}. Sa place est gardée ; si ce n'est plus possible pour elle, "
        "désinscrivez-la."
    )


def broadcast_script(body: str) -> str:
    return f"Message des conseillers : « {body} »"


def _unanswered_script(enrolment: Enrolment, asked_at: datetime, ctx: Context) -> str:
    workshop = enrolment.workshop
    venue = say.venue_label(workshop.venue.name, workshop.venue.commune.name)
    return (
        f"N'a pas répondu au rappel du {say.when_fr(asked_at, ctx.tz)}. Demandez si elle vient à l'atelier du "
        f"{say.when_fr(workshop.starts_at, ctx.tz)}, {venue}. Si elle ne vient pas, désinscrivez-la."
    )


# ---------------------------------------------------------------------------------------------------------------
# Adding calls, and telling the adviser in charge


async def record_calls(
    *, session: AsyncSession, ctx: Context, calls: Sequence[NewCall], tell: bool = True
) -> list[int]:
    """Add the calls (those already known are skipped) inside the caller's transaction; returns the new ids. With
    ``tell``, the adviser in charge of each is told of the new ones (``TOLD_KINDS``) in one message."""
    added = [call_id for call in calls if (call_id := await add_call(session=session, call=call)) is not None]
    if added and tell:
        await tell_advisers(session=session, ctx=ctx, call_ids=added)
    return added


async def advisers_in_charge(*, session: AsyncSession, call: Call) -> list[Adviser]:
    """The workshop's adviser; else the broadcast's author; else the advisers of the resident's commune."""
    if call.workshop is not None and call.workshop.adviser is not None:
        return [call.workshop.adviser]
    if call.broadcast_id is not None:
        broadcast = await session.get(Broadcast, call.broadcast_id)
        if broadcast is not None and broadcast.adviser_id is not None:
            author = await session.get(Adviser, broadcast.adviser_id)
            if author is not None:
                return [author]
    commune = call.workshop.venue.commune_insee if call.workshop is not None else call.resident.commune_insee
    return await advisers_for(session=session, commune_insee=commune)


async def tell_advisers(*, session: AsyncSession, ctx: Context, call_ids: Sequence[int]) -> int:
    """One message to each adviser in charge listing their new calls; returns how many messages were queued. An
    adviser with neither Telegram nor phone is not told (``atelier advisers list`` warns about it)."""
    calls = [c for c in await load_calls(session=session, ids=call_ids) if c.kind in TOLD_KINDS]
    per_adviser: dict[int, list[Call]] = defaultdict(list)
    advisers: dict[int, Adviser] = {}
    for call in calls:
        for adviser in await advisers_in_charge(session=session, call=call):
            advisers[adviser.id] = adviser
            per_adviser[adviser.id].append(call)
    queued = 0
    for adviser_id, theirs in per_adviser.items():
        destination = adviser_address(advisers[adviser_id])
        if destination is None:
            continue
        lines = [_notice_line(_item(call)) for call in theirs]
        notice = NewMessage(
            channel=destination[0],
            to_address=destination[1],
            body=say.calls_notice(lines),
            kind=MessageKind.adviser_notice,
            due_at=ctx.now(),
            idempotency_key=f"calls:{theirs[0].id}-{theirs[-1].id}:adviser:{adviser_id}",
            adviser_id=adviser_id,
            urgent=True,  # a work message for the adviser, not subject to residents' quiet hours
        )
        await enqueue(session=session, message=notice)
        queued += 1
    if queued:
        ctx.wake_dispatcher()
    return queued


def _notice_line(item: CallItem) -> str:
    who = f"{item.name or '(sans nom)'}, {item.phone_display or 'pas de numéro'}"
    why = item.kind_label + (f" ({item.reason_label})" if item.reason_label else "")
    workshop = f", atelier n°{item.workshop_id}" if item.workshop_id is not None else ""
    return f"{who} : {why}{workshop}"


# ---------------------------------------------------------------------------------------------------------------
# The sweep: failed deliveries and unanswered reminders become calls; calls whose reason went away close


def _unreachable_on(resident: Resident, channel: str) -> str | None:
    """Why ``channel`` no longer reaches the resident (a message to them was withdrawn for it), or None."""
    if (channel in (Channel.sms, Channel.voice) and resident.opted_out_sms) or (  # a STOP stops calls too
        channel == Channel.telegram and resident.opted_out_telegram
    ):
        return "opted_out"
    if channel == Channel.sms and resident.sms_unreachable:
        return "sms_unreachable"
    return None


async def _still_relevant(session: AsyncSession, message: OutboundMessage, now: datetime) -> bool:
    kind = MessageKind(message.kind)
    if message.workshop_id is not None:
        workshop = await session.get(Workshop, message.workshop_id)
        if workshop is None or workshop.starts_at <= now:
            return False
        if kind != MessageKind.change_notice and workshop.status != WorkshopStatus.planned:
            return False  # they are told of the cancellation (or called about it): this message is moot
    holds = HOLDS.get(kind)
    if holds is not None and message.enrolment_id is not None:
        enrolment = await session.get(Enrolment, message.enrolment_id)
        return enrolment is not None and enrolment.status in holds
    return True


async def _call_for_message(session: AsyncSession, message: OutboundMessage, now: datetime) -> NewCall | None:
    resident = await session.get(Resident, message.resident_id) if message.resident_id is not None else None
    if resident is None or resident.erased:
        return None
    reason: str | None = MessageStatus(message.status).value
    if message.status == MessageStatus.cancelled:
        # withdrawn for many reasons (a later notice replaced it, the seat was given up…): only one matters here,
        # and only for news (a reminder withdrawn by a STOP is no call, by phone or by SMS)
        reason = _unreachable_on(resident, message.channel)
        if reason is None or message.kind not in NOTICES:
            return None
    elif message.status == MessageStatus.failed:
        reason = _unreachable_on(resident, message.channel) or "failed"
    if not await _still_relevant(session, message, now):
        return None
    return call_about(message, resident_id=resident.id, reason=reason, now=now)


def call_about(message: OutboundMessage, *, resident_id: int, reason: str | None, now: datetime) -> NewCall:
    """The call that takes over from a message that did not reach its person: what it said is what to say."""
    kind = UNDELIVERED.get(Channel(message.channel), NOTICES).get(MessageKind(message.kind), CallKind.unanswered_call)
    text = broadcast_script(message.body) if kind == CallKind.broadcast else message.body
    key = f"message:{message.id}"
    if message.broadcast_id is not None:  # one call per person and broadcast, whatever the channel tried
        key = f"broadcast:{message.broadcast_id}:{resident_id}"
    return NewCall(
        key=key,
        kind=kind,
        resident_id=resident_id,
        what_to_say=text,
        created_at=now,
        reason=reason,
        workshop_id=message.workshop_id,
        enrolment_id=message.enrolment_id,
        message_id=message.id,
        broadcast_id=message.broadcast_id,
    )


async def hand_over(
    *, session: AsyncSession, ctx: Context, message: OutboundMessage, reason: str, now: datetime
) -> bool:
    """A message that will not reach its person (the calls to their landline went unanswered): an adviser phones
    them, the adviser in charge is told. False when there is nobody to call (erased)."""
    resident = await session.get(Resident, message.resident_id) if message.resident_id is not None else None
    if resident is None or resident.erased:
        return False
    await record_calls(
        session=session, ctx=ctx, calls=[call_about(message, resident_id=resident.id, reason=reason, now=now)]
    )
    return True


async def _unanswered_calls(session: AsyncSession, ctx: Context, now: datetime) -> list[NewCall]:
    confirmation = ctx.territory.confirmation
    if not confirmation.required:
        return []
    found = await seated_without_answer(
        session=session, starting_after=now, starting_before=now + confirmation.call_within,
        asked_before=now - ANSWER_DELAY,
    )  # fmt: skip
    calls = []
    for enrolment, asked_at in found:
        if enrolment.resident.erased:
            continue
        calls.append(
            NewCall(
                key=f"unanswered:{enrolment.id}:{enrolment.workshop.starts_at.isoformat()}",
                kind=CallKind.unanswered_reminder,
                resident_id=enrolment.resident_id,
                what_to_say=_unanswered_script(enrolment, asked_at, ctx),
                created_at=now,
                workshop_id=enrolment.workshop_id,
                enrolment_id=enrolment.id,
            )
        )
    return calls


async def _said_by_calls(
    session: AsyncSession, ctx: Context, messages: Sequence[OutboundMessage], now: datetime
) -> set[int]:
    """The SMS among ``messages`` that the voice channel says instead (``bot.service.voice.take_over_from_sms``):
    no adviser phones about those — the call's own fate (answered, or handed to the advisers) decides."""
    sms = [m.id for m in messages if m.channel == Channel.sms]
    lost_since = now - TAKE_OVER_WITHIN if ctx.settings.calls_enabled else None
    return await said_by_calls(session=session, sms_ids=sms, lost_since=lost_since)


async def sweep(*, session: AsyncSession, ctx: Context, now: datetime) -> list[int]:
    """Inside the caller's transaction: add the calls that failed deliveries and unanswered reminders call for
    (the advisers in charge are told of the undelivered notices), and close the calls whose reason went away.
    Returns the ids of the calls added."""
    new: list[NewCall] = []
    undelivered = await undelivered_messages(session=session, kinds=SWEPT_KINDS, since=now - LOOK_BACK)
    said = await _said_by_calls(session, ctx, undelivered, now)
    for message in undelivered:
        if message.id in said:
            continue
        call = await _call_for_message(session, message, now)
        if call is not None:
            new.append(call)
    added = await record_calls(session=session, ctx=ctx, calls=new)
    added += await record_calls(session=session, ctx=ctx, calls=await _unanswered_calls(session, ctx, now))
    for call_id, why in await moot_open_calls(session=session, now=now):
        await close_call(session=session, call_id=call_id, by="Atelier", adviser_id=None, outcome=why, now=now)
    return added


async def sweep_now(ctx: Context) -> int:
    """One sweep in its own transaction (the scheduler runs it every minute); returns how many calls were added."""
    async with ctx.db.write() as session:
        added = await sweep(session=session, ctx=ctx, now=ctx.now())
    if added:
        log.info("to-call list: %d new call(s)", len(added))
    return len(added)


# ---------------------------------------------------------------------------------------------------------------
# What advisers do with the list


async def list_calls(*, ctx: Context, include_done: bool = False) -> list[CallItem]:
    """Everyone to phone: open calls, the soonest workshop first (with ``include_done``, the calls made too).
    Calls about a workshop that has started are left out of the open list (too late)."""
    now = ctx.now()
    async with ctx.db.write() as session:
        await sweep(session=session, ctx=ctx, now=now)
        items = [_item(call) for call in await load_calls(session=session, include_done=include_done)]
    return _sorted(items)


async def get_call(*, ctx: Context, call_id: int) -> CallItem:
    async with ctx.db.read() as session:
        call = await session.get(Call, call_id)
        if call is None:
            raise CallError(f"l'appel n°{call_id} n'existe pas (voir « atelier calls list »)")
        return _item(call)


async def mark_call_done(*, ctx: Context, call_id: int, outcome: str, actor: Actor) -> CallItem:
    """Record that ``actor`` phoned, now, and what came of it. A call-back request's call marks the request
    handled too. Refuses (nothing changed) an unknown call, an empty outcome, or a call already done."""
    text = " ".join(outcome.split())
    if not text:
        raise CallError("indiquez ce qui a été convenu, par exemple « vient mardi » ou « pas de réponse »")
    now = ctx.now()
    async with ctx.db.write() as session:
        call = await session.get(Call, call_id)
        if call is None:
            raise CallError(f"l'appel n°{call_id} n'existe pas (voir « atelier calls list »)")
        if call.done_at is not None:
            raise CallError(
                f"l'appel n°{call_id} est déjà noté, par {call.done_by} le {say.when_fr(call.done_at, ctx.tz)}"
            )
        await close_call(
            session=session, call_id=call_id, by=actor.label, adviser_id=actor.adviser_id, outcome=text, now=now
        )
        if call.callback_request_id is not None:
            await handle_callback_request(
                session=session, callback_request_id=call.callback_request_id, by=actor.label, now=now
            )
        await record(
            session=session, actor=actor, action="call_done", at=now, workshop_id=call.workshop_id,
            resident_id=call.resident_id,  # what was said stays in the call: no name in the trail
            summary=f"appel n°{call_id} à la personne n°{call.resident_id} noté fait",
        )  # fmt: skip
        await session.refresh(call)
        return _item(call)


MAX_OUTCOME = 1000


async def note_call(*, ctx: Context, resident_id: int, outcome: str, actor: Actor) -> CallItem:
    """Note on the person's record a call an adviser made or took outside the list (they phoned to ask something,
    the adviser called them back about their level): who, when, and what was said. Done as it is written; it never
    shows on the open list. Refuses (nothing changed) an unknown or erased person, or an empty outcome."""
    text = " ".join(outcome.split())[:MAX_OUTCOME]
    if not text:
        raise CallError("indiquez ce qui a été dit ou convenu, par exemple « viendra mardi »")
    now = ctx.now()
    async with ctx.db.write() as session:
        resident = await session.get(Resident, resident_id)
        if resident is None or resident.erased:
            raise CallError(f"la personne n°{resident_id} n'existe pas ou ses données sont effacées")
        call = NewCall(
            key=f"noted:{resident_id}:{now:%Y%m%d%H%M%S%f}", kind=CallKind.noted, resident_id=resident_id,
            what_to_say="", created_at=now,
        )  # fmt: skip
        call_id = await add_call(session=session, call=call)
        if call_id is None:
            raise CallError("cet appel vient d'être noté : rechargez la fiche")
        await close_call(
            session=session, call_id=call_id, by=actor.label, adviser_id=actor.adviser_id, outcome=text, now=now
        )
        await record(
            session=session, actor=actor, action="call_noted", at=now, resident_id=resident_id,
            summary=f"appel n°{call_id} avec la personne n°{resident_id} noté",
        )  # fmt: skip
        [noted] = await load_calls(session=session, ids=[call_id])
        await session.refresh(noted)
        return _item(noted)


async def resident_calls(*, session: AsyncSession, resident_id: int) -> list[CallItem]:
    """A person's calls, made or not, newest first (their record)."""
    query = select(Call).where(Call.resident_id == resident_id).order_by(Call.created_at.desc(), Call.id.desc())
    return [_item(call) for call in (await session.execute(query)).unique().scalars()]


# ---------------------------------------------------------------------------------------------------------------
# Calls added by the operations that find the need


def callback_call(*, request: CallbackRequest, resident: Resident, now: datetime) -> NewCall:
    """The call a CONSEILLER request is on the list (when it was asked is the call's ``created_at``)."""
    return NewCall(
        key=f"callback:{request.id}",
        kind=CallKind.callback,
        resident_id=resident.id,
        what_to_say="A demandé à être rappelé(e) (CONSEILLER).",
        created_at=now,
        callback_request_id=request.id,
        phone=request.phone,
    )


__all__ = [
    "CallError",
    "CallItem",
    "FollowUp",
    "NewCall",
    "callback_call",
    "get_call",
    "hand_over",
    "list_calls",
    "mark_call_done",
    "note_call",
    "record_calls",
    "resident_calls",
    "sweep",
    "sweep_now",
    "tell_advisers",
]
