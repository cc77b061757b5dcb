"""What a sentence wants, whatever question it answers: to cancel ("je suis malade je viendrai pas mardi"), to move
a booking ("je voudrais changer de date pour le 31"), to stop talking ("merci au revoir", "bon tant pis"), to be
erased ("effacez mon nom"), to be called back with a reason ("CONSEILLER je n'ai pas de voiture"), to sign up ("je
voudrais un atelier"), to come as two ("on sera deux avec mon mari"), to register someone else ("c'est pour ma
grand-mère"), or a usual question the territory answers ("c'est payant ?").

Keywords said alone (ANNULER, AIDE…) are ``keywords``' business; these are the same wishes inside sentences. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from bot.conversation.understanding.text import (
    POLITENESS_WORDS,
    SHORT_ANSWER_CHARS,
    has_phrase,
    last_by_identity,
    normalize,
    pad_words,
    phrase_search,
    pipe,
    word_set,
    words,
)
from bot.territory import FaqEntry


class Intent(StrEnum):
    CANCEL = "cancel"
    MOVE = "move"
    EXIT = "exit"
    THANKS = "thanks"
    ERASE = "erase"
    CALLBACK = "callback"
    WANT = "want"


_PHRASES: dict[Intent, tuple[str, ...]] = {
    Intent.ERASE: pipe(
        "effacez mon nom|effacer mon nom|effacez moi|effacer moi|supprimez mon nom|supprimer mon nom|retirez mon nom"
        "|retirer mon nom|enlevez mon nom|enlever mon nom|rayez mon nom|rayez moi|supprimez mes donnees"
        "|effacez mes donnees|supprimez mon numero|effacez mon numero|retirez moi de|enlevez moi de|supprimez moi"
        "|oubliez moi|effacez mes coordonnees|supprimez mes coordonnees|effacer mes coordonnees"
    ),
    Intent.MOVE: pipe(
        "changer de date|changer de jour|changer la date|changer le jour|changer d atelier|changer mon atelier"
        "|changer mon inscription|changer l atelier|changer de creneau|changer pour|changer d horaire|deplacer"
        "|decaler|reporter|une autre date|un autre jour|modifier mon inscription|modifier la date|echanger"
        "|venir un autre jour|venir plutot|plutot venir|autre creneau|changement de date"
    ),
    Intent.CANCEL: pipe(
        "annuler|annule|annulez|annulation|desinscrire|desinscrivez|je ne pourrai pas venir|je pourrai pas venir"
        "|pourrai pas venir|pourrais pas venir|peux pas venir|pourrai pas y aller|pourrai pas etre la"
        "|ne viendrai pas|viendrai pas|viendrais pas|viens pas|pourrai pas|je ne peux plus venir|peux plus venir"
        "|malade|empeche|empechee|empechement|hospitalise|hospitalisee|a l hopital|serai absent|serai absente"
        "|je me desiste|me desister|contretemps|imprevu|pas pouvoir venir|ne pas venir|ne pourrai pas"
        "|ne serai pas la|serai pas la|je dois annuler"
    ),
    Intent.EXIT: pipe(
        "au revoir|aurevoir|tant pis|bon tant pis|laissez tomber|laisse tomber|non merci finalement"
        "|finalement non|finalement pas|ca ne m interesse pas|ca m interesse pas|ca ne m interesse plus"
        "|je ne suis plus interesse|je ne suis plus interessee|je renonce|une autre fois|pas pour moi"
        "|je vais reflechir|je reflechis|je reviendrai vers vous|je vous recontacte|ne m interesse pas"
        "|je ne veux plus m inscrire|je veux plus m inscrire|pas la peine|plus la peine|on laisse tomber"
    ),
    Intent.CALLBACK: pipe(
        "rappelez moi|rappeler moi|me rappeler|me rappelle|appelez moi|appeler moi|telephonez moi"
        "|parler a un conseiller|parler a une conseillere|parler a quelqu un|un conseiller me rappelle"
        "|qu on me rappelle|besoin d un conseiller|joindre un conseiller|etre rappele|etre rappelee|m appeler"
    ),
    Intent.WANT: pipe(
        "un atelier|des ateliers|m inscrire|minscrire|m inscrit|inscription|participer|un cours|des cours"
        "|une formation|je voudrais apprendre|je veux apprendre|un autre atelier|me reinscrire|reinscrire"
        "|s inscrire|m enregistrer|prendre une place|une place"
    ),
}
# The order they are looked for: wanting to be erased or to move a seat says more than the words of cancelling
# it contain ("annuler et changer pour jeudi"); a goodbye is looked at once nothing more precise was said.
_ORDER = (Intent.ERASE, Intent.MOVE, Intent.CANCEL, Intent.CALLBACK, Intent.EXIT, Intent.WANT)
_SAYS = {intent: phrase_search(phrases) for intent, phrases in _PHRASES.items()}
_THANKS = (
    word_set(
        "merci beaucoup bien super parfait ok okay daccord d accord tres genial top cool bonne journee soiree a "
        "bientot vous aussi mille fois c est note note entendu au revoir aurevoir et"
    )
    | POLITENESS_WORDS
)


def read_intent(text: str) -> Intent | None:
    """The strongest wish in the message, or None (most answers carry none)."""
    tokens = words(text[:SHORT_ANSWER_CHARS])
    if not tokens:
        return None
    padded = pad_words(tokens)
    for intent in _ORDER:
        if _SAYS[intent](padded):
            return intent
        if intent == Intent.CALLBACK and tokens[0] in ("conseiller", "conseillere", "conseillers") and len(tokens) > 1:
            return intent  # "CONSEILLER je n'ai pas de voiture": the keyword, and why
    if "merci" in tokens and set(tokens) <= _THANKS:
        return Intent.THANKS
    return None


# --- Two people, or someone else ----------------------------------------------------------------------------

_RELATIVES = word_set(
    "mari epoux epouse femme compagnon compagne conjoint conjointe ami amie copine copain voisin voisine soeur "
    "frere cousin cousine fils fille mere pere maman papa belle beau petite petit grand tante oncle mamie papi "
    "mamy papy"
)
_TWO = pipe(
    "on sera deux|on sera 2|nous serons deux|nous serons 2|pour nous deux|nous deux|pour deux|pour 2|2 personnes"
    "|deux personnes|deux places|2 places|a deux|en couple|tous les deux|toutes les deux|on vient a deux"
    "|moi et mon|moi et ma|et moi|mon mari aussi|ma femme aussi|mon mari viendra|ma femme viendra|mon mari vient"
    "|ma femme vient|et mon mari|et ma femme|avec mon|avec ma"
)
_ON_BEHALF = word_set("pour inscris inscrire part")
_SELF = pipe(
    "je suis sa petite fille|je suis son petit fils|je suis sa fille|je suis son fils|je suis sa voisine"
    "|je suis la petite fille de|je suis le petit fils de|je suis la fille de|je suis le fils de|je l inscris"
)

_says_two, _says_self = phrase_search(_TWO), phrase_search(_SELF)


@dataclass(frozen=True)
class Party:
    """ "On sera deux avec mon mari Bernard": two people; the second one's words as given ("Bernard"), if any."""

    size: int = 1
    companion: str | None = None


