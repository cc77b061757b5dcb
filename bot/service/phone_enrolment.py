"""An adviser enrols someone who phoned: seated or waiting, recorded as done by an adviser with consent given by
phone, and sent the confirmation a self-enrolment gets.

Refusals are ``TeamError``, raised before anything is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.phones import Unserved, is_landline, national, unserved
from bot.conversation.understanding.names import first_name_of
from bot.service import spoken
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.departures import DepartureGroup, departures_of
from bot.service.enrolments import SeatError, enrol
from bot.service.identity import identity_hash, was_erased
from bot.service.planning_csv import WorkshopFieldsError, parse_level, plain
from bot.service.previews import write_or_preview
from bot.service.recipients import address_of
from bot.service.reminders import seat_message, venue_of, will_remind
from bot.service.team import TeamError, check_name, check_phone, commune_codes
from storage.catalogue import find_resident
from storage.enums import Channel
from storage.models import ErasedIdentity, Level, MessageKind, Resident, Workshop, WorkshopStatus
from storage.outbox.queueing import enqueue
from storage.seats import SeatOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhoneEnrolment:
    resident_id: int
    enrolment_id: int
    workshop_id: int
    seated: bool
    position: int | None  # on the waiting list
    already: bool  # they were already seated or waiting there: nothing changed, no SMS
    new_resident: bool
    confirmation_channel: Channel | None  # the channel the confirmation goes through; None: nobody to send it to
    notes: tuple[str, ...]  # things the adviser should know (a landline, STOP, a different level…)
    confirmation_leaves: tuple[DepartureGroup, ...] = ()  # when the confirmation leaves, and why it waits
    confirmation: str | None = None  # what the confirmation says


class NumberOfSomeoneElseError(TeamError):
    """The number given is already someone else's (another name): the adviser must say it is that person."""

    def __init__(self, *, owner_id: int, owner_name: str, phone: str) -> None:
        super().__init__(
            f"le numéro {national(phone)} est celui de « {owner_name} » (personne n°{owner_id}), pas d'une nouvelle "
            "personne ; si c'est bien elle que vous inscrivez, confirmez (--yes)"
        )
        self.owner_id, self.owner_name, self.phone = owner_id, owner_name, phone


@dataclass(frozen=True)
class _Checked:
    name: str
    phone: str
    commune_insee: str
    level: Level | None


def _check_phone_enrolment(ctx: Context, *, name: str, phone: str, commune: str, level: str | None) -> _Checked:
    problems: list[str] = []
    checked_name = checked_phone = commune_insee = ""
    checked_level: Level | None = None
    for check in ("name", "phone", "commune", "level"):
        try:
            if check == "name":
                checked_name = check_name(name)
            elif check == "phone":
                checked_phone = check_phone(phone) or ""
                if not checked_phone:
                    raise TeamError("le numéro de téléphone manque")
                _check_served(ctx, checked_phone)
            elif check == "commune":
                commune_insee = commune_codes(ctx, [commune])[0]
            elif level is not None and level.strip():
                checked_level = parse_level(level)
        except (TeamError, WorkshopFieldsError) as exc:
            problems.extend(exc.problems)
    if problems:
        raise TeamError(*problems)
    return _Checked(checked_name, checked_phone, commune_insee, checked_level)


def _check_served(ctx: Context, phone: str) -> None:
    """Nobody is signed up with a number we would never write to nor call (SMS pumping costs money)."""
    problem = unserved(phone, countries=ctx.settings.served_countries)
    if problem is Unserved.special:
        raise TeamError(
            "ce numéro est surtaxé ou spécial (08 9x, 08 1x, 08 00…) : ni SMS ni rappel possible ; demandez un "
            "numéro de portable ou de fixe"
        )
    if problem is Unserved.foreign:
        countries = ", ".join(ctx.settings.served_countries)
        raise TeamError(
            f"ce numéro est d'un pays que le territoire ne sert pas (ATELIER_SERVED_COUNTRIES : {countries}) : "
            "ni SMS ni rappel possible"
        )


