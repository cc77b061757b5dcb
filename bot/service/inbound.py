"""Handling one inbound message: the operation every channel uses.

One write transaction per message: de-duplicate on the provider id, load what the dialogue needs, run the pure
dialogue, apply its effects, store the new conversation state and record the replies in the outbox. A message
delivered twice changes state once, and gets the replies given the first time.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import Inbound, Reply
from bot.context import Context
from bot.conversation import dialogue
from bot.conversation import texts as say
from bot.conversation.turns import (
    Booking,
    CancelEnrolment,
    ConfirmAttendance,
    ContactOffered,
    Effect,
    Enrol,
    EnrolOutcome,
    Erase,
    MoveBooking,
    OptIn,
    OptOut,
    RequestCallback,
    ResidentView,
    SaveProfile,
    State,
    Step,
    Turn,
    WorkshopOption,
    World,
)
from bot.conversation.understanding.keywords import Keyword, detect_keyword
from bot.conversation.understanding.names import first_name_of
from bot.service.callbacks import request_callback
from bot.service.enrolments import SeatError, cancel, enrol_together, move
from bot.service.erasure import erase
from bot.service.limits import NOTICE_MARKER, Gate, admit, shared_phone_served
from bot.service.reminders import plan_reminders, venue_of, will_remind
from storage.catalogue import OpenWorkshop, active_bookings, find_resident, open_workshops
from storage.conversations import forget_conversation, load_conversation, save_conversation
from storage.enums import Channel
from storage.inbound import record_inbound
from storage.models import Conversation, Enrolment, InboundMessage, MessageKind, MessageStatus, Resident, Workshop
from storage.outbox.queueing import NewMessage, enqueue, last_asked_enrolment, replies_for_inbound
from storage.residents import companions_of, set_opt_out

log = logging.getLogger(__name__)

MAX_TEXT = 1600  # Twilio's longest inbound body; anything longer is cut, never refused
ASKED_WITHIN = timedelta(days=2)  # an OUI/NON answers a reminder or notice sent this recently, not an older one


@dataclass(frozen=True)
class Handled:
    replies: tuple[Reply, ...]
    duplicate: bool  # the same provider id was seen before: these are the replies given the first time
    reply_ids: tuple[int, ...] = ()  # their outbox rows, in the same order (a channel may ask for reports on them)


def clean_text(text: str) -> str:
    """Drop control characters (but keep line breaks) and cap the length: the dialogue sees plain text."""
    kept = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text[:MAX_TEXT])
    return kept.strip()


async def handle_inbound(
    *, ctx: Context, inbound: Inbound, inline: bool, confirm_within: timedelta | None = None
) -> Handled:
    """Answer one message. ``inline``: the channel returns the replies itself (TwiML, the terminal), so they are
    recorded as sent; otherwise they are queued for the dispatcher. ``confirm_within``: inline replies that the
    provider will report on (TwiML): unconfirmed until a report, or until the dispatcher asks the provider."""
    now = ctx.now()
    text = clean_text(inbound.text)
    provider_id = inbound.provider_id or f"local-{uuid.uuid4()}"
    inbound = shared_phone_served(ctx, inbound)
    async with ctx.db.write() as session:
        record, new = await record_inbound(
            session=session, channel=inbound.channel, provider_id=provider_id, body=text, now=now
        )
        if not new:
            previous = await replies_for_inbound(session=session, inbound_id=record.id)
            # The same id from another number is not a retry: never show anyone the replies meant for someone else
            # ("" is the address of a reply to someone since erased, and holds nothing personal).
            previous = [m for m in previous if m.to_address in (inbound.address, "")]
            replayed = tuple(Reply(m.body, tuple(m.choices), m.ask_contact) for m in previous)
            return Handled(replayed, duplicate=True, reply_ids=tuple(m.id for m in previous))
        admission = await admit(session=session, ctx=ctx, inbound=inbound, now=now)
        conversed = Conversed(replies=(), resident_id=None)
        # Over the limit, STOP is still heard (not answered); a number we do not serve starts nothing at all.
        if admission.gate is Gate.answer or (admission.limited and detect_keyword(text) == Keyword.STOP):
            conversed = await _converse(session=session, ctx=ctx, inbound=inbound, record=record, text=text, now=now)
        replies, marker = conversed.replies, ""
        if admission.gate is not Gate.answer:
            replies, marker = ((Reply(admission.reply),) if admission.reply else ()), NOTICE_MARKER
        erased = conversed.erased_id is not None
        confirm = inline and confirm_within is not None and not erased  # an erased number is never looked up
        reply_ids = []
        for index, reply in enumerate(replies):
            queued = await enqueue(
                session=session,
                message=NewMessage(
                    channel=inbound.channel,
                    to_address="" if erased and inline else inbound.address,  # erased: keep no trace of the number
                    body=reply.text,
                    choices=reply.choices,
                    ask_contact=reply.ask_contact,
                    kind=MessageKind.reply,
                    due_at=now,
                    idempotency_key=f"reply:{record.id}:{index}{marker}",
                    resident_id=conversed.resident_id,
                    about_resident_id=conversed.erased_id,  # a goodbye queued for Telegram: blanked once sent
                    inbound_id=record.id,
                    status=MessageStatus.sent if inline else MessageStatus.pending,
                    sent_at=now if inline and not confirm else None,
                    unconfirmed_until=now + confirm_within if confirm and confirm_within is not None else None,
                ),
            )
            if queued is not None:  # always, for a new inbound message: its reply keys are its own
                reply_ids.append(queued)
    if erased:
        await ctx.db.checkpoint()  # SQLite: what was erased leaves the write-ahead log for good
    if not inline and replies:
        ctx.wake_dispatcher()
    return Handled(replies, duplicate=False, reply_ids=tuple(reply_ids))


@dataclass(frozen=True)
class Conversed:
    replies: tuple[Reply, ...]
    resident_id: int | None  # the resident the replies go to (None: not known yet, or erased just now)
    erased_id: int | None = None  # the resident this message erased (OUBLIER, then OUI)


async def _converse(
    *, session: AsyncSession, ctx: Context, inbound: Inbound, record: InboundMessage, text: str, now: datetime
) -> Conversed:
    """One turn of the dialogue: what it needs loaded, its effects applied, the conversation stored."""
    resident = await _find_resident(session=session, inbound=inbound)
    conversation = await load_conversation(session=session, channel=inbound.channel, address=inbound.address)
    state = _state_of(conversation)
    if inbound.shared_phone and resident is not None and resident.name and resident.level:
        state = None  # recognised by their number: no need to finish a sign-up they already did
    world = await build_world(session=session, ctx=ctx, now=now)
    view = await resident_view(session=session, resident=resident, channel=inbound.channel, now=now)
    turn = dialogue.respond(state=state, text=text, resident=view, world=world)
    applied = await _apply(session=session, ctx=ctx, inbound=inbound, resident=resident, turn=turn, world=world)
    resident = applied.resident
    if resident is not None and resident.erased:
        record.body = None  # what an erased resident wrote is personal data too
        await forget_conversation(session=session, channel=inbound.channel, address=inbound.address)
        return Conversed(applied.turn.replies, resident_id=None, erased_id=resident.id)
    if resident is not None:
        record.resident_id = resident.id
        resident.last_activity_at, resident.preferred_channel = now, inbound.channel
    await keep_state(
        session=session,
        existing=conversation,
        channel=inbound.channel,
        address=inbound.address,
        resident_id=resident.id if resident is not None else None,
        state=applied.turn.state,
        now=now,
    )
    return Conversed(applied.turn.replies, resident_id=resident.id if resident is not None else None)


async def first_delivery(*, ctx: Context, channel: Channel, provider_id: str, body: str) -> bool:
    """Record a message that is not a resident's (an adviser's command or button press) in the same table as
    residents' messages, so that one the provider delivers twice is handled once: False when this provider id was
    seen before."""
    async with ctx.db.write() as session:
        _, new = await record_inbound(
            session=session, channel=channel, provider_id=provider_id, body=body, now=ctx.now()
        )
    return new


# --- The conversation's state ---------------------------------------------------------------------------------


def _state_of(conversation: Conversation | None) -> State | None:
    if conversation is None or conversation.step not in {step.value for step in Step}:
        return None  # no conversation, or one stored by an older version with a step that no longer exists
    return State(Step(conversation.step), dict(conversation.data or {}), conversation.updated_at)


async def keep_state(
    *,
    session: AsyncSession,
    existing: Conversation | None,
    channel: str,
    address: str,
    resident_id: int | None,
    state: State | None,
    now: datetime,
) -> None:
    """Store where the conversation with this address is; a state of None forgets it. ``existing``: the row
    stored for it (``load_conversation``), None when there is none."""
    await save_conversation(
        session=session,
        existing=existing,
        channel=channel,
        address=address,
        resident_id=resident_id,
        step=state.step.value if state is not None else None,
        data=state.data if state is not None else {},
        now=now,
    )


# --- Loading what the dialogue needs -------------------------------------------------------------------------


def _option(workshop: Workshop, seated: int) -> WorkshopOption:
    venue = workshop.venue
    return WorkshopOption(
        id=workshop.id,
        starts_at=workshop.starts_at,
        level=workshop.level,
        topic=workshop.topic,
        venue=venue_of(workshop),
        address=venue.address,
        commune_insee=venue.commune_insee,
        commune=venue.commune.name,
        latitude=venue.latitude,
        longitude=venue.longitude,
        free_seats=workshop.capacity - seated,
        ends_at=workshop.ends_at,
    )


def _open_option(row: OpenWorkshop) -> WorkshopOption:
    return WorkshopOption(
        id=row.id,
        starts_at=row.starts_at,
        level=row.level,
        topic=row.topic,
        venue=say.venue_label(row.venue, row.commune),
        address=row.address,
        commune_insee=row.commune_insee,
        commune=row.commune,
        latitude=row.latitude,
        longitude=row.longitude,
        free_seats=row.capacity - row.seated,
        ends_at=row.ends_at,
    )


async def build_world(*, session: AsyncSession, ctx: Context, now: datetime) -> World:
    rows = await open_workshops(session=session, starting_after=now + ctx.settings.signup_cutoff)
    return World(
        now=now,
        tz=ctx.tz,
        territory=ctx.territory,
        communes=ctx.commune_index,
        workshops=tuple(_open_option(row) for row in rows),
        served_countries=ctx.settings.served_countries,
        france=ctx.france_index,
    )


async def resident_view(
    *, session: AsyncSession, resident: Resident | None, channel: str, now: datetime
) -> ResidentView:
    if resident is None:
        return ResidentView(has_phone=channel == Channel.sms, contact_offered=channel != Channel.telegram)
    bookings = []
    for enrolment in await active_bookings(session=session, resident_id=resident.id, now=now):
        option = _option(enrolment.workshop, 0)
        bookings.append(Booking(enrolment.id, option, enrolment.position, enrolment.confirmed))
    for companion in await companions_of(session=session, resident_id=resident.id):
        who = first_name_of(companion.name or "") or "?"
        for enrolment in await active_bookings(session=session, resident_id=companion.id, now=now):
            option = _option(enrolment.workshop, 0)
            bookings.append(Booking(enrolment.id, option, enrolment.position, enrolment.confirmed, who=who))
    bookings.sort(key=lambda b: (b.workshop.starts_at, b.who is not None))
    opted_out = resident.opted_out_telegram if channel == Channel.telegram else resident.opted_out_sms
    asked = None
    if any(booking.waiting_position is None for booking in bookings):
        asked = await last_asked_enrolment(session=session, resident_id=resident.id, since=now - ASKED_WITHIN)
    return ResidentView(
        name=resident.name,
        commune_insee=resident.commune_insee,
        level=resident.level,
        interests=tuple(resident.interests or ()),
        has_phone=bool(resident.phone),
        opted_out=opted_out,
        contact_offered=resident.telegram_contact_offered or channel != Channel.telegram,
        bookings=tuple(bookings),
        asked_about=asked.enrolment_id if asked else None,
        asked_at=asked.sent_at if asked else None,
    )


async def _find_resident(*, session: AsyncSession, inbound: Inbound) -> Resident | None:
    if inbound.channel == Channel.telegram:
        chat_id = _int(inbound.address)
        resident = await find_resident(session=session, telegram_chat_id=chat_id)
        if inbound.shared_phone:
            resident = await _link_phone(
                session=session, resident=resident, chat_id=chat_id, phone=inbound.shared_phone
            )
        return resident
    return await find_resident(session=session, phone=inbound.address)


async def _link_phone(
    *, session: AsyncSession, resident: Resident | None, chat_id: int | None, phone: str
) -> Resident | None:
    """A Telegram user shared their number: if we know that number by SMS, it is the same person."""
    known = await find_resident(session=session, phone=phone)
    if known is None:
        if resident is not None and resident.phone is None:
            resident.phone = phone
        return resident
    if resident is not None and resident.id != known.id:
        if resident.name or resident.commune_insee:
            return resident  # two real profiles: an adviser decides; never merge people silently
        resident.telegram_chat_id = None
        await session.flush()
    known.telegram_chat_id = chat_id
    return known


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


# --- Applying the dialogue's effects -------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    turn: Turn  # the turn, with the words that depend on outcomes
    resident: Resident | None


async def _ensure_resident(
    *, session: AsyncSession, inbound: Inbound, resident: Resident | None, now: datetime
) -> Resident:
    if resident is not None:
        return resident
    resident = Resident(created_at=now, last_activity_at=now, preferred_channel=inbound.channel, interests=[])
    if inbound.channel == Channel.telegram:
        resident.telegram_chat_id = _int(inbound.address)
        resident.phone = inbound.shared_phone
    else:
        resident.phone = inbound.address
    session.add(resident)
    await session.flush()
    return resident


async def _apply(
    *, session: AsyncSession, ctx: Context, inbound: Inbound, resident: Resident | None, turn: Turn, world: World
) -> Applied:
    now = world.now
    for effect in turn.effects:
        if isinstance(effect, Erase):
            if resident is not None:
                await _erase(session=session, ctx=ctx, resident=resident, now=now)
            return Applied(Turn(state=None, replies=turn.replies), resident)
        resident = await _ensure_resident(session=session, inbound=inbound, resident=resident, now=now)
        if isinstance(effect, Enrol):
            after = await _enrol(session=session, ctx=ctx, resident=resident, effect=effect, world=world)
            turn = Turn(state=after.state, replies=turn.replies + after.replies, effects=turn.effects)
        elif isinstance(effect, MoveBooking):
            after = await _move(session=session, ctx=ctx, resident=resident, effect=effect, world=world)
            turn = Turn(state=after.state, replies=turn.replies + after.replies, effects=turn.effects)
        else:
            await _apply_simple(session=session, ctx=ctx, inbound=inbound, resident=resident, effect=effect, now=now)
    return Applied(turn, resident)


async def _apply_simple(
    *, session: AsyncSession, ctx: Context, inbound: Inbound, resident: Resident, effect: Effect, now: datetime
) -> None:
    if isinstance(effect, SaveProfile):
        resident.name, resident.commune_insee, resident.level = effect.name, effect.commune_insee, effect.level
        resident.interests = list(effect.interests)
        if resident.consent_at is None:
            resident.consent_at, resident.consent_channel = now, inbound.channel
        await session.flush()
    elif isinstance(effect, CancelEnrolment):
        enrolment = await _own_enrolment(session=session, resident=resident, enrolment_id=effect.enrolment_id)
        if enrolment is not None:
            await cancel(session=session, ctx=ctx, enrolment_id=enrolment.id, now=now)
    elif isinstance(effect, ConfirmAttendance):
        enrolment = await _own_enrolment(session=session, resident=resident, enrolment_id=effect.enrolment_id)
        if enrolment is not None:
            enrolment.confirmed, enrolment.updated_at = True, now
    elif isinstance(effect, OptOut | OptIn):
        await set_opt_out(
            session=session, resident_id=resident.id, channel=inbound.channel, opted_out=isinstance(effect, OptOut)
        )
        if isinstance(effect, OptIn):  # STOP cancelled the reminders of their seats: START brings them back
            for enrolment in await active_bookings(session=session, resident_id=resident.id, now=now):
                await plan_reminders(session=session, ctx=ctx, enrolment_id=enrolment.id, now=now)  # seated only
    elif isinstance(effect, RequestCallback):
        # What a sign-up not finished yet told us, so that the adviser knows whom they call (and where).
        if resident.name is None or resident.commune_insee is None:
            resident.name = resident.name or effect.name
            resident.commune_insee = resident.commune_insee or effect.commune_insee
            await session.flush()
            await session.refresh(resident, attribute_names=["commune"])  # loaded here: no lazy load in async
        await request_callback(session=session, resident=resident, now=now, phone=effect.phone, reason=effect.reason)
    elif isinstance(effect, ContactOffered):
        resident.telegram_contact_offered = True


async def _own_enrolment(*, session: AsyncSession, resident: Resident, enrolment_id: int) -> Enrolment | None:
    """The enrolment, when it is the resident's or that of someone who shares their phone; None otherwise (an id
    from another conversation is never acted on)."""
    enrolment = await session.get(Enrolment, enrolment_id)
    if enrolment is None:
        return None
    if enrolment.resident_id == resident.id or enrolment.resident.companion_of_id == resident.id:
        return enrolment
    return None


async def _companion(*, session: AsyncSession, holder: Resident, name: str, now: datetime) -> Resident:
    """The second person on the holder's phone with that name: found again, or added (no phone of their own; their
    commune, level and interests are the holder's, since they come together)."""
    for known in await companions_of(session=session, resident_id=holder.id):
        if (known.name or "").casefold() == name.casefold():
            return known
    companion = Resident(
        name=name,
        companion_of_id=holder.id,
        commune_insee=holder.commune_insee,
        level=holder.level,
        interests=list(holder.interests or ()),
        consent_at=now,
        consent_channel=holder.consent_channel,
        created_at=now,
        last_activity_at=now,
    )
    session.add(companion)
    await session.flush()
    return companion


