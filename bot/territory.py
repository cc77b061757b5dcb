"""The territory file: communes, venues, display name, SMS sender name, advisers' public contact, what residents
may ask to learn (with the words they use for it) and the answers to their usual questions.

A territory is configuration, not code: another French EPCI is one more TOML file (see
``scripts/territory_from_csv.py``) pointed at by ``ATELIER_TERRITORY``. Every French commune is bundled apart
(``load_france``), read only when first needed, so that a place outside the territory is named properly.
"""

from __future__ import annotations

import gzip
import math
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.conversation.gsm7 import count_segments, to_gsm7

FRANCE_FILE = Path(__file__).resolve().parent / "territories" / "france-communes.tsv.gz"
# An answer to a question is one SMS: 160 GSM-7 characters (accents that GSM-7 lacks are dropped by then).
MAX_ANSWER = 160


@dataclass(frozen=True)
class CommuneInfo:
    insee: str
    name: str
    postcode: str
    latitude: float
    longitude: float
    population: int = 0


@dataclass(frozen=True)
class VenueInfo:
    commune_insee: str
    name: str
    address: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Neighbour:
    """A commune just outside the territory: recognised so that its residents get a kind answer."""

    name: str
    postcode: str


@dataclass(frozen=True)
class Interest:
    """Something residents ask to learn, as offered in the list ("Impôts"), with the words that mean it in free
    text and in the advisers' workshop topics ("declaration", "impots", "taxe")."""

    label: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class FaqEntry:
    """A question residents ask in the middle of anything ("c'est payant ?"): the words that give it away and the
    territory's answer (one SMS). The key ``where`` is answered with the address of the workshop being discussed
    when there is one."""

    key: str
    words: tuple[str, ...]
    answer: str


@dataclass(frozen=True, slots=True)
class FrenchCommune:
    """Any commune of France (for names and postcodes outside the territory). ``keys``: the name as looked up,
    compacted ("saintpourcainsursioule"), computed when the file is bundled so that loading it is only reading."""

    insee: str
    name: str
    postcodes: tuple[str, ...]
    population: int
    keys: tuple[str, ...] = ()

    @property
    def departement(self) -> str:
        return self.insee[:3] if self.insee.startswith("97") else self.insee[:2]


@dataclass(frozen=True)
class Contact:
    phone: str
    email: str
    hours: str = ""


@dataclass(frozen=True)
class Confirmation:
    """Whether the territory asks residents to confirm (OUI / NON to the reminder), and so phones those seated for a
    workshop within ``call_within`` who have not answered (the advisers' "to call" list)."""

    required: bool = False
    call_within: timedelta = timedelta(hours=48)


# La Coop de la médiation numérique's fixed list of themes for an activity record (its "thématiques"), as it
# writes them: a territory's table may only name these, so that every record can be entered as it is.
COOP_THEMES = (
    "Diagnostic numérique", "Prendre en main du matériel", "Maintenance de matériel", "Gérer ses contenus numériques",
    "Navigation sur internet", "E-mail", "Bureautique", "Réseaux sociaux communication", "Santé",
    "Banque et achats en ligne", "Accompagner un professionnel", "Insertion professionnelle",
    "Prévention en sécurité numérique", "Parentalité", "Scolarité et numérique", "Créer avec le numérique",
    "Culture numérique", "Intelligence artificielle (IA)", "Aide aux démarches administratives",
)  # fmt: skip


@dataclass(frozen=True)
class ThemeRule:
    """A workshop whose topic holds one of ``words`` (accents and case aside) is recorded under ``themes``."""

    words: tuple[str, ...]
    themes: tuple[str, ...]


@dataclass(frozen=True)
class CoopThemes:
    """How workshop topics become La Coop's themes: every rule that matches adds its themes; none: ``default``."""

    rules: tuple[ThemeRule, ...] = ()
    default: tuple[str, ...] = ("Prendre en main du matériel",)


@dataclass(frozen=True)
class Territory:
    name: str
    sender_name: str
    contact: Contact
    communes: tuple[CommuneInfo, ...]
    venues: tuple[VenueInfo, ...] = ()
    neighbours: tuple[Neighbour, ...] = ()
    confirmation: Confirmation = Confirmation()
    coop: CoopThemes = CoopThemes()
    interests: tuple[Interest, ...] = ()
    faq: tuple[FaqEntry, ...] = ()
    _by_insee: dict[str, CommuneInfo] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_insee.update({c.insee: c for c in self.communes})

    def commune(self, insee: str) -> CommuneInfo | None:
        return self._by_insee.get(insee)

    def venues_in(self, insee: str) -> list[VenueInfo]:
        return [v for v in self.venues if v.commune_insee == insee]

    @property
    def departements(self) -> frozenset[str]:
        """The départements of its communes (a homonym outside is looked for there first)."""
        return frozenset(c.insee[:3] if c.insee.startswith("97") else c.insee[:2] for c in self.communes)