async def enrol_by_phone(
    *,
    ctx: Context,
    name: str,
    phone: str,
    commune: str,
    workshop_id: int,
    actor: Actor,
    level: str | None = None,
    force: bool = False,
    owner_confirmed: bool = False,
    preview: bool = False,
) -> PhoneEnrolment:
    """Seat (or put on the waiting list) someone who phoned an adviser, record that an adviser did it (``actor``,
    linked to the enrolment when a registered adviser) and that they consented by phone, and send them the
    confirmation a self-enrolment gets, with how to cancel.

    A number already known under another name is refused with ``NumberOfSomeoneElseError`` (who it belongs to),
    unless ``owner_confirmed``: the adviser checked that it is that person they enrol. A number whose owner asked to
    be forgotten is refused unless ``force`` (the person called again themselves: the erasure mark is then lifted).
    Raises ``TeamError`` with nothing changed. ``preview``: the same operation in a transaction that is rolled back:
    what confirming would do (a new person's number included: it is not kept), nothing written.
    """
    checked = _check_phone_enrolment(ctx, name=name, phone=phone, commune=commune, level=level)
    now = ctx.now()
    notes: list[str] = []
    async with write_or_preview(ctx, preview=preview) as session:
        result = await _enrol_by_phone(
            session, ctx, checked=checked, workshop_id=workshop_id, actor=actor, force=force,
            owner_confirmed=owner_confirmed, now=now, notes=notes,
        )  # fmt: skip
    if preview:
        return result
    ctx.wake_dispatcher()
    log.info(
        "resident %s enrolled by phone in workshop %s (adviser %s)", result.resident_id, workshop_id, actor.adviser_id
    )
    return result


async def _enrol_by_phone(
    session: AsyncSession, ctx: Context, *, checked: _Checked, workshop_id: int, actor: Actor, force: bool,
    owner_confirmed: bool, now: datetime, notes: list[str],
) -> PhoneEnrolment:  # fmt: skip
    lifted = False  # an erasure mark lifted at the person's request
    owner = await find_resident(session=session, phone=checked.phone)
    if owner is not None and owner.name and plain(owner.name) != plain(checked.name) and not owner_confirmed:
        raise NumberOfSomeoneElseError(owner_id=owner.id, owner_name=owner.name, phone=checked.phone)
    workshop = await _open_workshop(session, workshop_id, now)
    if await was_erased(session=session, settings=ctx.settings, identity=checked.phone):
        if not force:
            raise TeamError(
                "ce numéro appartenait à une personne qui a demandé l'effacement de ses données ; si c'est "
                "bien elle qui vous demande de l'inscrire, relancez avec --force"
            )
        digest = await identity_hash(session=session, settings=ctx.settings, identity=checked.phone)
        await session.execute(delete(ErasedIdentity).where(ErasedIdentity.identity_hash == digest))
        lifted = True
        notes.append("numéro effacé autrefois : la personne redonne son accord, la marque d'effacement est levée")
    resident, new_resident = await _resident(session=session, ctx=ctx, checked=checked, workshop=workshop)
    if not new_resident and resident.name and plain(resident.name) != plain(checked.name):
        notes.append(f"ce numéro est celui de « {resident.name} » (personne n°{resident.id}) : elle est inscrite")
    if checked.level is not None and checked.level != workshop.level:
        notes.append(
            f"niveau indiqué « {say.LEVEL_NAMES[checked.level]} », atelier de niveau "
            f"« {say.LEVEL_NAMES[workshop.level]} » : inscrit quand même"
        )
    lifted_note = " (marque d'effacement levée à sa demande)" if lifted else ""
    return await _seat_and_confirm(
        session, ctx, resident=resident, workshop=workshop, new_resident=new_resident, actor=actor, now=now,
        notes=notes, action="enrolled_by_phone", how=f"par téléphone à l'atelier n°{workshop_id}{lifted_note}",
    )  # fmt: skip


