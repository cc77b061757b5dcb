"""Greetings and people's names, as residents write them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from bot.conversation.understanding.communes import CommuneIndex, match_commune
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


# --- A name inside a message ---------------------------------------------------------------------------------
# "bjr je voudrais minscrire cest josette martin de domerat", "Yvette Morel Point" (dictated), "Mme Lucienne
# Aubert", "Colette et Bernard Renaud", "c'est pour ma grand mere Raymonde Petit".

# Words of a sentence around a name: a name stops at them.
_SENTENCE_WORDS = word_set(
    "je j jai me m moi mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs le la les l un une des du au "
    "aux en dans sur sous par pour pr avec sans chez ou mais donc car ni que qui quoi quand comment pourquoi ce c "
    "cet cette ces ca cest est es suis sommes etes sont ai as avons avez ont etait sera serai serais voudrais "
    "voudrait veux veut voulais souhaite souhaiterais aimerais desire peux pouvez pourrais inscrire minscrire "
    "inscris inscription inscriptions atelier ateliers cours formation numerique numeriques informatique tablette "
    "telephone portable ordinateur smartphone internet bonjour bjr bonsoir salut slt coucou cc hello merci mci svp "
    "stp sil plait vous tu il elle on nous ils elles y ne pas plus tres bien oui non ok daccord habite habites "
    "habitons vis vit reside commune village ville appelle apelle appel nom prenom info infos renseignement "
    "renseignements savoir besoin aide question participer venir viens viendrai voir ici voici hier demain "
    "aujourd hui semaine lundi mardi mercredi jeudi vendredi samedi dimanche cordialement bonne journee soiree "
    "inscrit inscrite voila alors bon ben euh svpl bisous bises et nul nulle debutant debutante perdu perdue "
    "novice zero seul seule veuve veuf retraite retraitee interesse interessee content contente sera serons "
    "vient viendra viendrons venons allons va vais deux trois quatre personnes personne ans gratuit gratuite "
    "payant payante arnaque vrai serieux quoi combien message sms jveux jvoudrais jvoudrai voudre voudré jsuis "
    "chuis jai jsp pk pcq ds tt bcp mrc dsl minscrir inscrir participer"
)
# Relatives and such: skipped before a name ("ma grand mere Raymonde"), but a surname once a name has begun
# ("Raymonde Petit").
_SOFT_WORDS = word_set(
    "grand grande petit petite mere pere fille fils mari femme epouse epoux ami amie voisin voisine soeur frere "
    "tante oncle cousin cousine belle beau mamie papi mamy papy maman papa"
)
_DICTATION = word_set("point virgule")
_PLACE_MARKS = word_set("de d du a au sur")
_INTROS = (
    "je m appelle", "je m apelle", "je mappelle", "je mapelle", "moi c est", "mon nom est", "mon nom c est",
    "c est", "cest", "ici", "voici", "elle s appelle", "il s appelle", "son nom est", "elle s apelle",
    "il s apelle", "je suis",
)  # fmt: skip
_PADDED_INTROS = tuple(f" {intro} " for intro in _INTROS)  # as ``has_phrase`` pads them
_ELISIONS = frozenset(("j", "m", "c", "qu", "n", "s", "t"))  # "j'habite", "c'est": a sentence, not a name


@dataclass(frozen=True)
class NameReading:
    """The name found in a message, and the second person's when two are named ("Colette et Bernard Renaud")."""

    name: str | None = None
    companion: str | None = None


def _items(text: str) -> list[str]:
    """Words as written (accents and case kept), punctuation that ends a phrase as "|"."""
    text = unicodedata.normalize("NFC", TAG_RE.sub(" ", text[: 4 * _MAX_NAME])).translate(_APOSTROPHES)
    items: list[str] = []
    for chunk in re.split(r"[,;:!?()\n]|\.(?=\s|$)", text):
        words_of_chunk = [w.strip("-'.") for w in _NOT_NAME_CHARS.sub(" ", chunk).split()]
        items += [w for w in words_of_chunk if w] + ["|"]
    return items


