"""Statistics in people, not only enrolments (issue 14, item 12): how many different people signed up and came,
how many came back, how many workshops were held or cancelled, the attendance rate and the no-shows — in total,
and per commune, level and month, for the territory's reports.

The period bounds the workshops' start (and, for ``new_people``, the day they gave their consent). A person is
counted once per group however many workshops they had. Per commune and per level, the people are counted where
they live and at their own level, the workshops where they are held and at theirs; per month, everything by the
workshop's month (new people by the month of their consent). Erased people still count: only their personal data
is gone. Walk-ins count as people who came.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute

from bot.context import Context
from bot.conversation.texts import LEVEL_NAMES
from storage.enums import EnrolmentStatus, Level, WorkshopStatus
from storage.models import Enrolment, Resident, Venue, Workshop

GROUPS = ("total", "commune", "level", "month")
TAKEN = (EnrolmentStatus.seated, EnrolmentStatus.waiting, EnrolmentStatus.attended, EnrolmentStatus.absent)


@dataclass(frozen=True)
class PeopleFigures:
    new_people: int  # gave their consent (signed up for the first time) in the period
    signed_up: int  # different people with a seat or a waiting place in a workshop of the period
    came: int  # different people who came to at least one
    came_twice: int  # … to two or more
    workshops_held: int  # workshops of the period that took place (planned, started)
    workshops_cancelled: int
    present: int  # attendance marks: came
    no_shows: int  # attendance marks: did not come
    attendance_rate: float | None  # present / (present + no-shows), None when no attendance was marked


@dataclass(frozen=True)
class PeopleRow:
    key: str  # INSEE code, level value, or month "2026-12"; "" for the unknown
    label: str  # in French: the commune's name, "débutant", "décembre 2026"
    figures: PeopleFigures


@dataclass(frozen=True)
class PeopleStats:
    since: datetime | None
    until: datetime | None
    total: PeopleFigures
    by_commune: tuple[PeopleRow, ...]
    by_level: tuple[PeopleRow, ...]
    by_month: tuple[PeopleRow, ...]


@dataclass(frozen=True)
class _Seat:
    resident_id: int
    commune_insee: str | None  # where they live
    level: Level | None  # theirs
    status: EnrolmentStatus
    workshop_id: int


@dataclass(frozen=True)
class _Held:
    id: int
    starts_at: datetime
    status: WorkshopStatus
    level: Level
    commune_insee: str


@dataclass
class _Tally:
    new_people: set[int] = field(default_factory=set)
    signed_up: set[int] = field(default_factory=set)
    came: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    held: set[int] = field(default_factory=set)
    cancelled: set[int] = field(default_factory=set)
    present: int = 0
    no_shows: int = 0

    def figures(self) -> PeopleFigures:
        marked = self.present + self.no_shows
        return PeopleFigures(
            new_people=len(self.new_people),
            signed_up=len(self.signed_up),
            came=len(self.came),
            came_twice=sum(1 for times in self.came.values() if times >= 2),
            workshops_held=len(self.held),
            workshops_cancelled=len(self.cancelled),
            present=self.present,
            no_shows=self.no_shows,
            attendance_rate=round(self.present / marked, 3) if marked else None,
        )


def within(
    column: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    since: datetime | None,
    until: datetime | None,
) -> list[ColumnElement[bool]]:
    """The conditions that put ``column`` in [since, until) (an open end where None); the statistics' periods."""
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions


MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
    "décembre",
)  # fmt: skip


def month_label(key: str) -> str:
    """``2026-12`` → ``décembre 2026``."""
    year, month = key.split("-")
    return f"{MONTHS_FR[int(month) - 1]} {year}"


