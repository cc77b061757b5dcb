"""After the workshop: who came (attendance), and the figures an adviser reports to the territory every quarter.

Figures are per commune (where the residents live) and level (the resident's): people signed up, waiting,
seated, confirmed, came, and the share of reminders answered. Erased residents still count: only their personal
data is deleted, their commune and level are kept for these anonymous counts.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation.phones import is_landline
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.identity import was_erased
from bot.service.people_stats import within
from bot.service.phone_enrolment import NumberOfSomeoneElseError
from bot.service.planning_csv import plain
from bot.service.team import TeamError, check_name, check_phone, commune_codes
from bot.service.workshops import Roster, WorkshopError, roster
from storage.catalogue import find_resident
from storage.models import (
    Enrolment,
    EnrolmentStatus,
    Level,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    Workshop,
    WorkshopStatus,
)

log = logging.getLogger(__name__)

HELD_SEAT = (EnrolmentStatus.seated, EnrolmentStatus.attended, EnrolmentStatus.absent)
LEVEL_ORDER = {Level.beginner: 0, Level.intermediate: 1, Level.advanced: 2, None: 3}


# ---------------------------------------------------------------------------------------------------------------
# Attendance


@dataclass(frozen=True)
class Attendance:
    workshop_id: int
    marked: dict[int, EnrolmentStatus]  # resident id → attended / absent
    names: dict[int, str]  # resident id → name, so that the adviser sees whom they marked


async def _markable(session: AsyncSession, workshop_id: int, now: datetime) -> Workshop:
    """The workshop, if attendance can be marked: it exists, was held (not cancelled) and has started."""
    workshop = await session.get(Workshop, workshop_id)
    if workshop is None:
        raise WorkshopError(f"l'atelier n°{workshop_id} n'existe pas")
    if workshop.status == WorkshopStatus.cancelled:
        raise WorkshopError(f"l'atelier n°{workshop_id} a été annulé")
    if workshop.starts_at > now:
        raise WorkshopError(f"l'atelier n°{workshop_id} n'a pas encore commencé")
    return workshop


async def attendance_sheet(*, ctx: Context, workshop_id: int) -> Roster:
    """The people who held a seat, to ask one by one who came — refused before any question when attendance
    cannot be marked yet (not started), or at all (unknown, cancelled)."""
    async with ctx.db.read() as session:
        await _markable(session, workshop_id, ctx.now())
    found = await roster(ctx=ctx, workshop_id=workshop_id)
    seats = tuple(entry for entry in found.enrolments if entry.status in HELD_SEAT)
    return Roster(found.workshop, seats)


async def mark_attendance(
    *, ctx: Context, workshop_id: int, actor: Actor, present: Sequence[int] = (), absent: Sequence[int] = ()
) -> Attendance:
    """Mark who came (``present``) and who did not (``absent``), by resident id, once the workshop has started.
    A mark can be corrected by marking again. Refuses (nothing changed) ids that hold no seat there."""
    both = sorted(set(present) & set(absent))
    if both:
        raise WorkshopError(f"présent et absent à la fois : {', '.join(map(str, both))}")
    if not present and not absent:
        raise WorkshopError("indiquez qui était présent (--present) ou absent (--absent)")
    wanted = dict.fromkeys(present, EnrolmentStatus.attended) | dict.fromkeys(absent, EnrolmentStatus.absent)
    async with ctx.db.write() as session:
        await _markable(session, workshop_id, ctx.now())
        enrolments = {
            e.resident_id: e
            for e in (
                await session.execute(
                    select(Enrolment).where(Enrolment.workshop_id == workshop_id, Enrolment.status.in_(HELD_SEAT))
                )
            )
            .unique()
            .scalars()
        }
        unknown = sorted(rid for rid in wanted if rid not in enrolments)
        if unknown:
            raise WorkshopError(
                f"pas de place dans l'atelier n°{workshop_id} pour : {', '.join(map(str, unknown))} "
                "(voir « atelier workshops roster »)"
            )
        for rid, status in wanted.items():
            enrolments[rid].status, enrolments[rid].updated_at = status, ctx.now()
        names = {rid: enrolments[rid].resident.name or "(sans nom)" for rid in wanted}
        came = sum(status == EnrolmentStatus.attended for status in wanted.values())
        await record(
            session=session, actor=actor, action="attendance", at=ctx.now(), workshop_id=workshop_id,
            summary=f"présences de l'atelier n°{workshop_id} : {came} présent(s), {len(wanted) - came} absent(s)",
        )  # fmt: skip
    return Attendance(workshop_id, wanted, names)


# ---------------------------------------------------------------------------------------------------------------
# Walk-ins: people who came without signing up


@dataclass(frozen=True)
class WalkIn:
    workshop_id: int
    resident_id: int
    name: str
    new_resident: bool  # False: their number was known (that person is marked present)
    already: bool  # already marked present at this workshop: nothing changed


async def add_walk_in(
    *, ctx: Context, workshop_id: int, name: str, actor: Actor, phone: str | None = None,
    commune: str | None = None, owner_confirmed: bool = False,
) -> WalkIn:  # fmt: skip
    """Someone came without signing up: they are marked present, so they count in the figures. With a phone
    number they become a resident who can be written to (their consent given by voice, at the workshop, is
    recorded); without one, only their name and commune are kept for the attendance sheet.

    A number already someone else's (another name) is refused with ``NumberOfSomeoneElseError`` unless
    ``owner_confirmed``; a number whose owner asked to be forgotten is refused. Nothing is changed on a refusal."""
    clean_name, number = check_name(name), check_phone(phone)
    commune_insee = commune_codes(ctx, [commune])[0] if commune and commune.strip() else None
    now = ctx.now()
    async with ctx.db.write() as session:
        workshop = await _markable(session, workshop_id, now)
        resident = await find_resident(session=session, phone=number) if number else None
        someone_else = resident is not None and resident.name and plain(resident.name) != plain(clean_name)
        if resident is not None and someone_else and not owner_confirmed:
            raise NumberOfSomeoneElseError(owner_id=resident.id, owner_name=resident.name or "", phone=number or "")
        if number and resident is None and await was_erased(session=session, settings=ctx.settings, identity=number):
            raise TeamError(
                "ce numéro appartenait à une personne qui a demandé l'effacement de ses données : notez-la sans numéro"
            )
        if resident is None and number is None:
            resident = await _same_walk_in(session, workshop_id, clean_name)
        new = resident is None
        if resident is None:
            resident = Resident(
                name=clean_name, phone=number, interests=[], created_at=now, last_activity_at=now,
                sms_unreachable=bool(number) and is_landline(number or ""),
            )  # fmt: skip
            session.add(resident)
        resident.commune_insee = resident.commune_insee or commune_insee
        resident.level = resident.level or workshop.level
        if number and resident.consent_at is None:
            resident.consent_at, resident.consent_channel = now, "oral"  # said yes, in person, at the workshop
        resident.last_activity_at = now
        await session.flush()
        enrolment = (
            await session.execute(
                select(Enrolment).where(Enrolment.resident_id == resident.id, Enrolment.workshop_id == workshop_id)
            )
        ).scalar_one_or_none()
        already = enrolment is not None and enrolment.status == EnrolmentStatus.attended
        if enrolment is None:
            enrolment = Enrolment(resident_id=resident.id, workshop_id=workshop_id, created_at=now)
            session.add(enrolment)
        enrolment.status, enrolment.position, enrolment.updated_at = EnrolmentStatus.attended, None, now
        enrolment.enrolled_by_adviser_id = enrolment.enrolled_by_adviser_id or actor.adviser_id
        await session.flush()
        if not already:
            await record(
                session=session, actor=actor, action="walk_in", at=now, workshop_id=workshop_id,
                resident_id=resident.id,
                summary=f"personne n°{resident.id} présente sans inscription à l'atelier n°{workshop_id}"
                + (" (nouvelle personne)" if new else ""),
            )  # fmt: skip
        result = WalkIn(workshop_id, resident.id, resident.name or clean_name, new, already)
    log.info("walk-in at workshop %s noted by %s (resident %s)", workshop_id, actor.label, result.resident_id)
    return result


async def _same_walk_in(session: AsyncSession, workshop_id: int, name: str) -> Resident | None:
    """Someone without a number already noted at this workshop under this name (the same walk-in typed twice)."""
    rows = await session.execute(
        select(Resident)
        .join(Enrolment, Enrolment.resident_id == Resident.id)
        .where(Enrolment.workshop_id == workshop_id, Resident.phone.is_(None), Resident.erased.is_(False))
    )
    return next((r for r in rows.unique().scalars() if plain(r.name or "") == plain(name)), None)


# ---------------------------------------------------------------------------------------------------------------
# Figures


@dataclass
class StatsRow:
    commune_insee: str | None
    commune: str
    level: Level | None
    signed_up: int = 0
    waiting: int = 0
    seated: int = 0  # held a seat (came or not)
    confirmed: int = 0  # answered OUI
    came: int = 0
    reminded: int = 0  # seats whose holder got at least one reminder
    answered: int = 0  # of those, how many answered it (OUI, NON or ANNULER after the reminder)

    @property
    def answered_share(self) -> float | None:
        return round(self.answered / self.reminded, 3) if self.reminded else None

    def add(self, other: StatsRow) -> None:
        for name in ("signed_up", "waiting", "seated", "confirmed", "came", "reminded", "answered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class Stats:
    since: datetime | None
    until: datetime | None
    rows: tuple[StatsRow, ...]
    total: StatsRow = field(default_factory=lambda: StatsRow(None, "Total", None))


async def _signed_up(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> list[tuple[str | None, Level | None, int]]:
    query = (
        select(Resident.commune_insee, Resident.level, func.count())
        .where(Resident.consent_at.is_not(None), *within(Resident.consent_at, since, until))
        .group_by(Resident.commune_insee, Resident.level)
    )
    return [(c, lvl, int(n)) for c, lvl, n in (await session.execute(query)).all()]


EnrolmentFacts = tuple[str | None, Level | None, EnrolmentStatus, bool | None, datetime, datetime | None]


async def _enrolments(session: AsyncSession, since: datetime | None, until: datetime | None) -> list[EnrolmentFacts]:
    first_reminder = (
        select(OutboundMessage.enrolment_id.label("enrolment_id"), func.min(OutboundMessage.sent_at).label("at"))
        .where(
            OutboundMessage.kind == MessageKind.reminder,
            OutboundMessage.status.in_((MessageStatus.sent, MessageStatus.delivered)),
        )
        .group_by(OutboundMessage.enrolment_id)
        .subquery()
    )
    query = (
        select(
            Resident.commune_insee,
            Resident.level,
            Enrolment.status,
            Enrolment.confirmed,
            Enrolment.updated_at,
            first_reminder.c.at,
        )
        .join(Resident, Resident.id == Enrolment.resident_id)
        .join(Workshop, Workshop.id == Enrolment.workshop_id)
        .outerjoin(first_reminder, first_reminder.c.enrolment_id == Enrolment.id)
        .where(Workshop.status == WorkshopStatus.planned, *within(Workshop.starts_at, since, until))
    )
    # the sub-query's column loses its type: the rows are exactly the columns selected above
    return cast(list[EnrolmentFacts], [tuple(row) for row in (await session.execute(query)).all()])


async def workshop_stats(*, ctx: Context, since: datetime | None = None, until: datetime | None = None) -> Stats:
    """Figures per commune and level. ``since``/``until`` bound the sign-up time and the workshops' start."""
    rows: dict[tuple[str | None, Level | None], StatsRow] = {}

    def row(commune_insee: str | None, level: Level | None) -> StatsRow:
        key = (commune_insee, level)
        if key not in rows:
            info = ctx.territory.commune(commune_insee) if commune_insee else None
            name = info.name if info else (commune_insee or "commune inconnue")
            rows[key] = StatsRow(commune_insee, name, level)
        return rows[key]

    async with ctx.db.read() as session:
        for commune_insee, level, count in await _signed_up(session, since, until):
            row(commune_insee, level).signed_up += count
        enrolments = await _enrolments(session, since, until)
    for commune_insee, level, status, confirmed, updated_at, reminded_at in enrolments:
        target = row(commune_insee, level)
        held = status in HELD_SEAT
        target.waiting += status == EnrolmentStatus.waiting
        target.seated += held
        target.confirmed += held and confirmed is True
        target.came += status == EnrolmentStatus.attended
        if reminded_at is None:
            continue
        answered_by_cancelling = status == EnrolmentStatus.cancelled and updated_at >= reminded_at
        if held or answered_by_cancelling:
            target.reminded += 1
            target.answered += confirmed is not None or answered_by_cancelling
    ordered = sorted(rows.values(), key=lambda r: (r.commune, LEVEL_ORDER[r.level]))
    total = StatsRow(None, "Total", None)
    for item in ordered:
        total.add(item)
    return Stats(since, until, tuple(ordered), total)


