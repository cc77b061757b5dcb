"""The advisers' team, and what an adviser does for a resident who phoned: enrol them.

Refusals are ``TeamError`` (a ``WorkshopError``: French sentence fragments for the adviser, raised before anything
is written), so every interface reports them the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.phones import is_landline, national, to_e164
from bot.conversation.understanding.names import first_name_of
from bot.scheduler.planning import is_urgent_change, next_allowed
from bot.service.actors import COMMAND_LINE, Actor
from bot.service.departures import DepartureGroup, departures_of
from bot.service.enrolments import SeatError, enrol
from bot.service.erasure import erase
from bot.service.identity import identity_hash, was_erased
from bot.service.planning_csv import WorkshopFieldsError, find_commune, parse_level, plain
from bot.service.recipients import address_of
from bot.service.reminders import venue_of, will_remind
from bot.service.workshops import WorkshopError
from storage.catalogue import find_resident
from storage.models import Adviser, ErasedIdentity, Level, MessageKind, Resident, Workshop, WorkshopStatus
from storage.outbox import enqueue
from storage.seats import SeatOutcome

log = logging.getLogger(__name__)

MAX_NAME = 200


class TeamError(WorkshopError):
    """A refusal for the adviser (nothing was changed)."""


class AmbiguousAdviserError(TeamError):
    """The name given fits several advisers."""


class NumberOfSomeoneElseError(TeamError):
    """The number given is already someone else's (another name): the adviser must say it is that person."""

    def __init__(self, *, owner_id: int, owner_name: str, phone: str) -> None:
        super().__init__(
            f"le numéro {national(phone)} est celui de « {owner_name} » (personne n°{owner_id}), pas d'une nouvelle "
            "personne ; si c'est bien elle que vous inscrivez, confirmez (--yes)"
        )
        self.owner_id, self.owner_name, self.phone = owner_id, owner_name, phone


# ---------------------------------------------------------------------------------------------------------------
# Advisers


