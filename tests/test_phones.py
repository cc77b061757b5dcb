"""Reading and hiding phone numbers: every reader of a number goes through ``bot.conversation.phones``."""

from __future__ import annotations

import pytest

from bot.conversation.phones import is_landline, to_e164

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
