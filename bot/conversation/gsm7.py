"""GSM-7 for SMS: which characters fit, transliteration of the others, and segment counting.

An SMS is billed per segment. A message written only with the GSM 03.38 default alphabet (3GPP TS 23.038
§6.2.1) travels as 7-bit septets: 160 in a single SMS, 153 per part once concatenated (the user-data header
takes the rest). One character outside it ("ç", "ê", "’", an emoji) switches the whole message to UCS-2: 70
UTF-16 code units, 67 per part. Hence ``to_gsm7`` before anything is sent by SMS.

References:
- 3GPP TS 23.038, "Alphabets and language-specific information":
  https://www.3gpp.org/DynaReport/23038.htm (default alphabet and extension table, §6.2.1)
- Twilio, "What the Heck is a Segment?": https://www.twilio.com/docs/glossary/what-sms-character-limit
  and the segment calculator https://twiliodeved.github.io/message-segment-calculator/ (153/67 per part,
  extension characters and surrogate pairs are never split across parts).

Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

# The GSM 03.38 default alphabet, in table order (0x00-0x7F), without 0x1B which is the escape to the extension
# table and not a character of its own.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# The extension table: each costs two septets (escape + code). Form feed is in the table too.
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

GSM7: frozenset[str] = GSM7_BASIC | GSM7_EXTENSION

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

Encoding = Literal["GSM-7", "UCS-2"]

# Characters whose closest GSM-7 form is not found by stripping accents (NFKD), or that NFKD gets wrong for us.
_TRANSLITERATION: dict[str, str] = {
    # GSM has "Ç" but no lowercase "ç" (SPEC §6: Montluçon -> Montlucon).
    "ç": "c",
    "œ": "oe",
    "Œ": "OE",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "Th",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ħ": "h",
    "Ħ": "H",
    "ŧ": "t",
    "Ŧ": "T",
    "ı": "i",
    "ĸ": "k",
    # Quotes and apostrophes.
    "’": "'",
    "‘": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "´": "'",
    "‹": "'",
    "›": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    # Dashes, bullets and the like.
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "•": "-",
    "·": ".",
    "…": "...",
    "⁄": "/",
    # French "n°" is written "no" without the sign.
    "°": "o",
    "×": "x",
    "÷": "/",
    "±": "+/-",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "→": "->",
    "←": "<-",
    "⇒": "=>",
    "¢": "c",
    "¦": "|",
    "¨": "",
    "\t": " ",
    "\v": "\n",
    "\x85": "\n",
    "\u2028": "\n",
    "\u2029": "\n",
}

_SPACES_AFTER_DROP = re.compile(r" {2,}")
_EDGE_SPACES = re.compile(r" +(?=\n|$)|(?<![^\n]) +")


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM 03.38 default alphabet or its extension table."""
    return GSM7.issuperset(text)


def encoding(text: str) -> Encoding:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def septets(text: str) -> int:
    """Septets the text takes in GSM-7: extension characters count two. Characters outside GSM-7 count one
    (call ``to_gsm7`` first, or use ``count_segments`` which knows about UCS-2)."""
    return len(text) + sum(map(text.count, GSM7_EXTENSION))  # a few counts in C, not a loop over the characters


def _utf16_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _parts(widths: list[int], single: int, per_part: int) -> int:
    """Segments for characters of the given widths: one if everything fits in ``single``; otherwise parts of
    ``per_part`` filled greedily, a character never split across two parts (an escape pair or a surrogate pair
    goes whole into the next part)."""
    if sum(widths) <= single:
        return 1
    parts, used = 1, 0
    for width in widths:
        if used + width > per_part:
            parts += 1
            used = 0
        used += width
    return parts


def count_segments(text: str) -> int:
    """How many SMS segments the text costs as it is (GSM-7 if it fits, else UCS-2). Empty text is one segment.

    See 3GPP TS 23.038 and https://www.twilio.com/docs/glossary/what-sms-character-limit : GSM-7 160 septets
    single / 153 per part; UCS-2 70 code units single / 67 per part (an emoji outside the BMP is two units).
    """
    if is_gsm7(text):
        if septets(text) <= GSM_SINGLE:  # most messages: one, counted at once
            return 1
        return _parts([2 if ch in GSM7_EXTENSION else 1 for ch in text], GSM_SINGLE, GSM_PART)
    return _parts([_utf16_units(ch) for ch in text], UCS2_SINGLE, UCS2_PART)


def _fallback(ch: str) -> tuple[str, bool]:
    """GSM-7 form of one character not in GSM-7 and not in the table; the flag says it was dropped."""
    category = unicodedata.category(ch)
    if category == "Zs":
        return " ", False
    if category == "Nd":
        return str(unicodedata.digit(ch, 0)), False
    decomposed = unicodedata.normalize("NFKD", ch)
    if decomposed != ch:
        # Accented letters, ligatures, full-width forms, superscripts: keep the base characters, drop the marks.
        out = []
        for part in decomposed:
            if part in GSM7:
                out.append(part)
            elif part in _TRANSLITERATION:
                out.append(_TRANSLITERATION[part])
            elif unicodedata.category(part)[0] == "L":
                out.append("?")
            elif unicodedata.category(part) == "Zs":
                out.append(" ")
        if out:
            return "".join(out), False
    major = category[0]
    if major == "L" or category in ("No", "Nl", "Sc"):
        # A letter (or number, or currency) we cannot write: show that something is there.
        return "?", False
    if category == "Ps":
        return "(", False
    if category == "Pe":
        return ")", False
    if category == "Pd":
        return "-", False
    if category in ("Pi", "Pf"):
        return '"', False
    # Emoji and other symbols, controls, format characters (zero-width joiner, variation selectors), lone marks:
    # an emoji in an outgoing message should vanish, not turn into "?".
    return "", True


