"""Broadcasts: a free message from an adviser to one workshop's participants, to the residents of some communes,
or to everyone with an upcoming workshop (issue 6, item 2).

Before sending, ``preview_broadcast`` says how many people each channel reaches, how many are skipped because they
opted out, how many SMS segments the text costs once written in GSM-7, and the estimated price. ``send_broadcast``
records the broadcast and queues one outbox row per recipient (the dispatcher sends them at the channel's rate,
in the sending window). ``broadcast_report`` says what became of them, and who the adviser should phone instead.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.gsm7 import count_segments, to_gsm7
from bot.service import spoken
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.calls import broadcast_script, record_calls
from bot.service.departures import DepartureGroup, forecast_rows, group
from bot.service.planning_csv import WorkshopFieldsError, find_commune, plain
from bot.service.recipients import ToPhone, address_of, person_to_phone, speaks_for, why_unreachable
from bot.service.team import TeamError, commune_codes, commune_names
from bot.service.voice_costs import call_seconds, started_minutes
from bot.service.workshops import WorkshopError
from storage.calls import NewCall
from storage.enums import Channel
from storage.models import (
    Broadcast,
    CallKind,
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
from storage.outbox.departures import pending_rows
from storage.outbox.queueing import NewMessage, enqueue

log = logging.getLogger(__name__)

MAX_SEGMENTS = 3  # SPEC §2: never above three segments
# A workshop's participants: who holds or held a seat, and who waits for one.
PARTICIPANTS = (EnrolmentStatus.seated, EnrolmentStatus.waiting, EnrolmentStatus.attended)
UPCOMING = (EnrolmentStatus.seated, EnrolmentStatus.waiting)


class BroadcastError(WorkshopError):
    """A refusal for the adviser (nothing was sent)."""


@dataclass(frozen=True)
class Audience:
    """Who receives a broadcast; the criteria given combine (a workshop's participants living in these communes).

    ``communes``: where the people live, names as advisers write them, or INSEE codes. ``venue`` / ``held_in``: the
    participants of the upcoming workshops held at that venue (its name, spelling forgiven) or in that commune
    ("la salle de Saint-Victor est fermée"); both together name the venue of that commune.
    """

    workshop_id: int | None = None
    communes: tuple[str, ...] = ()
    upcoming: bool = False
    venue: str | None = None
    held_in: str | None = None

    def is_empty(self) -> bool:
        return (
            self.workshop_id is None and not self.communes and not self.upcoming and not self.venue and not self.held_in
        )


@dataclass(frozen=True)
class Preview:
    body: str
    sms_text: str  # what an SMS recipient reads (GSM-7)
    by_channel: Mapping[str, int]  # recipients per channel
    skipped_opted_out: int  # in the audience, but opted out of every channel: not contacted
    unreachable: int  # in the audience, but no channel at all (no mobile, a landline): to phone
    segments: int  # per SMS
    communes: tuple[str, ...] = ()  # the communes understood, by name
    venues: tuple[str, ...] = ()  # for ``venue`` / ``held_in``: the venues understood, "Salle des fêtes (Domérat)"
    workshops: tuple[int, ...] = ()  # for ``venue`` / ``held_in``: the upcoming workshops held there
    # Calls (residents with a landline, phoned with the message read aloud), counted apart from SMS:
    call_minutes: int = 0  # started minutes per call (the message said twice, and the keys)
    sms_cost: float = 0.0  # euros: SMS recipients × segments × ATELIER_SMS_PRICE
    call_cost: float = 0.0  # euros: calls × started minutes × ATELIER_CALL_PRICE

    @property
    def calls(self) -> int:
        return self.by_channel.get(Channel.voice, 0)

    @property
    def recipients(self) -> int:
        return sum(self.by_channel.values())

    @property
    def estimated_cost(self) -> float:
        """Euros: the SMS and the calls."""
        return round(self.sms_cost + self.call_cost, 2)


@dataclass(frozen=True)
class Report:
    id: int
    author: str
    created_at: datetime
    body: str
    audience: Mapping[str, Any]
    segments: int
    recipients: int  # messages queued
    by_channel: Mapping[str, int]
    sent: int  # left for the provider (delivered ones included)
    delivered: int
    failed: int
    opted_out: int  # skipped when sending, or withdrawn / refused later because they opted out
    expired: int  # could not leave before the broadcast's deadline
    pending: int  # still waiting for the sending window or their turn
    cancelled: int  # withdrawn before sending for another reason (erased, number found unreachable)
    to_phone: tuple[ToPhone, ...] = field(default_factory=tuple)
    waiting: tuple[DepartureGroup, ...] = ()  # the pending ones: when they leave, and why they wait


# ---------------------------------------------------------------------------------------------------------------
# The audience


def _clean_body(body: str) -> str:
    text = "\n".join(" ".join(line.split()) for line in body.strip().splitlines()).strip()
    if not text:
        raise BroadcastError("le message est vide")
    return text


@dataclass(frozen=True)
class _Held:
    venues: tuple[Venue, ...]
    workshops: tuple[int, ...]  # upcoming and planned, held at those venues


async def _held(*, session: AsyncSession, ctx: Context, audience: Audience, now: datetime) -> _Held | None:
    """The venues ``venue`` / ``held_in`` name, and the upcoming workshops held there; None when neither is given."""
    if not audience.venue and not audience.held_in:
        return None
    commune = None
    if audience.held_in:
        try:
            commune = find_commune(audience.held_in, ctx.territory)
        except WorkshopFieldsError as exc:
            raise BroadcastError(*exc.problems) from None
    query = select(Venue).order_by(Venue.id)
    if commune is not None:
        query = query.where(Venue.commune_insee == commune.insee)
    venues = list((await session.execute(query)).unique().scalars())
    if audience.venue:
        wanted = plain(audience.venue)
        exact = [v for v in venues if plain(v.name) == wanted]
        venues = exact or [v for v in venues if wanted in plain(v.name)]
        labels = ", ".join(say.venue_label(v.name, v.commune.name) for v in venues[:6])
        where = f" à {commune.name}" if commune is not None else ""
        if not venues:
            raise BroadcastError(f"lieu inconnu « {audience.venue} »{where} (voir « atelier workshops list »)")
        if len({v.commune_insee for v in venues}) > 1:
            raise BroadcastError(f"plusieurs lieux s'appellent « {audience.venue} » ({labels}) : précisez --held-in")
    workshops = await session.scalars(
        select(Workshop.id)
        .where(
            Workshop.venue_id.in_([v.id for v in venues]),
            Workshop.status == WorkshopStatus.planned,
            Workshop.starts_at > now,
        )
        .order_by(Workshop.starts_at, Workshop.id)
    )
    return _Held(tuple(venues), tuple(workshops))


async def _residents(
    *, session: AsyncSession, audience: Audience, codes: Sequence[str], held: _Held | None, now: datetime
) -> list[Resident]:
    """Residents in the audience, not erased, each once, by id."""
    if audience.is_empty():
        raise BroadcastError(
            "indiquez à qui écrire : un atelier, des communes, un lieu d'ateliers, ou les inscrits à venir"
        )
    query: Select[Resident] = select(Resident).where(Resident.erased.is_(False))
    if audience.workshop_id is not None:
        workshop = await session.get(Workshop, audience.workshop_id)
        if workshop is None:
            raise BroadcastError(f"l'atelier n°{audience.workshop_id} n'existe pas (voir « atelier workshops list »)")
        if workshop.status == WorkshopStatus.cancelled:
            raise BroadcastError(
                f"l'atelier n°{audience.workshop_id} est annulé : ses participants ont été prévenus de l'annulation "
                "(écrivez à une commune avec --commune si besoin)"
            )
        in_workshop = select(Enrolment.resident_id).where(
            Enrolment.workshop_id == audience.workshop_id, Enrolment.status.in_(PARTICIPANTS)
        )
        query = query.where(Resident.id.in_(in_workshop))
    if codes:
        query = query.where(Resident.commune_insee.in_(list(codes)))
    if held is not None:
        held_there = select(Enrolment.resident_id).where(
            Enrolment.workshop_id.in_(list(held.workshops)), Enrolment.status.in_(UPCOMING)
        )
        query = query.where(Resident.id.in_(held_there))
    if audience.upcoming:
        upcoming = (
            select(Enrolment.resident_id)
            .join(Workshop, Workshop.id == Enrolment.workshop_id)
            .where(Enrolment.status.in_(UPCOMING), Workshop.status == WorkshopStatus.planned, Workshop.starts_at > now)
        )
        query = query.where(Resident.id.in_(upcoming))
    return list((await session.execute(query.order_by(Resident.id))).unique().scalars())


@dataclass(frozen=True)
class _Plan:
    preview: Preview
    destinations: tuple[tuple[Resident, Channel, str], ...]  # (resident, channel, address)
    unreached: Mapping[int, str]  # resident id → reason
    codes: tuple[str, ...]


async def _plan(*, session: AsyncSession, ctx: Context, audience: Audience, body: str, now: datetime) -> _Plan:
    text = _clean_body(body)
    sms_text = to_gsm7(text)
    segments = count_segments(sms_text)
    if segments > MAX_SEGMENTS:
        raise BroadcastError(
            f"le message est trop long : {segments} SMS ({len(sms_text)} caractères) ; {MAX_SEGMENTS} SMS au plus, "
            "soit environ 450 caractères sans accent rare"
        )
    try:
        codes = tuple(commune_codes(ctx, audience.communes))
    except TeamError as exc:
        raise BroadcastError(*exc.problems) from None
    held = await _held(session=session, ctx=ctx, audience=audience, now=now)
    residents = await _residents(session=session, audience=audience, codes=codes, held=held, now=now)
    destinations: list[tuple[Resident, Channel, str]] = []
    unreached: dict[int, str] = {}
    audience_ids = {r.id for r in residents}
    for resident in residents:
        if speaks_for(resident, audience_ids):
            continue  # two people, one phone: one message to that phone
        destination = address_of(resident, calls=ctx.settings.calls_enabled)
        if destination is None:
            unreached[resident.id] = why_unreachable(resident)
        else:
            destinations.append((resident, *destination))
    by_channel: Counter[str] = Counter(channel for _, channel, _ in destinations)
    sms_cost = round(by_channel[Channel.sms] * segments * ctx.settings.sms_price, 2)
    minutes = started_minutes(call_seconds(spoken.broadcast(text).body, ctx.territory.name))
    call_cost = round(by_channel[Channel.voice] * minutes * ctx.settings.call_price, 2)
    preview = Preview(
        body=text,
        sms_text=sms_text,
        # every channel in use, even at 0 (calls only when the voice channel is on)
        by_channel={c: by_channel[c] for c in Channel if c != Channel.voice or ctx.settings.calls_enabled}
        | dict(by_channel),
        skipped_opted_out=sum(1 for reason in unreached.values() if reason == "opted_out"),
        unreachable=sum(1 for reason in unreached.values() if reason != "opted_out"),
        segments=segments,
        communes=tuple(commune_names(ctx, codes)),
        venues=tuple(say.venue_label(v.name, v.commune.name) for v in held.venues) if held else (),
        workshops=held.workshops if held else (),
        call_minutes=minutes,
        sms_cost=sms_cost,
        call_cost=call_cost,
    )
    return _Plan(preview, tuple(destinations), unreached, codes)


# ---------------------------------------------------------------------------------------------------------------
# Operations


async def preview_broadcast(*, ctx: Context, audience: Audience, body: str) -> Preview:
    """What sending would do, without sending: recipients per channel, opt-outs skipped, segments, cost."""
    async with ctx.db.read() as session:
        return (await _plan(session=session, ctx=ctx, audience=audience, body=body, now=ctx.now())).preview


async def send_broadcast(
    *,
    ctx: Context,
    audience: Audience,
    body: str,
    actor: Actor,
    expires_in: timedelta = timedelta(days=2),
) -> int:
    """Record the broadcast and queue one message per recipient; returns the broadcast's id.

    Messages wait for the sending window (a broadcast is never urgent) and expire ``expires_in`` after now: a
    message that could not leave by then is reported as expired, and its recipient listed to phone.
    """
    now = ctx.now()
    async with ctx.db.write() as session:
        plan = await _plan(session=session, ctx=ctx, audience=audience, body=body, now=now)
        if not plan.destinations:
            raise BroadcastError("personne ne peut recevoir ce message : rien n'a été envoyé")
        preview = plan.preview
        broadcast = Broadcast(
            author=actor.label,
            adviser_id=actor.adviser_id,
            audience={
                "workshop_id": audience.workshop_id,
                "communes": list(plan.codes),
                "upcoming": audience.upcoming,
                "venues": list(preview.venues),
                "workshops": list(preview.workshops),
                "by_channel": dict(preview.by_channel),
                # who was left out, and why: the report lists them for the adviser to phone
                "unreached": {str(resident_id): reason for resident_id, reason in plan.unreached.items()},
            },
            body=preview.body,
            recipients=preview.recipients,
            skipped_opted_out=preview.skipped_opted_out,
            segments=preview.segments,
            expires_at=now + expires_in,
            created_at=now,
        )
        session.add(broadcast)
        await session.flush()
        said = spoken.broadcast(preview.body)
        for resident, channel, address in plan.destinations:
            calling = channel == Channel.voice  # a landline: the message is read aloud by a call
            await enqueue(
                session=session,
                message=NewMessage(
                    channel=channel,
                    to_address=address,
                    body=said.body if calling else preview.body,
                    choices=said.choices if calling else (),
                    kind=MessageKind.broadcast,
                    due_at=spoken.first_moment(ctx=ctx, channel=channel, now=now, urgent=False),
                    expires_at=broadcast.expires_at,
                    idempotency_key=f"broadcast:{broadcast.id}:{resident.id}",
                    resident_id=resident.id,
                    adviser_id=actor.adviser_id,
                    broadcast_id=broadcast.id,
                    workshop_id=audience.workshop_id,  # a message about a workshop is moot once it is cancelled
                ),
            )
        await record(
            session=session, actor=actor, action="broadcast_sent", at=now, workshop_id=audience.workshop_id,
            summary=f"diffusion n°{broadcast.id} envoyée à {preview.recipients} personne(s)",
        )  # fmt: skip
        broadcast_id = broadcast.id
        # Those no message can reach go on the "to call" list (the adviser sending sees them in the preview).
        unreached = [
            NewCall(
                key=f"broadcast:{broadcast_id}:{resident_id}",
                kind=CallKind.broadcast,
                resident_id=resident_id,
                what_to_say=broadcast_script(preview.body),
                created_at=now,
                reason=reason,
                workshop_id=audience.workshop_id,
                broadcast_id=broadcast_id,
            )
            for resident_id, reason in plan.unreached.items()
        ]
        await record_calls(session=session, ctx=ctx, calls=unreached, tell=False)
    ctx.wake_dispatcher()
    log.info("broadcast %s queued for %s recipients", broadcast_id, preview.recipients)
    return broadcast_id


def _opted_out_of(resident: Resident | None, channel: str) -> bool:
    if resident is None:
        return False
    if channel == Channel.sms:
        return resident.opted_out_sms
    return channel == Channel.telegram and resident.opted_out_telegram


async def broadcast_report(*, ctx: Context, broadcast_id: int) -> Report:
    """What became of each message of the broadcast, and who nothing reached (with their number, to phone)."""
    async with ctx.db.read() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise BroadcastError(f"la diffusion n°{broadcast_id} n'existe pas")
        rows = (
            await session.execute(
                select(OutboundMessage.resident_id, OutboundMessage.channel, OutboundMessage.status)
                .where(OutboundMessage.broadcast_id == broadcast_id)
                .order_by(OutboundMessage.id)
            )
        ).all()
        unreached = {int(k): str(v) for k, v in (broadcast.audience or {}).get("unreached", {}).items()}
        ids = {r[0] for r in rows if r[0] is not None} | set(unreached)
        residents = {
            r.id: r for r in (await session.execute(select(Resident).where(Resident.id.in_(ids)))).unique().scalars()
        }
        now = ctx.now()
        pending = await pending_rows(session=session, broadcast_id=broadcast_id)
        waiting = group(await forecast_rows(session=session, ctx=ctx, rows=pending, now=now), now=now)
    counts: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    to_phone: dict[int, str] = {}
    for resident_id, channel, status in rows:
        by_channel[channel] += 1
        resident = residents.get(resident_id) if resident_id is not None else None
        outcome = _outcome(MessageStatus(status), opted_out=_opted_out_of(resident, channel))
        counts[outcome] += 1
        if outcome == "delivered":
            counts["sent"] += 1
        if outcome in ("failed", "expired", "cancelled", "opted_out") and resident_id is not None:
            landline = channel == Channel.sms and resident is not None and resident.sms_unreachable
            to_phone.setdefault(resident_id, "sms_unreachable" if landline and outcome == "failed" else outcome)
    for resident_id, reason in unreached.items():
        to_phone.setdefault(resident_id, reason)
    people = tuple(
        person_to_phone(residents[rid], reason=reason)
        for rid, reason in sorted(to_phone.items())
        if rid in residents and not residents[rid].erased
    )
    return Report(
        id=broadcast.id,
        author=broadcast.author,
        created_at=broadcast.created_at,
        body=broadcast.body,
        audience={k: v for k, v in (broadcast.audience or {}).items() if k != "unreached"},
        segments=broadcast.segments,
        recipients=len(rows),
        by_channel=dict(by_channel),
        sent=counts["sent"],
        delivered=counts["delivered"],
        failed=counts["failed"],
        opted_out=counts["opted_out"] + broadcast.skipped_opted_out,
        expired=counts["expired"],
        pending=counts["pending"],
        cancelled=counts["cancelled"],
        to_phone=people,
        waiting=waiting,
    )


def _outcome(status: MessageStatus, *, opted_out: bool) -> str:
    """One bucket per message. A message withdrawn or refused because its recipient opted out counts as such."""
    if status in (MessageStatus.pending, MessageStatus.sending):
        return "pending"
    if status in (MessageStatus.failed, MessageStatus.cancelled) and opted_out:
        return "opted_out"
    return status.value  # sent, delivered, failed, expired, cancelled


@dataclass(frozen=True)
class BroadcastItem:
    id: int
    author: str
    created_at: datetime
    body: str
    recipients: int


async def recent_broadcasts(*, ctx: Context, limit: int = 20) -> list[BroadcastItem]:
    """The latest broadcasts, newest first (the console lists them to open their reports)."""
    query = select(Broadcast).order_by(Broadcast.created_at.desc(), Broadcast.id.desc()).limit(limit)
    async with ctx.db.read() as session:
        return [
            BroadcastItem(b.id, b.author, b.created_at, b.body, b.recipients)
            for b in (await session.execute(query)).scalars()
        ]
