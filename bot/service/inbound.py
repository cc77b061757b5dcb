"""Handling one inbound message: the operation every channel uses.

One write transaction per message: de-duplicate on the provider id, load what the dialogue needs, run the pure
dialogue, apply its effects, store the new conversation state and record the replies in the outbox. A message
delivered twice changes state once, and gets the replies given the first time.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import Inbound, Reply
from bot.context import Context, KeptWorkshops
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
from bot.service.limits import (
    NOTICE_MARKER,
    Gate,
    admission_of,
    counted_within,
    lock_name,
    refused,
    shared_phone_served,
)
from bot.service.reminders import plan_reminders, venue_of, will_remind
from storage.catalogue import (
    HouseholdBooking,
    OpenWorkshop,
    active_bookings,
    find_resident,
    household_bookings,
    open_workshops,
)
from storage.conversations import save_conversation
from storage.enums import Channel
from storage.inbound import record_inbound
from storage.models import Conversation, Enrolment, MessageKind, MessageStatus, Resident, Workshop
from storage.outbox.queueing import Asked, NewMessage, last_asked_enrolment, replies_for_inbound
from storage.residents import add_resident, companions_of, save_profile, set_opt_out
from storage.turns import Closing, Opened, Person, Stored, close_turn, open_turn

log = logging.getLogger(__name__)

MAX_TEXT = 1600  # Twilio's longest inbound body; anything longer is cut, never refused
ASKED_WITHIN = timedelta(days=2)  # an OUI/NON answers a reminder or notice sent this recently, not an older one


@dataclass(frozen=True)
class Handled:
    replies: tuple[Reply, ...]
    duplicate: bool  # the same provider id was seen before: these are the replies given the first time
    reply_ids: tuple[int, ...] = ()  # their outbox rows, in the same order (a channel may ask for reports on them)
    erased: bool = False  # this message erased its resident (OUBLIER, then OUI)


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

    async def turn(session: AsyncSession) -> Answered:
        return await _turn(
            session=session,
            ctx=ctx,
            inbound=inbound,
            text=text,
            provider_id=provider_id,
            now=now,
            inline=inline,
            confirm_within=confirm_within,
        )

    # One transaction, in one hop on SQLite, with the messages that came meanwhile (Database.grouped_transaction):
    # the turn touches nothing but the database; the workshops it read are kept once they are committed.
    answered = await ctx.db.grouped_transaction(turn)
    handled = answered.handled
    if answered.read is not None:
        ctx.kept_workshops = answered.read
    if handled.erased:
        await ctx.db.checkpoint()  # SQLite: what was erased leaves the write-ahead log for good
    if not inline and handled.replies and not handled.duplicate:
        ctx.wake_dispatcher()
    return handled


async def _turn(
    *,
    session: AsyncSession,
    ctx: Context,
    inbound: Inbound,
    text: str,
    provider_id: str,
    now: datetime,
    inline: bool,
    confirm_within: timedelta | None,
) -> Answered:
    """The message's transaction: its statements in two blocks on the transaction's connection
    (``storage/turns.py``), the dialogue and the rarer effects in between."""
    not_served = refused(ctx, inbound)  # read once: phone numbers are slow to parse
    opened = await _open(
        session=session, ctx=ctx, inbound=inbound, text=text, provider_id=provider_id, now=now, not_served=not_served
    )
    if not opened.new:
        previous = await replies_for_inbound(session=session, inbound_id=opened.inbound_id)
        # The same id from another number is not a retry: never show anyone the replies meant for someone else
        # ("" is the address of a reply to someone since erased, and holds nothing personal).
        previous = [m for m in previous if m.to_address in (inbound.address, "")]
        replayed = tuple(Reply(m.body, tuple(m.choices), m.ask_contact) for m in previous)
        return Answered(Handled(replayed, duplicate=True, reply_ids=tuple(m.id for m in previous)))
    read = _read_workshops(opened, now)
    admission = admission_of(ctx, opened.replies, refused=not_served)
    conversed = Conversed(replies=(), resident_id=None)
    # Over the limit, STOP is still heard (not answered); a number we do not serve starts nothing at all.
    if admission.gate is Gate.answer or (admission.limited and detect_keyword(text) == Keyword.STOP):
        conversed = await _converse(
            session=session, ctx=ctx, inbound=inbound, opened=opened, read=read, text=text, now=now
        )
    replies, marker = conversed.replies, ""
    if admission.gate is not Gate.answer:
        replies, marker = ((Reply(admission.reply),) if admission.reply else ()), NOTICE_MARKER
    erased = conversed.erased_id is not None
    confirm = inline and confirm_within is not None and not erased  # an erased number is never looked up
    messages = tuple(
        NewMessage(
            channel=inbound.channel,
            to_address="" if erased and inline else inbound.address,  # erased: keep no trace of the number
            body=reply.text,
            choices=reply.choices,
            ask_contact=reply.ask_contact,
            kind=MessageKind.reply,
            due_at=now,
            idempotency_key=f"reply:{opened.inbound_id}:{index}{marker}",
            resident_id=conversed.resident_id,
            about_resident_id=conversed.erased_id,  # a goodbye queued for Telegram: blanked once sent
            inbound_id=opened.inbound_id,
            status=MessageStatus.sent if inline else MessageStatus.pending,
            sent_at=now if inline and not confirm else None,
            unconfirmed_until=now + confirm_within if confirm and confirm_within is not None else None,
        )
        for index, reply in enumerate(replies)
    )
    state = conversed.state
    closing = Closing(
        channel=inbound.channel,
        address=inbound.address,
        inbound_id=opened.inbound_id,
        now=now,
        conversed=conversed.spoke,
        resident_id=conversed.resident_id,
        step=state.step.value if state is not None else None,
        data=state.data if state is not None else {},
        erased=erased,
        replies=messages,
    )
    reply_ids = await session.run_sync(lambda sync: close_turn(sync.connection(), closing))
    handled = Handled(replies, duplicate=False, reply_ids=tuple(reply_ids), erased=erased)
    return Answered(handled, read)


@dataclass(frozen=True)
class Answered:
    """A message's transaction's result: what the channel gets, and the workshops it read (with the world's
    version), to keep for the next messages once committed."""

    handled: Handled
    read: KeptWorkshops | None = None


def _read_workshops(opened: Opened, now: datetime) -> KeptWorkshops | None:
    """The workshops ``_open`` read (not the kept ones: the version moved), with the version they are of."""
    if opened.workshops is None:
        return None
    return KeptWorkshops(opened.version, now, tuple(_open_option(row) for row in opened.workshops))


async def _open(
    *,
    session: AsyncSession,
    ctx: Context,
    inbound: Inbound,
    text: str,
    provider_id: str,
    now: datetime,
    not_served: bool,
) -> Opened:
    """``storage.turns.open_turn`` for this message: the workshops kept from an earlier turn are read again only
    when the world's version moved."""
    kept = ctx.kept_workshops
    usable = kept.read_for is not None and kept.read_for <= now  # read for an earlier moment (a clock set back)
    telegram = inbound.channel == Channel.telegram
    return await session.run_sync(
        lambda sync: open_turn(
            sync.connection(),
            channel=inbound.channel,
            address=inbound.address,
            provider_id=provider_id,
            body=text,
            now=now,
            phone=None if telegram else inbound.address,
            telegram_chat_id=_int(inbound.address) if telegram else None,
            lock_key=lock_name(inbound),
            replies_since=now - counted_within(ctx, refused=not_served),
            marker=NOTICE_MARKER,
            asked_since=now - ASKED_WITHIN,
            kept_version=kept.version if usable else None,
            workshops_after=now + ctx.settings.signup_cutoff,
        )
    )


