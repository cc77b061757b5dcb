"""Residents as advisers see them: the list, finding someone by name or number, one person's record, and what an
adviser does for someone who phones — unenrol them, move them to another workshop, erase their data.

Advisers see full numbers: they phone people. Refusals are ``TeamError``, raised before anything is written.
Operations that change something take the ``Actor`` (the adviser acting), for the log and an audit trail.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.phones import national, to_e164
from bot.scheduler.planning import is_urgent_change, next_allowed
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.calls import CallItem, resident_calls
from bot.service.departures import DepartureGroup, departures_of
from bot.service.enrolments import AlreadyThereError, SeatError, cancel, move
from bot.service.erasure import erase
from bot.service.planning_csv import plain
from bot.service.previews import write_or_preview
from bot.service.recipients import address_of
from bot.service.reminders import Promoted, venue_of
from bot.service.team import TeamError
from storage.enums import EnrolmentStatus, Level, MessageKind, MessageStatus, WorkshopStatus
from storage.models import Enrolment, OutboundMessage, Resident, Workshop
from storage.outbox.queueing import NewMessage, enqueue
from storage.seats import lock_workshops

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResidentSummary:
    """One person, as the advisers' interfaces show them."""

    id: int
    name: str | None
    phone: str | None
    telegram_chat_id: int | None
    commune_insee: str | None
    commune: str | None  # its name
    level: Level | None
    interests: tuple[str, ...]
    opted_out_sms: bool
    opted_out_telegram: bool
    sms_unreachable: bool  # a landline, or a number the carrier refuses: phone them
    channel: str | None  # what reaches them now: sms, telegram, voice (a call to their landline), None: nothing
    consent_at: datetime | None
    consent_channel: str | None
    created_at: datetime


def _summary(resident: Resident, *, calls: bool) -> ResidentSummary:
    reach = address_of(resident, calls=calls)
    return ResidentSummary(
        id=resident.id,
        name=resident.name,
        phone=resident.phone,
        telegram_chat_id=resident.telegram_chat_id,
        commune_insee=resident.commune_insee,
        commune=resident.commune.name if resident.commune else None,
        level=resident.level,
        interests=tuple(resident.interests or ()),
        opted_out_sms=resident.opted_out_sms,
        opted_out_telegram=resident.opted_out_telegram,
        sms_unreachable=resident.sms_unreachable,
        channel=reach[0] if reach else None,
        consent_at=resident.consent_at,
        consent_channel=resident.consent_channel,
        created_at=resident.created_at,
    )


async def list_residents(
    *, ctx: Context, newest_first: bool = False, limit: int | None = None, offset: int = 0
) -> list[ResidentSummary]:
    """Residents who were not erased, oldest first; a page of them with ``limit``/``offset`` (the console lists
    the newest first, a hundred at a time)."""
    async with ctx.db.read() as session:
        order = Resident.id.desc() if newest_first else Resident.id
        query = select(Resident).where(Resident.erased.is_(False)).order_by(order).offset(offset).limit(limit)
        calls = ctx.settings.calls_enabled
        return [_summary(r, calls=calls) for r in (await session.execute(query)).unique().scalars()]


async def count_residents(*, ctx: Context) -> int:
    async with ctx.db.read() as session:
        query = select(func.count()).select_from(Resident).where(Resident.erased.is_(False))
        return int((await session.execute(query)).scalar_one())


async def get_resident(*, ctx: Context, resident_id: int) -> ResidentSummary:
    async with ctx.db.read() as session:
        resident = await session.get(Resident, resident_id)
        found = (
            _summary(resident, calls=ctx.settings.calls_enabled)
            if resident is not None and not resident.erased
            else None
        )
    if resident is None:
        raise TeamError(f"la personne n°{resident_id} n'existe pas (voir « atelier residents list »)")
    if found is None:
        raise TeamError(f"les données de la personne n°{resident_id} sont déjà effacées")
    return found


