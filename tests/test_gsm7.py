"""GSM-7 transliteration and SMS segment counting, as tables (3GPP TS 23.038; Twilio's segment rules)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation.gsm7 import GSM7_BASIC, GSM7_EXTENSION, count_segments, encoding, is_gsm7, septets, to_gsm7

TRANSLITERATION = [
    # SPEC §6 examples
    pytest.param("Hôtel", "Hotel", id="spec-hotel"),
    pytest.param("fêtes", "fetes", id="spec-fetes"),
    pytest.param("Montluçon", "Montlucon", id="spec-montlucon"),
    pytest.param("œ", "oe", id="spec-oe"),
    pytest.param("’", "'", id="spec-apostrophe"),
    # letters outside GSM-7
    pytest.param("ç", "c", id="c-cedilla-lower"),
    pytest.param("Ç", "Ç", id="c-cedilla-upper-is-gsm"),
    pytest.param("ê â î ô û", "e a i o u", id="circumflexes"),
    pytest.param("ë ï", "e i", id="diaereses-not-gsm"),
    pytest.param("ä ö ü ñ", "ä ö ü ñ", id="diaereses-gsm-stay"),
    pytest.param("Œuvre", "OEuvre", id="oe-upper"),
    pytest.param("æ Æ ß", "æ Æ ß", id="ae-sz-are-gsm"),
    pytest.param("é è à ù ì ò", "é è à ù ì ò", id="gsm-accents-stay"),
    pytest.param("É", "É", id="e-acute-upper-stays"),
    pytest.param("Ê", "E", id="e-circumflex-upper"),
    pytest.param("À l'école", "A l'école", id="a-grave-upper"),
    pytest.param("È Ù", "E U", id="other-graves-upper"),
    pytest.param("ÿ Ÿ ã õ", "y Y a o", id="rare-accents"),
    pytest.param("Łukasz Dvořák", "Lukasz Dvorak", id="central-european-names"),
    pytest.param("ﬁn ½", "fin 1/2", id="ligature-and-fraction"),
    pytest.param("Ｈｅｌｌｏ", "Hello", id="full-width"),
    pytest.param("m²", "m2", id="superscript"),
    # punctuation
    pytest.param("l’atelier ‘ok’", "l'atelier 'ok'", id="curly-single-quotes"),
    pytest.param("“oui”", '"oui"', id="curly-double-quotes"),
    pytest.param("«\u00a0Bonjour\u00a0»", '" Bonjour "', id="guillemets-with-nbsp"),
    pytest.param("Attendez…", "Attendez...", id="ellipsis"),
    pytest.param("9 h – 12 h — fin", "9 h - 12 h - fin", id="en-and-em-dashes"),
    pytest.param("14\u202fh", "14 h", id="narrow-nbsp"),
    pytest.param("n° 3", "no 3", id="degree-sign"),
    pytest.param("a\tb", "a b", id="tab"),
    pytest.param("10 €", "10 €", id="euro-stays-extension"),
    pytest.param("{[~]}|\\^", "{[~]}|\\^", id="extension-chars-stay"),
    # emoji and other scripts
    pytest.param("Merci 👍", "Merci", id="emoji-vanishes-at-end"),
    pytest.param("Merci 👍 à bientôt", "Merci à bientot", id="emoji-vanishes-in-middle"),
    pytest.param("👨\u200d👩\u200d👧 famille", "famille", id="zwj-family-emoji"),
    pytest.param("3️⃣", "3", id="keycap-emoji"),
    pytest.param("🇫🇷 France", "France", id="flag-emoji"),
    pytest.param("مرحبا", "?????", id="arabic-letters-question-marks"),
    pytest.param("東京", "??", id="cjk-question-marks"),
    pytest.param("", "", id="empty"),
    pytest.param("Bonjour Martine", "Bonjour Martine", id="plain-ascii-unchanged"),
    pytest.param("e\u0302te", "ete", id="decomposed-accent"),
]


@pytest.mark.parametrize(("text", "expected"), TRANSLITERATION)
def test_to_gsm7(text: str, expected: str) -> None:
    result = to_gsm7(text)
    assert result == expected
    assert is_gsm7(result)


ENCODING = [
    pytest.param("Bonjour à tous", "GSM-7", id="french-gsm"),
    pytest.param("Montluçon", "UCS-2", id="lower-c-cedilla"),
    pytest.param("l’atelier", "UCS-2", id="curly-apostrophe"),
    pytest.param("10 €", "GSM-7", id="euro"),
    pytest.param("👍", "UCS-2", id="emoji"),
    pytest.param("", "GSM-7", id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), ENCODING)
def test_encoding(text: str, expected: str) -> None:
    assert encoding(text) == expected
    assert is_gsm7(text) is (expected == "GSM-7")


SEPTETS = [
    pytest.param("", 0, id="empty"),
    pytest.param("abc", 3, id="basic"),
    pytest.param("€", 2, id="euro-two"),
    pytest.param("{}[]~|^\\", 16, id="all-brackets-two-each"),
    pytest.param("a€b", 4, id="mixed"),
]


@pytest.mark.parametrize(("text", "expected"), SEPTETS)
def test_septets(text: str, expected: int) -> None:
    assert septets(text) == expected


SEGMENTS = [
    pytest.param("", 1, id="empty-is-one"),
    pytest.param("a" * 160, 1, id="gsm-160"),
    pytest.param("a" * 161, 2, id="gsm-161"),
    pytest.param("a" * 306, 2, id="gsm-306-two-parts"),
    pytest.param("a" * 307, 3, id="gsm-307-three-parts"),
    pytest.param("a" * 459, 3, id="gsm-459-three-parts"),
    pytest.param("a" * 460, 4, id="gsm-460-four-parts"),
    pytest.param("€" * 80, 1, id="gsm-80-euros-160-septets"),
    pytest.param("€" * 81, 2, id="gsm-81-euros-162-septets"),
    pytest.param("a" * 159 + "€", 2, id="gsm-extension-crosses-160"),
    pytest.param("a" * 158 + "€", 1, id="gsm-extension-fits-160"),
    # 152 + [escape pair pushed to part 2] + 151 -> part 2 full, 1 septet left: 3, although 306 septets
    pytest.param("a" * 152 + "€" + "a" * 152, 3, id="gsm-escape-pair-not-split"),
    pytest.param("ê" * 70, 1, id="ucs2-70"),
    pytest.param("ê" * 71, 2, id="ucs2-71"),
    pytest.param("ê" * 134, 2, id="ucs2-134-two-parts"),
    pytest.param("ê" * 135, 3, id="ucs2-135-three-parts"),
    pytest.param("😀" * 35, 1, id="ucs2-35-emoji-70-units"),
    pytest.param("😀" * 36, 2, id="ucs2-36-emoji-72-units"),
    # 66 + [surrogate pair pushed to part 2] + 65 -> 1 unit left: 3, although 134 units
    pytest.param("ê" * 66 + "😀" + "ê" * 66, 3, id="ucs2-surrogate-pair-not-split"),
    pytest.param("a" * 159 + "ç", 3, id="one-c-cedilla-switches-160-to-ucs2"),
    pytest.param(to_gsm7("a" * 159 + "ç"), 1, id="transliterated-back-to-one"),
]


@pytest.mark.parametrize(("text", "expected"), SEGMENTS)
def test_count_segments(text: str, expected: int) -> None:
    assert count_segments(text) == expected


def test_alphabet_tables_match_3gpp() -> None:
    # 128 positions minus the escape code; 9 printable extension characters plus form feed.
    assert (len(GSM7_BASIC), len(GSM7_EXTENSION)) == (127, 10)
    assert not GSM7_BASIC & GSM7_EXTENSION


@settings(max_examples=300, database=None)
@given(st.text())
def test_any_text_becomes_gsm7(text: str) -> None:
    result = to_gsm7(text)
    assert is_gsm7(result)
    assert to_gsm7(result) == result  # idempotent: GSM-7 text is left alone
    size = septets(result)
    segments = count_segments(result)
    if size <= 160:
        assert segments == 1
    else:
        # Greedy parts of 153, an escape pair never split: between the exact division and one part per 152.
        assert math.ceil(size / 153) <= segments <= math.ceil(size / 152)


@settings(max_examples=200, database=None)
@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION)))
def test_gsm7_text_is_unchanged(text: str) -> None:
    assert to_gsm7(text) == text
    assert encoding(text) == "GSM-7"
