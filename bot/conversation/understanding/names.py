"""Greetings and people's names, as residents write them."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import Levenshtein

from bot.conversation.understanding.keywords import NO_WORDS, YES_WORDS, Keyword, detect_keyword
from bot.conversation.understanding.text import (
    POLITENESS_WORDS,
    SHORT_ANSWER_CHARS,
    TAG_RE,
    pipe,
    squeeze,
    word_set,
    words,
)

_GREETINGS = frozenset(pipe("bonjour|bjr|bjour|bonjours|bsr|bonsoir|salut|slt|coucou|cc|hello|hi|hey|allo|yo|hola"))
_SIGNUP_PREFIXES = ("inscri", "minscri", "sinscri", "jminscri", "reinscri")
_SIGNUP_WORDS = frozenset(
    pipe("atelier|ateliers|info|infos|information|informations|renseignement|renseignements|start")
)


def is_greeting(text: str) -> bool:
    """A message that only opens the conversation: "bonjour", "bjr", "salut", "coucou", "bjr je voudrais
    minscrire pr l atelier", "je veux m'inscrire", "inscription". Not a keyword such as "mes ateliers"."""
    tokens = words(text[:SHORT_ANSWER_CHARS])
    if not tokens:
        return False
    keyword = detect_keyword(text)
    if keyword is not None and keyword not in (Keyword.SIGNUP, Keyword.START):
        return False
    first = squeeze(tokens[0])
    if tokens[0] in _GREETINGS or first in _GREETINGS:
        return True
    if len(first) >= 6 and min(Levenshtein.distance(first, g) for g in ("bonjour", "bonsoir")) <= 1:
        return True
    return any(t.startswith(_SIGNUP_PREFIXES) or t in _SIGNUP_WORDS for t in tokens)


_NAME_INTROS = frozenset(
    pipe(
        "bonjour|bjr|bonsoir|salut|slt|coucou|hello|je m appelle|je m apelle|je mappelle|je mapelle|jm appelle"
        "|moi c est|c est|mon nom est|mon nom c est|mon nom|mon prenom est|mon nom et prenom|nom et prenom"
        "|nom prenom|prenom nom|nom|prenom|je suis|ici|voici"
    )
)
_NAME_OUTROS = frozenset(pipe("merci|svp|stp|cordialement|merci beaucoup|bonne journee|cdlt"))
# Where a name stops in "Jeanne Roche j'habite à Prémilhat": what follows is not part of it.
_NAME_ENDS = frozenset(pipe("j habite|habite|je vis|je reside|domicilie|domiciliee|demeurant|et j habite"))
_NOT_NAME_WORDS = word_set(
    "inscrire minscrire inscription inscriptions atelier ateliers voudrais veux aide stop comment pourquoi quoi "
    "quand http https www com fr oui non ok merci numero rien"
)
_PARTICLES = frozenset({"de", "du", "des", "d", "van", "von", "der", "den", "di", "da", "et"})
_TITLES = {"mme": "Mme", "mr": "M.", "m": "M.", "mlle": "Mlle", "madame": "Madame", "monsieur": "Monsieur"}
_NOT_NAME_CHARS = re.compile(r"[^\w\s'\-.]|[\d_]")
_APOSTROPHES = str.maketrans("’‘`´", "''''")
_MAX_NAME = 60


def _drop_phrases(items: list[str], phrases: frozenset[str], *, from_end: bool) -> list[str]:
    changed = True
    while changed and items:
        changed = False
        for size in range(min(5, len(items)), 0, -1):
            part = items[-size:] if from_end else items[:size]
            if " ".join(words(" ".join(part))) in phrases:
                items = items[:-size] if from_end else items[size:]
                changed = True
                break
    return items


def _capitalize_part(part: str, *, first: bool) -> str:
    lower = part.lower()
    if first and lower.rstrip(".") in _TITLES:
        return _TITLES[lower.rstrip(".")]
    if lower in _PARTICLES and not first:
        return lower
    if part in (lower, part.upper()):
        return part[:1].upper() + part[1:].lower()
    return part  # "McDonald", "DeGaulle": written that way on purpose


def _capitalize_word(word: str, *, first: bool) -> str:
    pieces = re.split(r"([\-'])", word)
    return "".join(
        piece if piece in ("-", "'") else _capitalize_part(piece, first=first and i == 0)
        for i, piece in enumerate(pieces)
    )


def _cut_at(items: list[str], phrases: frozenset[str]) -> list[str]:
    """The items before the first phrase of ``phrases`` (one or two items long)."""
    for index in range(len(items)):
        for size in (1, 2):
            if " ".join(words(" ".join(items[index : index + size]))) in phrases:
                return items[:index]
    return items


def first_name_of(name: str) -> str:
    """What a reply calls the person: the first name ("Martine Dupont" → "Martine", "Mme Martine Dupont" →
    "Martine"), or title and surname when that is all they gave ("Mme Dupont" stays "Mme Dupont", never "Mme")."""
    parts = name.split()
    if len(parts) > 1 and parts[0].lower().rstrip(".") in _TITLES:
        if len(parts) == 2 or parts[1].lower() == "et":  # "Mme Dupont", "M. et Mme Bernard": all of it
            return " ".join(parts)
        return parts[1]
    return parts[0] if parts else ""


def clean_name(text: str) -> str:
    """The name in a message, tidied: "MARTINE DUPONT" -> "Martine Dupont", "je m'appelle jean-pierre martin" ->
    "Jean-Pierre Martin", "c'est Mme Durand" -> "Mme Durand". Greetings and "je m'appelle" are removed; emoji,
    digits and symbols dropped; accents kept (they are part of the name). May be empty."""
    text = unicodedata.normalize("NFC", TAG_RE.sub(" ", text[: 4 * _MAX_NAME])).translate(_APOSTROPHES)
    items = [w.strip("-'.") for w in _NOT_NAME_CHARS.sub(" ", text).split()]
    items = _drop_phrases([w for w in items if w], _NAME_INTROS, from_end=False)
    items = _drop_phrases(_cut_at(items, _NAME_ENDS), _NAME_OUTROS, from_end=True)
    return " ".join(_capitalize_word(word, first=position == 0) for position, word in enumerate(items))


def _latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN")


def looks_like_name(text: str) -> bool:
    """Whether the message is plausibly a person's name (once "je m'appelle", greetings and politeness are
    removed): no digits, not emoji only, not a greeting alone, not a keyword, not a sentence, at most 60
    characters, in Latin letters (an SMS can carry nothing else back; the dialogue asks again)."""
    if len(text) > 4 * _MAX_NAME or any(ch.isdigit() for ch in text) or "@" in text:
        return False
    name = clean_name(text)
    if not name or len(name) > _MAX_NAME or len(name.split()) > 6:
        return False
    letters = [ch for ch in name if ch.isalpha()]
    if len(letters) < 2 or not all(_latin(ch) for ch in letters):
        return False
    tokens = words(name)
    if not tokens or any(t in _NOT_NAME_WORDS for t in tokens):
        return False
    if all(t in _GREETINGS or t in POLITENESS_WORDS or t in YES_WORDS or t in NO_WORDS for t in tokens):
        return False
    return detect_keyword(name) is None and not is_greeting(name)