@dataclass(frozen=True)
class Erased:
    resident_id: int
    promoted: int  # people on a waiting list who got the freed seats (and were told)


async def erase_resident_for(*, ctx: Context, resident_id: int, actor: Actor) -> Erased:
    """Erase a resident on their request made to an adviser, exactly as OUBLIER does: personal data deleted, a
    keyed hash of the number kept (never contacted again by mistake), seats given to the people waiting."""
    now = ctx.now()
    async with ctx.db.write() as session:
        resident = await session.get(Resident, resident_id)
        if resident is None:
            raise TeamError(f"la personne n°{resident_id} n'existe pas (voir « atelier residents list »)")
        if resident.erased:
            raise TeamError(f"les données de la personne n°{resident_id} sont déjà effacées")
        promoted = await erase(session=session, ctx=ctx, resident=resident, now=now, keep_hash=True)
        await record(
            session=session, actor=actor, action="resident_erased", at=now, resident_id=resident_id,
            summary=f"données de la personne n°{resident_id} effacées à sa demande ; {promoted} place(s) donnée(s) "
            "à des personnes en attente",
        )  # fmt: skip
    await ctx.db.checkpoint()  # SQLite: what was erased leaves the write-ahead log for good
    ctx.wake_dispatcher()
    log.info("resident %s erased by an adviser", resident_id)
    return Erased(resident_id, promoted)


# ---------------------------------------------------------------------------------------------------------------
# Finding a person: by name or number, as an adviser types them


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _national_digits(phone: str | None) -> str:
    """``+33612345678`` → ``0612345678``: the digits an adviser types."""
    if not phone:
        return ""
    if phone.startswith("+33") and phone[3:].isdigit():  # France, without parsing (a search reads every number)
        return "0" + phone[3:]
    return _digits(national(phone))


@dataclass(frozen=True)
class _Findable:
    """What a search compares: a few columns, not the whole person (a search reads everyone)."""

    id: int
    name: str | None
    phone: str | None
    telegram_chat_id: int | None


def _matches(person: _Findable, words: list[str], digits: str) -> bool:
    if digits:
        stored = (_national_digits(person.phone), _digits(person.phone or ""), str(person.telegram_chat_id or ""))
        return any(digits in value for value in stored if value)
    names = plain(person.name or "").split()
    return bool(names) and all(any(name.startswith(word) for name in names) for word in words)


async def find_residents(*, ctx: Context, text: str, limit: int = 50) -> list[ResidentSummary]:
    """People whose name or number matches what an adviser typed, accents, case, spaces and the way a number is
    written forgiven: "dupont", "martine dup", "DUPONT Martine", "06 12 34 56 78", "0612345678", "+33 6 12…", or
    the end of a number ("56 78"). Erased people are never found. The exact name first, then by name."""
    typed = " ".join(text.split())
    digits = _digits(typed) if sum(ch.isdigit() for ch in typed) >= 4 else ""
    if digits:
        number = to_e164(typed)
        digits = _national_digits(number) if number else digits
    words = plain(typed).split()
    if not digits and not words:
        raise TeamError("indiquez un nom ou un numéro de téléphone (4 chiffres au moins)")
    exact = " ".join(words)
    async with ctx.db.read() as session:
        columns = select(Resident.id, Resident.name, Resident.phone, Resident.telegram_chat_id)
        everyone = await session.execute(columns.where(Resident.erased.is_(False)))
        found = [person for row in everyone if _matches(person := _Findable(*row), words, digits)]
        found.sort(key=lambda p: (plain(p.name or "") != exact, plain(p.name or ""), p.id))
        wanted = [p.id for p in found[:limit]]
        rows = await session.execute(select(Resident).where(Resident.id.in_(wanted)))
        residents = {r.id: r for r in rows.unique().scalars()}
        return [_summary(residents[i], calls=ctx.settings.calls_enabled) for i in wanted if i in residents]