@dataclass(frozen=True)
class Conversed:
    replies: tuple[Reply, ...]
    resident_id: int | None  # the resident the replies go to (None: not known yet, or erased just now)
    erased_id: int | None = None  # the resident this message erased (OUBLIER, then OUI)
    state: State | None = None  # where the conversation now is (None: forgotten)
    spoke: bool = False  # the dialogue ran (else the conversation and the resident are left as they were)


async def _converse(
    *,
    session: AsyncSession,
    ctx: Context,
    inbound: Inbound,
    opened: Opened,
    read: KeptWorkshops | None,
    text: str,
    now: datetime,
) -> Conversed:
    """One turn of the dialogue, from what ``_open`` read: its effects applied (``_apply``); where the
    conversation now is."""
    person, bookings, asked = opened.person, opened.bookings, opened.asked
    resident: Resident | None = None  # the ORM object, for effects
    if inbound.channel == Channel.telegram and inbound.shared_phone:
        known = await session.get(Resident, person.id) if person is not None else None
        resident = await _link_phone(
            session=session, resident=known, chat_id=_int(inbound.address), phone=inbound.shared_phone
        )
        if resident is not known:  # another resident: their own bookings and question
            person = None if resident is None else _person_of(resident)
            bookings, asked = await _bookings_of(session=session, person=person, now=now)
    state = _state_of(opened.conversation)
    if inbound.shared_phone and person is not None and person.name and person.level:
        state = None  # recognised by their number: no need to finish a sign-up they already did
    world = await _world_of(session=session, ctx=ctx, now=now, opened=opened, read=read)
    view = resident_view(person=person, channel=inbound.channel, bookings=bookings, asked=asked)
    turn = dialogue.respond(state=state, text=text, resident=view, world=world)
    applied = await _apply(
        session=session, ctx=ctx, inbound=inbound, person=person, resident=resident, turn=turn, world=world
    )
    if applied.erased:
        return Conversed(applied.turn.replies, resident_id=None, erased_id=applied.resident_id, spoke=True)
    return Conversed(applied.turn.replies, resident_id=applied.resident_id, state=applied.turn.state, spoke=True)


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


