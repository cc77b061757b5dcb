"""GSM-7 transliteration and SMS segment counting, as tables (3GPP TS 23.038; Twilio's segment rules)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation.gsm7 import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    count_segments,
    encoding,
    first_in_one_segment,
    fits_one_segment,
    is_gsm7,
    render_sms,
    septets,
    to_gsm7,
)

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


# ``fits_one_segment`` adds up the lines' GSM-7 lengths instead of rendering the SMS: it must say what rendering and
# counting says, at the edges (160/161 septets), with extension characters (two septets), characters made GSM-7
# (ç, œ, …, ’: their form's length counts), emoji (dropped: spaces tidied across the whole SMS), choices the text
# already names (not listed), empty lines (left out), Windows newlines.
FITS = [
    pytest.param("a" * 160, (), True, id="160"),
    pytest.param("a" * 161, (), False, id="161"),
    pytest.param("  " + "a" * 160 + " \n", (), True, id="160-once-stripped"),
    pytest.param("a" * 151, ("b" * 6,), True, id="151-newline-and-a-choice-160"),
    pytest.param("a" * 152, ("b" * 6,), False, id="152-newline-and-a-choice-161"),
    pytest.param("a" * 148, ("x", "y", "z"), True, id="choices-numbered-160"),
    pytest.param("a" * 149, ("x", "y", "z"), False, id="choices-numbered-161"),
    pytest.param("€" * 80, (), True, id="80-euros-160-septets"),
    pytest.param("€" * 79 + "a" * 3, (), False, id="79-euros-and-3-161-septets"),
    pytest.param("a" * 158 + "[", (), True, id="bracket-fits-160"),
    pytest.param("a" * 159 + "]", (), False, id="bracket-crosses-160"),
    pytest.param("a" * 151, ("{~}",), True, id="extension-in-a-choice-160"),
    pytest.param("a" * 152, ("{~}",), False, id="extension-in-a-choice-161"),
    pytest.param("é" * 160, (), True, id="gsm-accents-160"),
    pytest.param("ê" * 160, (), True, id="accents-made-gsm-160"),
    pytest.param("ê" * 161, (), False, id="accents-made-gsm-161"),
    pytest.param("œ" * 80, (), True, id="oe-made-two-letters-160"),
    pytest.param("œ" * 81, (), False, id="oe-made-two-letters-162"),
    pytest.param("…" * 53 + "a", (), True, id="ellipsis-made-three-160"),
    pytest.param("…" * 54, (), False, id="ellipsis-made-three-162"),
    pytest.param("Montluçon " * 15 + "Montluçona", (), True, id="c-cedilla-160"),
    pytest.param("Montluçon " * 16 + "a", (), False, id="c-cedilla-161"),
    pytest.param("l’atelier " * 16 + "a", (), False, id="curly-apostrophe-161"),
    pytest.param("e\u0301" * 160, (), True, id="decomposed-accents-composed-160"),
    pytest.param("a" * 159 + " 👍", (), True, id="emoji-dropped-with-its-space"),
    pytest.param("👍 " + "a" * 160, (), True, id="emoji-first-then-160"),
    pytest.param("👍 ok", ("a  b" * 40,), True, id="emoji-in-the-text-tidies-a-choice"),
    pytest.param("a" * 150, ("👍 oui", "non"), False, id="emoji-in-a-choice"),
    pytest.param("مرحبا" * 32, (), True, id="other-script-question-marks-160"),
    pytest.param("😀" * 40, (), True, id="emoji-only"),
    pytest.param("Répondez OUI ou NON." + "a" * 140, ("OUI", "NON"), True, id="choices-named-in-the-text"),
    pytest.param("Répondez OUI." + "a" * 140, ("OUI", "NON"), False, id="one-choice-not-named"),
    pytest.param("", (), True, id="empty"),
    pytest.param("   ", ("a" * 158,), True, id="blank-text-and-a-choice-160"),
    pytest.param("", ("a" * 159,), False, id="empty-text-and-a-choice-161"),
    pytest.param("a\r\nb\rc" + "d" * 155, (), True, id="windows-newlines-160"),
    pytest.param("a\r\nb\rc" + "d" * 156, (), False, id="windows-newlines-161"),
    pytest.param(
        "Quel atelier ?", ("mardi 14 avril à 14 h, Saint-Victor : Impôts", "ven. 1/5 9h30 Domérat"), True, id="lines"
    ),
]


@pytest.mark.parametrize(("body", "choices", "expected"), FITS)
def test_fits_one_segment_says_what_rendering_says(body: str, choices: tuple[str, ...], expected: bool) -> None:
    assert (count_segments(render_sms(body, choices)) == 1) is expected
    assert fits_one_segment(body, choices) is expected


@settings(max_examples=300, database=None)
@given(st.text(max_size=200), st.lists(st.text(max_size=40), max_size=5))
def test_fits_one_segment_on_any_text(body: str, choices: list[str]) -> None:
    assert fits_one_segment(body, choices) is (count_segments(render_sms(body, choices)) == 1)


# Text as replies are written: GSM-7, its extension characters (two septets), the characters made GSM-7 (ç œ ’ …),
# spaces and line ends; sizes around one segment. Any text (above) mostly takes the fallback, which renders the SMS:
# these take the path that adds up the lines' lengths.
_SMS_LIKE = st.lists(st.sampled_from([*"abcXYZ09 .,'?é", *"€{}[]^~|\\", *"çœ’…«ê", "\n", "\r\n"]), max_size=170).map(
    "".join
)


@settings(max_examples=300, database=None)
@given(_SMS_LIKE, st.lists(st.text(alphabet="abé€œ ", max_size=20), max_size=4))
def test_fits_one_segment_on_text_written_as_replies(body: str, choices: list[str]) -> None:
    assert fits_one_segment(body, choices) is (count_segments(render_sms(body, choices)) == 1)


def _first_rendered(bodies: list[str], choices: tuple[str, ...] | list[str]) -> str | None:
    """What ``first_in_one_segment`` must answer, by rendering each SMS."""
    return next((body for body in bodies if count_segments(render_sms(body, choices)) == 1), None)


# ``first_in_one_segment`` measures the choices' lines once for all the wordings: the first that fits, as rendering
# each SMS says (the FITS rows above, then wordings around each other's edges).
FIRST = [
    pytest.param(["a" * 152, "a" * 151, "a"], ("b" * 6,), "a" * 151, id="second-fits-160"),
    pytest.param(["a" * 161, "a" * 160], (), "a" * 160, id="no-choice"),
    pytest.param(["a" * 155, "b" * 154], ("c" * 5,), None, id="none-fits"),
    pytest.param(["", "a"], ("b" * 158,), "", id="empty-first-no-newline"),
    pytest.param(["  \n ", "a"], ("b" * 159,), None, id="blank-and-161"),
    pytest.param(["x 👍 " + "a" * 149, "a" * 140], ("b" * 6,), "x 👍 " + "a" * 149, id="emoji-in-a-wording"),
    pytest.param(["a" * 150, "a" * 100], ("👍 b" * 10,), "a" * 100, id="emoji-in-a-choice"),
    pytest.param(
        ["Répondez OUI ou NON." + "a" * 140, "a"], ("OUI", "NON"), "Répondez OUI ou NON." + "a" * 140, id="named"
    ),
    pytest.param(["Répondez OUI." + "a" * 144, "a"], ("OUI", "NON"), "a", id="not-all-named"),
    pytest.param(["€" * 76, "€" * 75], ("b" * 6,), "€" * 75, id="extension-160"),
    pytest.param(["œ" * 76, "œ" * 75], ("é" * 6,), "œ" * 75, id="made-gsm-160"),
]


@pytest.mark.parametrize(("bodies", "choices", "expected"), FIRST)
def test_first_in_one_segment(bodies: list[str], choices: tuple[str, ...], expected: str | None) -> None:
    assert _first_rendered(bodies, choices) == expected
    assert first_in_one_segment(bodies, choices) == expected


@settings(max_examples=300, database=None)
@given(st.lists(st.text(max_size=200), max_size=4), st.lists(st.text(max_size=40), max_size=5))
def test_first_in_one_segment_on_any_text(bodies: list[str], choices: list[str]) -> None:
    assert first_in_one_segment(bodies, choices) == _first_rendered(bodies, choices)