# ---------------------------------------------------------------------------------------------------------------
# A person's record: their workshops, their messages with what became of them, their calls


@dataclass(frozen=True)
class BookingLine:
    """One of the person's enrolments, with its workshop."""

    enrolment_id: int
    workshop_id: int
    starts_at: datetime
    ends_at: datetime
    place: str  # the venue, as residents read it
    level: Level
    topic: str
    workshop_cancelled: bool
    status: EnrolmentStatus  # seated, waiting, cancelled (they left it), attended, absent
    position: int | None  # on the waiting list
    confirmed: bool | None  # their answer to the reminder
    by_adviser: bool  # an adviser enrolled them


@dataclass(frozen=True)
class MessageLine:
    """A message to the person, and what became of it (sent, delivered, failed…)."""

    id: int
    kind: MessageKind
    channel: str
    body: str
    due_at: datetime
    sent_at: datetime | None
    status: MessageStatus
    error: str | None
    workshop_id: int | None


@dataclass(frozen=True)
class ResidentRecord:
    resident: ResidentSummary
    upcoming: tuple[BookingLine, ...]  # soonest first
    past: tuple[BookingLine, ...]  # latest first
    messages: tuple[MessageLine, ...]  # newest first (at most ``RECORD_MESSAGES``)
    calls: tuple[CallItem, ...]  # newest first

    @property
    def active(self) -> list[BookingLine]:
        """Their seats and waiting places in workshops still to come (what "unenrol" and "move" act on)."""
        held = (EnrolmentStatus.seated, EnrolmentStatus.waiting)
        return [b for b in self.upcoming if b.status in held and not b.workshop_cancelled]


RECORD_MESSAGES = 30


def _booking(enrolment: Enrolment) -> BookingLine:
    workshop = enrolment.workshop
    return BookingLine(
        enrolment_id=enrolment.id,
        workshop_id=workshop.id,
        starts_at=workshop.starts_at,
        ends_at=workshop.ends_at,
        place=say.venue_label(workshop.venue.name, workshop.venue.commune.name),
        level=workshop.level,
        topic=workshop.topic,
        workshop_cancelled=workshop.status == WorkshopStatus.cancelled,
        status=enrolment.status,
        position=enrolment.position,
        confirmed=enrolment.confirmed,
        by_adviser=enrolment.enrolled_by_adviser_id is not None,
    )


def _message(row: OutboundMessage) -> MessageLine:
    return MessageLine(
        id=row.id,
        kind=MessageKind(row.kind),
        channel=row.channel,
        body=row.body,
        due_at=row.due_at,
        sent_at=row.sent_at,
        status=MessageStatus(row.status),
        error=row.error,
        workshop_id=row.workshop_id,
    )


async def resident_record(*, ctx: Context, resident_id: int) -> ResidentRecord:
    """Everything an adviser needs on the phone with someone: who they are, their workshops past and upcoming,
    the messages sent to them with their delivery status, and the calls made or to make."""
    now = ctx.now()
    async with ctx.db.read() as session:
        resident = await session.get(Resident, resident_id)
        if resident is None:
            raise TeamError(f"la personne n°{resident_id} n'existe pas (voir « atelier residents find »)")
        if resident.erased:
            raise TeamError(f"les données de la personne n°{resident_id} sont effacées")
        enrolments = (
            (
                await session.execute(
                    select(Enrolment)
                    .join(Workshop, Workshop.id == Enrolment.workshop_id)
                    .where(Enrolment.resident_id == resident_id)
                    .order_by(Workshop.starts_at, Enrolment.id)
                )
            )
            .unique()
            .scalars()
        )
        bookings = [_booking(e) for e in enrolments]
        messages = await session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.resident_id == resident_id)
            .order_by(OutboundMessage.due_at.desc(), OutboundMessage.id.desc())
            .limit(RECORD_MESSAGES)
        )
        return ResidentRecord(
            resident=_summary(resident, calls=ctx.settings.calls_enabled),
            upcoming=tuple(b for b in bookings if b.starts_at > now),
            past=tuple(reversed([b for b in bookings if b.starts_at <= now])),
            messages=tuple(_message(m) for m in messages),
            calls=tuple(await resident_calls(session=session, resident_id=resident_id)),
        )


