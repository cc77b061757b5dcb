"""The resident's level, as they say it: "1", "je debute", "je suis nul", "jai un portable mais je sais pas men
servir", "3 je suis a l aise", "Beginner".

Levels are 1 (beginner), 2 (intermediate), 3 (advanced), as numbered in the question. Phrases are matched longest
first, so "pas a l aise" is a beginner and not "a l aise". Some phrases are sure wherever they come ("je debute");
others only answer the level question ("un peu", "bien").
"""

from __future__ import annotations

from functools import cache

from bot.conversation.understanding.numbers import parse_number
from bot.conversation.understanding.text import SHORT_ANSWER_CHARS, pipe, words

# Sure anywhere: said in a message that answers another question, they still give the level.
_SURE: dict[int, tuple[str, ...]] = {
    1: pipe(
        "je debute|debute|debutant|debutante|grand debutant|grande debutante|debut|je suis nul|je suis nulle|nul|nulle"
        "|novice|beginner|je n y connais rien|j y connais rien|connais rien|n y connais rien|sais pas m en servir"
        "|sais pas men servir|sais pas me servir|ne sais pas m en servir|sais pas utiliser|sais pas trop m en servir"
        "|ne sais que telephoner|sais que telephoner|que telephoner|juste telephoner|seulement telephoner"
        "|juste appeler|que appeler|offert une tablette|offert un telephone|offert un portable|offert un ordinateur"
        "|offert un smartphone|pas a l aise|pas du tout a l aise|pas doue|pas douee|je suis perdu|je suis perdue"
        "|pas tres doue|pas tres douee|pas trop doue|pas trop douee|pas doue avec|nul avec|nulle avec|jamais touche"
        "|jamais touche un ordi|jamais touche un ordinateur|y connais rien|n y comprends rien|comprends rien"
        "|perdu avec|perdue avec|premiere fois|jamais utilise|jamais servi|zero|niveau zero|aucune connaissance"
        "|je n y arrive pas|j y arrive pas|pas doue du tout|vraiment debutant|tout debut|totalement debutant|niveau 1"
    ),
    2: pipe(
        "je me debrouille|debrouille|je me debrouille un peu|intermediaire|intermediate|moyen|moyenne|les bases"
        "|j ai les bases|quelques bases|des notions|quelques notions|niveau moyen|pas trop mal|niveau 2"
    ),
    3: pipe(
        "a l aise|je suis a l aise|tres a l aise|confirme|confirmee|advanced|expert|experte|bon niveau"
        "|je maitrise|maitrise|autonome|je me debrouille bien|debrouille bien|je me debrouille tres bien|niveau 3"
    ),
}
# Only when answering the level question.
_AT_THE_QUESTION: dict[int, tuple[str, ...]] = {
    1: pipe("rien|jamais|pas du tout|tres peu|pas grand chose|pas beaucoup|mal|tres mal|pas bien|aucun"),
    2: pipe("un peu|un petit peu|ca va|correct|assez bien|moyennement|pas mal|comme ci comme ca|bof"),
    3: pipe("bien|tres bien|oui tres bien|facilement|sans probleme"),
}


def _singular(word: str) -> str:
    """ "debutants" → "debutant", "nuls" → "nul": couples answer for two."""
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


@cache
def _table(*, at_question: bool) -> tuple[tuple[tuple[str, ...], frozenset[str], int], ...]:
    """(phrase's words, the same as a set, level), longest first."""
    tables = [_SURE, _AT_THE_QUESTION] if at_question else [_SURE]
    rows = [(tuple(_singular(w) for w in p.split()), level) for t in tables for level, ps in t.items() for p in ps]
    rows.sort(key=lambda row: -len(" ".join(row[0])))
    return tuple((phrase, frozenset(phrase), level) for phrase, level in rows)


def _by_words(tokens: list[str], *, at_question: bool) -> int | None:
    said = set(tokens)
    used = [False] * len(tokens)
    found: set[int] = set()
    for phrase, its_words, level in _table(at_question=at_question):
        if not its_words <= said:
            continue  # a word of the phrase is missing: no need to slide it along the message
        size = len(phrase)
        for start in range(len(tokens) - size + 1):
            if not any(used[start : start + size]) and tuple(tokens[start : start + size]) == phrase:
                used[start : start + size] = [True] * size
                found.add(level)
    # "Je débute mais je me débrouille un peu": two levels said, none sure.
    return found.pop() if len(found) == 1 else None


def _leading_number(tokens: list[str]) -> int | None:
    """ "3 je suis a l aise", "le 1 merci": the number the answer starts with."""
    head = [t for t in tokens[:3] if t not in ("le", "la", "n", "no", "numero", "niveau", "c", "est")]
    return parse_number(head[0], 3) if head and head[0].isdigit() else None  # "un peu" is no number


def parse_level(text: str, *, at_question: bool = True) -> int | None:
    """1, 2 or 3, or None. ``at_question``: the message answers "vous diriez : 1 / 2 / 3", so a plain number and
    looser words count; otherwise only sure phrases ("je debute") do."""
    tokens = words(text[:SHORT_ANSWER_CHARS])
    if not tokens:
        return None
    if at_question:
        number = parse_number(text, 3)
        if number is not None:
            return number
        leading = _leading_number(tokens)
        if leading is not None:
            return leading  # the list's number wins over the words around it
    return _by_words([_singular(t) for t in tokens], at_question=at_question)