_STEPS = frozenset(step.value for step in Step)


def _state_of(conversation: Stored | None) -> State | None:
    if conversation is None or conversation.step not in _STEPS:
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
    """What the dialogue knows of the territory and of the workshops open for sign-up, with their free seats, read
    now (a transaction that may have changed them already: nothing kept is used)."""
    rows = await open_workshops(session=session, starting_after=now + ctx.settings.signup_cutoff)
    return _world(ctx, now, tuple(_open_option(row) for row in rows))


async def _world_of(
    *, session: AsyncSession, ctx: Context, now: datetime, opened: Opened, read: KeptWorkshops | None
) -> World:
    """The world of a message: the workshops ``_open`` read (``read``); or those kept from an earlier message,
    still those of the world's version ``_open`` read before anything changed."""
    if read is not None:
        return _world(ctx, now, read.workshops)
    kept = _kept(ctx, now, opened.version)
    if kept is None:  # kept by another message meanwhile (PostgreSQL runs them side by side): read them
        return await build_world(session=session, ctx=ctx, now=now)
    return _world(ctx, now, kept)


def _world(ctx: Context, now: datetime, workshops: tuple[WorkshopOption, ...]) -> World:
    return World(
        now=now,
        tz=ctx.tz,
        territory=ctx.territory,
        communes=ctx.commune_index,
        workshops=workshops,
        served_countries=ctx.settings.served_countries,
        france=ctx.france_index,
    )


def _kept(ctx: Context, now: datetime, version: int | None) -> tuple[WorkshopOption, ...] | None:
    """The kept workshops still open for sign-up at ``now``, when they are those of ``version``; else None."""
    kept = ctx.kept_workshops
    if version is None or kept.version != version or kept.read_for is None or now < kept.read_for:
        return None
    workshops = kept.workshops
    after = now + ctx.settings.signup_cutoff
    if workshops and workshops[0].starts_at <= after:  # some start too soon now: they are no longer offered
        first = bisect_right([w.starts_at for w in workshops], after)
        workshops = workshops[first:]
    return workshops


def resident_view(
    *, person: Person | None, channel: str, bookings: Sequence[HouseholdBooking], asked: Asked | None
) -> ResidentView:
    """What the dialogue knows of the resident: their profile, their bookings and those of the people on their
    phone (named), and what the latest reminder or notice asked when they have a seat."""
    if person is None:
        return ResidentView(has_phone=channel == Channel.sms, contact_offered=channel != Channel.telegram)
    shown = []
    for booking in bookings:
        who = None if booking.resident_id == person.id else (first_name_of(booking.resident_name or "") or "?")
        shown.append(
            Booking(booking.enrolment_id, _open_option(booking.workshop), booking.position, booking.confirmed, who=who)
        )
    shown.sort(key=lambda b: (b.workshop.starts_at, b.who is not None))
    seated = any(booking.waiting_position is None for booking in shown)
    return ResidentView(
        name=person.name,
        commune_insee=person.commune_insee,
        level=person.level,
        interests=person.interests,
        has_phone=bool(person.phone),
        opted_out=person.opted_out_telegram if channel == Channel.telegram else person.opted_out_sms,
        contact_offered=person.telegram_contact_offered or channel != Channel.telegram,
        bookings=tuple(shown),
        asked_about=asked.enrolment_id if asked and seated else None,
        asked_at=asked.sent_at if asked and seated else None,
    )


def _person_of(resident: Resident) -> Person:
    return Person(
        id=resident.id,
        phone=resident.phone,
        name=resident.name,
        commune_insee=resident.commune_insee,
        level=resident.level,
        interests=tuple(resident.interests or ()),
        opted_out_sms=resident.opted_out_sms,
        opted_out_telegram=resident.opted_out_telegram,
        telegram_contact_offered=resident.telegram_contact_offered,
    )


async def _bookings_of(
    *, session: AsyncSession, person: Person | None, now: datetime
) -> tuple[tuple[HouseholdBooking, ...], Asked | None]:
    if person is None:
        return (), None
    bookings = tuple(await household_bookings(session=session, resident_id=person.id, now=now))
    asked = await last_asked_enrolment(session=session, resident_id=person.id, since=now - ASKED_WITHIN)
    return bookings, asked


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
    resident_id: int | None  # whom the effects were on (None: nobody known, and no effect needed them)
    erased: bool = False  # the turn erased them


