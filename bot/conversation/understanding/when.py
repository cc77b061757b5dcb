"""Which workshop a resident means, said the way people speak: by day ("mardi", "MARDI CEST MIEUX"), by date ("le
8", "le 17 ca ira", "lundi 7 décembre"), by place ("celui de lavault ma soeur habite la bas", "st victor"), by part
of the day ("l apres midi"), by time ("14h"), by subject ("lequel est sur les impots ?"), or without preference
("n importe lequel", "le plus tot"), or none of those offered ("autre", "ya pas d autres dates").

``read_wish`` turns a message into a ``Wish``; ``Wish.fits`` says whether a workshop matches it. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.conversation.understanding.communes import CommuneIndex, match_commune
from bot.conversation.understanding.interests import topic_subjects
from bot.conversation.understanding.text import (
    SHORT_ANSWER_CHARS,
    pad_words,
    phrase_search,
    pipe,
    rank_by_spelling,
    words,
)
from bot.territory import Interest

WEEKDAYS: dict[str, int] = rank_by_spelling(
    "lundi|lundis|lindi|lundy",
    "mardi|mardis|mardy",
    "mercredi|mercredis|mecredi|mercredy|merdredi|mercerdi",
    "jeudi|jeudis|jeudy|jedi",
    "vendredi|vendredis|vendredy|vendedi",
    "samedi|samedis|samdi",
    "dimanche|dimanches",
)
MONTHS: dict[str, int] = rank_by_spelling(
    "janvier|janv",
    "fevrier|fevr|fev",
    "mars",
    "avril|avr",
    "mai",
    "juin",
    "juillet|juil",
    "aout",
    "septembre",  # not "sept": seven
    "octobre|oct",
    "novembre|nov",
    "decembre|dec",
    start=1,
)
_MORNING = pipe("matin|le matin|matinee|en matinee|dans la matinee|du matin|avant midi|le matin de preference")
_AFTERNOON = pipe(
    "apres midi|l apres midi|aprem|apm|aprems|apres manger|apres le repas|en fin de journee|dans l apres midi"
    "|le soir|soir|apresmidi"
)
_SOONEST = pipe(
    "le plus tot|au plus tot|le plus vite|au plus vite|le plus rapide|des que possible|le prochain|le premier possible"
    "|le plus proche en date|au plus rapide|rapidement|vite|le plus tot possible"
)
_ANY = pipe(
    "n importe lequel|n importe laquelle|n importe|peu importe|comme vous voulez|ca m est egal|egal"
    "|celui que vous voulez|au choix|tous me vont|tous me conviennent|n importe quand|pas de preference"
    "|le plus proche|le plus pres"
)
_OTHERS = pipe(
    "autre|autres|d autres|autre date|autres dates|autre jour|autres jours|pas d autres|ya pas d autres"
    "|il y a pas d autres|y a pas d autres|aucun ne va|aucun ne me va|aucun ne me convient|aucun|aucune"
    "|rien d autre|pas ceux la|pas ces dates|d autres dates|plus tard|la semaine d apres|autre chose"
    "|pas libre|pas disponible ces jours"
)
_says_morning, _says_afternoon, _says_soonest, _says_any, _says_others = map(
    phrase_search, (_MORNING, _AFTERNOON, _SOONEST, _ANY, _OTHERS)
)
_DAY_BEFORE = frozenset(("le", "du", "au", "pour", "ce", "cette"))
_HOUR = re.compile(r"(\d{1,2})h(\d{2})?")
_NOT_PLACE = frozenset(("matin", "soir"))


@dataclass(frozen=True)
class Wish:
    """What a message says about the workshop wanted; empty when it says nothing of the kind."""

    weekdays: frozenset[int] = frozenset()  # 0 = Monday
    days: frozenset[int] = frozenset()  # day of the month
    months: frozenset[int] = frozenset()
    part: str | None = None  # "morning" / "afternoon"
    hour: int | None = None
    communes: tuple[str, ...] = ()  # INSEE codes
    subjects: tuple[str, ...] = ()  # interest labels
    soonest: bool = False
    anything: bool = False
    others: bool = False

    @property
    def specific(self) -> bool:
        """It names something a workshop must have (a day, a date, a place, a time, a subject)."""
        return bool(self.weekdays or self.days or self.months or self.part or self.hour is not None) or bool(
            self.communes or self.subjects
        )

    @property
    def empty(self) -> bool:
        return not (self.specific or self.soonest or self.anything or self.others)

    def fits(self, starts_at: datetime, tz: tzinfo, commune_insee: str, subjects: Sequence[str] = ()) -> bool:
        local = starts_at.astimezone(tz)
        if self.weekdays and local.weekday() not in self.weekdays:
            return False
        if self.days and local.day not in self.days:
            return False
        if self.months and local.month not in self.months:
            return False
        if self.part == "morning" and local.hour >= 12:
            return False
        if self.part == "afternoon" and local.hour < 12:
            return False
        if self.hour is not None and local.hour != self.hour:
            return False
        if self.communes and commune_insee not in self.communes:
            return False
        return not (self.subjects and not set(self.subjects) & set(subjects))


def _days(tokens: list[str], *, bare: bool) -> set[int]:
    """Days of the month: "le 8", "mardi 14", "17 avril", "pour le 31"; a number alone only when ``bare``."""
    found: set[int] = set()
    for index, token in enumerate(tokens):
        if not token.isdigit() or not 1 <= int(token) <= 31:
            continue
        before = tokens[index - 1] if index > 0 else ""
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if after in ("h", "heure", "heures"):
            continue  # "14 h" is a time
        if before in _DAY_BEFORE or before in WEEKDAYS or after in MONTHS or (bare and len(tokens) == 1):
            found.add(int(token))
    for token in tokens:
        if token in ("1er", "1ier"):
            found.add(1)
    return found


def _hour(tokens: list[str]) -> int | None:
    for index, token in enumerate(tokens):
        match = _HOUR.fullmatch(token)
        if match and int(match.group(1)) < 24:
            return int(match.group(1))
        after = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token.isdigit() and int(token) < 24 and after in ("h", "heure", "heures"):
            return int(token)
    return None


def read_wish(
    text: str, *, communes: CommuneIndex | None = None, interests: Sequence[Interest] = (), bare_day: bool = False
) -> Wish:
    """What the message says about the workshop wanted. ``bare_day``: a number alone is a day of the month (the
    caller has ruled out a choice number)."""
    tokens = words(text[:SHORT_ANSWER_CHARS])
    if not tokens:
        return Wish()
    padded = pad_words(tokens)
    part = None
    if _says_afternoon(padded):
        part = "afternoon"
    elif _says_morning(padded):
        part = "morning"
    places: tuple[str, ...] = ()
    if communes is not None:
        found = match_commune(" ".join(t for t in tokens if t not in _NOT_PLACE), communes, typos=False)
        if found.kind in ("exact", "several") and not found.approximate and found.postcode is None:
            places = tuple(c.insee for c in found.communes)
    subjects: tuple[str, ...] = ()
    if interests:
        subjects = topic_subjects(" ".join(t for t in tokens if t not in WEEKDAYS), interests, devices=False)
    return Wish(
        weekdays=frozenset(WEEKDAYS[t] for t in tokens if t in WEEKDAYS),
        days=frozenset(_days(tokens, bare=bare_day)),
        months=frozenset(MONTHS[t] for t in tokens if t in MONTHS),
        part=part,
        hour=_hour(tokens),
        communes=places,
        subjects=subjects,
        soonest=_says_soonest(padded),
        anything=_says_any(padded),
        others=_says_others(padded),
    )