async def enrol_resident(
    *, ctx: Context, resident_id: int, workshop_id: int, actor: Actor, preview: bool = False
) -> PhoneEnrolment:
    """Seat (or put on the waiting list) a person already known — from their record, whatever their channel (a
    Telegram resident has no number for ``enrol_by_phone``) — and send them the confirmation a self-enrolment
    gets. Refuses (nothing changed) an unknown or erased person, a workshop cancelled or started. ``preview``: the
    same operation in a transaction that is rolled back: what confirming would do, nothing written."""
    now = ctx.now()
    async with write_or_preview(ctx, preview=preview) as session:
        resident = await session.get(Resident, resident_id)
        if resident is None or resident.erased:
            raise TeamError(f"la personne n°{resident_id} n'existe pas ou ses données sont effacées")
        workshop = await _open_workshop(session, workshop_id, now)
        notes: list[str] = []
        if resident.level is not None and resident.level != workshop.level:
            notes.append(
                f"niveau de la personne « {say.LEVEL_NAMES[resident.level]} », atelier de niveau "
                f"« {say.LEVEL_NAMES[workshop.level]} » : inscrite quand même"
            )
        resident.last_activity_at = now
        result = await _seat_and_confirm(
            session, ctx, resident=resident, workshop=workshop, new_resident=False, actor=actor, now=now,
            notes=notes, action="enrolled_by_adviser", how=f"par un conseiller à l'atelier n°{workshop_id}",
        )  # fmt: skip
    if preview:
        return result
    ctx.wake_dispatcher()
    log.info("resident %s enrolled in workshop %s by adviser %s", resident_id, workshop_id, actor.adviser_id)
    return result


async def _open_workshop(session: AsyncSession, workshop_id: int, now: datetime) -> Workshop:
    workshop = await session.get(Workshop, workshop_id)
    if workshop is None:
        raise TeamError(f"l'atelier n°{workshop_id} n'existe pas (voir « atelier workshops list »)")
    if workshop.status != WorkshopStatus.planned:
        raise TeamError(f"l'atelier n°{workshop_id} est annulé")
    if workshop.starts_at <= now:
        raise TeamError(f"l'atelier n°{workshop_id} a déjà commencé")
    return workshop


async def _seat_and_confirm(
    session: AsyncSession, ctx: Context, *, resident: Resident, workshop: Workshop, new_resident: bool,
    actor: Actor, now: datetime, notes: list[str], action: str, how: str,
) -> PhoneEnrolment:  # fmt: skip
    """A seat or a waiting place, the confirmation, and the audit entry (``how``: the end of its summary)."""
    try:
        outcome = await enrol(
            session=session, ctx=ctx, resident_id=resident.id, workshop_id=workshop.id, now=now,
            allow_waiting=True, adviser_id=actor.adviser_id,
        )  # fmt: skip
    except SeatError as exc:  # cancelled or started between the check and the lock
        raise TeamError(f"l'atelier n°{workshop.id} ne peut plus recevoir d'inscription ({exc})") from None
    assert outcome is not None  # noqa: S101 - allow_waiting=True always seats or queues
    channel, message_id, body, leaves = None, None, None, tuple[DepartureGroup, ...]()
    if not outcome.already:
        channel, message_id, body = await _confirm(
            session=session, ctx=ctx, resident=resident, workshop=workshop, outcome=outcome,
            new_resident=new_resident, now=now,
        )  # fmt: skip
        if channel is None:
            notes.append(_why_no_sms(resident))
        elif channel == Channel.voice:
            notes.append(
                "numéro fixe : la confirmation puis les rappels lui seront dits au téléphone, par un appel "
                "automatique aux heures d'appel"
            )
        if message_id is not None:
            leaves = await departures_of(session=session, ctx=ctx, message_ids=[message_id], now=now)
        place = "inscrite" if outcome.seated else f"en liste d'attente (n°{outcome.enrolment.position})"
        await record(
            session=session, actor=actor, action=action, at=now, workshop_id=workshop.id, resident_id=resident.id,
            summary=f"personne n°{resident.id} {place} {how}",
        )  # fmt: skip
    enrolment = outcome.enrolment
    return PhoneEnrolment(
        resident_id=resident.id,
        enrolment_id=enrolment.id,
        workshop_id=workshop.id,
        seated=outcome.seated,
        position=enrolment.position,
        already=outcome.already,
        new_resident=new_resident,
        confirmation_channel=channel,
        notes=tuple(notes),
        confirmation_leaves=leaves,
        confirmation=body,
    )


