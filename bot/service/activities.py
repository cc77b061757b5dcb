"""La Coop de la médiation numérique's activity records (issue 14, item 13): for a month, one ready-to-enter
"compte rendu d'activité collectif" per workshop held — its date and duration, its place, its themes from La Coop's
fixed list, its level and how many people came — from our attendance, so that an adviser copies them instead of
rebuilding them from memory at the end of the month.

Themes come from the workshop's topic through the territory's table (``[coop]`` in the territory file); La Coop's
levels are "Débutant", "Intermédiaire", "Avancé". Walk-ins count among the participants. A workshop whose
attendance was not marked is still listed (with no participant), and said to be so: its record waits for that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func, select

from bot.context import Context
from bot.service.planning_csv import plain
from bot.service.workshops import WorkshopError
from bot.territory import CoopThemes
from storage.enums import EnrolmentStatus, Level, WorkshopStatus
from storage.models import Enrolment, Workshop

COOP_LEVELS = {Level.beginner: "Débutant", Level.intermediate: "Intermédiaire", Level.advanced: "Avancé"}
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$|^\s*(\d{1,2})[/-](\d{4})\s*$")


@dataclass(frozen=True)
class ActivityRecord:
    """One collective workshop held, as La Coop's activity record asks for it."""

    workshop_id: int
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    title: str  # the workshop's topic
    place: str  # the venue
    address: str
    commune: str
    postcode: str
    themes: tuple[str, ...]  # from La Coop's fixed list (``bot.territory.COOP_THEMES``)
    level: str  # La Coop's: Débutant, Intermédiaire, Avancé
    participants: int  # people who came, walk-ins included
    adviser: str | None
    attendance_marked: bool  # False: nobody's presence or absence was noted: the participants are not known yet


@dataclass(frozen=True)
class MonthActivities:
    month: str  # "2026-12"
    records: tuple[ActivityRecord, ...]  # in the order they took place

    @property
    def not_marked(self) -> tuple[ActivityRecord, ...]:
        return tuple(r for r in self.records if not r.attendance_marked)


def parse_month(text: str) -> tuple[int, int]:
    """``2026-12`` (or ``12/2026``) → (2026, 12); a refusal says how to write it."""
    match = _MONTH.match(text)
    if match is not None:
        year, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        if 1 <= int(month) <= 12:
            return int(year), int(month)
    raise WorkshopError(f"mois illisible « {text.strip()} » : écrivez AAAA-MM, par exemple 2026-12")


def themes_for(topic: str, coop: CoopThemes) -> tuple[str, ...]:
    """La Coop's themes of a workshop on ``topic``: those of every rule one of whose words is in it (a whole word,
    a plural allowed; accents and case aside), in the table's order; the default when none matches."""
    words = f" {plain(topic)} "
    found: list[str] = []
    for rule in coop.rules:
        if any(re.search(rf"\b{re.escape(plain(word))}s?\b", words) for word in rule.words if plain(word)):
            found.extend(theme for theme in rule.themes if theme not in found)
    return tuple(found) or coop.default


def _bounds(year: int, month: int, ctx: Context) -> tuple[datetime, datetime]:
    first = datetime.combine(date(year, month, 1), time(0, 0), tzinfo=ctx.tz)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, datetime.combine(following, time(0, 0), tzinfo=ctx.tz)


async def month_activities(*, ctx: Context, month: str) -> MonthActivities:
    """The activity records of the workshops held in ``month`` (AAAA-MM, local time): planned ones that have
    started. Raises ``WorkshopError`` for a month written otherwise."""
    year, number = parse_month(month)
    start, end = _bounds(year, number, ctx)
    now = ctx.now()
    async with ctx.db.read() as session:
        workshops = list(
            (
                await session.execute(
                    select(Workshop)
                    .where(
                        Workshop.status == WorkshopStatus.planned,
                        Workshop.starts_at >= start,
                        Workshop.starts_at < end,
                        Workshop.starts_at <= now,
                    )
                    .order_by(Workshop.starts_at, Workshop.id)
                )
            )
            .unique()
            .scalars()
        )
        marks = await session.execute(
            select(Enrolment.workshop_id, Enrolment.status, func.count())
            .where(
                Enrolment.workshop_id.in_([w.id for w in workshops]),
                Enrolment.status.in_((EnrolmentStatus.attended, EnrolmentStatus.absent)),
            )
            .group_by(Enrolment.workshop_id, Enrolment.status)
        )
        counted: dict[tuple[int, EnrolmentStatus], int] = {(w, EnrolmentStatus(s)): int(n) for w, s, n in marks}
        records = tuple(_record(w, counted, ctx) for w in workshops)
    return MonthActivities(f"{year:04d}-{number:02d}", records)


def _record(workshop: Workshop, counted: dict[tuple[int, EnrolmentStatus], int], ctx: Context) -> ActivityRecord:
    venue = workshop.venue
    came = counted.get((workshop.id, EnrolmentStatus.attended), 0)
    missed = counted.get((workshop.id, EnrolmentStatus.absent), 0)
    return ActivityRecord(
        workshop_id=workshop.id,
        starts_at=workshop.starts_at,
        ends_at=workshop.ends_at,
        duration_minutes=int((workshop.ends_at - workshop.starts_at).total_seconds() // 60),
        title=workshop.topic,
        place=venue.name,
        address=venue.address,
        commune=venue.commune.name,
        postcode=venue.commune.postcode,
        themes=themes_for(workshop.topic, ctx.territory.coop),
        level=COOP_LEVELS[workshop.level],
        participants=came,
        adviser=workshop.adviser.name if workshop.adviser else None,
        attendance_marked=came + missed > 0,
    )


def duration_fr(minutes: int) -> str:
    """``120`` → ``2 h``; ``90`` → ``1 h 30``."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest:02d}" if rest else "")


__all__ = ["COOP_LEVELS", "ActivityRecord", "MonthActivities", "duration_fr", "month_activities", "parse_month"]