def _phone(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    number = to_e164(raw)
    if number is None:
        raise TeamError(f"numéro de téléphone invalide « {raw.strip()} » (exemple : 06 12 34 56 78)")
    return number


def _name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise TeamError("le nom manque")
    if len(name) > MAX_NAME:
        raise TeamError(f"le nom est trop long ({len(name)} caractères, {MAX_NAME} au plus)")
    return name


def commune_codes(ctx: Context, names: Sequence[str]) -> list[str]:
    """INSEE codes of communes written as advisers write them ("st victor", "03410"…); refuses unknown ones."""
    codes: list[str] = []
    problems: list[str] = []
    for name in names:
        try:
            code = find_commune(name, ctx.territory).insee
        except WorkshopFieldsError as exc:
            problems.extend(exc.problems)
            continue
        if code not in codes:
            codes.append(code)
    if problems:
        raise TeamError(*problems)
    return codes


def commune_names(ctx: Context, codes: Sequence[str]) -> list[str]:
    return [(c.name if (c := ctx.territory.commune(code)) else code) for code in codes]


async def add_adviser(
    *,
    ctx: Context,
    name: str,
    phone: str | None = None,
    telegram_id: int | None = None,
    communes: Sequence[str] = (),
) -> Adviser:
    """Register an adviser, or complete the one of that name (the demo creates advisers without a phone).

    ``communes``: names or INSEE codes of the communes they cover; none means the whole territory. Only a
    registered Telegram account may use the advisers' Telegram commands.
    """
    clean = _name(name)
    number = _phone(phone)
    codes = commune_codes(ctx, communes)
    if telegram_id is not None and telegram_id <= 0:
        raise TeamError(f"identifiant Telegram invalide « {telegram_id} » (un nombre positif)")
    async with ctx.db.write() as session:
        advisers = list((await session.execute(select(Adviser).order_by(Adviser.id))).unique().scalars())
        same = next((a for a in advisers if plain(a.name) == plain(clean)), None)
        if telegram_id is not None:
            holder = next((a for a in advisers if a.telegram_user_id == telegram_id), None)
            if holder is not None and holder is not same:
                raise TeamError(f"ce compte Telegram est déjà celui de {holder.name}")
        adviser = same or Adviser(name=clean, communes=[], created_at=ctx.now())
        if same is None:
            session.add(adviser)
        if number is not None:
            adviser.phone = number
        if telegram_id is not None:
            adviser.telegram_user_id = telegram_id
        if codes:
            adviser.communes = codes
        await session.flush()
    log.info("adviser %s %s", adviser.id, "updated" if same is not None else "added")
    return adviser


async def list_advisers(*, ctx: Context) -> list[Adviser]:
    async with ctx.db.read() as session:
        return list((await session.execute(select(Adviser).order_by(Adviser.name, Adviser.id))).unique().scalars())


async def adviser_by_telegram_id(*, session: AsyncSession, telegram_user_id: int) -> Adviser | None:
    """The adviser owning this Telegram account; None for anyone else (who may not use adviser commands)."""
    result = await session.execute(select(Adviser).where(Adviser.telegram_user_id == telegram_user_id))
    return result.unique().scalar_one_or_none()


async def find_adviser(*, ctx: Context, name_or_id: str) -> Adviser:
    """The adviser written by number or name (accents and case forgiven)."""
    wanted = name_or_id.strip()
    advisers = await list_advisers(ctx=ctx)
    for adviser in advisers:
        if wanted == str(adviser.id) or plain(adviser.name) == plain(wanted):
            return adviser
    # "julie" for Julie Martin, when only one adviser is called that
    words = plain(wanted).split()
    matching = [a for a in advisers if words and all(w in plain(a.name).split() for w in words)]
    if len(matching) == 1:
        return matching[0]
    if matching:
        names = ", ".join(a.name for a in matching)
        raise AmbiguousAdviserError(
            f"plusieurs conseillers s'appellent « {wanted} » ({names}) : écrivez le nom complet"
        )
    raise TeamError(f"conseiller inconnu « {wanted} » (voir « atelier advisers list »)")


async def acting_adviser(*, ctx: Context, name: str | None) -> Actor:
    """Who acts, from what they typed (``--by``): a registered adviser when the name or number is one of them
    ("julie" for Julie Martin), else the name as typed; nobody named: the command line."""
    if name is None or not name.strip():
        return COMMAND_LINE
    try:
        adviser = await find_adviser(ctx=ctx, name_or_id=name)
    except AmbiguousAdviserError:
        raise
    except TeamError:
        return Actor(name)
    return Actor(adviser.name, adviser.id)


# ---------------------------------------------------------------------------------------------------------------
# Enrolment by phone


@dataclass(frozen=True)
class PhoneEnrolment:
    resident_id: int
    enrolment_id: int
    workshop_id: int
    seated: bool
    position: int | None  # on the waiting list
    already: bool  # they were already seated or waiting there: nothing changed, no SMS
    new_resident: bool
    confirmation_channel: str | None  # the channel the confirmation goes through; None: nobody to send it to
    notes: tuple[str, ...]  # things the adviser should know (a landline, STOP, a different level…)
    confirmation_leaves: tuple[DepartureGroup, ...] = ()  # when the confirmation leaves, and why it waits


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
                checked_name = _name(name)
            elif check == "phone":
                checked_phone = _phone(phone) or ""
                if not checked_phone:
                    raise TeamError("le numéro de téléphone manque")
            elif check == "commune":
                commune_insee = commune_codes(ctx, [commune])[0]
            elif level is not None and level.strip():
                checked_level = parse_level(level)
        except (TeamError, WorkshopFieldsError) as exc:
            problems.extend(exc.problems)
    if problems:
        raise TeamError(*problems)
    return _Checked(checked_name, checked_phone, commune_insee, checked_level)


async def enrol_by_phone(
    *,
    ctx: Context,
    name: str,
    phone: str,
    commune: str,
    workshop_id: int,
    level: str | None = None,
    adviser_id: int | None = None,
    force: bool = False,
    owner_confirmed: bool = False,
) -> PhoneEnrolment:
    """Seat (or put on the waiting list) someone who phoned an adviser, record that an adviser did it and that
    they consented by phone, and send them the confirmation a self-enrolment gets, with how to cancel.

    A number already known under another name is refused with ``NumberOfSomeoneElseError`` (who it belongs to),
    unless ``owner_confirmed``: the adviser checked that it is that person they enrol. A number whose owner asked to
    be forgotten is refused unless ``force`` (the person called again themselves: the erasure mark is then lifted).
    Raises ``TeamError`` with nothing changed.
    """
    checked = _check_phone_enrolment(ctx, name=name, phone=phone, commune=commune, level=level)
    now = ctx.now()
    notes: list[str] = []
    async with ctx.db.write() as session:
        owner = await find_resident(session=session, phone=checked.phone)
        if owner is not None and owner.name and plain(owner.name) != plain(checked.name) and not owner_confirmed:
            raise NumberOfSomeoneElseError(owner_id=owner.id, owner_name=owner.name, phone=checked.phone)
        workshop = await session.get(Workshop, workshop_id)
        if workshop is None:
            raise TeamError(f"l'atelier n°{workshop_id} n'existe pas (voir « atelier workshops list »)")
        if workshop.status != WorkshopStatus.planned:
            raise TeamError(f"l'atelier n°{workshop_id} est annulé")
        if workshop.starts_at <= now:
            raise TeamError(f"l'atelier n°{workshop_id} a déjà commencé")
        if await was_erased(session=session, settings=ctx.settings, identity=checked.phone):
            if not force:
                raise TeamError(
                    "ce numéro appartenait à une personne qui a demandé l'effacement de ses données ; si c'est "
                    "bien elle qui vous demande de l'inscrire, relancez avec --force"
                )
            digest = await identity_hash(session=session, settings=ctx.settings, identity=checked.phone)
            await session.execute(delete(ErasedIdentity).where(ErasedIdentity.identity_hash == digest))
            notes.append("numéro effacé autrefois : la personne redonne son accord, la marque d'effacement est levée")
        resident, new_resident = await _resident(session=session, ctx=ctx, checked=checked, workshop=workshop)
        if not new_resident and resident.name and plain(resident.name) != plain(checked.name):
            notes.append(f"ce numéro est celui de « {resident.name} » (personne n°{resident.id}) : elle est inscrite")
        if checked.level is not None and checked.level != workshop.level:
            notes.append(
                f"niveau indiqué « {say.LEVEL_NAMES[checked.level]} », atelier de niveau "
                f"« {say.LEVEL_NAMES[workshop.level]} » : inscrit quand même"
            )
        try:
            outcome = await enrol(
                session=session,
                ctx=ctx,
                resident_id=resident.id,
                workshop_id=workshop_id,
                now=now,
                allow_waiting=True,
                adviser_id=adviser_id,
            )
        except SeatError as exc:  # cancelled or started between the check and the lock
            raise TeamError(f"l'atelier n°{workshop_id} ne peut plus recevoir d'inscription ({exc})") from None
        assert outcome is not None  # noqa: S101 - allow_waiting=True always seats or queues
        channel, leaves = None, tuple[DepartureGroup, ...]()
        if not outcome.already:
            channel, message_id = await _confirm(
                session=session,
                ctx=ctx,
                resident=resident,
                workshop=workshop,
                outcome=outcome,
                new_resident=new_resident,
                now=now,
            )
            if channel is None:
                notes.append(_why_no_sms(resident))
            if message_id is not None:
                leaves = await departures_of(session=session, ctx=ctx, message_ids=[message_id], now=now)
        enrolment = outcome.enrolment
        result = PhoneEnrolment(
            resident_id=resident.id,
            enrolment_id=enrolment.id,
            workshop_id=workshop_id,
            seated=outcome.seated,
            position=enrolment.position,
            already=outcome.already,
            new_resident=new_resident,
            confirmation_channel=channel,
            notes=tuple(notes),
            confirmation_leaves=leaves,
        )
    ctx.wake_dispatcher()
    log.info("resident %s enrolled by phone in workshop %s (adviser %s)", resident.id, workshop_id, adviser_id)
    return result


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
) -> tuple[str | None, int | None]:
    """Queue the confirmation a self-enrolment gets; returns its channel and id, None when nothing can reach
    them."""
    destination = address_of(resident)
    if destination is None:
        return None, None
    channel, address = destination
    first_name = first_name_of(resident.name or "")
    venue = workshop.venue
    if outcome.seated:
        reminded = will_remind(ctx=ctx, starts_at=workshop.starts_at, now=now)
        body = say.seated(first_name, workshop.starts_at, ctx.tz, venue_of(workshop), venue.address, reminded=reminded)
    else:
        position = outcome.enrolment.position or 1
        body = say.waiting(first_name, position, workshop.starts_at, ctx.tz, venue_of(workshop))
        body = f"{body} {say.phone_enrolment_waiting_hint()}"
    if new_resident:
        body = f"{say.phone_enrolment_intro(ctx.territory.name)} {body}"
    urgent = is_urgent_change(starts_at=workshop.starts_at, now=now)
    message_id = await enqueue(
        session=session,
        channel=channel,
        to_address=address,
        body=body,
        kind=MessageKind.confirmation,
        due_at=next_allowed(now, urgent=urgent, quiet_hours=ctx.settings.quiet_hours, tz=ctx.tz),
        expires_at=workshop.starts_at,
        urgent=urgent,
        idempotency_key=f"phone-enrol:{outcome.enrolment.id}:{now:%Y%m%d%H%M%S%f}",
        resident_id=resident.id,
        workshop_id=workshop.id,
        enrolment_id=outcome.enrolment.id,
    )
    return channel, message_id


