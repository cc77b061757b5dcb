"""Reading and hiding phone numbers: every reader of a number goes through ``bot.conversation.phones``."""

from __future__ import annotations

import pytest

from bot.conversation.phones import Unserved, is_landline, to_e164, unserved

E164_ROWS = [
    ("international", "+33612345678", "+33612345678"),
    ("national with spaces", "06 12 34 56 78", "+33612345678"),
    ("dots", "06.12.34.56.78", "+33612345678"),
    ("00 prefix", "0033 6 12 34 56 78", "+33612345678"),
    ("surrounding spaces", "  0612345678 ", "+33612345678"),
    ("foreign", "+44 7911 123456", "+447911123456"),
    ("too short", "0612", None),
    ("letters", "bonjour", None),
    ("empty", "", None),
    ("none", None, None),
    ("longer than any number", "0" * 41, None),
]


@pytest.mark.parametrize(("label", "raw", "expected"), E164_ROWS, ids=[row[0] for row in E164_ROWS])
def test_to_e164(label: str, raw: str | None, expected: str | None) -> None:
    assert to_e164(raw) == expected, label


@pytest.mark.parametrize(
    ("number", "landline"),
    [("+33470000000", True), ("+33612345678", False), ("+33765000000", False), ("not a number", False)],
    ids=["allier-fixed-line", "mobile-06", "mobile-07", "garbage"],
)
def test_is_landline(number: str, landline: bool) -> None:
    assert is_landline(number) is landline


UNSERVED_ROWS = [
    ("French mobile, 06", "+33612345678", None),
    ("French mobile, 07", "+33762345678", None),
    ("Allier landline, 04", "+33470123456", None),
    ("internet box line, 09 (VoIP)", "+33970123456", None),
    ("two-way SMS number, 09 37", "+33937000000", None),
    ("La Réunion mobile", "+262692123456", None),
    ("Mayotte landline", "+262269612345", None),
    ("Guadeloupe mobile", "+590690123456", None),
    ("Martinique mobile", "+596696123456", None),
    ("Guyane mobile", "+594694123456", None),
    ("premium rate, 08 99", "+33899234567", Unserved.special),
    ("premium rate, 08 90", "+33890123456", Unserved.special),
    ("premium rate, 08 36", "+33836123456", Unserved.special),
    ("shared cost, 08 10", "+33810234567", Unserved.special),
    ("shared cost, 08 20", "+33820234567", Unserved.special),
    ("toll free, 08 00", "+33800234567", Unserved.special),
    ("universal access, 08 06", "+33806123456", Unserved.special),
    ("international premium rate, +979", "+979123456789", Unserved.special),
    ("Swiss premium rate, 0900", "+41900123456", Unserved.special),
    ("not a number", "garbage", Unserved.special),
    ("British mobile", "+447400123456", Unserved.foreign),
    ("Belgian mobile", "+32470123456", Unserved.foreign),
    ("Saint-Barthélemy landline (a collectivity, not a department)", "+590590271234", Unserved.foreign),
    ("satellite phone, +881", "+881612345678", Unserved.foreign),
]


@pytest.mark.parametrize(("label", "number", "expected"), UNSERVED_ROWS, ids=[row[0] for row in UNSERVED_ROWS])
def test_unserved(label: str, number: str, expected: Unserved | None) -> None:
    assert unserved(number) == expected, label


def test_unserved_follows_the_served_countries() -> None:
    assert unserved("+32470123456", countries=("FR", "BE")) is None
    assert unserved("+33612345678", countries=("BE",)) == Unserved.foreign
    assert unserved("+32900123456", countries=("FR", "BE")) == Unserved.special  # premium rate stays refused