def _relative_after(tokens: Sequence[str], index: int) -> bool:
    """A possessive then a relative from ``index``: "ma grand mere", "mon mari"; or "mamie" alone."""
    here = tokens[index : index + 2]
    if here[:1] and here[0] in ("mamie", "papi", "mamy", "papy"):
        return True
    return len(here) == 2 and here[0] in ("ma", "mon") and here[1] in _RELATIVES


def read_party(text: str) -> Party:
    """Two people coming together, and the second one's name when it follows the relation ("avec mon mari
    Bernard"). One otherwise: being registered by someone else is not coming as two."""
    tokens = words(text[:SHORT_ANSWER_CHARS])
    padded = pad_words(tokens)
    if not _says_two(padded):
        return Party()  # most messages, in one search
    found = [p for p in _TWO if has_phrase(padded, p)]
    if set(found) <= {"avec mon", "avec ma"}:
        # "avec mon mari", not "avec mon téléphone": a person must follow.
        if not _relative_after(tokens, tokens.index("avec") + 1):
            return Party()
    elif found == ["et moi"] and not any(_relative_after(tokens, i) for i in range(len(tokens))):
        return Party()
    raw = text[:SHORT_ANSWER_CHARS].split()
    companion = None
    for index, word in enumerate(raw):
        if normalize(word).strip(".,;:!?") in _RELATIVES and index + 1 < len(raw):
            following = raw[index + 1].strip(".,;:!?")
            if following[:1].isupper() and following.isalpha() and normalize(following) not in _RELATIVES:
                companion = following
    return Party(size=2, companion=companion)


def reads_for_someone_else(text: str) -> bool:
    """A relative registers someone: "c'est pour ma grand-mère", "j'inscris ma mère", "pour mamie". Not "ma
    femme et moi", which is two people."""
    tokens = words(text[:SHORT_ANSWER_CHARS])
    padded = pad_words(tokens)
    if _says_self(padded):
        return True
    if has_phrase(padded, "et moi") or has_phrase(padded, "moi et"):
        return False
    return any(token in _ON_BEHALF and _relative_after(tokens, index + 1) for index, token in enumerate(tokens))


# --- Questions the territory answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class _FaqPhrases:
    rows: tuple[tuple[str, bool, int], ...]  # (phrase, needs a question mark, entry index), longest first
    # Whether any phrase is in a padded message, with or without a question mark: most messages ask nothing, and
    # one compiled search says so at once instead of a scan per phrase.
    any_asked: Callable[[str], bool]
    any_unmarked: Callable[[str], bool]


@lru_cache(maxsize=32)
def _faq_phrases_of(faq: tuple[FaqEntry, ...]) -> _FaqPhrases:
    rows = []
    for index, entry in enumerate(faq):
        for word in entry.words:
            needs_mark = word.rstrip().endswith("?")
            phrase = " ".join(words(word))
            if phrase:
                rows.append((phrase, needs_mark, index))
    return _FaqPhrases(
        rows=tuple(sorted(rows, key=lambda row: -len(row[0]))),
        any_asked=phrase_search(phrase for phrase, _, _ in rows),
        any_unmarked=phrase_search(phrase for phrase, needs_mark, _ in rows if not needs_mark),
    )


_faq_phrases: Callable[[tuple[FaqEntry, ...]], _FaqPhrases] = last_by_identity(_faq_phrases_of)


def read_question(text: str, faq: Sequence[FaqEntry]) -> FaqEntry | None:
    """The usual question the message asks ("c'est payant ?", "je n'ai pas de voiture"), if any; the longest
    phrase found decides ("combien de temps ?" is about the duration, not the price)."""
    entries = tuple(faq)
    if not entries:
        return None
    short = text[:SHORT_ANSWER_CHARS]
    padded = pad_words(words(short))
    asked = "?" in short
    phrases = _faq_phrases(entries)
    if not (phrases.any_asked if asked else phrases.any_unmarked)(padded):
        return None
    for phrase, needs_mark, index in phrases.rows:
        if (asked or not needs_mark) and has_phrase(padded, phrase):
            return entries[index]
    return None
