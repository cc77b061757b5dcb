"""Normalization shared by every reader: folding accents and case, words, politeness, vocabulary helpers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Longer input is cut before any analysis: SMS concatenation stops at 1,600 characters and Telegram at 4,096;
# nothing meaningful to us is that long, and the cut keeps every function fast on hostile input.
MAX_INPUT = 4096
# A short answer (a commune, a choice, yes/no) is found in the first words of a message.
SHORT_ANSWER_CHARS = 400


def pipe(text: str) -> tuple[str, ...]:
    """ "a|b c" -> ("a", "b c"): the vocabulary lists below, written compactly."""
    return tuple(item.strip() for item in text.split("|") if item.strip())


def rank_by_spelling(*spellings: str, start: int = 0) -> dict[str, int]:
    """("lundi|lindi", "mardi") -> {"lundi": 0, "lindi": 0, "mardi": 1}: every spelling of the n-th word, with n
    (counted from ``start``)."""
    return {word: rank for rank, written in enumerate(spellings, start=start) for word in pipe(written)}


def last_by_identity(build: Callable[[K], V]) -> Callable[[K], V]:
    """``build``, its answer kept for the last object it was given, recognised by identity. For the territory's
    lists (interests, usual questions): one tuple for a process's life, read several times a turn, and hashing it
    as an ``lru_cache`` key costs more than the look-up saves. Any other object is given to ``build`` (which may
    itself be an ``lru_cache``). Keys must be immutable."""
    last: tuple[K, V] | None = None

    def kept(key: K) -> V:
        nonlocal last
        seen = last  # read once: another thread may replace it meanwhile
        if seen is not None and seen[0] is key:
            return seen[1]
        value = build(key)
        last = (key, value)
        return value

    return kept


def word_set(text: str) -> frozenset[str]:
    """ "a b c" -> {"a", "b", "c"}: word sets written compactly."""
    return frozenset(text.split())


# HTML is not what residents write, but a pasted snippet must not read as words: tags go, scripts and styles too.
TAG_RE = re.compile(r"<(script|style)\b[^<>]{0,200}>[^<]{0,2000}</\1\s*>|</?[A-Za-z][^<>]{0,200}>", re.IGNORECASE)
_FOLD = str.maketrans(
    {"’": "'", "‘": "'", "‚": "'", "‛": "'", "`": "'", "´": "'", "′": "'"}
    | {"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "″": '"'}
    | {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
_ASCII_CONTROLS = str.maketrans({chr(i): " " for i in [*range(32), 127]})
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff]")
WORD_RE = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    """Lowercase, accents stripped, HTML tags and control characters removed, curly quotes made straight,
    whitespace collapsed. Letters, digits, punctuation and emoji are kept ("Aide ?" -> "aide ?")."""
    return _normalized(text[:MAX_INPUT])


# A turn's readers normalize the same message (and the same labels) about twenty times: the result of a pure
# function of an immutable string is kept for the few most recent. Keys are at most MAX_INPUT characters.
@lru_cache(maxsize=256)
def _normalized(text: str) -> str:
    text = TAG_RE.sub("", text).lower()
    if text.isascii():
        return " ".join(text.translate(_ASCII_CONTROLS).split())
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text.translate(_FOLD)):
        category = unicodedata.category(ch)
        if category in ("Mn", "Me", "Cf", "Cs", "Co", "Cn"):
            # Accents, the emoji variation selector and keycap ("3️⃣" -> "3"), zero-width joiners, soft hyphens.
            continue
        out.append(" " if category[0] in "CZ" else ch)
    return " ".join(_SKIN_TONES.sub("", "".join(out).translate(_FOLD)).split())


def words(text: str) -> list[str]:
    """The Latin letters-and-digits words of the normalized text: "N°2, l'atelier!" -> ["n", "2", "l", "atelier"]."""
    return list(_words(text[:MAX_INPUT]))  # a list of its own: the caller may change it


# Likewise split into words about ten times a turn (``_normalized``); only the first MAX_INPUT characters count.
@lru_cache(maxsize=256)
def _words(text: str) -> tuple[str, ...]:
    return tuple(WORD_RE.findall(normalize(text)))


def squeeze(word: str) -> str:
    """ "ouiii" -> "oui", "okk" -> "ok": letters repeated, as typed on a phone."""
    return re.sub(r"(.)\1+", r"\1", word)


def has_phrase(padded: str, phrase: str) -> bool:
    """Whole-word containment: ``padded`` is " word word ... " (see ``pad_words``)."""
    return f" {phrase} " in padded


def phrase_search(phrases: Iterable[str]) -> Callable[[str], bool]:
    """``has_phrase`` for any of ``phrases`` at once, as one compiled search of the padded text instead of one scan
    per phrase (the understanding's largest cost in a turn). Built once per vocabulary list, at import."""
    # "(?!)" never matches: with no phrase, an empty pattern would match everything.
    pattern = re.compile("|".join(re.escape(f" {phrase} ") for phrase in phrases) or "(?!)")
    return lambda padded: pattern.search(padded) is not None


def pad_words(tokens: Iterable[str]) -> str:
    return f" {' '.join(tokens)} "


# Politeness that may surround a keyword or an answer: "aide svp", "stop merci", "bonjour, annuler".
_POLITENESS = tuple(
    tuple(p.split())
    for p in pipe(
        "s il vous plait|s il te plait|sil vous plait|merci beaucoup|merci bien|bonne journee|bonne soiree|svp merci"
        "|svp|stp|svpl|merci|mci|bonjour|bjr|bonsoir|salut|slt|coucou|hello|please|pls|cordialement|cdlt|madame"
        "|monsieur"
    )
)
POLITENESS_WORDS = frozenset(word for phrase in _POLITENESS for word in phrase)


def strip_politeness(tokens: list[str]) -> list[str]:
    """Remove politeness from both ends of the token list, as often as it appears (longest phrases first)."""
    changed = True
    while changed and tokens:
        changed = False
        if tokens[0] not in POLITENESS_WORDS and tokens[-1] not in POLITENESS_WORDS:
            break  # most messages: no phrase starts or ends like them, seen in two look-ups
        for phrase in _POLITENESS:
            size = len(phrase)
            if tuple(tokens[:size]) == phrase:
                tokens, changed = tokens[size:], True
                break
            if len(tokens) >= size and tuple(tokens[-size:]) == phrase:
                tokens, changed = tokens[:-size], True
                break
    return tokens
