"""The console in a real headless Chromium (Debian's, driven by Playwright: no browser download), against a real
``atelier serve``: the advisers' journeys, and axe-core on every page (no serious or critical violation).

One server and one browser for the module, to keep the suite short; each journey uses its own workshop.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.config import load_settings
from bot.context import Context
from bot.territory import Territory
from tests.helpers.clock import Clock
from tests.helpers.serving import ATELIER, ROOT, Served, start_serve
from tests.helpers.world import JULIE, Town

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("ATELIER_CHROMIUM", "/usr/bin/chromium")
AXE = (ROOT / "tests/vendor/axe-core/axe.min.js").read_text(encoding="utf-8")
EMAIL, PASSWORD = "claire@example.fr", "un mot de passe assez long"
PHONE = {"width": 360, "height": 740}


@dataclass
class Site:
    url: str
    db: Path
    ids: dict[str, int]


async def _seed(url: str, territory: Territory) -> dict[str, int]:
    from bot.service.accounts import set_password
    from bot.service.team import add_adviser
    from storage.database import Database

    now = datetime.now(UTC)
    db = Database.from_url(url)
    clock = Clock(now - timedelta(days=1))
    ctx = Context(settings=load_settings({"ATELIER_DATABASE_URL": url}), db=db, territory=territory, clock=clock)
    town = Town(ctx, clock)
    try:
        ids = {
            "cancel": await town.workshop("Saint-Victor", now + timedelta(days=3)),
            "broadcast": await town.workshop("Désertines", now + timedelta(days=4)),
            "started": await town.workshop("Domérat", now - timedelta(minutes=30) + timedelta(days=0)),
            "unenrol": await town.workshop("Désertines", now + timedelta(days=5), capacity=1),
            # Free seats for the people of a cancelled workshop: its notice offers it (two SMS, room for the reason).
            "offered": await town.workshop("Domérat", now + timedelta(days=10)),
        }
        clock.now = now - timedelta(days=2)
        for index, name in enumerate(["Martine Dupont", "Jean Morel", "Rose Blanc"]):
            rid = await town.resident(name, phone=f"+3361234567{index}")
            for key in ("cancel", "broadcast", "started"):
                if key != "started" or index < 2:
                    await town.seat(rid, ids[key])
        for name, phone in (("Paul Petit", "+33612345699"), ("Lucie Roy", "+33612345698")):  # Lucie waits
            ids[name] = await town.resident(name, phone=phone)
            await town.seat(ids[name], ids["unenrol"])
        adviser = await add_adviser(ctx=ctx, name="Claire Martin", email=EMAIL, admin=True, actor=JULIE)
        await set_password(ctx=ctx, adviser_id=adviser.id, password=PASSWORD, actor=JULIE)
        return ids
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def site(sqlite_template: Path, territory: Territory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/ensure-chromium.sh (make test does)")
    folder = tmp_path_factory.mktemp("console")
    path = folder / "atelier.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    with ThreadPoolExecutor(1) as pool:  # its own event loop, whatever pytest-asyncio runs around the fixture
        ids = pool.submit(asyncio.run, _seed(url, territory)).result()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "TWILIO_", "TELEGRAM_"))}
    env.update(ATELIER_DATABASE_URL=url, ATELIER_QUIET_HOURS="none", ATELIER_DISPATCH_INTERVAL="0.5")
    assert ATELIER.exists()
    served: Served = start_serve(env, folder / "serve.log")
    try:
        yield Site(f"http://127.0.0.1:{served.port}/console", path, ids)
    finally:
        served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


def signed_in(browser: Browser, site: Site, **options: object) -> Page:
    page = browser.new_page(**options)  # type: ignore[arg-type]
    page.goto(f"{site.url}/aujourdhui")
    expect(page).to_have_url(f"{site.url}/connexion?suite=/console/aujourdhui")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aujourd'hui")
    return page


def axe_problems(page: Page) -> list[str]:
    page.evaluate(AXE)  # evaluated by the browser itself, not as an inline script: the page's CSP stays on
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:120]}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def rows(site: Site, query: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(site.db) as conn:
        return list(conn.execute(query, args))


def test_every_page_passes_axe_on_desktop_and_phone(browser: Browser, site: Site) -> None:
    pages = [
        "/aujourdhui", "/planning", "/planning/nouveau", "/planning/import", f"/ateliers/{site.ids['cancel']}",
        f"/ateliers/{site.ids['cancel']}/annuler", f"/ateliers/{site.ids['cancel']}/deplacer",
        f"/ateliers/{site.ids['cancel']}/inscrire", f"/ateliers/{site.ids['started']}/presences",
        f"/ateliers/{site.ids['cancel']}/emargement", f"/ateliers/{site.ids['cancel']}/modifier", "/residents",
        "/residents?q=dupont", "/residents/1", "/residents/1/effacer", "/residents/1/inscrire",
        f"/residents/1/changer?atelier={site.ids['cancel']}", "/diffusion", "/statistiques", "/conseillers",
        "/compte/mot-de-passe",
    ]  # fmt: skip
    problems = {}
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        page = signed_in(browser, site, viewport=viewport)
        for path in pages:
            page.goto(f"{site.url}{path}")
            found = axe_problems(page)
            if found:
                problems[f"{path} @ {viewport['width']}px"] = found
        page.close()
    login = browser.new_page()
    login.goto(f"{site.url}/connexion")
    assert axe_problems(login) == []
    login.close()
    assert problems == {}


def test_import_a_spreadsheet_with_a_bad_line_fix_it_and_import(browser: Browser, site: Site, tmp_path: Path) -> None:
    page = signed_in(browser, site)
    day = (datetime.now(UTC) + timedelta(days=20)).strftime("%d/%m/%Y")
    header = "date;debut;fin;commune;lieu;adresse;niveau;theme;places\n"
    bad = tmp_path / "planning.csv"
    bad.write_text(f"{header}{day};14:00;16:00;Quinssaines;;;débutant;Tablette;6\n{day};9h;11h;Atlantis;;;2;Mails;6\n")
    page.get_by_role("link", name="Planning").click()
    page.get_by_role("link", name="Importer le tableur").click()
    page.get_by_label("Fichier du planning (CSV)").set_input_files(str(bad))
    page.get_by_role("button", name="Vérifier le fichier").click()
    errors = page.get_by_role("table", name="Lignes à corriger")
    expect(errors).to_contain_text("Atlantis")
    expect(errors.locator("tbody tr")).to_have_count(1)
    bad.write_text(f"{header}{day};14:00;16:00;Quinssaines;;;débutant;Tablette;6\n{day};9h;11h;Domérat;;;2;Mails;6\n")
    page.get_by_label("Fichier du planning (CSV)").set_input_files(str(bad))
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("status")).to_contain_text("2 atelier(s) seront créés")
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("status")).to_contain_text("2 atelier(s) créé(s)")
    assert rows(site, "SELECT count(*) FROM workshops WHERE topic IN ('Tablette', 'Mails')") == [(2,)]
    page.close()


def test_cancel_a_workshop_through_its_preview_and_see_the_notices(browser: Browser, site: Site) -> None:
    workshop = site.ids["cancel"]
    page = signed_in(browser, site)
    page.goto(f"{site.url}/ateliers/{workshop}")
    page.get_by_role("link", name="Annuler l'atelier").click()
    page.get_by_label("Raison").fill("salle des fêtes inondée")
    page.get_by_role("button", name="Voir qui sera prévenu").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aperçu")
    listed = page.get_by_role("list", name="Messages (3)")
    for name in ("Martine Dupont", "Jean Morel", "Rose Blanc"):
        expect(listed).to_contain_text(name)
    assert rows(site, "SELECT count(*) FROM outbound_messages WHERE kind = 'change_notice'") == [(0,)]
    page.get_by_role("button", name="Confirmer l'annulation").click()
    expect(page.get_by_role("status")).to_contain_text("3 message(s) prévu(s)")
    notices = rows(
        site, "SELECT body FROM outbound_messages WHERE kind = 'change_notice' AND workshop_id = ?", workshop
    )
    assert len(notices) == 3 and all("inond" in str(body) for (body,) in notices)
    page.goto(f"{site.url}/ateliers/{workshop}")
    expect(page.locator("#history + ul")).to_contain_text("Claire Martin (console)")
    page.close()


def test_a_change_preview_reads_on_a_phone(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site, viewport=PHONE)
    page.goto(f"{site.url}/ateliers/{site.ids['broadcast']}/annuler")
    page.get_by_label("Raison").fill("salle des fêtes inondée")
    page.get_by_role("button", name="Voir qui sera prévenu").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aperçu")
    messages = page.locator(".notice .message")
    expect(messages).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    widths = [box["width"] for box in (m.bounding_box() for m in messages.all()) if box is not None]
    assert len(widths) == 3 and min(widths) >= 0.75 * PHONE["width"], widths  # the text gets the screen's width
    page.close()


def test_broadcast_with_live_counters_preview_then_report(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site)
    page.get_by_role("link", name="Diffusion").click()
    page.get_by_label("Les participants d'un atelier").check()
    page.get_by_label("Atelier", exact=True).select_option(str(site.ids["broadcast"]))
    page.get_by_label("Message").fill("N’oubliez pas votre tablette chargée.")
    counters = page.locator("#counters")
    expect(counters).to_contain_text("hors GSM-7 : ’")  # the live counters (JavaScript, computed by the server)
    expect(page.locator('[data-counter="recipients"]')).to_have_text("3")
    page.get_by_role("button", name="Aperçu avant envoi").click()
    expect(page.get_by_role("status").first).to_contain_text("3 destinataire(s)")
    page.get_by_role("button", name="Envoyer à 3 personne(s)").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("compte rendu")
    expect(page.get_by_role("table", name="Ce que sont devenus les messages")).to_contain_text("Destinataires")
    assert rows(site, "SELECT count(*) FROM outbound_messages WHERE kind = 'broadcast'") == [(3,)]
    page.close()


def test_attendance_on_a_phone_with_a_walk_in(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site, viewport=PHONE)
    page.goto(f"{site.url}/ateliers/{site.ids['started']}")
    page.get_by_role("link", name="Faire l'appel").click()
    page.get_by_label("Prénom et nom").fill("Lucien Petitjean")  # came without signing up, no phone
    page.get_by_label("Commune (facultatif)").select_option(label="Domérat")
    page.get_by_role("button", name="Ajouter aux présents").click()
    expect(page.get_by_role("status")).to_contain_text("Lucien Petitjean est noté(e) présent(e)")
    expect(page.get_by_role("group", name="Lucien Petitjean").get_by_label("Présent")).to_be_checked()
    page.get_by_role("group", name="Martine Dupont").get_by_label("Présent").check()
    page.get_by_role("group", name="Jean Morel").get_by_label("Absent").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    assert axe_problems(page) == []
    page.get_by_role("button", name="Enregistrer l'appel").click()
    expect(page.get_by_role("status")).to_contain_text("Présences enregistrées")
    marks = rows(
        site,
        "SELECT r.name, e.status FROM enrolments e JOIN residents r ON r.id = e.resident_id WHERE e.workshop_id = ? "
        "ORDER BY e.id",
        site.ids["started"],
    )
    assert marks == [("Martine Dupont", "attended"), ("Jean Morel", "absent"), ("Lucien Petitjean", "attended")]
    page.close()


def test_find_a_resident_and_unenrol_them(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site)
    page.get_by_role("link", name="Résidents").click()
    page.get_by_label("Nom ou numéro de téléphone").fill("06.12.34.56.99")  # written any way
    page.get_by_role("button", name="Chercher").click()
    page.get_by_role("link", name="Paul Petit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paul Petit")
    page.get_by_role("button", name="Désinscrire").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aperçu : désinscrire Paul Petit")
    expect(page.locator("main")).to_contain_text("Sa place ira à Lucie Roy")
    assert axe_problems(page) == []
    statuses = "SELECT status FROM enrolments WHERE workshop_id = ? ORDER BY id"
    assert rows(site, statuses, site.ids["unenrol"]) == [("seated",), ("waiting",)]  # the preview wrote nothing
    page.get_by_role("button", name="Confirmer la désinscription").click()
    expect(page.get_by_role("status")).to_contain_text("Paul Petit ne vient plus")
    assert rows(site, statuses, site.ids["unenrol"]) == [("cancelled",), ("seated",)]
    page.close()


def test_log_out_ends_the_session(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_label("Mot de passe")).to_be_visible()
    page.goto(f"{site.url}/planning")
    expect(page).to_have_url(f"{site.url}/connexion?suite=/console/planning")
    page.close()