class TerritoryError(ValueError):
    pass


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); plenty for ranking villages a few km apart."""
    radius = 6371.0
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


def _require(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise TerritoryError(f"{where}: missing '{key}'")
    return table[key]


def _words(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
        raise TerritoryError(f"{where}: 'words' must be a list of words or phrases")
    return tuple(w.strip() for w in value)


def _interests(data: dict[str, Any]) -> tuple[Interest, ...]:
    interests = tuple(
        Interest(label=str(_require(i, "label", "interest")), words=_words(i.get("words", []), "interest"))
        for i in data.get("interests", [])
    )
    if len({i.label for i in interests}) != len(interests):
        raise TerritoryError("interests: two have the same label")
    return interests


def _faq(data: dict[str, Any]) -> tuple[FaqEntry, ...]:
    entries = []
    for f in data.get("faq", []):
        key = str(_require(f, "key", "faq"))
        answer = " ".join(str(_require(f, "answer", f"faq {key}")).split())
        if count_segments(to_gsm7(answer)) > 1:
            raise TerritoryError(f"faq {key}: the answer is longer than one SMS ({MAX_ANSWER} characters)")
        entries.append(FaqEntry(key=key, words=_words(_require(f, "words", f"faq {key}"), f"faq {key}"), answer=answer))
    return tuple(entries)


def parse_territory(data: dict[str, Any]) -> Territory:
    contact = data.get("contact", {})
    communes = tuple(
        CommuneInfo(
            insee=str(_require(c, "insee", "commune")),
            name=str(_require(c, "name", "commune")),
            postcode=str(_require(c, "postcode", "commune")),
            latitude=float(_require(c, "latitude", "commune")),
            longitude=float(_require(c, "longitude", "commune")),
            population=int(c.get("population", 0)),
        )
        for c in data.get("communes", [])
    )
    if not communes:
        raise TerritoryError("a territory needs at least one commune")
    known = {c.insee for c in communes}
    venues = []
    for v in data.get("venues", []):
        insee = str(_require(v, "commune", "venue"))
        if insee not in known:
            raise TerritoryError(f"venue {v.get('name')!r}: commune {insee} is not in the territory")
        venues.append(
            VenueInfo(
                commune_insee=insee,
                name=str(_require(v, "name", "venue")),
                address=str(_require(v, "address", "venue")),
                latitude=float(_require(v, "latitude", "venue")),
                longitude=float(_require(v, "longitude", "venue")),
            )
        )
    return Territory(
        name=str(_require(data, "name", "territory")),
        sender_name=str(data.get("sender_name", "Atelier")),
        contact=Contact(
            phone=str(contact.get("phone", "")),
            email=str(contact.get("email", "")),
            hours=str(contact.get("hours", "")),
        ),
        communes=communes,
        venues=tuple(venues),
        neighbours=tuple(
            Neighbour(name=str(n["name"]), postcode=str(n.get("postcode", ""))) for n in data.get("neighbours", [])
        ),
        confirmation=_confirmation(data.get("confirmation", {})),
        coop=_coop(data.get("coop", {})),
        interests=_interests(data),
        faq=_faq(data),
    )


def _themes(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not values:
        raise TerritoryError(f"{where}: themes must be a non-empty list of La Coop's themes")
    unknown = [v for v in values if v not in COOP_THEMES]
    if unknown:
        raise TerritoryError(f"{where}: {unknown} not in La Coop's themes: {', '.join(COOP_THEMES)}")
    return tuple(str(v) for v in values)


def _coop(table: dict[str, Any]) -> CoopThemes:
    rules = []
    for number, rule in enumerate(table.get("themes", []), start=1):
        words = rule.get("words")
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise TerritoryError(f"coop.themes #{number}: 'words' must be a non-empty list of words")
        rules.append(ThemeRule(tuple(words), _themes(rule.get("themes"), f"coop.themes #{number}")))
    default = _themes(table["default_themes"], "coop.default_themes") if "default_themes" in table else None
    return CoopThemes(tuple(rules), default or CoopThemes().default)


def _confirmation(table: dict[str, Any]) -> Confirmation:
    hours = table.get("call_within_hours", 48)
    if not isinstance(hours, int | float) or hours <= 0:
        raise TerritoryError(f"confirmation: 'call_within_hours' must be a positive number of hours, not {hours!r}")
    return Confirmation(required=bool(table.get("required", False)), call_within=timedelta(hours=hours))


def load_territory(path: Path) -> Territory:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise TerritoryError(f"territory file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TerritoryError(f"territory file {path} is not valid TOML: {exc}") from exc
    return parse_territory(data)


def load_france(path: Path = FRANCE_FILE) -> tuple[FrenchCommune, ...]:
    """Every French commune, from the bundled file (about 0.2 s: call it once, when first needed)."""
    communes = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            insee, name, postcodes, population, keys = line.rstrip("\n").split("\t")
            communes.append(
                FrenchCommune(insee, name, tuple(postcodes.split()), int(population or 0), tuple(keys.split(",")))
            )
    return tuple(communes)