def to_gsm7(text: str) -> str:
    """The text with every character outside GSM-7 replaced by its closest GSM-7 form.

    é è à ù ì ò É Ç Ä Ö Ñ Ü ä ö ñ ü æ Æ ß Ø ø Å å stay (they are GSM-7); ç ê â î ô û ë ï → c e a i o u e i,
    œ → oe, ’ ‘ → ', “ ” « » → ", … → ..., dashes → -, non-breaking spaces → space, other accented letters lose
    their accent (NFKD), emoji vanish, letters of other scripts become "?". GSM-7 text is returned unchanged.
    """
    text = unicodedata.normalize("NFC", text)
    if is_gsm7(text):
        return text
    result = text.translate(_FORMS)  # each character's form, worked out once per character (``_Forms``)
    if not _FORMS.dropped.isdisjoint(text):
        # "Merci 👍 à bientôt" -> "Merci à bientot", not "Merci  à bientot".
        result = _EDGE_SPACES.sub("", _SPACES_AFTER_DROP.sub(" ", result))
    return result


class _Forms(dict[int, str]):
    """Code point → its GSM-7 form, for ``str.translate``: filled the first time a character is met (a message is
    made GSM-7 many times over while the dialogue looks for the wording that fits one SMS). ``dropped``: the
    characters whose form is nothing (an emoji), after which spaces are tidied."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped: set[str] = set()

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in GSM7:
            form = ch
        elif ch in _TRANSLITERATION:
            form = _TRANSLITERATION[ch]
        else:
            form, _ = _fallback(ch)
        if not form:
            self.dropped.add(ch)
        self[code] = form
        return form


_FORMS = _Forms()


_NEWLINES = re.compile(r"\r\n?")


def render_sms(body: str, choices: Sequence[str] = ()) -> str:
    """The SMS a resident receives: the text, then one line per choice ("1 Je débute"), made GSM-7.

        The compact "1 Je débute" (no dot, no dash) costs one character per choice less than "1. Je débute" and reads
        the same on a basic phone. Choices the text already spells out (OUI / NON) are not listed again: an SMS costs
        money per segment. Used by every SMS sender (Twilio's webhook answer and REST sender, the console sender) and
    ``atelier chat``.
    """
    return to_gsm7("\n".join(_sms_lines(body, choices)))


def _sms_lines(body: str, choices: Sequence[str]) -> list[str]:
    """The lines of the SMS ``render_sms`` makes, before they are made GSM-7."""
    lines = [_body_line(body)]
    if not _names_its_choices(body, choices):
        lines += _choice_lines(choices)
    return [line for line in lines if line]


def _body_line(body: str) -> str:
    return _NEWLINES.sub("\n", body).strip()


def _names_its_choices(body: str, choices: Sequence[str]) -> bool:
    return all(choice in body for choice in choices)  # "Répondez OUI ou NON." already names its choices


def _choice_lines(choices: Sequence[str]) -> list[str]:
    return [f"{number} {choice.strip()}" for number, choice in enumerate(choices, start=1)]


def fits_one_segment(body: str, choices: Sequence[str] = ()) -> bool:
    """``count_segments(render_sms(body, choices)) == 1``, without rendering the whole SMS each time: the dialogue
    tries many wordings around the same workshop lines, so each line's GSM-7 length is worked out once and the
    lengths are added. Exact: making text GSM-7 works character by character, and a newline neither composes
    (NFC) nor is changed, so the SMS's length is its lines' plus one per newline; only when a line loses a
    character (an emoji) does ``to_gsm7`` tidy spaces across the whole message, and then the SMS is rendered."""
    total = -1  # n lines are joined by n - 1 newlines
    for line in _sms_lines(body, choices):
        size = _line_septets(line)
        if size is None:
            return count_segments(render_sms(body, choices)) == 1
        total += size + 1
    return total <= GSM_SINGLE


def first_in_one_segment(bodies: Sequence[str], choices: Sequence[str] = ()) -> str | None:
    """The first of ``bodies`` whose SMS with ``choices`` fits one segment (``fits_one_segment``), None if none.
    Each line's length is kept (``_line_septets``): the choices are measured once for all the wordings tried."""
    return next((body for body in bodies if fits_one_segment(body, choices)), None)


@lru_cache(maxsize=4096)  # the workshop lines and wordings of the offers, the same for every resident
def _line_septets(line: str) -> int | None:
    """Septets of ``to_gsm7(line)``; None when ``to_gsm7`` drops one of its characters (see ``fits_one_segment``)."""
    form = to_gsm7(line)
    if not is_gsm7(form) or not _FORMS.dropped.isdisjoint(unicodedata.normalize("NFC", line)):
        return None
    return septets(form)
