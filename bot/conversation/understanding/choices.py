"""Choices by their words ("celui de mardi"), and interests in free text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz.distance import OSA, Levenshtein

from bot.conversation.understanding.communes import name_key
from bot.conversation.understanding.numbers import parse_number, parse_numbers
from bot.conversation.understanding.text import (
    SHORT_ANSWER_CHARS,
    has_phrase,
    normalize,
    pad_words,
    pipe,
    strip_politeness,
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


# What residents ask to learn, with the words they use for it. Labels are very short: all seven are listed under
# the question in one SMS, which must stay within one 160-character segment.
INTERESTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Santé, Ameli",
        pipe("ameli|sante|medecin|doctolib|carte vitale|mutuelle|cpam|ordonnance|remboursement|pharmacie|hopital"),
    ),
    ("Impôts", pipe("impots|impot|declaration|taxe|fisc|fiscal")),
    ("Banque", pipe("banque|compte|virement|bancaire|releve|paiement|payer|achat")),
    ("E-mail", pipe("mail|email|e mail|courriel|messagerie|gmail|boite mail|mel")),
    (
        "Appels vidéo",
        pipe("video|whatsapp|skype|visio|petits enfants|petit enfant|famille|facetime|messenger|zoom"),
    ),
    ("Photos", pipe("photo|photos|image|images|album")),
    (
        "Démarches",
        pipe(
            "ants|caf|retraite|demarche|demarches|administratif|administration|carte grise|permis|passeport"
            "|carte d identite|france connect|franceconnect|msa|papiers|france travail"
        ),
    ),
)
INTEREST_LABELS: tuple[str, ...] = tuple(label for label, _ in INTERESTS)

_NO_PREFERENCE = pipe(
    "rien|non|aucun|aucune|pas d idee|pas d idees|aucune idee|je ne sais pas|je sais pas|sais pas|jsp|nsp"
    "|peu importe|n importe|pas de preference|pas specialement|pas vraiment|on verra|comme vous voulez|passer"
    "|suivant|plus tard|0"
)
_EVERYTHING = pipe("tout|tous|toutes|de tout|un peu de tout|tout m interesse|tout ca")
_PARTS = re.compile(r"\bet\b|[,;+/&]|\bpuis\b")


@lru_cache(maxsize=64)
def _synonyms(choices: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """For each choice: the words that mean it (INTERESTS' synonyms for a known label) and the label's own
    distinctive words ("photos", "banque"; not "ligne", which two labels share)."""
    known = {name_key(label): synonyms for label, synonyms in INTERESTS}
    own = [set(_content(words(c))) for c in choices]
    result = []
    for index, choice in enumerate(choices):
        shared = set().union(*(own[i] for i in range(len(choices)) if i != index))
        distinctive = tuple(w for w in sorted(own[index]) if len(w) >= 4 and w not in shared)
        result.append(tuple(known.get(name_key(choice), ())) + distinctive)
    return tuple(result)


def _mentions(tokens: Sequence[str], padded: str, synonym: str) -> bool:
    if " " in synonym:
        return has_phrase(padded, synonym)
    stem = synonym.rstrip("sx")
    for token in tokens:
        if token == synonym or token.rstrip("sx") == stem:
            return True
        if len(synonym) >= 6 and len(token) >= 5 and Levenshtein.distance(token, synonym, score_cutoff=1) <= 1:
            return True
    return False


def parse_interests(text: str, choices: Sequence[str]) -> list[str] | None:
    """The labels (from ``choices``, in their order) the resident chose, by numbers ("1 3"), by words ("impots et
    banque"), or both ("1 et banque"). ``[]`` for an explicit "nothing in particular" ("rien", "non", "je ne sais
    pas"); every choice for "tout"; ``None`` when nothing was understood."""
    text = text[:SHORT_ANSWER_CHARS]
    tokens = words(text)
    if not tokens:
        return None
    numbers = parse_numbers(text, len(choices))
    if numbers:
        return [choices[n - 1] for n in numbers]
    chosen = {n - 1 for part in _PARTS.split(normalize(text)) if (n := parse_number(part, len(choices)))}
    padded = pad_words(tokens)
    for index, synonyms in enumerate(_synonyms(tuple(choices))):
        if any(_mentions(tokens, padded, synonym) for synonym in synonyms):
            chosen.add(index)
    if chosen:
        return [choices[i] for i in sorted(chosen)]
    core = pad_words(strip_politeness(tokens))
    if any(has_phrase(core, phrase) for phrase in _NO_PREFERENCE):
        return []
    if core.strip() and any(has_phrase(core, phrase) for phrase in _EVERYTHING):
        return list(choices)
    return None
