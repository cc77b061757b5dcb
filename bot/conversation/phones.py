"""Phone numbers: one way to read them, one way to hide them in logs. Pure: no I/O.

Numbers are stored in E.164 (``+33612345678``). Residents, advisers, Twilio and Telegram all write them differently;
every reader goes through ``to_e164`` so that the same person is always the same string.
"""

from __future__ import annotations

import phonenumbers

REGION = "FR"  # a number written without a country code is French
MAX_RAW = 40  # longer than any way of writing a phone number: refused before parsing


def to_e164(raw: str | None, *, region: str = REGION) -> str | None:
    """A number written any usual way (``06 12 34 56 78``, ``+33 6…``, ``0033…``) → E.164; None if not a number."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_RAW:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


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
    try:
        parsed = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(parsed):
        return text
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(parsed) == REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(parsed, style))