def _key(item: str) -> str:
    return " ".join(words(item))


def _place_of(words_: list[str], communes: CommuneIndex) -> tuple[str, tuple[str, ...], str | None] | None:
    found = match_commune(" ".join(words_), communes, typos=False)
    if found.kind in ("exact", "several", "outside") and not found.approximate and found.postcode is None:
        return found.kind, tuple(c.insee for c in found.communes), found.neighbour
    return None


def _commune_at(items: list[str], start: int, communes: CommuneIndex | None) -> int:
    """How many items from ``start`` name a place (a commune surely, not a lone word of its name), the place
    starting right there; 0: none."""
    if communes is None or start >= len(items) or items[start] == "|":
        return 0
    for end in range(min(len(items), start + 5), start, -1):
        if "|" in items[start:end]:
            continue
        place = _place_of(items[start:end], communes)
        if place is not None and (end == start + 1 or _place_of(items[start + 1 : end], communes) != place):
            return end - start
    return 0


def _namelike(item: str) -> bool:
    key = _key(item)
    if not key or item == "|" or any(ch.isdigit() for ch in item):
        return False
    head, _, rest = key.partition(" ")
    if rest and head in _ELISIONS:
        return False
    if rest and all(word in _SOFT_WORDS | _SENTENCE_WORDS for word in key.split()):
        return False  # "grand-mère", "petite-fille"
    return key not in _SENTENCE_WORDS and key not in _GREETINGS and key not in POLITENESS_WORDS


def _skip_intro(items: list[str]) -> tuple[list[str], bool]:
    """The items right after "je m'appelle" / "c'est" / "moi c'est" when a name follows it at once; whether such
    an introduction was found ("c'est pour ma grand-mère…" or "c'est une arnaque" introduce no name)."""
    keys = [_key(i) for i in items]
    for start in range(len(items)):
        tail = f" {' '.join(k for k in keys[start : start + 4] if k)} "
        if not tail.startswith(_PADDED_INTROS):
            continue  # most words: no introduction starts there, seen in one call
        for intro, padded in zip(_INTROS, _PADDED_INTROS, strict=True):
            if not tail.startswith(padded):
                continue
            size = len(intro.split())
            used, count = start, 0
            while count < size and used < len(items):
                count += len(keys[used].split()) or 1
                used += 1
            following = items[used:]
            if following and (_namelike(following[0]) or _key(following[0]) in _TITLES):
                if intro == "je suis" and len(following) > 1 and not _namelike(following[1]):
                    continue  # "je suis Martine" yes; "je suis perdue avec…" no
                return following, True
    return items, False


def _run(items: list[str], communes: CommuneIndex | None) -> tuple[int, list[str]]:
    """Where the first run of name words starts, and its words: relatives are skipped before it, a place alone is
    no name; a sentence word, a punctuation mark, a dictated "point" or a place ("de Domérat") ends it."""
    run: list[str] = []
    start = 0
    index = 0
    while index < len(items):
        item, key = items[index], _key(items[index])
        if not run:
            place = _commune_at(items, index, communes)
            if place:
                index += place
                continue
            if _namelike(item) and key not in _SOFT_WORDS and key not in _PLACE_MARKS | _PARTICLES:
                run, start = [item], index
            index += 1
            continue
        if key in _DICTATION and len(run) >= 2:
            break
        head, _, rest = key.partition(" ")
        if key in _PLACE_MARKS or (rest and head in _PLACE_MARKS):
            if _commune_at(items, index + 1, communes) or (rest and _commune_at([rest], 0, communes)):
                break
            following = [_key(i) for i in items[index + 1 : index + 3]]
            nobility = key in _PARTICLES and len(following) == 2 and following[0] in ("la", "le")
            if nobility and _namelike(items[index + 2]):  # "Jean de la Fontaine"
                run += items[index : index + 3]
                index += 3
                continue
            if rest or (key in _PARTICLES and index + 1 < len(items) and _namelike(items[index + 1])):
                run.append(item)  # "d'Artagnan", "de Gaulle"
                index += 1
                continue
            break
        if key == "et" or key in _SOFT_WORDS or _namelike(item):
            if key != "et" and len([r for r in run if _key(r) != "et"]) >= 2 and _commune_at(items, index, communes):
                break  # "Josette Martin Domérat"
            run.append(item)
            index += 1
            continue
        break
    while run and _key(run[-1]) in ("et", *_PARTICLES):
        run.pop()
    return start, run