async def people_stats(*, ctx: Context, since: datetime | None = None, until: datetime | None = None) -> PeopleStats:
    """The people figures of the period (workshops starting in [since, until)), in total and per group."""
    now, tz = ctx.now(), ctx.tz
    async with ctx.db.read() as session:
        workshops = {
            w.id: w
            for w in (
                _Held(*row)
                for row in await session.execute(
                    select(Workshop.id, Workshop.starts_at, Workshop.status, Workshop.level, Venue.commune_insee)
                    .join(Venue, Venue.id == Workshop.venue_id)
                    .where(*within(Workshop.starts_at, since, until))
                )
            )
        }
        seats = [
            _Seat(*row)
            for row in await session.execute(
                select(
                    Enrolment.resident_id,
                    Resident.commune_insee,
                    Resident.level,
                    Enrolment.status,
                    Enrolment.workshop_id,
                )
                .join(Resident, Resident.id == Enrolment.resident_id)
                .where(Enrolment.workshop_id.in_(list(workshops)), Enrolment.status.in_(TAKEN))
            )
        ]
        consents = list(
            await session.execute(
                select(Resident.id, Resident.commune_insee, Resident.level, Resident.consent_at).where(
                    Resident.consent_at.is_not(None),
                    *within(Resident.consent_at, since, until),
                )
            )
        )

    def month_of(moment: datetime) -> str:
        return f"{moment.astimezone(tz):%Y-%m}"

    groups: dict[str, dict[str, _Tally]] = {
        name: defaultdict(_Tally) for name in ("total", "commune", "level", "month")
    }

    def tallies(commune: str | None, level: Level | None, month: str) -> Iterable[_Tally]:
        yield groups["total"][""]
        yield groups["commune"][commune or ""]
        yield groups["level"][level.value if level else ""]
        yield groups["month"][month]

    for resident_id, commune, level, consent_at in consents:
        for tally in tallies(commune, level, month_of(consent_at or now)):  # the query keeps those with one
            tally.new_people.add(resident_id)
    for workshop in workshops.values():
        month = month_of(workshop.starts_at)
        held = workshop.status == WorkshopStatus.planned and workshop.starts_at <= now
        cancelled = workshop.status == WorkshopStatus.cancelled
        if not held and not cancelled:
            continue  # still to come: nothing to count yet (nor a group of its own)
        for tally in tallies(workshop.commune_insee, workshop.level, month):
            if held:
                tally.held.add(workshop.id)
            elif cancelled:
                tally.cancelled.add(workshop.id)
    for seat in seats:
        workshop = workshops[seat.workshop_id]
        if workshop.status == WorkshopStatus.cancelled:
            continue  # nobody could come: neither signed up for it any more, nor absent
        for tally in tallies(seat.commune_insee, seat.level, month_of(workshop.starts_at)):
            tally.signed_up.add(seat.resident_id)
            if seat.status == EnrolmentStatus.attended:
                tally.came[seat.resident_id] += 1
                tally.present += 1
            elif seat.status == EnrolmentStatus.absent:
                tally.no_shows += 1
    return PeopleStats(
        since=since,
        until=until,
        total=groups["total"][""].figures(),
        by_commune=_rows(groups["commune"], lambda key: _commune_name(ctx, key), order=lambda row: row.label),
        by_level=_rows(groups["level"], _level_name, order=lambda row: LEVEL_ORDER.index(row.key)),
        by_month=_rows(groups["month"], month_label, order=lambda row: row.key),
    )


def _commune_name(ctx: Context, insee: str) -> str:
    commune = ctx.territory.commune(insee) if insee else None
    return commune.name if commune else (insee or "commune inconnue")


def _level_name(key: str) -> str:
    return LEVEL_NAMES[Level(key)] if key else "niveau inconnu"


LEVEL_ORDER = [level.value for level in Level] + [""]


def _rows(
    tallies: dict[str, _Tally], label: Callable[[str], str], *, order: Callable[[PeopleRow], object]
) -> tuple[PeopleRow, ...]:
    """One row per group, the unknown last."""
    rows = [PeopleRow(key, label(key), tally.figures()) for key, tally in tallies.items()]
    return tuple(sorted(rows, key=lambda row: (row.key == "", order(row))))


__all__ = ["PeopleFigures", "PeopleRow", "PeopleStats", "month_label", "people_stats"]
