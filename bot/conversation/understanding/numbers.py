"""Numbers: a chosen line ("le 2", "deux", "2eme"), several of them ("1 et 3")."""

from __future__ import annotations

import re

from bot.conversation.understanding.text import SHORT_ANSWER_CHARS, rank_by_spelling, word_set, words

_NUMBER_WORDS: dict[str, int] = rank_by_spelling(
    "un|une|premier|premiere",
    "deux|deus|second|seconde|deuxieme",
    "trois|troi|troisieme",
    "quatre|quatrieme",
    "cinq|cinquieme",
    "six|sixieme",
    "sept|septieme",
    "huit|huitieme",
    "neuf|neuvieme",
    "dix|dixieme",
    "onze|onzieme",
    "douze|douzieme",
    start=1,
)
_ORDINAL = re.compile(r"(\d{1,3})(?:er|ere|re|e|eme|em|nd|nde|ieme|o)?")
# Words that may surround a chosen number without changing it: "le 2", "n°2", "choix 3", "je prends le 2 merci".
# Negations, dates and units are absent on purpose: "pas le 2", "le 2 avril", "2 personnes" are not choices.
_NUMBER_FILLERS = word_set(
    "le la les l n no nr nro num numero choix option reponse c est ca ce sera serait je j prends prend "
    "prendrai prendrais choisis choisi veux voudrais prefere plutot alors donc euh eh ben bah bon svp stp "
    "merci ok oui d accord bonjour bjr celui celle ci pour moi mon ma atelier chiffre va me convient qui que "
    "tres bien parfait"
)
_LIST_SEPARATORS = word_set("et aussi puis ainsi ou plus avec")


def _number_of(token: str) -> int | None:
    if token in _NUMBER_WORDS:
        return _NUMBER_WORDS[token]
    match = _ORDINAL.fullmatch(token)
    if match is None:
        return None
    digits = match.group(1)
    # "03410" is a postcode, not choice 3410; "02" may well be 2.
    if len(digits) > 2 and digits.startswith("0"):
        return None
    return int(digits)


def _scan_numbers(text: str) -> tuple[list[tuple[str, int]], list[str]]:
    numbers: list[tuple[str, int]] = []
    others: list[str] = []
    for token in words(text[:SHORT_ANSWER_CHARS]):
        value = _number_of(token)
        if value is None:
            others.append(token)
        else:
            numbers.append((token, value))
    return numbers, others


def parse_number(text: str, maximum: int) -> int | None:
    """One choice among 1..maximum: "2", "le 2", "n°2", "numero 2", "2.", "deux", "le deuxieme", "1er", "choix 3",
    "3️⃣". None for anything else, for several numbers ("2 3"), for a postcode ("03410") and for a number among
    words that are not mere filler ("2 personnes", "pas le 2", "le 2 avril")."""
    numbers, others = _scan_numbers(text)
    if not numbers or any(word not in _NUMBER_FILLERS for word in others):
        return None
    values = {value for _, value in numbers}
    if len(values) != 1:
        return None
    value = values.pop()
    return value if 1 <= value <= maximum else None


def _digits_typed_together(token: str, maximum: int) -> list[int] | None:
    """ "13" for choices 1 and 3 when there are at most nine choices and 13 is not one of them."""
    if maximum > 9 or len(token) < 2 or not token.isdigit() or len(set(token)) != len(token):
        return None
    digits = [int(d) for d in token]
    return digits if all(1 <= d <= maximum for d in digits) else None


def parse_numbers(text: str, maximum: int) -> list[int]:
    """Several choices among 1..maximum: "1 3", "1,3", "1 et 3", "un et trois", "la 1 et la 3" -> [1, 3]
    (sorted, without repeats); "13" typed without a space also gives [1, 3] when there are at most nine choices.
    An empty list when there is no number, when a number is out of range, or when other words are mixed in."""
    numbers, others = _scan_numbers(text)
    if not numbers or any(word not in _NUMBER_FILLERS and word not in _LIST_SEPARATORS for word in others):
        return []
    values: set[int] = set()
    for token, value in numbers:
        together = None if 1 <= value <= maximum else _digits_typed_together(token, maximum)
        if together is not None:
            values.update(together)
        elif 1 <= value <= maximum:
            values.add(value)
        else:
            return []
    return sorted(values)