def _split_couple(run: list[str]) -> tuple[list[str], list[str] | None]:
    keys = [_key(r) for r in run]
    if "et" not in keys:
        return run, None
    at = keys.index("et")
    left, right = run[:at], run[at + 1 :]
    titles = [k.rstrip(".") in _TITLES for k in keys]
    if not left or not right or (titles[0] and at + 1 < len(run) and titles[at + 1]):
        return run, None  # "M. et Mme Bernard": one name for a couple, as written
    if len(left) == 1 and len(right) >= 2:
        left = [*left, right[-1]]
    elif len(right) == 1 and len(left) >= 2:
        right = [*right, left[-1]]
    return left, right


def _tidy(parts: list[str]) -> str:
    if len(parts) >= 3 and _key(parts[0]) in _TITLES and _key(parts[1]) not in ("et", *_TITLES):
        parts = parts[1:]  # "Mme Lucienne Aubert" is Lucienne Aubert; "Mme Dupont" stays as it is
    return " ".join(_capitalize_word(word, first=position == 0) for position, word in enumerate(parts))


def _only_a_place_after(items: list[str], communes: CommuneIndex | None) -> bool:
    """What follows a name in a message that is nothing but a name: where they live ("de Domérat"), politeness."""
    index = 0
    while index < len(items):
        key = _key(items[index])
        if items[index] == "|" or key in POLITENESS_WORDS or key in _PLACE_MARKS or key in ("j habite", "habite"):
            index += 1
            continue
        place = _commune_at(items, index, communes)
        if not place:
            return False
        index += place
    return True


# What may come before a name nobody introduced: "bonjour, je voudrais m'inscrire pour ma mère : Jeanne Roux".
_BEFORE_NAME = (
    word_set(
        "je j voudrais veux souhaite souhaiterais aimerais m minscrire inscrire inscription pour pr l atelier "
        "ateliers un une s il vous plait c est cest ma mon svp stp merci oui ok"
    )
    | _SOFT_WORDS
    | _GREETINGS
    | POLITENESS_WORDS
)


def read_name(text: str, *, communes: CommuneIndex | None = None, expected: bool = True) -> NameReading:
    """The person's name in a message. ``expected``: the message answers "what is your name?", so the first name
    words are taken after a greeting or a request to sign up; otherwise only a name introduced as one ("c'est
    Josette Martin", "je m'appelle…") or a message that is nothing but a name (and maybe where they live) counts."""
    items = _items(text)
    rest, introduced = _skip_intro(items)
    start, run = _run(rest if introduced else items, communes)
    if not run:
        return NameReading()
    if not introduced:
        allowed = _BEFORE_NAME if expected else _GREETINGS | POLITENESS_WORDS
        before = [_key(i) for i in items[:start] if i != "|"]
        if any(word not in allowed for key in before for word in key.split()):
            return NameReading()  # "je voudrais savoir les horaires": a sentence, not a name
        if not expected and not _only_a_place_after(items[start + len(run) :], communes):
            return NameReading()  # "slt jveux minscrire": a sentence again
    left, right = _split_couple(run)
    name = _tidy(left)
    if not looks_like_name(name):
        return NameReading()
    companion = _tidy(right) if right else None
    return NameReading(name=name, companion=companion if companion and looks_like_name(companion) else None)
