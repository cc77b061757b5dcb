"""Statistics in people and spreadsheets for French Excel (issue 14, item 12), La Coop's activity records (item
13): through the service on both databases, the territory's theme table as a table of cases, and the command line.

The world: three workshops took place last month (two in Saint-Victor, one in Domérat), one was cancelled, one is
still to come; Anne came twice, Bruno once and missed once, Chantal never came, and a walk-in came once."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.config import Settings
from bot.context import Context
from bot.service.activities import month_activities, parse_month, themes_for
from bot.service.actors import Actor
from bot.service.changes import cancel_workshop_and_notify
from bot.service.exports import activities_csv, excel_csv, people_stats_csv, residents_csv, roster_csv
from bot.service.people_stats import people_stats
from bot.service.residents import list_residents
from bot.service.stats import add_walk_in, mark_attendance
from bot.service.team import add_adviser
from bot.service.workshops import WorkshopError, roster
from bot.territory import CoopThemes, Territory, ThemeRule
from storage.database import Database
from storage.models import Level, Workshop
from tests.helpers.cli import as_json
from tests.helpers.clock import PARIS, Clock
from tests.helpers.world import Town, in_2026
from tests.test_advisers_cli import atelier, enrol, ok, planned_workshop

JULIE = Actor("Julie Martin", interface="cli")


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(1, 9, month=2))  # Sunday 1 February 2026, before everything
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


async def february(town: Town) -> dict[str, int]:
    """Seats taken on 1 February; the clock then moves to Monday 2 March."""
    await add_adviser(actor=JULIE, ctx=town.ctx, name="Julie Martin")
    ids = {
        "sv1": await town.workshop("Saint-Victor", in_2026(10, 14, month=2)),
        "sv2": await town.workshop("Saint-Victor", in_2026(17, 9, 30, month=2), level=Level.intermediate),
        "domerat": await town.workshop("Domérat", in_2026(20, 14, month=2), hours=1),
        "cancelled": await town.workshop("Saint-Victor", in_2026(24, 14, month=2)),
        "march": await town.workshop("Saint-Victor", in_2026(10, 14)),
    }
    async with town.ctx.db.write() as session:
        await session.execute(update(Workshop).where(Workshop.id == ids["sv1"]).values(topic="Ameli et Doctolib"))
        await session.execute(update(Workshop).where(Workshop.id == ids["domerat"]).values(topic="Mes e-mails"))
    people = {
        "anne": await town.resident("Anne", phone="+33611000001"),
        "bruno": await town.resident("Bruno", phone="+33611000002", commune="Domérat", level=Level.intermediate),
        "chantal": await town.resident("Chantal", phone="+33611000003"),
    }
    for person, workshops in [("anne", ("sv1", "domerat", "march")), ("bruno", ("sv1", "sv2")), ("chantal", ("sv2",))]:
        for workshop in workshops:
            await town.seat(people[person], ids[workshop])
    await town.seat(people["chantal"], ids["cancelled"])
    await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=ids["cancelled"], reason="neige", actor=JULIE)
    town.clock.now = in_2026(2, 9)
    await mark_attendance(actor=JULIE, ctx=town.ctx, workshop_id=ids["sv1"], present=[people["anne"], people["bruno"]])
    await mark_attendance(
        actor=JULIE, ctx=town.ctx, workshop_id=ids["sv2"], absent=[people["bruno"], people["chantal"]]
    )
    await mark_attendance(actor=JULIE, ctx=town.ctx, workshop_id=ids["domerat"], present=[people["anne"]])
    walk_in = await add_walk_in(ctx=town.ctx, workshop_id=ids["domerat"], name="Lucien Petit", actor=JULIE)
    return ids | people | {"lucien": walk_in.resident_id}


@pytest.mark.both_dialects
async def test_people_are_counted_once(town: Town) -> None:
    await february(town)
    found = await people_stats(ctx=town.ctx)
    total = found.total
    assert (total.signed_up, total.came, total.came_twice) == (4, 3, 1)  # Anne twice; Bruno, Lucien once
    assert (total.workshops_held, total.workshops_cancelled) == (3, 1)
    assert (total.present, total.no_shows, total.attendance_rate) == (4, 2, 0.667)
    assert total.new_people == 3  # Lucien gave no number: no consent to be written to
    by_commune = {row.label: row.figures for row in found.by_commune}
    assert by_commune["Domérat"].came == 1 and by_commune["Domérat"].workshops_held == 1  # Bruno; Domérat's
    assert by_commune["Saint-Victor"].came_twice == 1 and by_commune["Saint-Victor"].workshops_held == 2
    by_month = {row.key: row.figures for row in found.by_month}
    assert by_month["2026-02"].came == 3 and by_month["2026-03"].signed_up == 1  # Anne's March seat
    assert [row.label for row in found.by_level][:2] == ["débutant", "intermédiaire"]


@pytest.mark.both_dialects
async def test_a_period_bounds_the_workshops(town: Town) -> None:
    await february(town)
    found = await people_stats(ctx=town.ctx, since=in_2026(15, 0, month=2), until=in_2026(1, 0))
    assert (found.total.workshops_held, found.total.came, found.total.signed_up) == (2, 2, 4)


@pytest.mark.both_dialects
async def test_la_coop_records_of_a_month(town: Town) -> None:
    ids = await february(town)
    found = await month_activities(ctx=town.ctx, month="2026-02")
    assert [r.workshop_id for r in found.records] == [ids["sv1"], ids["sv2"], ids["domerat"]]  # not the cancelled
    first, second, third = found.records
    assert (first.themes, first.level, first.participants, first.duration_minutes) == (("Santé",), "Débutant", 2, 120)
    assert (first.place, first.commune, first.postcode) == ("Mairie de Saint-Victor", "Saint-Victor", "03410")
    assert (second.level, second.participants, second.attendance_marked) == ("Intermédiaire", 0, True)
    assert (third.themes, third.participants, third.duration_minutes) == (("E-mail",), 2, 60)  # with the walk-in
    assert (await month_activities(ctx=town.ctx, month="03/2026")).records == ()  # March's has not taken place


@pytest.mark.both_dialects
async def test_a_workshop_whose_attendance_was_not_marked_says_so(town: Town) -> None:
    workshop = await town.workshop("Saint-Victor", in_2026(10, 14, month=2))
    await town.seat(await town.resident("Anne", phone="+33611000001"), workshop)
    town.clock.now = in_2026(2, 9)
    found = await month_activities(ctx=town.ctx, month="2026-02")
    assert [(r.workshop_id, r.participants, r.attendance_marked) for r in found.not_marked] == [(workshop, 0, False)]


@pytest.mark.parametrize("typed", ["2026-13", "décembre", "2026/12", "", "12-26"])
def test_a_month_written_otherwise_is_refused(typed: str) -> None:
    with pytest.raises(WorkshopError, match="écrivez AAAA-MM"):
        parse_month(typed)


TABLE = CoopThemes(
    rules=(
        ThemeRule(("tablette", "premiers pas"), ("Prendre en main du matériel",)),
        ThemeRule(("ameli", "santé"), ("Santé",)),
        ThemeRule(("impôt", "franceconnect"), ("Aide aux démarches administratives",)),
        ThemeRule(("caf",), ("Aide aux démarches administratives",)),
    ),
    default=("Culture numérique",),
)


@pytest.mark.parametrize(
    ("topic", "themes"),
    [
        ("Premiers pas sur la tablette", ("Prendre en main du matériel",)),
        ("AMELI et ma santé sur la tablette", ("Prendre en main du matériel", "Santé")),
        ("Déclarer ses impots", ("Aide aux démarches administratives",)),  # accents aside, a plural
        ("Café numérique", ("Culture numérique",)),  # "caf" is a word, not the start of "café"
        ("Atelier libre", ("Culture numérique",)),
    ],
)
def test_themes_from_the_territory_table(topic: str, themes: tuple[str, ...]) -> None:
    assert themes_for(topic, TABLE) == themes


def test_the_bundled_table_maps_the_demo_topics(territory: Territory) -> None:
    assert themes_for("Appels vidéo avec la famille", territory.coop) == ("Réseaux sociaux communication",)
    assert themes_for("Se protéger des arnaques en ligne", territory.coop) == ("Prévention en sécurité numérique",)
    assert themes_for("Démarches en ligne avec FranceConnect", territory.coop) == (
        "Aide aux démarches administratives",
    )
    assert replace(territory.coop, rules=()).default == ("Prendre en main du matériel",)


# --- Spreadsheets for French Excel --------------------------------------------------------------------------------


def read_excel(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark: Excel reads the accents right
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_excel_cells() -> None:
    data = excel_csv(
        ["Nom", "Taux", "Le", "Oui", "Vide"], [["Zoé; « la »", 0.667, in_2026(2, 9), True, None]], tz=PARIS
    )
    assert read_excel(data) == [
        ["Nom", "Taux", "Le", "Oui", "Vide"],
        ["Zoé; « la »", "0,667", "02/03/2026 09:00", "oui", ""],
    ]


@pytest.mark.both_dialects
async def test_exports(town: Town) -> None:
    ids = await february(town)
    rows = read_excel(roster_csv(await roster(ctx=town.ctx, workshop_id=ids["sv1"]), tz=PARIS))
    assert rows[0][:3] == ["N° personne", "Nom", "Téléphone"]
    assert rows[1][1:3] == ["Anne", "06 11 00 00 01"] and rows[1][5] == "présent"
    residents = read_excel(residents_csv(await list_residents(ctx=town.ctx), tz=PARIS))
    assert [row[1] for row in residents[1:]] == ["Anne", "Bruno", "Chantal", "Lucien Petit"]
    stats = read_excel(people_stats_csv(await people_stats(ctx=town.ctx), tz=PARIS))
    assert stats[1][:5] == ["Total", "", "3", "4", "3"] and stats[1][-1] == "0,667"
    assert ["Mois", "février 2026"] in [row[:2] for row in stats]
    records = read_excel(activities_csv(await month_activities(ctx=town.ctx, month="2026-02"), tz=PARIS))
    assert records[1][:5] == ["10/02/2026", "14:00", "16:00", "2 h", "Ameli et Doctolib"]
    assert records[1][9:12] == ["Santé", "Débutant", "2"]


# --- The command line -------------------------------------------------------------------------------------------


def test_stats_and_activities_commands(db_url: str, tmp_path: Path) -> None:
    shown = ok(db_url, "stats").stdout
    assert "Personnes : 0 inscrites" in shown and "Ateliers : 0 tenus, 0 annulés" in shown
    found = as_json(ok(db_url, "stats", "--json"))
    assert set(found) == {"since", "until", "rows", "total", "people", "messaging"}
    assert set(found["people"]) == {"total", "by_commune", "by_level", "by_month"}
    assert set(found["people"]["total"]) == {
        "new_people", "signed_up", "came", "came_twice", "workshops_held", "workshops_cancelled", "present",
        "no_shows", "attendance_rate",
    }  # fmt: skip
    assert "Aucun atelier tenu en décembre 2026." in ok(db_url, "stats", "activites", "--mois", "2026-12").stdout
    assert as_json(ok(db_url, "stats", "activites", "--mois", "2026-12", "--json")) == []
    refused = atelier(db_url, "stats", "activites", "--mois", "décembre")
    assert refused.exit_code == 1 and "mois illisible « décembre »" in refused.stderr
    missing = atelier(db_url, "stats", "activites")
    assert missing.exit_code == 2 and "il manque l'option --mois" in missing.stderr
    for args, name in [(("stats",), "chiffres.csv"), (("stats", "activites", "--mois", "2026-12"), "coop.csv")]:
        written = ok(db_url, *args, "--csv", str(tmp_path / name)).stdout
        assert f"Fichier écrit : {tmp_path / name}" in " ".join(written.split())
        assert read_excel((tmp_path / name).read_bytes())[0][0] in ("Regroupement", "Date")


def test_roster_and_residents_exports(db_url: str, tmp_path: Path) -> None:
    workshop = planned_workshop(db_url, hours_ahead=72)
    enrol(db_url, workshop, "Zoé Lefèvre", "06 12 00 00 01")
    ok(db_url, "workshops", "roster", str(workshop), "--csv", str(tmp_path / "liste.csv"))
    rows = read_excel((tmp_path / "liste.csv").read_bytes())
    assert rows[1][1:3] == ["Zoé Lefèvre", "06 12 00 00 01"]
    ok(db_url, "residents", "list", "--csv", str(tmp_path / "personnes.csv"))
    assert read_excel((tmp_path / "personnes.csv").read_bytes())[1][1] == "Zoé Lefèvre"