# ---------------------------------------------------------------------------------------------------------------
# Someone phones to cancel, or to change workshop: unenrol them, or move them, in one step


@dataclass(frozen=True)
class Unenrolled:
    resident_id: int
    workshop_id: int
    was: EnrolmentStatus  # seated or waiting
    promoted: tuple[Promoted, ...]  # who got the seat: one person, or the people who share a phone, together
    departures: tuple[DepartureGroup, ...]  # when the messages leave (theirs, and each promoted person's)
    message: str | None = None  # what they are told, when a message reaches them
    channel: str | None = None  # … and by which channel

    @property
    def told(self) -> bool:
        """A message confirms it to them (otherwise: no channel reaches them, the adviser told them)."""
        return self.message is not None


@dataclass(frozen=True)
class PersonMoved:
    resident_id: int
    from_workshop_id: int
    to_workshop_id: int
    seated: bool  # False: on the waiting list of the new workshop, at ``position``
    position: int | None
    promoted: tuple[Promoted, ...]  # who got the seat they left: one person, or the people who share a phone
    departures: tuple[DepartureGroup, ...]
    message: str | None = None  # what they are told, when a message reaches them
    channel: str | None = None  # … and by which channel

    @property
    def told(self) -> bool:
        return self.message is not None


async def _active_booking(session: AsyncSession, resident_id: int, workshop_id: int, now: datetime) -> Enrolment:
    """The person's seat or waiting place in a workshop that can still change; refuses anything else."""
    resident = await session.get(Resident, resident_id)
    if resident is None or resident.erased:
        raise TeamError(f"la personne n°{resident_id} n'existe pas (voir « atelier residents find »)")
    enrolment = (
        await session.execute(
            select(Enrolment).where(Enrolment.resident_id == resident_id, Enrolment.workshop_id == workshop_id)
        )
    ).scalar_one_or_none()
    if enrolment is None or enrolment.status not in (EnrolmentStatus.seated, EnrolmentStatus.waiting):
        raise TeamError(f"{resident.name or 'cette personne'} n'est pas inscrite à l'atelier n°{workshop_id}")
    workshop = enrolment.workshop
    if workshop.status != WorkshopStatus.planned:
        raise TeamError(f"l'atelier n°{workshop_id} est annulé : les inscrits ont été prévenus")
    if workshop.starts_at <= now:
        raise TeamError(f"l'atelier n°{workshop_id} a déjà commencé : notez plutôt les présences")
    return enrolment


async def _tell(
    session: AsyncSession, ctx: Context, *, resident: Resident, workshop: Workshop, body: str, key: str,
    enrolment_id: int | None, now: datetime,
) -> int | None:  # fmt: skip
    """The message confirming what the adviser did; None when no message reaches them. Never a call to a landline:
    they are the one who phoned, the adviser has just told them."""
    destination = address_of(resident)
    if destination is None:
        return None
    urgent = is_urgent_change(starts_at=workshop.starts_at, now=now)
    message = NewMessage(
        channel=destination[0],
        to_address=destination[1],
        body=body,
        kind=MessageKind.confirmation,
        due_at=next_allowed(now, urgent=urgent, quiet_hours=ctx.settings.quiet_hours, tz=ctx.tz),
        expires_at=workshop.starts_at,
        urgent=urgent,
        idempotency_key=key,
        resident_id=resident.id,
        workshop_id=workshop.id,
        enrolment_id=enrolment_id,
    )
    return await enqueue(session=session, message=message)


def _channel(resident: Resident) -> str | None:
    """The channel ``_tell`` writes through (never a call: the adviser just spoke to them)."""
    destination = address_of(resident)
    return destination[0] if destination else None


