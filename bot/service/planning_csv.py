"""The advisers' planning spreadsheet (CSV, SPEC §6), read into checked workshops. Pure: no I/O.

Bytes, the territory, the time zone and the clock come in; either every row as a ``PlannedWorkshop`` or the list
of ``RowError`` (file line number, one French sentence) comes out, so that nothing is imported until the whole
file is right. The same checks serve ``atelier workshops add`` (``check_fields``), so one workshop typed on the
command line and one row of a spreadsheet are judged alike.

What Excel in French really saves: ``;`` separators, Windows-1252 (or UTF-8 with a BOM when "CSV UTF-8" is
chosen), dates ``14/04/2026``, times as typed (``14h``, ``14:00`` or ``14:00:00``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.conversation.understanding.communes import match_commune
from bot.territory import CommuneInfo, Territory
from storage.enums import Level

DEFAULT_CAPACITY = 6
MAX_CAPACITY = 30
MAX_TOPIC = 200
# A date this far ahead is almost always a mistyped year (2062 for 2026).
FURTHEST_AHEAD = timedelta(days=2 * 366)

FIELDS = ("date", "start", "end", "commune", "venue", "address", "level", "topic", "capacity", "adviser")
REQUIRED = ("date", "start", "end", "commune", "level", "topic")
FRENCH_HEADER = "date;debut;fin;commune;lieu;adresse;niveau;theme;places"
FRENCH_NAMES = {
    "date": "date",
    "start": "début",
    "end": "fin",
    "commune": "commune",
    "venue": "lieu",
    "address": "adresse",
    "level": "niveau",
    "topic": "thème",
    "capacity": "places",
    "adviser": "conseiller",
}
# Header cells after ``_key`` (no accents, no case, no spaces or punctuation) → field.
HEADER_ALIASES = {
    "date": "date",
    "jour": "date",
    "debut": "start",
    "heuredebut": "start",
    "heurededebut": "start",
    "start": "start",
    "starttime": "start",
    "fin": "end",
    "heurefin": "end",
    "heuredefin": "end",
    "end": "end",
    "endtime": "end",
    "commune": "commune",
    "ville": "commune",
    "village": "commune",
    "town": "commune",
    "lieu": "venue",
    "salle": "venue",
    "venue": "venue",
    "adresse": "address",
    "address": "address",
    "niveau": "level",
    "level": "level",
    "theme": "topic",
    "sujet": "topic",
    "topic": "topic",
    "places": "capacity",
    "nombredeplaces": "capacity",
    "nbplaces": "capacity",
    "capacite": "capacity",
    "capacity": "capacity",
    "conseiller": "adviser",
    "conseillere": "adviser",
    "conseillerere": "adviser",  # "conseiller·ère"
    "animateur": "adviser",
    "animatrice": "adviser",
    "responsable": "adviser",
    "adviser": "adviser",
}
LEVEL_WORDS = {
    **dict.fromkeys(("debutant", "debutants", "debutante", "beginner", "beginners", "1", "niveau1"), Level.beginner),
    **dict.fromkeys(("intermediaire", "intermediaires", "intermediate", "2", "niveau2", "moyen"), Level.intermediate),
    **dict.fromkeys(
        ("confirme", "confirmes", "confirmee", "avance", "avances", "advanced", "3", "niveau3"), Level.advanced
    ),
}
SEPARATORS = (";", ",", "\t")

_DATE_FR = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
# 14:00, 14:00:00 (Excel), 14h, 14h30, 14 h 30, 9.30, 14
_TIME = re.compile(r"^(\d{1,2})\s*(?:(?:[:hH.]\s*(\d{2})?)(?::\d{2})?)?$")
# Excel sometimes writes a midnight time after a date cell: "14/04/2026 00:00".
_MIDNIGHT_SUFFIX = re.compile(r"\s+0{1,2}:00(:00)?$")
_SAINT = {"st": "saint", "ste": "sainte", "sts": "saints"}


class WorkshopFieldsError(ValueError):
    """One or more problems with one workshop, each a French sentence without a final full stop."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class PlannedWorkshop:
    """A checked workshop, ready to be stored. ``venue``/``address`` are None only when nothing was written and
    the territory knows no venue there (cannot happen after ``check_fields``: it refuses that case)."""

    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC
    commune_insee: str
    commune_name: str
    venue: str
    address: str | None  # None: the venue must already be known (the database decides)
    level: Level
    topic: str
    capacity: int
    line: int = 0  # the file line, for CSV rows
    adviser: str | None = None  # the adviser in charge, as written (the database knows who that is)


