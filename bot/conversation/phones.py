"""Phone numbers: one way to read them, one way to hide them in logs. Pure: no I/O.

Numbers are stored in E.164 (``+33612345678``). Residents, advisers, Twilio and Telegram all write them differently;
every reader goes through ``to_e164`` so that the same person is always the same string.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from functools import lru_cache

import phonenumbers

REGION = "FR"  # a number written without a country code is French
MAX_RAW = 40  # longer than any way of writing a phone number: refused before parsing


def to_e164(raw: str | None, *, region: str = REGION) -> str | None:
    """A number written any usual way (``06 12 34 56 78``, ``+33 6…``, ``0033…``) → E.164; None if not a number."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_RAW:
        return None
    return _e164(text, region)


# Parsing is the slowest step of an inbound turn's handling (~0.1 ms) and the same few numbers come back turn after
# turn: the answer for a (text, region) never changes, so it is kept. Bounded: MAX_RAW characters a key.
@lru_cache(maxsize=4096)
def _e164(text: str, region: str) -> str | None:
    number = _valid(text, region)
    if number is None:
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _valid(text: str, region: str = REGION) -> phonenumbers.PhoneNumber | None:
    """``text`` read as a phone number, when it is a valid one (a number may parse and yet not exist)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


# The countries whose numbers a territory serves by default: metropolitan France and the overseas departments
# (Guadeloupe, Martinique, Guyane, La Réunion, Mayotte). ISO 3166 codes, as phonenumbers names regions.
SERVED_BY_DEFAULT = ("FR", "GP", "MQ", "GF", "RE", "YT")

# The lines that belong to a person: mobiles, landlines, and VoIP lines — in France the 09 numbers, which are the
# home lines of internet boxes (many retired residents have one) and the two-way SMS numbers (09 37–09 39, ours),
# billed as ordinary calls. Everything else is refused: premium rate (08 9x, 08 36, +979), shared cost (08 1x,
# 08 2x), toll free (08 00: a company's), universal access (08 06, companies), personal numbering (forwarding
# services, often billed as premium), pagers, voicemail access, and numbers whose type is unknown.
PERSONAL_LINES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.VOIP,
    }
)


class Unserved(enum.StrEnum):
    """Why we do not write to a number, sign it up, or pass it to an adviser to call."""

    special = "special"  # not a person's line (premium rate, shared cost…): writing to it may cost dearly
    foreign = "foreign"  # a person's line, outside the countries the territory serves


def unserved(number: str, *, countries: Collection[str] = SERVED_BY_DEFAULT) -> Unserved | None:
    """None for a person's line in a served country; otherwise why not. ``number`` is E.164 (``to_e164``)."""
    personal, region = _line_of(number)
    if not personal:
        return Unserved.special
    if region not in countries:
        return Unserved.foreign
    return None


# Asked at every inbound SMS (~0.1 ms to parse), of the same few numbers turn after turn: what a number is never
# changes, so it is kept, like ``_e164``.
@lru_cache(maxsize=4096)
def _line_of(number: str) -> tuple[bool, str | None]:
    """Whether ``number`` is a person's line, and its country."""
    try:
        parsed = phonenumbers.parse(number, REGION)
    except phonenumbers.NumberParseException:
        return False, None
    personal = phonenumbers.number_type(parsed) in PERSONAL_LINES
    return personal, phonenumbers.region_code_for_number(parsed)


def is_landline(number: str) -> bool:
    """A French fixed line cannot receive SMS: its owner is phoned, not texted."""
    try:
        parsed = phonenumbers.parse(number, REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE


def masked(address: str | int | None) -> str:
    """``+33612345678`` → ``+*********78``; a Telegram chat id likewise: enough to tell two log lines apart, not
    enough to reach anyone (SPEC §7: logs never show a whole number)."""
    text = "" if address is None else str(address)
    if not text:
        return "?"
    digits = sum(ch.isdigit() for ch in text)
    seen, out = 0, []
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 2 else "*")
        else:
            out.append(ch)
    return "".join(out)


def national(number: str | None) -> str:
    """How an adviser dials it: ``+33470051234`` → ``04 70 05 12 34``; a foreign number keeps its country code
    (``+32 2 123 45 67``). Anything that is not a number is shown as it is."""
    text = (number or "").strip()
    if not text:
        return ""
    parsed = _valid(text)
    if parsed is None:
        return text
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(parsed) == REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(parsed, style))
