"""``atelier workshops …`` and ``atelier demo`` in-process (typer's CliRunner) against a real database.

The command reads the real clock, so dates are written relative to today. The tests are plain ``def``: the
command runs its own ``asyncio.run``, which needs no loop running around it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from storage.database import Database
from storage.models import Resident
from storage.seats import seat_resident
from tests.helpers.cli import as_json, atelier, ok

PARIS = ZoneInfo("Europe/Paris")
FR = "date;debut;fin;commune;lieu;adresse;niveau;theme;places"
WORKSHOP_FIELDS = {"id", "start", "end", "commune", "venue", "address", "level", "topic", "capacity", "seated"}
WORKSHOP_FIELDS |= {"waiting", "status", "confirmed", "adviser"}
ENROLMENT_FIELDS = {"resident_id", "name", "phone", "telegram_chat_id", "channel", "status", "position"}
ENROLMENT_FIELDS |= {"interests", "confirmed"}


def day(offset: int) -> date:
    return datetime.now(PARIS).date() + timedelta(days=offset)


def fr_date(offset: int) -> str:
    return f"{day(offset):%d/%m/%Y}"


def local_iso(offset: int, clock: time) -> str:
    return datetime.combine(day(offset), clock, tzinfo=PARIS).isoformat()


ADD = ("workshops", "add", "--start", "14:00", "--end", "16:00", "--level", "débutant", "--topic", "Tablette")


def add(db_url: str, *extra: str, commune: str = "st victor", offset: int = 30) -> dict[str, Any]:
    created: dict[str, Any] = as_json(
        ok(db_url, *ADD, "--date", fr_date(offset), "--commune", commune, *extra, "--json")
    )
    return created


def listing(db_url: str, *extra: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = as_json(ok(db_url, "workshops", "list", "--json", *extra))
    return found


def seat_people(db_url: str, workshop_id: int, names: list[str]) -> None:
    async def main() -> None:
        db = Database.from_url(db_url)
        try:
            async with db.write() as session:
                for number, name in enumerate(names):
                    resident = Resident(
                        phone=f"+336120000{number:02d}", name=name, interests=["ameli"], preferred_channel="sms"
                    )
                    session.add(resident)
                    await session.flush()
                    now = datetime.now(PARIS)
                    await seat_resident(session=session, resident_id=resident.id, workshop_id=workshop_id, now=now)
        finally:
            await db.dispose()

    asyncio.run(main())


def test_add_list_and_roster_in_json(db_url: str) -> None:
    created = add(db_url, "--capacity", "2")
    assert set(created) == WORKSHOP_FIELDS
    seat_people(db_url, created["id"], ["Jeanne Martin", "Paul Durand", "Lucie Bernard"])
    [listed] = listing(db_url)
    assert set(listed) == WORKSHOP_FIELDS
    expected = {
        "id": created["id"],
        "start": local_iso(30, time(14)),
        "end": local_iso(30, time(16)),
        "commune": "Saint-Victor",
        "venue": "Mairie de Saint-Victor",
        "address": "7 rue André-Gide, 03410 Saint-Victor",
        "level": "beginner",
        "topic": "Tablette",
        "capacity": 2,
        "seated": 2,
        "waiting": 1,
        "status": "planned",
        "confirmed": 0,
        "adviser": None,
    }
    assert listed == expected
    roster = as_json(ok(db_url, "workshops", "roster", str(created["id"]), "--json"))
    assert set(roster) == {"workshop", "enrolments"}
    assert roster["workshop"] == expected
    assert all(set(e) == ENROLMENT_FIELDS for e in roster["enrolments"])
    assert [(e["name"], e["status"], e["position"], e["channel"]) for e in roster["enrolments"]] == [
        ("Jeanne Martin", "seated", None, "sms"),
        ("Paul Durand", "seated", None, "sms"),
        ("Lucie Bernard", "waiting", 1, "sms"),
    ]
    assert roster["enrolments"][0]["phone"] == "+33612000000"  # advisers phone people: shown in full
    assert roster["enrolments"][0]["interests"] == ["ameli"]


def test_human_output_is_a_french_table(db_url: str) -> None:
    created = add(db_url)
    seat_people(db_url, created["id"], ["Jeanne Martin"])
    table = ok(db_url, "workshops", "list").stdout
    assert "Saint-Victor" in table and "débutant" in table and "1/6" in table
    roster = ok(db_url, "workshops", "roster", str(created["id"])).stdout
    assert "Jeanne Martin" in roster and "inscrit" in roster and "1 inscrit(s) sur 6 places" in roster


def test_import_reimport_and_dry_run(db_url: str, tmp_path: Path) -> None:
    planning = tmp_path / "planning.csv"
    rows = [
        FR,
        f"{fr_date(20)};14h;16h;Teillet-Argenty;;;débutant;Premiers pas sur la tablette;",
        f"{fr_date(21)};9h30;11h30;Marcillat en Combraille;Salle des fêtes;Place de l'Église;confirmé;Impôts;8",
    ]
    planning.write_bytes("\r\n".join(rows).encode("cp1252"))  # what Excel in French saves
    assert "Rien n'a été enregistré" in ok(db_url, "workshops", "import", str(planning), "--dry-run").stdout
    assert listing(db_url) == []
    imported = ok(db_url, "workshops", "import", str(planning)).stdout
    ids = ", ".join(str(w["id"]) for w in listing(db_url))  # PostgreSQL's ids go on after the dry run's
    assert f"2 atelier(s) importé(s) : n° {ids}." in imported and "ignorée" not in imported
    assert "2 déjà présents" in ok(db_url, "workshops", "import", str(planning)).stdout
    found = listing(db_url)
    assert [(w["commune"], w["venue"], w["level"], w["capacity"]) for w in found] == [
        ("Teillet-Argenty", "Mairie de Teillet-Argenty", "beginner", 6),
        ("Marcillat-en-Combraille", "Salle des fêtes", "advanced", 8),
    ]
    assert found[1]["start"] == local_iso(21, time(9, 30))


def test_import_reports_columns_it_does_not_read_and_takes_the_adviser(db_url: str, tmp_path: Path) -> None:
    ok(db_url, "advisers", "add", "--name", "Julie Martin")
    planning = tmp_path / "planning.csv"
    rows = [f"{FR};conseillère;remarques", f"{fr_date(20)};14h;16h;Domérat;;;1;Tablette;;julie;apporter des chaises"]
    planning.write_text("\n".join(rows), encoding="utf-8-sig")
    shown = ok(db_url, "workshops", "import", str(planning)).stdout
    assert "colonne(s) ignorée(s), non reconnue(s) : remarques" in " ".join(shown.split())
    [workshop] = listing(db_url)
    assert f"1 atelier(s) importé(s) : n° {workshop['id']}." in shown
    assert workshop["adviser"] == "Julie Martin"


def test_demo_loads_once_with_if_empty(db_url: str) -> None:
    assert "Planning de démonstration chargé" in ok(db_url, "demo", "--if-empty").stdout
    found = listing(db_url)
    communes = {w["commune"] for w in found}
    assert {"Saint-Victor", "Teillet-Argenty", "Quinssaines", "Saint-Genest", "Marcillat-en-Combraille"} <= communes
    assert {w["level"] for w in found} == {"beginner", "intermediate", "advanced"}
    assert {w["adviser"] for w in found} == {"Claire", "Karim", "Sophie"}
    assert "existent déjà" in ok(db_url, "demo", "--if-empty").stdout
    assert len(listing(db_url)) == len(found)


def test_cancel_and_move_with_yes(db_url: str) -> None:
    first, second = add(db_url), add(db_url, commune="Quinssaines")
    seat_people(db_url, first["id"], ["Jeanne Martin"])
    cancelled = ok(db_url, "workshops", "cancel", str(first["id"]), "--reason", "Conseillère malade", "--yes")
    assert "annulé" in cancelled.stdout and "1 inscrite(s)" in cancelled.stdout
    assert [w["id"] for w in listing(db_url)] == [second["id"]]
    assert {w["id"]: w["status"] for w in listing(db_url, "--all")} == {
        first["id"]: "cancelled",
        second["id"]: "planned",
    }
    ok(db_url, "workshops", "move", str(second["id"]), "--date", fr_date(31), "--start", "9h30", "--yes")
    [moved] = listing(db_url)
    assert (moved["start"], moved["end"]) == (local_iso(31, time(9, 30)), local_iso(31, time(11, 30)))


@dataclass(frozen=True)
class Bad:
    label: str
    args: Callable[[int, Path], list[str]]  # (an existing workshop id, a temporary folder) → arguments
    says: str  # words the error on stderr must contain
    code: int = 1


def _csv(folder: Path, content: bytes) -> str:
    path = folder / "planning.csv"
    path.write_bytes(content)
    return str(path)


def _add(date_text: str, *extra: str, commune: str = "Saint-Victor") -> list[str]:
    return [*ADD, "--date", date_text, "--commune", commune, *extra]


BAD = [
    Bad("add-unknown-commune", lambda _, __: _add(fr_date(30), commune="Paris"), "commune inconnue « Paris »"),
    Bad("add-neighbour-commune", lambda _, __: _add(fr_date(30), commune="Commentry"), "pas dans le territoire"),
    Bad("add-end-before-start", lambda _, __: [*_add(fr_date(30)), "--end", "13h"], "doit venir après"),
    Bad("add-capacity-zero", lambda _, __: _add(fr_date(30), "--capacity", "0"), "entre 1 et 30"),
    Bad("add-date-in-the-past", lambda _, __: _add(fr_date(-1)), "date est passée"),
    Bad("add-unreadable-date", lambda _, __: _add("32/13/2026"), "date illisible"),
    Bad("add-bad-level", lambda _, __: [*_add(fr_date(30)), "--level", "expert"], "niveau inconnu"),
    Bad("add-new-venue-without-address", lambda _, __: _add(fr_date(30), "--venue", "Gymnase"), "indiquez son adresse"),
    Bad("add-unknown-adviser", lambda _, __: _add(fr_date(31), "--adviser", "Zoé"), "conseiller inconnu"),
    Bad("add-duplicate", lambda _, __: _add(fr_date(30)), "existe déjà"),
    Bad("add-missing-option", lambda _, __: [*ADD, "--date", fr_date(30)], "--commune", code=2),
    Bad("roster-unknown-id", lambda _, __: ["workshops", "roster", "999"], "n'existe pas"),
    Bad("roster-id-not-a-number", lambda _, __: ["workshops", "roster", "abc"], "ID", code=2),
    Bad("cancel-unknown-id", lambda _, __: ["workshops", "cancel", "999", "--reason", "x", "--yes"], "n'existe pas"),
    Bad("cancel-empty-reason", lambda w, _: ["workshops", "cancel", str(w), "--reason", " ", "--yes"], "raison"),
    Bad("cancel-without-reason", lambda w, _: ["workshops", "cancel", str(w), "--yes"], "--reason", code=2),
    Bad("cancel-no-terminal-no-yes", lambda w, _: ["workshops", "cancel", str(w), "--reason", "x"], "--yes"),
    Bad("move-no-terminal-no-yes", lambda w, _: ["workshops", "move", str(w), "--start", "15h"], "--yes"),
    Bad("move-unknown-id", lambda _, __: ["workshops", "move", "999", "--start", "15h", "--yes"], "n'existe pas"),
    Bad("move-nothing-to-change", lambda w, _: ["workshops", "move", str(w), "--yes"], "rien à changer"),
    Bad("move-into-the-past", lambda w, _: ["workshops", "move", str(w), "--date", fr_date(-2), "--yes"], "passée"),
    Bad("import-missing-file", lambda _, t: ["workshops", "import", str(t / "absent.csv")], "n'existe pas"),
    Bad("import-a-folder", lambda _, t: ["workshops", "import", str(t)], "dossier"),
    Bad("import-empty-file", lambda _, t: ["workshops", "import", _csv(t, b"")], "vide"),
    Bad(
        "import-binary-garbage",
        lambda _, t: ["workshops", "import", _csv(t, bytes(range(256)) * 4)],
        "pas un CSV lisible",
    ),
    Bad(
        "import-one-bad-row-imports-nothing",
        lambda _, t: [
            "workshops",
            "import",
            _csv(t, f"{FR}\n{fr_date(40)};14h;16h;Quinssaines;;;1;T;\n{fr_date(40)};14h;16h;Paris;;;1;T;".encode()),
        ],
        "ligne 3 : commune inconnue",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[b.label for b in BAD])
def test_bad_input_is_one_sentence_and_changes_nothing(case: Bad, db_url: str, tmp_path: Path) -> None:
    existing = add(db_url)
    before = listing(db_url, "--all")
    result = atelier(db_url, *case.args(existing["id"], tmp_path))
    assert result.exit_code == case.code, (result.stdout, result.stderr)
    assert case.says in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)  # never a traceback
    assert "Traceback" not in result.output
    assert listing(db_url, "--all") == before