@dataclass(frozen=True)
class RowError:
    line: int  # the file line (the header is line 1); 0 for the file as a whole
    message: str

    def __str__(self) -> str:
        """``ligne 4 : la date est passée (…).`` — the way an adviser reads it."""
        if self.line:
            return f"ligne {self.line} : {self.message}."
        return f"{self.message[:1].upper()}{self.message[1:]}."


@dataclass(frozen=True)
class ParseResult:
    rows: tuple[PlannedWorkshop, ...] = ()
    errors: tuple[RowError, ...] = ()
    ignored_columns: tuple[str, ...] = ()  # header cells not understood (or repeated): their cells are not read

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class WorkshopFields:
    """One workshop as typed by a person: every value is text, as in the spreadsheet."""

    date: str
    start: str
    end: str
    commune: str
    level: str
    topic: str
    venue: str = ""
    address: str = ""
    capacity: str = ""
    adviser: str = ""


@dataclass
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)


# ---------------------------------------------------------------------------------------------------------------
# Words


def plain(text: str) -> str:
    """Lower case, no accents, punctuation as spaces, one space between words: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    bare = re.sub(r"[^a-z0-9]+", " ", bare)
    return " ".join(_SAINT.get(word, word) for word in bare.split())


def _key(text: str) -> str:
    return plain(text).replace(" ", "")


def find_commune(text: str, territory: Territory) -> CommuneInfo:
    """The territory's commune written ``text``: its INSEE code, or its name as ``match_commune`` understands it
    (accents, case, hyphens, St/Saint, a small typo, a postcode only one commune has). Raises
    WorkshopFieldsError with a sentence saying why not."""
    shown = " ".join(text.split())
    if not shown:
        raise WorkshopFieldsError(["la commune manque"])
    by_code = territory.commune(shown)
    if by_code is not None:
        return by_code
    found = match_commune(shown, territory)
    if found.kind == "exact":
        return found.communes[0]
    if found.kind == "several":
        names = ", ".join(c.name for c in found.communes)
        raise WorkshopFieldsError([f"« {shown} » peut désigner plusieurs communes ({names}) : écrivez son nom complet"])
    if found.kind == "outside":
        raise WorkshopFieldsError([f"la commune « {shown} » n'est pas dans le territoire {territory.name}"])
    raise WorkshopFieldsError([f"commune inconnue « {shown} » : elle n'est pas dans le territoire {territory.name}"])


def parse_level(text: str) -> Level:
    level = LEVEL_WORDS.get(_key(text))
    if level is None:
        shown = text.strip() or "(vide)"
        raise WorkshopFieldsError(
            [f"niveau inconnu « {shown} » : écrivez débutant, intermédiaire ou confirmé (ou 1, 2, 3)"]
        )
    return level


def parse_date(text: str) -> date:
    """``14/04/2026``, ``4/4/2026``, ``14.04.26`` or ISO ``2026-04-14``."""
    value = _MIDNIGHT_SUFFIX.sub("", text.strip())
    iso = _DATE_ISO.match(value)
    french = _DATE_FR.match(value)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if french:
            year = int(french.group(3))
            year = 2000 + year if year < 100 else year
            return date(year, int(french.group(2)), int(french.group(1)))
    except ValueError:
        pass  # 31/02/2026: a date-shaped text that is no date; answered below
    shown = text.strip() or "(vide)"
    raise WorkshopFieldsError([f"date illisible « {shown} » : écrivez JJ/MM/AAAA, par exemple 14/04/2026"])


def parse_time(text: str, what: str = "heure") -> time:
    """``14:00``, ``14:00:00``, ``14h``, ``14h30``, ``14 h 30``, ``9.30``."""
    match = _TIME.match(text.strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    shown = text.strip() or "(vide)"
    raise WorkshopFieldsError([f"{what} illisible « {shown} » : écrivez par exemple 14:00 ou 14h30"])


def parse_capacity(text: str | int | None) -> int:
    if text is None or (isinstance(text, str) and not text.strip()):
        return DEFAULT_CAPACITY
    try:
        value = int(str(text).strip())
    except ValueError:
        raise WorkshopFieldsError([f"nombre de places illisible « {str(text).strip()} » : écrivez un nombre"]) from None
    if not 1 <= value <= MAX_CAPACITY:
        raise WorkshopFieldsError([f"le nombre de places doit être entre 1 et {MAX_CAPACITY}, pas {value}"])
    return value


def local_to_utc(day: date, clock: time, tz: tzinfo) -> datetime:
    """A local wall-clock time as an aware UTC datetime; refuses the hour that does not exist when clocks go
    forward (last Sunday of March, 02:00–03:00 in Paris). For the repeated hour in October the first (summer
    time) is taken, as ``fold=0`` means (PEP 495)."""
    local = datetime.combine(day, clock, tzinfo=tz)
    moment = local.astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise WorkshopFieldsError([f"{clock:%H:%M} n'existe pas le {day:%d/%m/%Y} (passage à l'heure d'été)"])
    return moment


# ---------------------------------------------------------------------------------------------------------------
# One workshop


def venue_for(*, commune: CommuneInfo, venue: str, address: str, territory: Territory) -> tuple[str, str | None]:
    """The venue's name and address: the one written (a territory venue's spelling forgiven), or, when nothing is
    written, the commune's town hall from the territory. The address is None for a venue the database must know."""
    known = territory.venues_in(commune.insee)
    name, where = venue.strip(), address.strip() or None
    if not name:
        if where:
            raise WorkshopFieldsError(["une adresse est donnée sans le nom du lieu : indiquez aussi le lieu"])
        if not known:
            raise WorkshopFieldsError([f"aucun lieu n'est connu à {commune.name} : indiquez le lieu et son adresse"])
        return known[0].name, known[0].address
    for candidate in known:
        if plain(candidate.name) == plain(name):
            return candidate.name, where or candidate.address
    return name, where