async def _resident(
    *, session: AsyncSession, ctx: Context, checked: _Checked, workshop: Workshop
) -> tuple[Resident, bool]:
    """The resident with that number, completed with what the adviser was told; created when new."""
    now = ctx.now()
    resident = await find_resident(session=session, phone=checked.phone)
    new = resident is None
    if resident is None:
        resident = Resident(
            phone=checked.phone,
            interests=[],
            created_at=now,
            last_activity_at=now,
            sms_unreachable=is_landline(checked.phone),
        )
        session.add(resident)
    resident.name = resident.name or checked.name
    resident.commune_insee = resident.commune_insee or checked.commune_insee
    resident.level = checked.level or resident.level or workshop.level
    if resident.consent_at is None:
        resident.consent_at, resident.consent_channel = now, "phone"
    resident.last_activity_at = now
    await session.flush()
    return resident, new


async def _confirm(
    *,
    session: AsyncSession,
    ctx: Context,
    resident: Resident,
    workshop: Workshop,
    outcome: SeatOutcome,
    new_resident: bool,
    now: datetime,
) -> tuple[Channel | None, int | None, str | None]:
    """Queue the confirmation a self-enrolment gets; returns its channel, id and text, None when nothing can reach
    them."""
    destination = address_of(resident, calls=ctx.settings.calls_enabled)
    if destination is None:
        return None, None, None
    channel = destination[0]
    first_name = first_name_of(resident.name or "")
    venue = workshop.venue
    reminded = will_remind(ctx=ctx, starts_at=workshop.starts_at, now=now)
    position = outcome.enrolment.position or 1
    choices: tuple[str, ...] = ()
    if channel == Channel.voice:  # a landline: the call says it (a call always says who is calling)
        said = (
            spoken.seated(workshop, ctx, reminded=reminded)
            if outcome.seated
            else spoken.waiting(workshop, ctx, position=position)
        )
        body, choices = said.body, said.choices
    elif outcome.seated:
        body = say.seated(first_name, workshop.starts_at, ctx.tz, venue_of(workshop), venue.address, reminded=reminded)
    else:
        body = say.waiting(first_name, position, workshop.starts_at, ctx.tz, venue_of(workshop))
        body = f"{body} {say.phone_enrolment_waiting_hint()}"
    if new_resident and channel != Channel.voice:
        body = f"{say.phone_enrolment_intro(ctx.territory.name)} {body}"
    key = f"phone-enrol:{outcome.enrolment.id}:{now:%Y%m%d%H%M%S%f}"
    message_id = await enqueue(
        session=session,
        message=seat_message(
            ctx=ctx, enrolment=outcome.enrolment, workshop=workshop, destination=destination, body=body,
            choices=choices, kind=MessageKind.confirmation, key=key, now=now,
        ),
    )  # fmt: skip
    return channel, message_id, body


def _why_no_sms(resident: Resident) -> str:
    if resident.sms_unreachable:
        return "numéro fixe : pas de SMS de confirmation ni de rappel, prévenez la personne par téléphone"
    if resident.opted_out_sms:
        return "cette personne a demandé STOP : pas de SMS de confirmation ni de rappel, prévenez-la par téléphone"
    return "aucun moyen de lui écrire : prévenez la personne par téléphone"
