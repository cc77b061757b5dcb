"""Communes: fuzzy names, postcodes shared by several communes, neighbours outside the territory."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.conversation.understanding.text import POLITENESS_WORDS, SHORT_ANSWER_CHARS, normalize, word_set, words
from bot.territory import CommuneInfo, FrenchCommune, Neighbour, Territory

Place = CommuneInfo | Neighbour
MatchKind = Literal["exact", "several", "outside", "none"]

_ARTICLES = frozenset({"la", "le", "les", "l"})
_CONNECTORS = frozenset({"en", "sur", "sous", "les", "lez", "d", "de", "du", "des", "la", "le", "aux"})
_SAINTS = frozenset({"saint", "sainte"})
# Words too common to stand for a commune on their own ("ça marche", "petite-fille", "les bains", "Anne").
_GENERIC = word_set(
    "anne bains allier cher loire marche petite petit grand grande bourg ville village eglise mont pont bois haut "
    "bas vieux neuf vieille neuve"
)
# Words around a commune name: "j'habite à St Victor", "je suis de Domérat", "à Quinssaines".
_PLACE_FILLERS = word_set(
    "j je habite habites habitons vis vit vivons suis sommes reside residons resident domicile domicilie "
    "domiciliee a au aux de d du des sur dans en commune village ville pres proche cote vers chez moi bourg c "
    "est mon ma on nous hameau lieu dit lieudit i live in from the ici la le les l juste"
)
_POSTCODE = re.compile(r"(?<!\d)(\d{2}) ?(\d{3})(?!\d)")
_MAX_PLACE_TOKENS = 40
RANK_FULL, RANK_SHORT, RANK_WORD = 3, 2, 1


def _place_tokens(text: str) -> list[str]:
    """Words of a place name, "st"/"ste" read as "saint"/"sainte"; hyphens, apostrophes and spaces alike."""
    return ["saint" if t == "st" else "sainte" if t == "ste" else t for t in words(text)]


def _head(body: list[str]) -> list[str]:
    """The usual short name: the part before a connector ("marcillat en combraille" -> "marcillat", "saint
    marcel en marcillat" -> "saint marcel", "neris les bains" -> "neris"), before an inner saint ("lavault sainte
    anne" -> "lavault"), else the first word of a compound ("teillet argenty" -> "teillet"). "Saint-Victor" has
    none shorter."""
    for index in range(1, len(body)):
        token = body[index]
        if token in _CONNECTORS or (token in _SAINTS and body[0] not in _SAINTS):
            return body[:index]
    return body if body[0] in _SAINTS else body[:1]


def _aliases(name: str) -> list[tuple[str, int]]:
    """The ways a resident may name a place, compacted ("saintvictor"), with how sure a hit is: the full name;
    the usual short names ("petite marche", "marcillat", "saint marcel", "teillet", "neris", "sainte anne"); a
    distinctive word of the name alone ("victor", "argenty", "combraille"), the weakest."""
    tokens = _place_tokens(name)
    if not tokens:
        return []
    found: list[tuple[str, int]] = [("".join(tokens), RANK_FULL)]
    if tokens[0] in _ARTICLES and len(tokens) > 1:
        # "La Petite-Marche" -> "petite marche"; its first word alone would be far too common.
        body = tokens[1:]
        found.append(("".join(body), RANK_SHORT))
    else:
        body = tokens
        head = _head(body)
        if head != body and not (len(head) == 1 and (head[0] in _GENERIC or len(head[0]) < 4)):
            found.append(("".join(head), RANK_SHORT))
    for index, token in enumerate(body):
        if token in _SAINTS and 0 < index < len(body) - 1:
            found.append((token + body[index + 1], RANK_SHORT))
        elif index > 0 and len(token) >= 5 and token not in _GENERIC | _CONNECTORS | _SAINTS:
            found.append((token, RANK_WORD))
    return found


def name_key(name: str) -> str:
    return " ".join(words(name))


@dataclass(frozen=True)
class CommuneIndex:
    """Precomputed keys for matching communes: build once per territory (``CommuneIndex.build``), or let
    ``match_commune`` do it through ``commune_index``."""

    communes: tuple[CommuneInfo, ...]
    neighbours: tuple[Neighbour, ...]
    by_postcode: dict[str, tuple[CommuneInfo, ...]] = field(repr=False)
    neighbours_by_postcode: dict[str, tuple[Neighbour, ...]] = field(repr=False)
    # compact key ("saintvictor") -> the places it may mean, each with the rank of that meaning
    aliases: dict[str, tuple[tuple[Place, int], ...]] = field(repr=False)
    fuzzy_keys: tuple[str, ...] = field(repr=False)
    saints: tuple[CommuneInfo, ...] = field(repr=False)
    max_tokens: int = 5

    @classmethod
    def build(cls, territory: Territory) -> CommuneIndex:
        communes = tuple(sorted(territory.communes, key=lambda c: name_key(c.name)))
        aliases: dict[str, dict[Place, int]] = {}
        max_tokens = 1
        places: tuple[Place, ...] = (*communes, *territory.neighbours)
        for place in places:
            max_tokens = max(max_tokens, len(_place_tokens(place.name)))
            for key, rank in _aliases(place.name):
                targets = aliases.setdefault(key, {})
                targets[place] = max(rank, targets.get(place, 0))
        by_postcode: dict[str, list[CommuneInfo]] = {}
        for commune in communes:
            by_postcode.setdefault(commune.postcode, []).append(commune)
        neighbours_by_postcode: dict[str, list[Neighbour]] = {}
        for neighbour in territory.neighbours:
            neighbours_by_postcode.setdefault(neighbour.postcode, []).append(neighbour)
        return cls(
            communes=communes,
            neighbours=territory.neighbours,
            by_postcode={k: tuple(v) for k, v in by_postcode.items()},
            neighbours_by_postcode={k: tuple(v) for k, v in neighbours_by_postcode.items()},
            aliases={k: tuple(v.items()) for k, v in aliases.items()},
            # Typos are looked for only against names and usual short names, never against a lone word.
            fuzzy_keys=tuple(k for k, v in aliases.items() if len(k) >= 5 and max(v.values()) >= RANK_SHORT),
            saints=tuple(c for c in communes if _place_tokens(c.name)[:1] in (["saint"], ["sainte"])),
            max_tokens=max_tokens + 1,
        )


@dataclass(frozen=True)
class CommuneMatch:
    """What a resident's answer to "which commune?" means.

    - ``exact``: one commune of the territory (``communes[0]``, also ``commune``); ``approximate`` when it was
      found despite a typo or from a single word of its name, so the dialogue may say the name back.
    - ``several``: a shared postcode or an ambiguous name; ``communes`` sorted by name, to offer as choices.
    - ``outside``: a neighbouring village (``neighbour`` is its name) or a postcode that is not the territory's
      (``postcode``; ``neighbour`` is None when the postcode belongs to no single known neighbour).
    - ``none``: not understood.
    """

    kind: MatchKind
    communes: tuple[CommuneInfo, ...] = ()
    neighbour: str | None = None
    postcode: str | None = None
    approximate: bool = False

    @property
    def commune(self) -> CommuneInfo | None:
        return self.communes[0] if self.kind == "exact" else None


_NO_COMMUNE = CommuneMatch("none")
_INDEX_CACHE: dict[int, tuple[Territory, CommuneIndex]] = {}


def commune_index(territory: Territory) -> CommuneIndex:
    """The index of a territory, built on first use and kept while that same territory object is used."""
    cached = _INDEX_CACHE.get(id(territory))
    if cached is not None and cached[0] is territory:
        return cached[1]
    index = CommuneIndex.build(territory)
    if len(_INDEX_CACHE) >= 16:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[id(territory)] = (territory, index)
    return index


def _typo_allowance(size: int) -> int:
    if size >= 12:
        return 3
    if size >= 8:
        return 2
    return 1 if size >= 5 else 0


def _windows(tokens: Sequence[str], longest: int) -> Iterable[list[str]]:
    for start in range(len(tokens)):
        for size in range(1, min(longest, len(tokens) - start) + 1):
            yield list(tokens[start : start + size])


def _compact_variants(key: str) -> tuple[str, ...]:
    # "stvictor" typed as one word.
    if key.startswith("ste") and not key.startswith("sainte"):
        return (key, "sainte" + key[3:])
    if key.startswith("st") and not key.startswith("saint"):
        return (key, "saint" + key[2:])
    return (key,)


def _exact_hits(index: CommuneIndex, tokens: Sequence[str]) -> dict[Place, int]:
    hits: dict[Place, int] = {}
    for window in _windows(tokens, index.max_tokens):
        for variant in _compact_variants("".join(window)):
            for place, rank in index.aliases.get(variant, ()):
                hits[place] = max(rank, hits.get(place, 0))
    return hits


def _fuzzy_hits(index: CommuneIndex, tokens: Sequence[str]) -> dict[Place, int]:
    """Places within a few typos of a window of the message, at the smallest distance found."""
    best: int | None = None
    found: dict[Place, int] = {}
    for window in _windows(tokens, index.max_tokens):
        key = "".join(window)
        if window[0] in _PLACE_FILLERS or window[-1] in _PLACE_FILLERS or len(key) < 5:
            continue
        for variant in _compact_variants(key):
            for alias, distance, _ in process.extract(
                variant, index.fuzzy_keys, scorer=Levenshtein.distance, score_cutoff=_typo_allowance(len(key))
            ):
                if distance > _typo_allowance(len(alias)) or (best is not None and distance > best):
                    continue
                if best is None or distance < best:
                    best, found = distance, {}
                for place, rank in index.aliases[alias]:
                    found[place] = max(rank, found.get(place, 0))
    return found


def _decide(hits: dict[Place, int], *, approximate: bool) -> CommuneMatch | None:
    inside = {p: r for p, r in hits.items() if isinstance(p, CommuneInfo)}
    outside = {p: r for p, r in hits.items() if isinstance(p, Neighbour)}
    best_inside = max(inside.values(), default=0)
    best_outside = max(outside.values(), default=0)
    # A single word of the name ("victor", "marcel") may be a person's name: say the commune back to be sure.
    approximate = approximate or max(best_inside, best_outside) == RANK_WORD
    if best_inside and best_inside >= best_outside:
        chosen = sorted((p for p, r in inside.items() if r == best_inside), key=lambda c: name_key(c.name))
        kind: MatchKind = "exact" if len(chosen) == 1 else "several"
        return CommuneMatch(kind, tuple(chosen), approximate=approximate)
    if best_outside:
        names = sorted(p.name for p, r in outside.items() if r == best_outside)
        return CommuneMatch("outside", neighbour=names[0] if len(names) == 1 else None, approximate=approximate)
    return None


def _by_postcode(index: CommuneIndex, postcode: str) -> CommuneMatch:
    inside = index.by_postcode.get(postcode, ())
    if inside:
        return CommuneMatch("exact" if len(inside) == 1 else "several", inside, postcode=postcode)
    neighbours = index.neighbours_by_postcode.get(postcode, ())
    if len(neighbours) == 1:
        return CommuneMatch("outside", neighbour=neighbours[0].name, postcode=postcode)
    if neighbours or "01" <= postcode[:2] <= "98":
        # Any other French postcode is somewhere else than the territory.
        return CommuneMatch("outside", postcode=postcode)
    return _NO_COMMUNE


def _saints_only(index: CommuneIndex, content: list[str]) -> CommuneMatch:
    """ "st" or "ste" alone: the communes whose name starts with Saint/Sainte (or Sainte only), to choose from."""
    saints = tuple(c for c in index.saints if "saint" in content or _place_tokens(c.name)[0] == "sainte")
    if len(saints) == 1:
        return CommuneMatch("exact", saints, approximate=True)
    return CommuneMatch("several", saints) if saints else _NO_COMMUNE


# Commune names that are also everyday words: never taken for a place outside the territory.
_EVERYDAY = word_set("ville village bourg orange nice sens pont mont bois vue plus marche gare port cours")


@dataclass(frozen=True)
class FranceIndex:
    """Every French commune by name and by postcode, to name a place outside the territory properly. Built once
    from ``bot.territory.load_france`` by the wiring (it takes a moment), and passed in."""

    by_name: dict[str, list[FrenchCommune]] = field(repr=False)
    by_postcode: dict[str, list[FrenchCommune]] = field(repr=False)
    max_tokens: int = 9  # the longest names have eight words ("Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson")

    @classmethod
    def build(cls, communes: Iterable[FrenchCommune]) -> FranceIndex:
        by_name: dict[str, list[FrenchCommune]] = {}
        by_postcode: dict[str, list[FrenchCommune]] = {}
        for commune in communes:
            for key in commune.keys or france_keys(commune.name):
                by_name.setdefault(key, []).append(commune)
            for postcode in commune.postcodes:
                by_postcode.setdefault(postcode, []).append(commune)
        return cls(by_name=by_name, by_postcode=by_postcode)


def france_keys(name: str) -> tuple[str, ...]:
    """How a commune's name is looked up: compacted ("lemayetdemontagne"), and without its article too
    ("mayetdemontagne"). Computed once, when the file of every commune is bundled."""
    tokens = _place_tokens(name)
    keys = ["".join(tokens)]
    if len(tokens) > 1 and tokens[0] in _ARTICLES:
        keys.append("".join(tokens[1:]))
    return tuple(keys)


def _preferred(found: Iterable[FrenchCommune], departements: frozenset[str]) -> FrenchCommune | None:
    """Among homonyms, the one in the territory's départements, else the most populous (Moulins: Allier's)."""
    ranked = sorted(found, key=lambda c: (c.departement not in departements, -c.population, c.insee))
    return ranked[0] if ranked else None


def find_in_france(text: str, france: FranceIndex, departements: frozenset[str] = frozenset()) -> CommuneMatch:
    """A place anywhere in France: "Vichy", "j'habite à Moulins", "03200 vichy", "03200". ``outside`` with its
    proper name (``neighbour``) when one commune is meant, without a name for a postcode several share; ``none``
    otherwise. Names only exactly (no typo: with 35,000 names, a typo is another village)."""
    normalized = normalize(text[:SHORT_ANSWER_CHARS])
    tokens = _place_tokens(normalized)[:_MAX_PLACE_TOKENS]
    best: tuple[int, FrenchCommune] | None = None
    for window in _windows(tokens, france.max_tokens):
        if window[0] in _PLACE_FILLERS or window[-1] in _PLACE_FILLERS:
            continue
        key = "".join(window)
        if len(key) < 4 or (len(window) == 1 and window[0] in _EVERYDAY | POLITENESS_WORDS):
            continue
        for variant in _compact_variants(key):
            commune = _preferred(france.by_name.get(variant, ()), departements)
            if commune is not None and (best is None or len(key) > best[0]):
                best = (len(key), commune)
    postcode = _POSTCODE.search(normalized)
    code = postcode.group(1) + postcode.group(2) if postcode else None
    if best is not None:
        return CommuneMatch("outside", neighbour=best[1].name, postcode=code)
    if code is not None and code in france.by_postcode:
        sharing = france.by_postcode[code]
        return CommuneMatch("outside", neighbour=sharing[0].name if len(sharing) == 1 else None, postcode=code)
    return _NO_COMMUNE


def match_commune(
    text: str, territory: Territory | CommuneIndex, france: FranceIndex | None = None, *, typos: bool = True
) -> CommuneMatch:
    """Which commune the resident means: "st victor", "SAINT-VICTOR", "domerat", "j'habite à Quinssaines",
    "la petite marche", "teillet", "03410" (shared: several), "commentry" (outside), garbage (none).

    A name beats a postcode when both are given; a commune of the territory beats a neighbour named as surely.
    "marcillat" alone is Marcillat-en-Combraille, its usual name (Saint-Marcel-en-Marcillat's residents say
    "Saint-Marcel"). "st" alone lists the communes whose name starts with Saint/Sainte. Typos are tolerated
    (``approximate``), never when two places are equally close (then "several").

    With ``france``, a place outside the territory and its neighbours is still named properly ("Vichy", "03200
    vichy" → Vichy), as ``outside``.

    ``typos=False``: no place is looked for a few typos away (the slowest step), for readers that set aside what is
    ``approximate``: whatever only typos would find is ``approximate``, so they get the same answer — without
    ``france`` (with it, a typo missed in the territory would let France be searched instead).
    """
    found = _match_in_territory(text, territory, typos=typos)
    if france is None or (found.kind != "none" and not (found.kind == "outside" and found.neighbour is None)):
        return found
    departements = territory.departements if isinstance(territory, Territory) else _departements(territory)
    elsewhere = find_in_france(text, france, departements)
    return elsewhere if elsewhere.kind != "none" else found


def _departements(index: CommuneIndex) -> frozenset[str]:
    return frozenset(c.insee[:3] if c.insee.startswith("97") else c.insee[:2] for c in index.communes)


def _match_in_territory(text: str, territory: Territory | CommuneIndex, *, typos: bool = True) -> CommuneMatch:
    index = territory if isinstance(territory, CommuneIndex) else commune_index(territory)
    normalized = normalize(text[:SHORT_ANSWER_CHARS])
    tokens = _place_tokens(normalized)[:_MAX_PLACE_TOKENS]
    if not tokens:
        return _NO_COMMUNE
    named = _decide(_exact_hits(index, tokens), approximate=False)
    if named is not None:
        return named
    postcode = _POSTCODE.search(normalized)
    if postcode is not None:
        return _by_postcode(index, postcode.group(1) + postcode.group(2))
    content = [t for t in tokens if t not in _PLACE_FILLERS and t not in POLITENESS_WORDS]
    if content and set(content) <= _SAINTS:
        return _saints_only(index, content)
    if not typos:
        return _NO_COMMUNE
    fuzzy = _decide(_fuzzy_hits(index, tokens), approximate=True)
    return fuzzy if fuzzy is not None else _NO_COMMUNE