def _promoted(promoted: Sequence[Enrolment], notices: Sequence[int | None]) -> tuple[Promoted, ...]:
    """Who got a seat given up (everyone of the party: two people who share a phone come together), and whether a
    message tells each of them (their notice, in ``notices``)."""
    return tuple(  # each enrolment's resident is loaded with it (joined)
        Promoted(enrolment.resident_id, enrolment.resident.name, told=notice is not None)
        for enrolment, notice in zip(promoted, notices, strict=True)
    )


def _given(promoted: Sequence[Promoted]) -> str:
    """The audit trail's account of who got the seat (people by number only)."""
    if not promoted:
        return ""
    whom = "à la personne" if len(promoted) == 1 else "aux personnes"
    return f" ; sa place est donnée {whom} {say.and_fr([f'n°{p.resident_id}' for p in promoted])}"


async def unenrol(
    *, ctx: Context, resident_id: int, workshop_id: int, actor: Actor, preview: bool = False
) -> Unenrolled:
    """Take someone off a workshop at their request (they phoned): their seat goes to the first person waiting
    (who is told, or put on the "to call" list), their reminders are cancelled, and they get a message saying
    it is done. Refuses (nothing changed) a person not enrolled there, or a workshop cancelled or started.
    ``preview``: the same operation in a transaction that is rolled back: what confirming would do, nothing written.
    """
    now = ctx.now()
    async with write_or_preview(ctx, preview=preview) as session:
        result = await _unenrol(session, ctx, resident_id=resident_id, workshop_id=workshop_id, actor=actor, now=now)
    if preview:
        return result
    ctx.wake_dispatcher()
    log.info("resident %s unenrolled from workshop %s by %s", resident_id, workshop_id, actor.label)
    return result


async def _unenrol(
    session: AsyncSession, ctx: Context, *, resident_id: int, workshop_id: int, actor: Actor, now: datetime
) -> Unenrolled:
    enrolment = await _active_booking(session, resident_id, workshop_id, now)
    was, workshop, resident = enrolment.status, enrolment.workshop, enrolment.resident
    cancelled = await cancel(session=session, ctx=ctx, enrolment_id=enrolment.id, now=now)
    body = say.unenrolled_by_adviser(
        workshop.starts_at, ctx.tz, workshop.venue.commune.name, waiting=was == EnrolmentStatus.waiting
    )
    told = await _tell(
        session, ctx, resident=resident, workshop=workshop, body=body, enrolment_id=None, now=now,
        key=f"unenrol:{enrolment.id}:{now:%Y%m%d%H%M%S%f}",
    )  # fmt: skip
    notices = cancelled.promotion_notices if cancelled else ()
    promoted = _promoted(cancelled.promoted if cancelled else (), notices)
    queued = [i for i in (told, *notices) if i is not None]  # the whole party's notices, when a pair is promoted
    departures = await departures_of(session=session, ctx=ctx, message_ids=queued, now=now)
    message, channel = (body, _channel(resident)) if told is not None else (None, None)
    await record(
        session=session, actor=actor, action="resident_unenrolled", at=now, workshop_id=workshop_id,
        resident_id=resident_id,
        summary=f"personne n°{resident_id} désinscrite de l'atelier n°{workshop_id} à sa demande{_given(promoted)}",
    )  # fmt: skip
    return Unenrolled(resident_id, workshop_id, was, promoted, departures, message, channel)


