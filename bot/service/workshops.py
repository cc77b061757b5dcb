"""Workshops: planning them (one by one, a planning CSV, the demo) and reading them (lists, one workshop, its
roster). Changing a planned workshop — cancel, move, edit — is ``bot.service.changes``.

Each operation takes the Context and runs in one transaction. Refusals are ``WorkshopError``: French sentences
meant for the adviser, raised before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.demo_planning import ADVISERS, DemoWorkshop, demo_planning
from bot.service.places import add_commune
from bot.service.planning_csv import (
    PlannedWorkshop,
    RowError,
    WorkshopFields,
    WorkshopFieldsError,
    check_fields,
    parse_planning,
    plain,
)
from bot.service.recipients import address_of
from bot.territory import Territory
from storage import seats
from storage.models import Adviser, Commune, Enrolment, EnrolmentStatus, Level, Venue, Workshop, WorkshopStatus
from storage.places import upsert_venue

# Statuses that hold a seat: after the workshop, attendance turns "seated" into attended or absent.
HOLDS_SEAT = (EnrolmentStatus.seated, EnrolmentStatus.attended, EnrolmentStatus.absent)


class WorkshopError(Exception):
    """A refusal for the adviser: each problem is a French sentence fragment (no capital, no full stop)."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__(f"{' ; '.join(problems)}.")


class _Rollback(Exception):  # noqa: N818 — not an error: the way a dry run leaves its transaction unwritten
    pass


@dataclass(frozen=True)
class WorkshopSummary:
    id: int
    starts_at: datetime
    ends_at: datetime
    commune_insee: str
    commune: str
    venue_id: int
    venue: str
    address: str
    level: Level
    topic: str
    capacity: int
    status: WorkshopStatus
    seated: int
    waiting: int
    confirmed: int  # seated people who answered OUI to a reminder
    adviser: str | None
    cancel_reason: str | None

    @property
    def free(self) -> int:
        return max(self.capacity - self.seated, 0)

    def changeable(self, now: datetime) -> bool:
        """Planned and not started: it can still be cancelled, moved or edited."""
        return self.status == WorkshopStatus.planned and self.starts_at > now

    def started(self, now: datetime) -> bool:
        """Planned and started: attendance can be taken."""
        return self.status == WorkshopStatus.planned and self.starts_at <= now


@dataclass(frozen=True)
class RosterEntry:
    enrolment_id: int
    resident_id: int
    name: str | None
    phone: str | None
    telegram_chat_id: int | None
    channel: str | None  # the channel that reaches them now; None when they opted out everywhere
    status: EnrolmentStatus
    position: int | None
    interests: tuple[str, ...]
    confirmed: bool | None


@dataclass(frozen=True)
class Roster:
    workshop: WorkshopSummary
    enrolments: tuple[RosterEntry, ...]

    @property
    def seated(self) -> list[RosterEntry]:
        """Everyone but the people waiting (seated, and after the workshop, present or absent), in order."""
        return [e for e in self.enrolments if e.status != EnrolmentStatus.waiting]

    @property
    def waiting(self) -> list[RosterEntry]:
        return [e for e in self.enrolments if e.status == EnrolmentStatus.waiting]


@dataclass(frozen=True)
class ImportResult:
    created: int = 0
    already: int = 0  # rows whose workshop exists already (same venue, start and level): skipped
    created_ids: tuple[int, ...] = ()  # empty for a dry run
    errors: tuple[RowError, ...] = ()
    dry_run: bool = False
    ignored_columns: tuple[str, ...] = ()  # header cells not understood: their cells were not read

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class DemoResult:
    created: int
    already: int
    skipped: bool  # --if-empty and there were workshops already


# ---------------------------------------------------------------------------------------------------------------
# Reading


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _summaries() -> Select[Workshop, int, int, int]:
    """Workshops with their counts, in one query: the counts come from one grouped sub-query (no N+1)."""
    holds_seat = Enrolment.status.in_(HOLDS_SEAT)
    counts = (
        select(
            Enrolment.workshop_id.label("workshop_id"),
            _count(holds_seat).label("seated"),
            _count(Enrolment.status == EnrolmentStatus.waiting).label("waiting"),
            _count(and_(holds_seat, Enrolment.confirmed.is_(True))).label("confirmed"),
        )
        .group_by(Enrolment.workshop_id)
        .subquery()
    )
    return (
        select(
            Workshop,
            func.coalesce(counts.c.seated, 0),
            func.coalesce(counts.c.waiting, 0),
            func.coalesce(counts.c.confirmed, 0),
        )
        .outerjoin(counts, counts.c.workshop_id == Workshop.id)
        .order_by(Workshop.starts_at, Workshop.id)
    )