async def _apply(
    *,
    session: AsyncSession,
    ctx: Context,
    inbound: Inbound,
    person: Person | None,
    resident: Resident | None,
    turn: Turn,
    world: World,
) -> Applied:
    """The turn's effects, in order. The resident is added by the first effect, for a number we did not know.
    The ORM object (``resident``) is loaded only for the effects that work on it: a profile is saved and a seat
    taken knowing only who they are (``person``, the dialogue's view, while no effect has changed them)."""
    now = world.now
    resident_id = resident.id if resident is not None else (person.id if person is not None else None)
    view = person if resident is None else None  # who they are, as long as it is still true
    for effect in turn.effects:
        if isinstance(effect, Erase):
            if resident_id is None:
                return Applied(Turn(state=None, replies=turn.replies), None)
            resident = resident or await _loaded(session, resident_id)
            await _erase(session=session, ctx=ctx, resident=resident, now=now)
            return Applied(Turn(state=None, replies=turn.replies), resident_id, erased=True)
        if resident_id is None:
            resident_id = await _add_resident(session=session, inbound=inbound, now=now)
        after: Turn | None = None  # the words that say how a seat or a move went
        if isinstance(effect, SaveProfile):
            await save_profile(
                session=session, resident_id=resident_id, name=effect.name, commune_insee=effect.commune_insee,
                level=effect.level, interests=effect.interests, channel=inbound.channel, now=now,
            )  # fmt: skip
            view = None
        elif isinstance(effect, Enrol) and effect.companion is None and view is not None:
            after = await _enrol(session=session, ctx=ctx, who=view, effect=effect, world=world)
        else:
            resident, view = resident or await _loaded(session, resident_id), None
            after = await _apply_to(
                session=session, ctx=ctx, inbound=inbound, resident=resident, effect=effect, world=world
            )
        if after is not None:
            turn = Turn(state=after.state, replies=turn.replies + after.replies, effects=turn.effects)
    return Applied(turn, resident_id)


async def _loaded(session: AsyncSession, resident_id: int) -> Resident:
    resident = await session.get(Resident, resident_id)
    if resident is None:
        raise LookupError(f"resident {resident_id} is not there")
    return resident


async def _add_resident(*, session: AsyncSession, inbound: Inbound, now: datetime) -> int:
    """The resident a new number (or Telegram chat, with the phone number they shared) belongs to."""
    telegram = inbound.channel == Channel.telegram
    return await add_resident(
        session=session,
        phone=inbound.shared_phone if telegram else inbound.address,
        telegram_chat_id=_int(inbound.address) if telegram else None,
        channel=inbound.channel,
        now=now,
    )


async def _apply_to(
    *, session: AsyncSession, ctx: Context, inbound: Inbound, resident: Resident, effect: Effect, world: World
) -> Turn | None:
    """An effect that works on the ORM resident; for a seat or a move, the words that say how it went."""
    if isinstance(effect, Enrol):
        return await _enrol(session=session, ctx=ctx, who=resident, effect=effect, world=world)
    if isinstance(effect, MoveBooking):
        return await _move(session=session, ctx=ctx, resident=resident, effect=effect, world=world)
    await _apply_simple(session=session, ctx=ctx, inbound=inbound, resident=resident, effect=effect, now=world.now)
    return None


async def _apply_simple(
    *, session: AsyncSession, ctx: Context, inbound: Inbound, resident: Resident, effect: Effect, now: datetime
) -> None:
    if isinstance(effect, CancelEnrolment):
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


async def _enrol(*, session: AsyncSession, ctx: Context, who: Resident | Person, effect: Enrol, world: World) -> Turn:
    """The seat the resident chose (with their companion's, for two people on one phone), and the words that say
    how it went."""
    people = [who.id]
    if effect.companion:
        if not isinstance(who, Resident):  # ``_apply`` takes the light way for someone alone only
            raise TypeError("a companion is added from the resident's ORM object")
        people.append((await _companion(session=session, holder=who, name=effect.companion, now=world.now)).id)
    try:
        seats = await enrol_together(
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
        if seats is None:
            kind, position = EnrolOutcome.FULL, None
        elif seats[0].seated:
            kind, position = EnrolOutcome.SEATED, None
        else:
            kind, position = EnrolOutcome.WAITING, seats[0].position
    view = ResidentView(
        name=who.name,
        commune_insee=who.commune_insee,
        level=who.level,
        interests=tuple(who.interests or ()),
        has_phone=bool(who.phone),
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