async def move_person(
    *, ctx: Context, resident_id: int, from_workshop_id: int, to_workshop_id: int, actor: Actor,
    allow_waiting: bool = False, preview: bool = False,
) -> PersonMoved:  # fmt: skip
    """Move someone from one workshop to another in one step, at their request: a seat in the new one (or, with
    ``allow_waiting``, its waiting list) and the old seat given to the first person waiting, with one message
    saying where and when they are now expected. Refuses (nothing changed) a full workshop without
    ``allow_waiting``, a workshop cancelled or started, or one they are already in. ``preview``: the same
    operation in a transaction that is rolled back: what confirming would do, nothing written."""
    if from_workshop_id == to_workshop_id:
        raise TeamError("c'est le même atelier : rien à changer")
    now = ctx.now()
    async with write_or_preview(ctx, preview=preview) as session:
        result = await _move_person(
            session, ctx, resident_id=resident_id, from_workshop_id=from_workshop_id,
            to_workshop_id=to_workshop_id, actor=actor, allow_waiting=allow_waiting, now=now,
        )  # fmt: skip
    if preview:
        return result
    ctx.wake_dispatcher()
    log.info("resident %s moved from %s to %s by %s", resident_id, from_workshop_id, to_workshop_id, actor.label)
    return result


async def _move_person(
    session: AsyncSession, ctx: Context, *, resident_id: int, from_workshop_id: int, to_workshop_id: int,
    actor: Actor, allow_waiting: bool, now: datetime,
) -> PersonMoved:  # fmt: skip
    # Locked first (in the move's own order), so that what is checked below still holds when the move is made.
    await lock_workshops(session=session, workshop_ids=(from_workshop_id, to_workshop_id))
    old = await _active_booking(session, resident_id, from_workshop_id, now)
    old_id, old_start, resident = old.id, old.workshop.starts_at, old.resident
    try:
        moved = await move(
            session=session, ctx=ctx, enrolment_ids=[old_id], workshop_id=to_workshop_id, now=now,
            allow_waiting=allow_waiting, adviser_id=actor.adviser_id,
        )  # fmt: skip
    except AlreadyThereError:
        raise TeamError(f"la personne est déjà inscrite à l'atelier n°{to_workshop_id}") from None
    except SeatError:
        raise TeamError(f"l'atelier n°{to_workshop_id} n'existe pas, est annulé ou a déjà commencé") from None
    if moved is None:
        raise TeamError(
            f"l'atelier n°{to_workshop_id} est complet : pour mettre la personne sur sa liste d'attente, "
            "cochez « liste d'attente » (en ligne de commande : --waiting)"
        )
    new = moved.seated[0]
    seated, position, new_workshop = not moved.waiting, new.position, new.workshop
    body = say.moved_by_adviser(
        old_start, new_workshop.starts_at, ctx.tz, venue_of(new_workshop), new_workshop.venue.address,
        position=None if seated else position,
    )  # fmt: skip
    told = await _tell(
        session, ctx, resident=resident, workshop=new_workshop, body=body, enrolment_id=new.id,
        now=now, key=f"move-person:{old_id}:{new.id}:{now:%Y%m%d%H%M%S%f}",
    )  # fmt: skip
    promoted = _promoted(moved.promoted, moved.promotion_notices)
    queued = [i for i in (told, *moved.promotion_notices) if i is not None]  # every promoted person's notice
    departures = await departures_of(session=session, ctx=ctx, message_ids=queued, now=now)
    where = "" if seated else f" (liste d'attente, position {position})"
    await record(
        session=session, actor=actor, action="resident_moved", at=now, workshop_id=to_workshop_id,
        resident_id=resident_id,
        summary=f"personne n°{resident_id} changée de l'atelier n°{from_workshop_id} pour l'atelier "
        f"n°{to_workshop_id}{where} à sa demande{_given(promoted)}",
    )  # fmt: skip
    return PersonMoved(
        resident_id, from_workshop_id, to_workshop_id, seated, position,
        promoted, departures, message=body if told is not None else None,
        channel=_channel(resident) if told is not None else None,
    )  # fmt: skip


async def upcoming_bookings(*, ctx: Context, resident_id: int) -> list[BookingLine]:
    """The person's seats and waiting places in workshops still to come (what "unenrol" and "move" act on)."""
    return (await resident_record(ctx=ctx, resident_id=resident_id)).active
