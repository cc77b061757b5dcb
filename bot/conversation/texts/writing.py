"""How every sentence is written: dates and times the French way ("mardi 14 avril à 14 h"), names of levels,
channels and venues as residents and advisers read them, and the first wording that fits one SMS."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from functools import lru_cache

from babel.dates import format_date

from bot.conversation.gsm7 import count_segments, first_in_one_segment, fits_one_segment, render_sms, to_gsm7
from storage.enums import Channel, Level

LOCALE = "fr_FR"


def venue_label(venue: str, commune: str) -> str:
    """A venue as residents read it: "Mairie de Domérat" says where it is; "Salle des fêtes" alone does not (every
    village has one), so it becomes "Salle des fêtes (Domérat)"."""
    if folded(commune) in folded(venue):
        return venue
    return f"{venue} ({commune})"


@lru_cache(maxsize=4096)  # venues and communes: a few hundred names, folded for every workshop offered
def folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("-", " "))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def weekday_fr(local: datetime) -> str:
    """lundi, mardi… of a local time."""
    return _date_word(local.date(), "EEEE")


def month_fr(local: datetime) -> str:
    """janvier, février… of a local time."""
    return _date_word(local.date(), "MMMM")


@lru_cache(maxsize=1024)  # the days of the workshops offered: the same few, written many times over
def _date_word(day: date, pattern: str) -> str:
    return str(format_date(day, pattern, locale=LOCALE))


def clock_fr(moment: datetime) -> str:
    """14 h, 14 h 30 — how a time is said in French, not 14:00."""
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def day_fr(start: datetime, tz: tzinfo) -> str:
    """mardi 14 avril; mardi 1er décembre (the first of the month is said "premier")."""
    local = start.astimezone(tz)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{weekday_fr(local)} {day} {month_fr(local)}"


def when_fr(start: datetime, tz: tzinfo) -> str:
    """mardi 14 avril à 14 h"""
    local = start.astimezone(tz)
    return f"{day_fr(local, tz)} à {clock_fr(local)}"


LEVEL_NAMES = {
    Level.beginner: "débutant",
    Level.intermediate: "intermédiaire",
    Level.advanced: "confirmé",
}


CHANNEL_NAMES: dict[str, str] = {Channel.sms: "SMS", Channel.telegram: "Telegram", Channel.voice: "appel"}


def channel_name(channel: str) -> str:
    """A channel as advisers read it: SMS, Telegram."""
    return CHANNEL_NAMES.get(channel, channel)


NOT_UNDERSTOOD = "Je n'ai pas compris."


YES_NO = ("OUI", "NON")


def names_fr(first_names: list[str]) -> str:
    """ "Colette", "Colette et Bernard" (the names not known left out)"""
    return and_fr([n for n in first_names if n])


def and_fr(items: Sequence[str]) -> str:
    """ "n°3", "n°3 et n°4", "n°3, n°4 et n°5" """
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} et {items[-1]}"


def rank_fr(position: int) -> str:
    """1re, 2e, 3e: a place on the waiting list as an adviser reads it ("2e position"), never "n°2", which an SMS
    writes "no2"."""
    return "1re" if position == 1 else f"{position}e"


def street_of(venue: str, address: str) -> str:
    """The address without its postcode and commune when the venue's name already says the commune ("Mairie de
    Saint-Victor", "7 rue André-Gide"): shorter, and just as easy to find."""
    street, _, town = address.rpartition(",")
    commune = town.strip().split(" ", 1)[-1].removesuffix(" cedex").removesuffix(" CEDEX")
    return street.strip() if street and commune and folded(commune) in folded(venue) else address


def sms_segments(body: str, choices: Sequence[str] = ()) -> int:
    """Segments of the SMS as a resident receives it: the text, then "1 choice" lines, in GSM-7."""
    if fits_one_segment(body, choices):  # most replies, measured without rendering them
        return 1
    return count_segments(render_sms(body, choices))


# The words the dialogue uses for gsm7's measures of one SMS (the text with its choices' lines, in GSM-7).
fits_one_sms = fits_one_segment
first_fitting = first_in_one_segment


def first_in_one_sms(*variants: str) -> str:
    """The first wording that fits one SMS once written in GSM-7 (long venue names get the shorter ones)."""
    for text in variants:
        if count_segments(to_gsm7(text)) == 1:
            return text
    return variants[-1]


def first_within(limit: int, choices: tuple[str, ...], *variants: str) -> str:
    """The first wording that fits ``limit`` SMS segments with its choices; the last one otherwise."""
    for text in variants:
        if sms_segments(text, choices) <= limit:
            return text
    return variants[-1]
