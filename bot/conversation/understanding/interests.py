"""What residents want to learn, in their words, mapped to the territory's interests (its ``[[interests]]`` table).

The same words map the advisers' workshop topics ("Déclarer ses impôts en ligne") to those interests, so that a
resident who asked for "la declaration" is offered the workshop on taxes first, and the offer can name it.
Longer phrases are matched first and use up their words: "photos des petits enfants" is about photos, not video
calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.conversation.understanding.numbers import parse_number, parse_numbers
from bot.conversation.understanding.text import (
    SHORT_ANSWER_CHARS,
    last_by_identity,
    normalize,
    pad_words,
    phrase_search,
    pipe,
    strip_politeness,
    word_set,
    words,
)
from bot.territory import Interest

_NO_PREFERENCE = pipe(
    "rien|non|aucun|aucune|pas d idee|pas d idees|aucune idee|je ne sais pas|je sais pas|sais pas|jsp|nsp"
    "|peu importe|n importe|pas de preference|pas specialement|pas vraiment|on verra|comme vous voulez|passer"
    "|suivant|plus tard|0|je ne sais pas encore|rien de special|rien de particulier|ca m est egal|egal"
)
_EVERYTHING = pipe("tout|tous|toutes|de tout|un peu de tout|tout m interesse|tout ca|un peu tout")
_says_no_preference, _says_everything = phrase_search(_NO_PREFERENCE), phrase_search(_EVERYTHING)
# Words that say what follows is what they want to learn ("je voudrais apprendre whatsapp", "pour les impots"):
# outside the interests question, a topic counts only after one of them.
_CUES = word_set(
    "apprendre pour sur interesse interessee interessent interesser savoir aimerais voudrais veux souhaite "
    "souhaiterais besoin comprendre faire utiliser mieux"
)
# Devices are how people describe their level ("j'ai une tablette"), not a topic, outside the interests question.
_DEVICES = word_set("tablette telephone portable smartphone ordinateur internet ordi")
_SPLIT = word_set("et ou puis aussi avec plus")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per list of interests (``_vocabulary``)
class _Vocabulary:
    labels: tuple[str, ...]  # the interests'
    phrases: tuple[tuple[tuple[str, ...], int], ...]  # every phrase (as words) meaning an interest, its index
    by_stem: dict[str, frozenset[str]]  # the phrases' words by their stem (``_stem``)
    long_words: tuple[str, ...]  # the phrases' words long enough to be recognised with a typo


@lru_cache(maxsize=32)
def _vocabulary_of(interests: tuple[Interest, ...]) -> _Vocabulary:
    """Every phrase (as words) that means an interest, with its index, longest first. A label's own words count
    too ("photos"), when no other label shares them."""
    found: dict[tuple[str, ...], int] = {}
    labels = [set(words(i.label)) for i in interests]
    for index, interest in enumerate(interests):
        shared = set().union(*(labels[i] for i in range(len(interests)) if i != index))
        own = [(w,) for w in sorted(labels[index]) if len(w) >= 4 and w not in shared]
        for phrase in [*(tuple(words(w)) for w in interest.words), *own]:
            if phrase and phrase not in found:
                found[phrase] = index
    phrases = tuple(sorted(found.items(), key=lambda item: -sum(len(w) for w in item[0])))
    every = sorted({word for phrase, _ in phrases for word in phrase})
    by_stem: dict[str, set[str]] = {}
    for word in every:
        by_stem.setdefault(_stem(word), set()).add(word)
    return _Vocabulary(
        labels=tuple(interest.label for interest in interests),
        phrases=phrases,
        by_stem={stem: frozenset(same) for stem, same in by_stem.items()},
        long_words=tuple(word for word in every if len(word) >= _TYPO_WORD),
    )


_vocabulary: Callable[[tuple[Interest, ...]], _Vocabulary] = last_by_identity(_vocabulary_of)
_TYPO_WORD, _TYPO_TOKEN = 6, 5  # a word of 6 letters or more is recognised with one typo, in a token of 5 or more


def _stem(word: str) -> str:
    return word.rstrip("sx")


@lru_cache(maxsize=2048)  # the residents' words and the topics': a token is looked up once, not once per phrase
def _words_meant(token: str, vocabulary: _Vocabulary) -> frozenset[str]:
    """The words of ``vocabulary`` that ``token`` may be: the same word, the same stem (a plural), or one typo away
    when both are long enough (``_TYPO_WORD``, ``_TYPO_TOKEN``); found by stem and by one search of the long words
    instead of a comparison with each word (tests/test_understanding.py compares the two)."""
    meant = vocabulary.by_stem.get(_stem(token), frozenset())
    if len(token) < _TYPO_TOKEN:
        return meant
    close = process.extract(token, vocabulary.long_words, scorer=Levenshtein.distance, score_cutoff=1, limit=None)
    return meant | {word for word, _, _ in close}


def _found(tokens: Sequence[str], vocabulary: _Vocabulary, *, devices: bool) -> list[int]:
    """Indexes of the interests the tokens mention, in the order they are mentioned."""
    meant = [_words_meant(token, vocabulary) for token in tokens]
    present = frozenset().union(*meant)
    used = [False] * len(tokens)
    hits: list[tuple[int, int]] = []  # (position, interest)
    for phrase, index in vocabulary.phrases:
        if not present.issuperset(phrase):
            continue  # most phrases: a word of theirs is nowhere in the message
        if not devices and len(phrase) == 1 and phrase[0] in _DEVICES:
            continue
        size = len(phrase)
        for start in range(len(tokens) - size + 1):
            if any(used[start : start + size]):
                continue
            if all(phrase[k] in meant[start + k] for k in range(size)):
                used[start : start + size] = [True] * size
                hits.append((start, index))
    ordered: list[int] = []
    for _, index in sorted(hits):
        if index not in ordered:
            ordered.append(index)
    return ordered


def parse_interests(text: str, interests: Sequence[Interest]) -> list[str] | None:
    """The labels the resident chose (in the list's order), by numbers ("1 3"), words ("impots et banque"), both
    ("1 et banque"), or the label of a button. ``[]`` for an explicit "nothing in particular" ("rien", "non", "je
    ne sais pas"); every label for "tout"; ``None`` when nothing was understood."""
    options = tuple(interests)
    labels = [i.label for i in options]
    text = text[:SHORT_ANSWER_CHARS]
    tokens = words(text)
    if not tokens or not options:
        return None
    numbers = parse_numbers(text, len(options))
    if numbers:
        return [labels[n - 1] for n in numbers]
    chosen = set(_found(tokens, _vocabulary(options), devices=True))
    for part in _parts(tokens):
        number = parse_number(" ".join(part), len(options))
        if number is not None:
            chosen.add(number - 1)
    if chosen:
        return [labels[i] for i in sorted(chosen)]
    core = pad_words(strip_politeness(tokens))
    if _says_no_preference(core):
        return []
    if core.strip() and _says_everything(core):
        return list(labels)
    return None


def _parts(tokens: Sequence[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token in _SPLIT:
            parts.append([])
        else:
            parts[-1].append(token)
    return [p for p in parts if p]


def mentioned_interests(text: str, interests: Sequence[Interest]) -> list[str]:
    """Interests named in a message that answers something else ("Josette Martin de Domérat, pour les impôts"):
    only after a word saying so ("pour", "apprendre"…), and never a device alone ("j'ai une tablette" is about
    the level). In the list's order."""
    options = tuple(interests)
    tokens = words(text[:SHORT_ANSWER_CHARS])
    cue = next((i for i, t in enumerate(tokens) if t in _CUES), None)
    if cue is None or not options:
        return []
    return [options[i].label for i in sorted(_found(tokens[cue + 1 :], _vocabulary(options), devices=False))]


@lru_cache(maxsize=512)
def _topic_subjects(topic: str, vocabulary: _Vocabulary, devices: bool) -> tuple[str, ...]:
    return tuple(vocabulary.labels[i] for i in _found(words(topic), vocabulary, devices=devices))


def topic_subjects(topic: str, interests: Sequence[Interest], *, devices: bool = True) -> tuple[str, ...]:
    """The interests a workshop's topic is about, the first named first: "Banque en ligne en sécurité" →
    ("Banque", "Arnaques"); "Premiers pas sur la tablette" → ("Premiers pas",). ``devices``: a device alone
    ("tablette") names a subject (true of a topic, not of a resident's chatty message)."""
    return _topic_subjects(normalize(topic)[:200], _vocabulary(tuple(interests)), devices)