def _check_times(
    fields: WorkshopFields, tz: tzinfo, now: datetime, problems: _Problems
) -> tuple[datetime, datetime] | None:
    try:
        day = parse_date(fields.date)
    except WorkshopFieldsError as exc:
        problems.items.extend(exc.problems)
        day = None
    clocks: list[time | None] = []
    for text, what in ((fields.start, "heure de début"), (fields.end, "heure de fin")):
        try:
            clocks.append(parse_time(text, what))
        except WorkshopFieldsError as exc:
            problems.items.extend(exc.problems)
            clocks.append(None)
    start_clock, end_clock = clocks
    if day is None or start_clock is None or end_clock is None:
        return None
    try:
        starts_at, ends_at = local_to_utc(day, start_clock, tz), local_to_utc(day, end_clock, tz)
    except WorkshopFieldsError as exc:
        problems.items.extend(exc.problems)
        return None
    if ends_at <= starts_at:
        problems.add(f"la fin ({end_clock:%H:%M}) doit venir après le début ({start_clock:%H:%M})")
    if starts_at <= now:
        when = "cet horaire est déjà passé" if day == now.astimezone(tz).date() else "la date est passée"
        problems.add(f"{when} ({day:%d/%m/%Y} à {start_clock:%H:%M})")
    elif starts_at - now > FURTHEST_AHEAD:
        problems.add(f"la date {day:%d/%m/%Y} est à plus de deux ans : vérifiez l'année")
    return starts_at, ends_at


def check_fields(fields: WorkshopFields, *, territory: Territory, tz: tzinfo, now: datetime) -> PlannedWorkshop:
    """Every check of one workshop; raises WorkshopFieldsError listing all the problems found."""
    problems = _Problems()
    times = _check_times(fields, tz, now, problems)
    commune: CommuneInfo | None = None
    venue: tuple[str, str | None] | None = None
    level: Level | None = None
    capacity = DEFAULT_CAPACITY
    try:
        commune = find_commune(fields.commune, territory)
        venue = venue_for(commune=commune, venue=fields.venue, address=fields.address, territory=territory)
    except WorkshopFieldsError as exc:
        problems.items.extend(exc.problems)
    try:
        level = parse_level(fields.level)
    except WorkshopFieldsError as exc:
        problems.items.extend(exc.problems)
    try:
        capacity = parse_capacity(fields.capacity)
    except WorkshopFieldsError as exc:
        problems.items.extend(exc.problems)
    topic = " ".join(fields.topic.split())
    if not topic:
        problems.add("le thème manque")
    elif len(topic) > MAX_TOPIC:
        problems.add(f"le thème est trop long ({len(topic)} caractères, {MAX_TOPIC} au plus)")
    if problems.items or times is None or commune is None or venue is None or level is None:
        raise WorkshopFieldsError(problems.items)
    return PlannedWorkshop(
        starts_at=times[0],
        ends_at=times[1],
        commune_insee=commune.insee,
        commune_name=commune.name,
        venue=venue[0],
        address=venue[1],
        level=level,
        topic=topic,
        capacity=capacity,
        adviser=" ".join(fields.adviser.split()) or None,
    )