@dataclass(frozen=True)
class WeekFigures:
    """One week (from its Monday, local time): people who signed up, and seats attended or missed."""

    week: date
    signed_up: int
    attended: int
    absent: int


async def weekly_figures(*, ctx: Context, since: datetime, until: datetime) -> list[WeekFigures]:
    """Week by week between ``since`` and ``until`` (every week listed, empty ones too), for the console's charts."""
    async with ctx.db.read() as session:
        consents = (
            await session.execute(select(Resident.consent_at).where(*within(Resident.consent_at, since, until)))
        ).scalars()
        signed_up = Counter(_monday(moment, ctx) for moment in consents if moment is not None)
        seats = (
            await session.execute(
                select(Workshop.starts_at, Enrolment.status)
                .join(Workshop, Workshop.id == Enrolment.workshop_id)
                .where(
                    Enrolment.status.in_((EnrolmentStatus.attended, EnrolmentStatus.absent)),
                    *within(Workshop.starts_at, since, until),
                )
            )
        ).all()
    attended = Counter(_monday(start, ctx) for start, status in seats if status == EnrolmentStatus.attended)
    absent = Counter(_monday(start, ctx) for start, status in seats if status == EnrolmentStatus.absent)
    weeks: list[WeekFigures] = []
    week = _monday(since, ctx)
    while week <= _monday(until - timedelta(seconds=1), ctx):
        weeks.append(WeekFigures(week, signed_up[week], attended[week], absent[week]))
        week += timedelta(days=7)
    return weeks


def _monday(moment: datetime, ctx: Context) -> date:
    day = moment.astimezone(ctx.tz).date()
    return day - timedelta(days=day.weekday())


__all__ = [
    "Attendance",
    "Stats",
    "StatsRow",
    "WalkIn",
    "WeekFigures",
    "add_walk_in",
    "attendance_sheet",
    "mark_attendance",
    "weekly_figures",
    "workshop_stats",
]