def _summary(workshop: Workshop, seated: int, waiting: int, confirmed: int) -> WorkshopSummary:
    venue = workshop.venue
    return WorkshopSummary(
        id=workshop.id,
        starts_at=workshop.starts_at,
        ends_at=workshop.ends_at,
        commune_insee=venue.commune_insee,
        commune=venue.commune.name,
        venue_id=venue.id,
        venue=venue.name,
        address=venue.address,
        level=workshop.level,
        topic=workshop.topic,
        capacity=workshop.capacity,
        status=workshop.status,
        seated=int(seated),
        waiting=int(waiting),
        confirmed=int(confirmed),
        adviser=workshop.adviser.name if workshop.adviser else None,
        cancel_reason=workshop.cancel_reason,
    )


async def load_summary(*, session: AsyncSession, workshop_id: int) -> WorkshopSummary:
    row = (await session.execute(_summaries().where(Workshop.id == workshop_id))).unique().one_or_none()
    if row is None:
        raise WorkshopError(f"l'atelier n°{workshop_id} n'existe pas (voir « atelier workshops list --all »)")
    return _summary(*row)


async def list_workshops(
    *,
    ctx: Context,
    upcoming_only: bool = True,
    include_cancelled: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[WorkshopSummary]:
    """Upcoming = not yet over (a workshop under way is still listed). ``since``/``until`` bound the start
    (a week of the console's planning)."""
    query = _summaries()
    if upcoming_only:
        query = query.where(Workshop.ends_at > ctx.now())
    if since is not None:
        query = query.where(Workshop.starts_at >= since)
    if until is not None:
        query = query.where(Workshop.starts_at < until)
    if not include_cancelled:
        query = query.where(Workshop.status == WorkshopStatus.planned)
    async with ctx.db.read() as session:
        return [_summary(*row) for row in (await session.execute(query)).unique()]


async def get_workshop(*, ctx: Context, workshop_id: int) -> WorkshopSummary:
    async with ctx.db.read() as session:
        return await load_summary(session=session, workshop_id=workshop_id)


def _entry(enrolment: Enrolment, *, calls: bool) -> RosterEntry:
    resident = enrolment.resident
    reach = address_of(resident, calls=calls)  # "voice": a landline, phoned by the voice channel
    return RosterEntry(
        enrolment_id=enrolment.id,
        resident_id=resident.id,
        name=resident.name,
        # two people, one phone: the number to call for the second one is the first one's
        phone=resident.phone or (resident.companion_of.phone if resident.companion_of else None),
        telegram_chat_id=resident.telegram_chat_id,
        channel=reach[0] if reach else None,
        status=enrolment.status,
        position=enrolment.position,
        interests=tuple(resident.interests or ()),
        confirmed=enrolment.confirmed,
    )


async def active_enrolments(*, session: AsyncSession, workshop_id: int) -> tuple[Enrolment, ...]:
    """Seated first (in the order they signed up), then the waiting list in order."""
    result = await session.execute(
        select(Enrolment)
        .where(Enrolment.workshop_id == workshop_id, Enrolment.status.in_(seats.ACTIVE))
        .order_by(case((Enrolment.status == EnrolmentStatus.waiting, 1), else_=0), Enrolment.position, Enrolment.id)
    )
    return tuple(result.unique().scalars())


async def roster(*, ctx: Context, workshop_id: int) -> Roster:
    """Who holds a seat (or attended), then who waits, in order; cancelled enrolments are left out."""
    async with ctx.db.read() as session:
        summary = await load_summary(session=session, workshop_id=workshop_id)
        result = await session.execute(
            select(Enrolment)
            .where(Enrolment.workshop_id == workshop_id, Enrolment.status != EnrolmentStatus.cancelled)
            .order_by(case((Enrolment.status == EnrolmentStatus.waiting, 1), else_=0), Enrolment.position, Enrolment.id)
        )
        calls = ctx.settings.calls_enabled
        return Roster(summary, tuple(_entry(e, calls=calls) for e in result.unique().scalars()))


# ---------------------------------------------------------------------------------------------------------------
# Adding


async def find_or_add_venue(
    *, session: AsyncSession, territory: Territory, commune_insee: str, name: str, address: str | None
) -> Venue:
    """The venue called ``name`` in that commune (spelling forgiven), created when an address is given."""
    venues = (await session.execute(select(Venue).where(Venue.commune_insee == commune_insee))).unique().scalars()
    for venue in venues:
        if plain(venue.name) == plain(name):
            return venue
    commune = territory.commune(commune_insee)
    if commune is None:  # find_commune only returns the territory's communes
        raise WorkshopError(f"la commune {commune_insee} n'est pas dans le territoire")
    if not address:
        raise WorkshopError(f"le lieu « {name} » n'est pas encore connu à {commune.name} : indiquez son adresse")
    if await session.get(Commune, commune_insee) is None:  # a territory file changed since `atelier db upgrade`
        await add_commune(session=session, commune=commune)
        await session.flush()
    # A new venue's own position is unknown: the commune's centre is close enough to rank "nearest" workshops.
    return await upsert_venue(
        session=session,
        commune_insee=commune_insee,
        name=name,
        address=address,
        latitude=commune.latitude,
        longitude=commune.longitude,
    )


async def existing_workshop(
    *, session: AsyncSession, venue_id: int, starts_at: datetime, level: Level, planned_only: bool = False
) -> int | None:
    """The workshop already planned at that venue, time and level (cancelled ones count, unless ``planned_only``:
    an import run twice must not bring a cancelled workshop back)."""
    query = select(Workshop.id).where(
        Workshop.venue_id == venue_id, Workshop.starts_at == starts_at, Workshop.level == level
    )
    if planned_only:
        query = query.where(Workshop.status == WorkshopStatus.planned)
    return (await session.execute(query.order_by(Workshop.id))).scalars().first()


async def adviser_named(*, session: AsyncSession, name: str) -> Adviser:
    """The registered adviser written ``name``: their full name (accents and case forgiven), their number, or a
    part of their name only they have ("julie" for Julie Martin)."""
    advisers = list((await session.execute(select(Adviser).order_by(Adviser.name))).unique().scalars())
    wanted = plain(name)
    exact = [a for a in advisers if plain(a.name) == wanted or str(a.id) == name.strip()]
    words = wanted.split()
    partial = [a for a in advisers if words and all(w in plain(a.name).split() for w in words)]
    found = exact or partial
    if len(found) == 1:
        return found[0]
    if found:
        raise WorkshopError(f"plusieurs conseillers s'appellent « {name} » ({', '.join(a.name for a in found)})")
    known = ", ".join(a.name for a in advisers) or "aucun"
    raise WorkshopError(f"conseiller inconnu « {name} » (conseillers enregistrés : {known})")


def _check(fields: WorkshopFields, ctx: Context) -> PlannedWorkshop:
    try:
        return check_fields(fields, territory=ctx.territory, tz=ctx.tz, now=ctx.now())
    except WorkshopFieldsError as exc:
        raise WorkshopError(*exc.problems) from None


async def add_workshop(
    *, ctx: Context, fields: WorkshopFields, actor: Actor, adviser: str | None = None
) -> WorkshopSummary:
    """Check and store one workshop; refuses a duplicate (same venue, start and level)."""
    plan = _check(fields, ctx)
    async with ctx.db.write() as session:
        owner = await _adviser_id(session=session, name=adviser)
        workshop = await _store(session=session, ctx=ctx, plan=plan, adviser_id=owner)
        if isinstance(workshop, int):
            raise WorkshopError(f"cet atelier existe déjà : c'est l'atelier n°{workshop}")
        await record(
            session=session, actor=actor, action="workshop_added", summary=f"atelier n°{workshop.id} planifié",
            at=ctx.now(), workshop_id=workshop.id,
        )  # fmt: skip
        return await load_summary(session=session, workshop_id=workshop.id)


async def _adviser_id(*, session: AsyncSession, name: str | None) -> int | None:
    """The adviser written ``name`` (``adviser_named``), or nobody when no name was written."""
    return (await adviser_named(session=session, name=name)).id if name else None


async def _store(
    *, session: AsyncSession, ctx: Context, plan: PlannedWorkshop | DemoWorkshop, adviser_id: int | None
) -> Workshop | int:
    """One planned workshop added (its venue found or added) — a row of a planning, the console's form or the
    demo; or the number of the same one (venue, start, level) already there. ``WorkshopError`` for a venue that
    cannot be."""
    venue = await find_or_add_venue(
        session=session,
        territory=ctx.territory,
        commune_insee=plan.commune_insee,
        name=plan.venue,
        address=plan.address,
    )
    existing = await existing_workshop(session=session, venue_id=venue.id, starts_at=plan.starts_at, level=plan.level)
    if existing is not None:
        return existing
    workshop = _workshop(plan, venue.id, adviser_id, ctx.now())
    session.add(workshop)
    await session.flush()  # its id; and the next row of an import sees it as a duplicate
    return workshop


def _workshop(plan: PlannedWorkshop | DemoWorkshop, venue_id: int, adviser_id: int | None, now: datetime) -> Workshop:
    return Workshop(
        venue_id=venue_id,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        level=plan.level,
        topic=plan.topic,
        capacity=plan.capacity,
        adviser_id=adviser_id,
        status=WorkshopStatus.planned,
        created_at=now,
        updated_at=now,
    )


async def import_planning(*, ctx: Context, data: bytes, actor: Actor, dry_run: bool = False) -> ImportResult:
    """Import a planning CSV in one transaction: every row, or none (``errors`` then says why, line by line).

    Rows already imported (same venue, start and level) are skipped and counted in ``already``, so importing the
    same file twice, or a file that grew by a few rows, does what the adviser means.
    """
    parsed = parse_planning(data, territory=ctx.territory, tz=ctx.tz, now=ctx.now())
    ignored = parsed.ignored_columns
    if not parsed.ok:
        return ImportResult(errors=parsed.errors, dry_run=dry_run, ignored_columns=ignored)
    created: list[Workshop] = []
    already = 0
    errors: list[RowError] = []
    try:
        async with ctx.db.write() as session:
            for plan in parsed.rows:
                try:
                    owner = await _adviser_id(session=session, name=plan.adviser)
                    workshop = await _store(session=session, ctx=ctx, plan=plan, adviser_id=owner)
                except WorkshopError as exc:
                    errors.extend(RowError(plan.line, problem) for problem in exc.problems)
                    continue
                if isinstance(workshop, int):
                    already += 1
                    continue
                created.append(workshop)
            if errors or dry_run:
                raise _Rollback
            if created:
                numbers = ", ".join(str(w.id) for w in created)
                await record(
                    session=session, actor=actor, action="planning_imported",
                    summary=f"planning importé : {len(created)} atelier(s) créé(s) (n° {numbers}), {already} déjà "
                    "présent(s)",
                    at=ctx.now(),
                )  # fmt: skip
    except _Rollback:
        if errors:
            return ImportResult(errors=tuple(errors), dry_run=dry_run, ignored_columns=ignored)
        return ImportResult(created=len(created), already=already, dry_run=True, ignored_columns=ignored)
    return ImportResult(
        created=len(created), already=already, created_ids=tuple(w.id for w in created), ignored_columns=ignored
    )


# ---------------------------------------------------------------------------------------------------------------
# Demo


async def _advisers(*, session: AsyncSession, names: Sequence[str]) -> dict[str, int]:
    """The advisers of that name, created (without phone) when missing."""
    known = {a.name: a for a in (await session.execute(select(Adviser))).unique().scalars()}
    for name in names:
        if name not in known:
            known[name] = Adviser(name=name, phone=None)
            session.add(known[name])
    await session.flush()
    return {name: known[name].id for name in names}


async def load_demo(*, ctx: Context, if_empty: bool, actor: Actor) -> DemoResult:
    """Four weeks of workshops from next Monday; workshops already there are kept and not doubled."""
    planning = demo_planning(territory=ctx.territory, tz=ctx.tz, now=ctx.now())
    async with ctx.db.write() as session:
        if if_empty and (await session.execute(select(Workshop.id).limit(1))).first() is not None:
            return DemoResult(created=0, already=0, skipped=True)
        advisers = await _advisers(session=session, names=ADVISERS)
        created = already = 0
        for item in planning:
            stored = await _store(session=session, ctx=ctx, plan=item, adviser_id=advisers[item.adviser])
            if isinstance(stored, int):
                already += 1
            else:
                created += 1
        if created:
            await record(
                session=session, actor=actor, action="demo_loaded",
                summary=f"planning de démonstration chargé : {created} atelier(s) créé(s)", at=ctx.now(),
            )  # fmt: skip
    return DemoResult(created=created, already=already, skipped=False)
