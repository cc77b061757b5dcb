"""The planning CSV as advisers save it, as a table: bytes in, rows or line-numbered errors out.

``now`` is Monday 2 March 2026, 09:00 in Paris (the ``now`` fixture). Expected times are written in UTC, so the
table also checks the time zone: +01:00 until 29 March 2026, +02:00 until 25 October 2026, then +01:00 again.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.service.planning_csv import PlannedWorkshop, parse_planning
from bot.territory import Territory
from storage.models import Level

FR = "date;debut;fin;commune;lieu;adresse;niveau;theme;places"
EN = "date,start,end,commune,venue,address,level,topic,capacity"
PARIS = ZoneInfo("Europe/Paris")


def csv_bytes(*lines: str, encoding: str = "utf-8", bom: bytes = b"", newline: str = "\n") -> bytes:
    return bom + newline.join(lines).encode(encoding)


def fr(*rows: str, newline: str = "\n") -> bytes:
    return csv_bytes(FR, *rows, newline=newline)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """What one imported row must be; fields left None are not checked."""

    start: str | None = None  # UTC, "2026-04-14 12:00"
    end: str | None = None
    commune: str | None = None  # INSEE code
    venue: str | None = None
    address: str | None = "unchecked"
    level: Level | None = None
    topic: str | None = None
    capacity: int | None = None
    line: int | None = None
    adviser: str | None = "unchecked"

    def check(self, got: PlannedWorkshop) -> None:
        if self.adviser != "unchecked":
            assert got.adviser == self.adviser
        if self.start:
            assert got.starts_at == utc(self.start)
        if self.end:
            assert got.ends_at == utc(self.end)
        if self.commune:
            assert got.commune_insee == self.commune
        if self.venue:
            assert got.venue == self.venue
        if self.address != "unchecked":
            assert got.address == self.address
        if self.level:
            assert got.level == self.level
        if self.topic:
            assert got.topic == self.topic
        if self.capacity:
            assert got.capacity == self.capacity
        if self.line:
            assert got.line == self.line


@dataclass(frozen=True)
class Case:
    label: str
    data: bytes
    rows: tuple[Row, ...] = ()
    errors: tuple[tuple[int, str], ...] = ()  # (line, words the sentence must contain)
    ignored: tuple[str, ...] = ()  # header cells reported as not read


SAINT_VICTOR = "03262"
QUINSSAINES = "03212"
DOMERAT = "03101"
MAIRIE_SV = "Mairie de Saint-Victor"
TUESDAY = "14/04/2026;14:00;16:00"  # summer time: 12:00–14:00 UTC

CASES = [
    # --- the adviser in charge, and columns that are not read
    Case(
        "adviser-column-in-french",
        csv_bytes(
            f"{FR};conseillère", f"{TUESDAY};Saint-Victor;;;1;Tablette;;Julie Martin", f"{TUESDAY};Domérat;;;1;T;;"
        ),
        (Row(adviser="Julie Martin"), Row(adviser=None)),
    ),
    Case(
        "adviser-column-in-english",
        csv_bytes(f"{EN},adviser", "2026-04-14,14:00,16:00,Quinssaines,,,beginner,Tablet,8,  julie  "),
        (Row(adviser="julie"),),
    ),
    Case(
        "unknown-columns-are-reported",
        csv_bytes(f"{FR};Remarques;Public visé;;theme", f"{TUESDAY};Saint-Victor;;;1;Tablette;;à voir;seniors;;x"),
        (Row(topic="Tablette"),),
        ignored=("Remarques", "Public visé", "theme"),  # a second "thème" is not read either
    ),
    # --- headers, separators, encodings
    Case(
        "french-header-semicolons",
        fr(f"{TUESDAY};Saint-Victor;;;débutant;Premiers pas sur la tablette;6"),
        (Row("2026-04-14 12:00", "2026-04-14 14:00", SAINT_VICTOR, MAIRIE_SV, level=Level.beginner, capacity=6),),
    ),
    Case(
        "english-header-commas",
        csv_bytes(EN, "2026-04-14,14:00,16:00,Quinssaines,,,beginner,Tablet,8"),
        (Row("2026-04-14 12:00", commune=QUINSSAINES, venue="Mairie de Quinssaines", capacity=8),),
    ),
    Case(
        "utf8-bom-and-accented-header",
        csv_bytes(
            "Date;Début;Fin;Commune;Lieu;Adresse;Niveau;Thème;Places",
            f"{TUESDAY};Domérat;;;intermédiaire;Ameli et Doctolib;",
            bom=codecs.BOM_UTF8,
        ),
        (Row(commune=DOMERAT, level=Level.intermediate, topic="Ameli et Doctolib", capacity=6),),
    ),
    Case(
        "windows-1252-bytes-with-accents",
        csv_bytes(
            "date;début;fin;commune;lieu;adresse;niveau;thème;places",
            f"{TUESDAY};Domérat;Salle des fêtes;2 rue de l'Église;débutant;Déclarer ses impôts;",
            encoding="cp1252",
        ),
        (Row(commune=DOMERAT, venue="Salle des fêtes", address="2 rue de l'Église", topic="Déclarer ses impôts"),),
    ),
    Case(
        "utf16-with-bom-unicode-text-export",
        csv_bytes(FR, f"{TUESDAY};Domérat;;;1;Tablette;", encoding="utf-16"),
        (Row(commune=DOMERAT, level=Level.beginner),),
    ),
    Case(
        "forgiving-header-spaces-case-order-extra-column",
        csv_bytes(
            " Thème ; NIVEAU ; Commune ; Date ; Début ; Fin ; Remarques",
            "Tablette;2;Quinssaines;14/04/2026;14h;16h;à voir",
        ),
        (Row("2026-04-14 12:00", commune=QUINSSAINES, venue="Mairie de Quinssaines", level=Level.intermediate),),
        ignored=("Remarques",),
    ),
    Case(
        "crlf-line-endings-and-trailing-empty-rows",
        fr(f"{TUESDAY};Saint-Victor;;;3;Impôts;", ";;;;;;;;", ";;;;;;;;", "", newline="\r\n"),
        (Row(commune=SAINT_VICTOR, level=Level.advanced, line=2),),
    ),
    Case(
        "quoted-address-holding-the-separator",
        csv_bytes(EN, '2026-04-14,14:00,16:00,Quinssaines,Salle polyvalente,"12, rue de la Gare",1,Tablet,'),
        (Row(venue="Salle polyvalente", address="12, rue de la Gare"),),
    ),
    Case(
        "tab-separated",
        csv_bytes(FR.replace(";", "\t"), TUESDAY.replace(";", "\t") + "\tSaint-Victor\t\t\t1\tTablette\t4"),
        (Row(commune=SAINT_VICTOR, capacity=4),),
    ),
    # --- dates and times
    Case("iso-date", fr("2026-04-14;14:00;16:00;Saint-Victor;;;1;T;"), (Row("2026-04-14 12:00"),)),
    Case(
        "short-french-date",
        fr("4/5/2026;9:30;11:30;Saint-Victor;;;1;T;"),
        (Row("2026-05-04 07:30", "2026-05-04 09:30"),),
    ),
    Case(
        "excel-midnight-after-date", fr("14/04/2026 00:00;14:00;16:00;Saint-Victor;;;1;T;"), (Row("2026-04-14 12:00"),)
    ),
    Case("times-14h-16h", fr("14/04/2026;14h;16h;Saint-Victor;;;1;T;"), (Row("2026-04-14 12:00", "2026-04-14 14:00"),)),
    Case(
        "times-14h30-and-14-h-30",
        fr("14/04/2026;14h30;16 h 30;Saint-Victor;;;1;T;"),
        (Row("2026-04-14 12:30", "2026-04-14 14:30"),),
    ),
    Case("times-with-seconds", fr("14/04/2026;14:00:00;16:00:00;Saint-Victor;;;1;T;"), (Row("2026-04-14 12:00"),)),
    Case("winter-time-before-the-change", fr("28/03/2026;14:00;16:00;Saint-Victor;;;1;T;"), (Row("2026-03-28 13:00"),)),
    Case(
        "summer-time-last-sunday-of-march", fr("29/03/2026;14:00;16:00;Saint-Victor;;;1;T;"), (Row("2026-03-29 12:00"),)
    ),
    Case(
        "summer-time-saturday-24-october", fr("24/10/2026;14:00;16:00;Saint-Victor;;;1;T;"), (Row("2026-10-24 12:00"),)
    ),
    Case(
        "winter-time-last-sunday-of-october",
        fr("25/10/2026;14:00;16:00;Saint-Victor;;;1;T;"),
        (Row("2026-10-25 13:00", "2026-10-25 15:00"),),
    ),
    # --- levels in every spelling
    *(
        Case(f"level-{word}", fr(f"{TUESDAY};Saint-Victor;;;{word};T;"), (Row(level=level),))
        for word, level in [
            ("débutant", Level.beginner),
            ("DEBUTANT", Level.beginner),
            ("beginner", Level.beginner),
            ("1", Level.beginner),
            ("Intermédiaire", Level.intermediate),
            ("intermediaire", Level.intermediate),
            ("intermediate", Level.intermediate),
            ("2", Level.intermediate),
            ("confirmé", Level.advanced),
            ("CONFIRME", Level.advanced),
            ("advanced", Level.advanced),
            ("3", Level.advanced),
        ]
    ),
    # --- communes and venues
    *(
        Case(f"commune-{label}", fr(f"{TUESDAY};{written};;;1;T;"), (Row(commune=insee),))
        for label, written, insee in [
            ("st-abbreviation", "st victor", SAINT_VICTOR),
            ("upper-case-no-hyphen", "SAINT GENEST", "03233"),
            ("no-accent", "Domerat", DOMERAT),
            ("ste-abbreviation", "lavault ste anne", "03140"),
            ("insee-code", "03279", "03279"),
            ("unique-postcode", "03630", "03098"),
            ("small-typo", "Quinsaines", QUINSSAINES),
            ("usual-short-name", "Marcillat", "03161"),
        ]
    ),
    Case(
        "known-venue-spelling-forgiven",
        fr(f"{TUESDAY};st victor;mairie de st victor;;1;T;"),
        (Row(venue=MAIRIE_SV, address="7 rue André-Gide, 03410 Saint-Victor"),),
    ),
    Case(
        "new-venue-without-address-left-to-the-database",
        fr(f"{TUESDAY};Saint-Victor;Salle des fêtes;;1;T;"),
        (Row(venue="Salle des fêtes", address=None),),
    ),
    Case(
        "several-rows-numbered-by-file-line",
        fr(f"{TUESDAY};Saint-Victor;;;1;T;", "", f"{TUESDAY};Quinssaines;;;2;T;"),
        (Row(commune=SAINT_VICTOR, line=2), Row(commune=QUINSSAINES, line=4)),
    ),
    # --- errors, each with its line
    Case("end-before-start", fr("14/04/2026;16:00;14:00;Saint-Victor;;;1;T;"), errors=((2, "doit venir après"),)),
    Case("end-equals-start", fr("14/04/2026;14:00;14:00;Saint-Victor;;;1;T;"), errors=((2, "doit venir après"),)),
    Case("capacity-zero", fr(f"{TUESDAY};Saint-Victor;;;1;T;0"), errors=((2, "entre 1 et 30"),)),
    Case("capacity-31", fr(f"{TUESDAY};Saint-Victor;;;1;T;31"), errors=((2, "entre 1 et 30"),)),
    Case("capacity-not-a-number", fr(f"{TUESDAY};Saint-Victor;;;1;T;six"), errors=((2, "places illisible"),)),
    Case("date-in-the-past", fr("01/03/2026;14:00;16:00;Saint-Victor;;;1;T;"), errors=((2, "date est passée"),)),
    Case("earlier-today", fr("02/03/2026;08:00;10:00;Saint-Victor;;;1;T;"), errors=((2, "déjà passé"),)),
    Case("year-mistyped", fr("14/04/2062;14:00;16:00;Saint-Victor;;;1;T;"), errors=((2, "vérifiez l'année"),)),
    Case("impossible-date", fr("31/02/2026;14:00;16:00;Saint-Victor;;;1;T;"), errors=((2, "date illisible"),)),
    Case("date-in-words", fr("demain;14:00;16:00;Saint-Victor;;;1;T;"), errors=((2, "date illisible"),)),
    Case("time-in-words", fr("14/04/2026;quatorze heures;16:00;Saint-Victor;;;1;T;"), errors=((2, "heure de début"),)),
    Case("hour-skipped-by-dst", fr("29/03/2026;02:30;04:00;Saint-Victor;;;1;T;"), errors=((2, "heure d'été"),)),
    Case(
        "unknown-commune-on-line-3",
        fr(f"{TUESDAY};Saint-Victor;;;1;T;", f"{TUESDAY};Paris;;;1;T;"),
        errors=((3, "commune inconnue « Paris »"),),
    ),
    Case("neighbour-outside-territory", fr(f"{TUESDAY};Commentry;;;1;T;"), errors=((2, "pas dans le territoire"),)),
    Case("postcode-of-several-communes", fr(f"{TUESDAY};03410;;;1;T;"), errors=((2, "plusieurs communes"),)),
    Case("unknown-level", fr(f"{TUESDAY};Saint-Victor;;;expert;T;"), errors=((2, "niveau inconnu"),)),
    Case("missing-topic", fr(f"{TUESDAY};Saint-Victor;;;1;;"), errors=((2, "thème manque"),)),
    Case(
        "address-without-venue", fr(f"{TUESDAY};Saint-Victor;;1 rue Haute;1;T;"), errors=((2, "sans le nom du lieu"),)
    ),
    Case(
        "unquoted-comma-in-address",
        csv_bytes(EN, "2026-04-14,14:00,16:00,Quinssaines,Salle,12, rue de la Gare,1,Tablet,6"),
        errors=((2, "entre guillemets"),),
    ),
    Case(
        "several-problems-on-one-row",
        fr("01/01/2026;14:00;13:00;Paris;;;4;;0"),
        errors=(
            (2, "doit venir après"),
            (2, "date est passée"),
            (2, "Paris"),
            (2, "niveau"),
            (2, "places"),
            (2, "thème"),
        ),
    ),
    Case(
        "quoted-line-break-keeps-line-numbers",
        fr(f'{TUESDAY};Saint-Victor;;;1;"Tablette\net smartphone";', f"{TUESDAY};Nulle-Part;;;1;T;"),
        errors=((4, "Nulle-Part"),),
    ),
    Case(
        "one-bad-row-rejects-the-good-ones",
        fr(f"{TUESDAY};Saint-Victor;;;1;T;", f"{TUESDAY};Saint-Victor;;;9;T;"),
        errors=((3, "niveau"),),
    ),
    # --- unreadable files
    Case("empty-file", b"", errors=((0, "vide"),)),
    Case("only-a-bom-and-blank-lines", codecs.BOM_UTF8 + b"\r\n\r\n", errors=((0, "vide"),)),
    Case("header-only", fr(), errors=((1, "aucun atelier"),)),
    Case(
        "missing-columns",
        csv_bytes("date;commune;theme", "14/04/2026;Saint-Victor;T"),
        errors=((1, "début, fin, niveau"),),
    ),
    Case(
        "not-a-planning-at-all", csv_bytes("nom,prénom,téléphone", "Dupont,Jean,0612345678"), errors=((1, "manquante"),)
    ),
    Case("binary-garbage-png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01", errors=((0, "pas un CSV lisible"),)),
    Case("bytes-invalid-in-cp1252", b"date;debut\x81\x8d\x8f\x90;fin", errors=((0, "pas un CSV lisible"),)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_planning_csv(case: Case, territory: Territory, now: datetime) -> None:
    result = parse_planning(case.data, territory=territory, tz=PARIS, now=now)
    assert result.ignored_columns == case.ignored
    got_errors = [(e.line, e.message) for e in result.errors]
    assert len(got_errors) == len(case.errors), got_errors
    for (line, words), (got_line, message) in zip(case.errors, got_errors, strict=True):
        assert got_line == line, got_errors
        assert words in message, got_errors
    if case.errors:
        assert result.rows == ()  # nothing of a file with a bad row is given to import
        assert all(str(e).endswith(".") for e in result.errors)
    assert len(result.rows) == len(case.rows), got_errors
    for expected, got in zip(case.rows, result.rows, strict=True):
        expected.check(got)
        assert got.starts_at.utcoffset() == timedelta(0) == got.ends_at.utcoffset()


def test_case_labels_are_unique() -> None:
    assert len({c.label for c in CASES}) == len(CASES)
