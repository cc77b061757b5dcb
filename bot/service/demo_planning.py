"""The demo planning (``atelier demo``): four weeks of workshops as three advisers would plan them. Pure.

Deterministic for a given clock: the same ``now`` always gives the same workshops, so ``make run`` on two
machines shows the same thing and tests can name what they expect. Each adviser has a weekly round of villages
(mornings 9:30–11:30, afternoons 14:00–16:00); levels and topics rotate from week to week so that every village
sees every level. French public holidays are skipped, as advisers do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

import holidays

from bot.service.planning_csv import DEFAULT_CAPACITY, local_to_utc
from bot.territory import Territory
from storage.enums import Level

ADVISERS = ("Claire", "Karim", "Sophie")
WEEKS = 4
MORNING = (time(9, 30), time(11, 30))
AFTERNOON = (time(14, 0), time(16, 0))
LEVELS = (Level.beginner, Level.intermediate, Level.advanced)
TOPICS = {
    Level.beginner: (
        "Premiers pas sur la tablette",
        "Appels vidéo avec la famille",
        "Premiers pas sur le smartphone",
        "Envoyer et recevoir des e-mails",
    ),
    Level.intermediate: (
        "Ameli et Doctolib",
        "Banque en ligne en sécurité",
        "Appels vidéo avec la famille",
        "Trier et partager ses photos",
    ),
    Level.advanced: (
        "Déclarer ses impôts en ligne",
        "Banque en ligne en sécurité",
        "Se protéger des arnaques en ligne",
        "Démarches en ligne avec FranceConnect",
    ),
}


@dataclass(frozen=True)
class Round:
    """One slot of an adviser's week: weekday (0 = Monday), morning or afternoon, village (as in the territory)."""

    weekday: int
    morning: bool
    commune: str
    adviser: str


# The villages where workshops are held today come first; the towns fill the remaining slots.
WEEK = (
    Round(0, True, "Montluçon", "Karim"),
    Round(0, False, "Saint-Victor", "Claire"),
    Round(1, True, "Teillet-Argenty", "Sophie"),
    Round(1, False, "Quinssaines", "Claire"),
    Round(1, False, "Domérat", "Karim"),
    Round(2, False, "Désertines", "Karim"),
    Round(3, True, "Saint-Genest", "Sophie"),
    Round(3, False, "Marcillat-en-Combraille", "Sophie"),
    Round(3, False, "Lavault-Sainte-Anne", "Claire"),
    Round(4, True, "Villebret", "Karim"),
    Round(4, False, "Prémilhat", "Claire"),
)


@dataclass(frozen=True)
class DemoWorkshop:
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    commune_insee: str
    venue: str
    address: str
    level: Level
    topic: str
    capacity: int
    adviser: str


def next_monday(now: datetime, tz: tzinfo) -> date:
    """The Monday after today (a week ahead when today is a Monday: the demo never starts today)."""
    today = now.astimezone(tz).date()
    return today + timedelta(days=7 - today.weekday())


def demo_planning(*, territory: Territory, tz: tzinfo, now: datetime) -> list[DemoWorkshop]:
    """Every demo workshop, in time order. Rounds whose village is not in ``territory`` are left out, so the
    demo still works for another territory (with fewer workshops)."""
    first = next_monday(now, tz)
    days_off = holidays.country_holidays("FR", years=sorted({first.year, (first + timedelta(weeks=WEEKS)).year}))
    by_name = {c.name: c for c in territory.communes}
    planned: list[DemoWorkshop] = []
    for week in range(WEEKS):
        for number, slot in enumerate(WEEK):
            commune = by_name.get(slot.commune)
            venues = territory.venues_in(commune.insee) if commune else []
            day = first + timedelta(weeks=week, days=slot.weekday)
            if commune is None or not venues or day in days_off:
                continue
            level = LEVELS[(number + week) % len(LEVELS)]
            begin, end = MORNING if slot.morning else AFTERNOON
            planned.append(
                DemoWorkshop(
                    starts_at=local_to_utc(day, begin, tz),
                    ends_at=local_to_utc(day, end, tz),
                    commune_insee=commune.insee,
                    venue=venues[0].name,
                    address=venues[0].address,
                    level=level,
                    topic=TOPICS[level][(number + week) % len(TOPICS[level])],
                    capacity=DEFAULT_CAPACITY,
                    adviser=slot.adviser,
                )
            )
    return sorted(planned, key=lambda w: (w.starts_at, w.commune_insee))