# ---------------------------------------------------------------------------------------------------------------
# The file


class _UnreadableError(ValueError):
    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM ("texte Unicode" in Excel), else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text):
            break  # control characters: binary data, not text in another encoding
        return text
    raise _UnreadableError("le fichier n'est pas un CSV lisible : enregistrez-le depuis le tableur au format « CSV »")


def _header(line: str) -> tuple[str, list[str | None]]:
    """The separator and the field of each column: the separator that recognises most columns wins."""
    candidates = []
    for separator in SEPARATORS:
        cells = next(csv.reader([line], delimiter=separator), [])
        columns = [HEADER_ALIASES.get(_key(cell)) for cell in cells]
        candidates.append((sum(c is not None for c in columns), line.count(separator), separator, columns))
    _, _, separator, columns = max(candidates, key=lambda c: (c[0], c[1]))
    return separator, columns


@dataclass(frozen=True)
class _Columns:
    separator: str
    index: dict[str, int]  # field → its column
    width: int  # how many columns the header has
    ignored: tuple[str, ...]  # header cells not understood, or repeating a column already read


def _columns(line: str, line_number: int) -> _Columns:
    """The separator, where each field is, how many columns the header has, and the columns left unread."""
    separator, columns = _header(line)
    cells = next(csv.reader([line], delimiter=separator), [])
    index: dict[str, int] = {}
    ignored: list[str] = []
    for position, name in enumerate(columns):
        if name is None or name in index:  # not understood, or a repeated column: the first one counts
            if cells[position].strip():
                ignored.append(cells[position].strip())
            continue
        index[name] = position
    missing = [FRENCH_NAMES[name] for name in REQUIRED if name not in index]
    if missing:
        raise _UnreadableError(
            f"colonne(s) manquante(s) : {', '.join(missing)} ; la première ligne doit être par exemple "
            f"« {FRENCH_HEADER} »",
            line_number,
        )
    return _Columns(separator, index, len(columns), tuple(ignored))


def _fields(cells: list[str], index: dict[str, int]) -> WorkshopFields:
    def cell(name: str) -> str:
        position = index.get(name)
        return cells[position].strip() if position is not None and position < len(cells) else ""

    return WorkshopFields(**{name: cell(name) for name in FIELDS})


def parse_planning(data: bytes, *, territory: Territory, tz: tzinfo, now: datetime) -> ParseResult:
    """Every row checked; ``errors`` holds one RowError per problem, with its line in the file."""
    try:
        text = decode(data)
        lines = text.splitlines()
        header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
        if header_at is None:
            raise _UnreadableError("le fichier est vide")
        columns = _columns(lines[header_at], header_at + 1)
        separator, index, width = columns.separator, columns.index, columns.width
    except _UnreadableError as exc:
        return ParseResult(errors=(RowError(exc.line, str(exc)),))
    rows: list[PlannedWorkshop] = []
    errors: list[RowError] = []
    # Line numbers come from the reader itself, so that a quoted cell holding a line break keeps the count right.
    reader = csv.reader(io.StringIO("\n".join(lines[header_at + 1 :]), newline=""), delimiter=separator)
    previous_end = 0
    for cells in reader:
        line, previous_end = header_at + 2 + previous_end, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank rows are common at the end of a spreadsheet export
        if any(cell.strip() for cell in cells[width:]):
            errors.append(RowError(line, _too_many_cells(len(cells), width, separator)))
            continue
        try:
            planned = check_fields(_fields(cells, index), territory=territory, tz=tz, now=now)
        except WorkshopFieldsError as exc:
            errors.extend(RowError(line, problem) for problem in exc.problems)
            continue
        rows.append(replace(planned, line=line))
    if not rows and not errors:
        errors.append(RowError(header_at + 1, "le fichier ne contient aucun atelier, seulement la ligne d'en-tête"))
    if errors:
        return ParseResult(errors=tuple(errors), ignored_columns=columns.ignored)
    return ParseResult(rows=tuple(rows), ignored_columns=columns.ignored)


def _too_many_cells(count: int, width: int, separator: str) -> str:
    shown = "la tabulation" if separator == "\t" else f"« {separator} »"
    return f"la ligne a {count} cases mais l'en-tête {width} : mettez entre guillemets le texte qui contient {shown}"