def _why_no_sms(resident: Resident) -> str:
    if resident.sms_unreachable:
        return "numéro fixe : pas de SMS de confirmation ni de rappel, prévenez la personne par téléphone"
    if resident.opted_out_sms:
        return "cette personne a demandé STOP : pas de SMS de confirmation ni de rappel, prévenez-la par téléphone"
    return "aucun moyen de lui écrire : prévenez la personne par téléphone"


# ---------------------------------------------------------------------------------------------------------------
# Residents, as advisers see them


async def list_residents(*, ctx: Context) -> list[Resident]:
    """Residents who were not erased, oldest first (advisers see full numbers: they phone people)."""
    async with ctx.db.read() as session:
        query = select(Resident).where(Resident.erased.is_(False)).order_by(Resident.id)
        return list((await session.execute(query)).unique().scalars())


async def get_resident(*, ctx: Context, resident_id: int) -> Resident:
    async with ctx.db.read() as session:
        resident = await session.get(Resident, resident_id)
    if resident is None:
        raise TeamError(f"la personne n°{resident_id} n'existe pas (voir « atelier residents list »)")
    if resident.erased:
        raise TeamError(f"les données de la personne n°{resident_id} sont déjà effacées")
    return resident


@dataclass(frozen=True)
class Erased:
    resident_id: int
    promoted: int  # people on a waiting list who got the freed seats (and were told)


async def erase_resident_for(*, ctx: Context, resident_id: int) -> Erased:
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
    ctx.wake_dispatcher()
    log.info("resident %s erased by an adviser", resident_id)
    return Erased(resident_id, promoted)
