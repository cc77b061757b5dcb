"""Choices by their words ("je debute" for "Je débute") when they are not given by number."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz.distance import OSA

from bot.conversation.understanding.numbers import parse_number
from bot.conversation.understanding.text import (
    SHORT_ANSWER_CHARS,
    word_set,
    words,
)

_CHOICE_STOPWORDS = word_set(
    "je j me m un une le la les l de du des d a au aux et ou en sur suis ai n est c ca sa son ses mon ma mes "
    "tu il elle on nous vous ils y que qui ce cette pour par avec dans plus tres bien deja"
)
_NEGATIONS = word_set("pas jamais aucun aucune rien ni")


def _similar(word: str, other: str) -> float:
    """1 for the same word; 0.9 for the same stem ("debutant" ~ "debute"); 0.85 for a one-letter typo."""
    if word == other:
        return 1.0
    shortest = min(len(word), len(other))
    if shortest < 5:
        return 0.0
    prefix = 0
    for a, b in zip(word, other, strict=False):
        if a != b:
            break
        prefix += 1
    if prefix >= 5 and prefix >= 0.7 * shortest:
        return 0.9
    return 0.85 if OSA.distance(word, other, score_cutoff=1) <= 1 else 0.0


def _content(tokens: Iterable[str]) -> list[str]:
    return [t for t in tokens if t not in _CHOICE_STOPWORDS]


@lru_cache(maxsize=256)
def _vocabulary(choice: str, aliases: tuple[str, ...]) -> frozenset[str]:
    found = set(_content(words(choice)))
    for alias in aliases:
        found.update(_content(words(alias)))
    return frozenset(found)


def match_choice(text: str, choices: Sequence[str], *, aliases: Sequence[Sequence[str]] | None = None) -> int | None:
    """The 1-based index of the choice the resident answered, by its number ("2", "le deuxieme") or by its words
    ("debutant", "je debute"), when one choice clearly wins; else None. ``aliases[i]`` may add words that also
    mean choice i+1 (e.g. "nul" for the beginners' level). A negation the choice does not have ("pas a l'aise")
    rules that choice out."""
    number = parse_number(text, len(choices))
    if number is not None:
        return number
    answer = _content(words(text[:SHORT_ANSWER_CHARS]))
    meaningful = [a for a in answer if a not in _NEGATIONS]
    if not meaningful or len(answer) > 30:
        return None
    negated = len(meaningful) < len(answer)
    scores: list[float] = []
    for index, choice in enumerate(choices):
        extra = tuple(aliases[index]) if aliases is not None and index < len(aliases) else ()
        vocabulary = _vocabulary(choice, extra)
        if negated and not vocabulary & _NEGATIONS:
            scores.append(0.0)
            continue
        total = sum(max((_similar(a, v) for v in vocabulary), default=0.0) for a in meaningful)
        scores.append(total / len(meaningful))
    ranked = sorted(scores, reverse=True)
    if not ranked:
        return None
    runner_up = ranked[1] if len(ranked) > 1 else 0.0
    if ranked[0] >= 0.6 and ranked[0] - runner_up >= 0.25:
        return scores.index(ranked[0]) + 1
    return None