async def _enrol(*, session: AsyncSession, ctx: Context, resident: Resident, effect: Enrol, world: World) -> Turn:
    people = [resident.id]
    if effect.companion:
        people.append((await _companion(session=session, holder=resident, name=effect.companion, now=world.now)).id)
    try:
        outcomes = await enrol_together(
            session=session,
            ctx=ctx,
            resident_ids=people,
            workshop_id=effect.workshop_id,
            now=world.now,
            allow_waiting=effect.allow_waiting,
        )
    except SeatError:
        kind, position = EnrolOutcome.UNAVAILABLE, None
    else:
        if outcomes is None:
            kind, position = EnrolOutcome.FULL, None
        elif outcomes[0].seated:
            kind, position = EnrolOutcome.SEATED, None
        else:
            kind, position = EnrolOutcome.WAITING, outcomes[0].enrolment.position
    view = ResidentView(
        name=resident.name,
        commune_insee=resident.commune_insee,
        level=resident.level,
        interests=tuple(resident.interests or ()),
        has_phone=bool(resident.phone),
    )
    if kind == EnrolOutcome.UNAVAILABLE:  # cancelled or started meanwhile: not to be offered again
        world = replace(world, workshops=tuple(w for w in world.workshops if w.id != effect.workshop_id))
    elif kind == EnrolOutcome.FULL:  # taken meanwhile (the world was read before): still there, to wait for
        world = replace(
            world,
            workshops=tuple(replace(w, free_seats=0) if w.id == effect.workshop_id else w for w in world.workshops),
        )
    option = next((w for w in world.workshops if w.id == effect.workshop_id), None)
    reminded = option is not None and will_remind(ctx=ctx, starts_at=option.starts_at, now=world.now)
    return dialogue.after_enrol(
        outcome=kind,
        workshop_id=effect.workshop_id,
        position=position,
        resident=view,
        world=world,
        reminded=reminded,
        companion=effect.companion,
    )


async def _move(*, session: AsyncSession, ctx: Context, resident: Resident, effect: MoveBooking, world: World) -> Turn:
    """One operation: the new seats taken, the old ones given up and offered to the people waiting."""
    owned = [await _own_enrolment(session=session, resident=resident, enrolment_id=i) for i in effect.enrolment_ids]
    enrolments = [e for e in owned if e is not None]
    old = _option(enrolments[0].workshop, 0) if enrolments else None
    moved = None
    if enrolments and len(enrolments) == len(effect.enrolment_ids):
        try:
            moved = await move(
                session=session,
                ctx=ctx,
                enrolment_ids=[e.id for e in enrolments],
                workshop_id=effect.workshop_id,
                now=world.now,
            )
        except SeatError:
            moved = None
    view = ResidentView(name=resident.name, commune_insee=resident.commune_insee, level=resident.level)
    return dialogue.after_move(
        moved=moved is not None, old=old, workshop_id=effect.workshop_id, resident=view, world=world
    )


async def _erase(*, session: AsyncSession, ctx: Context, resident: Resident, now: datetime) -> None:
    await erase(session=session, ctx=ctx, resident=resident, now=now, keep_hash=True)
    log.info("resident %s erased on request", resident.id)
