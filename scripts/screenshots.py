"""Screenshots of every console page, desktop (1280 px) and phone (360 px), into docs/ (the README shows them).

.venv/bin/python scripts/screenshots.py

A throw-away database gets the demo planning, a few people enrolled by phone, a broadcast, a call-back request (the
"to call" list) and a workshop that started half an hour ago (attendance, with a walk-in); ``atelier serve`` runs on
it and Debian's chromium (through Playwright) visits each page signed in as the demo account, and fills the forms
whose preview pages are shown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, sync_playwright

from bot.config import load_settings
from bot.context import Context, open_context
from bot.service.accounts import DEMO_EMAIL, DEMO_NAME, ensure_demo_account
from bot.service.actors import Actor
from bot.service.broadcasts import Audience, send_broadcast
from bot.service.callbacks import request_callback
from bot.service.phone_enrolment import enrol_by_phone
from bot.service.places import sync_territory
from bot.service.planning_csv import WorkshopFields
from bot.service.stats import add_walk_in
from bot.service.workshops import add_workshop, list_workshops, load_demo
from bot.territory import load_territory
from storage.migrate import upgrade
from storage.models import Resident

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = os.environ.get("ATELIER_CHROMIUM", "/usr/bin/chromium")
DEMO_ADVISER = Actor(DEMO_NAME, interface="console")  # the pages show what it did in their history
PEOPLE = [
    ("Martine Dupont", "06 12 34 56 01", "Saint-Victor"),
    ("Jean Morel", "06 12 34 56 02", "Saint-Victor"),
    ("Rose Blanc", "04 70 05 12 34", "Domérat"),
    ("Paul Petit", "06 12 34 56 04", "Désertines"),
]


@dataclasses.dataclass(frozen=True)
class Ids:
    workshop: int  # the first of the demo planning, four people enrolled by phone
    started: int  # started half an hour ago
    martine: int


async def prepare(url: str) -> tuple[str, Ids]:
    settings = load_settings({"ATELIER_DATABASE_URL": url})
    async with open_context(settings=settings, territory=load_territory(settings.territory)) as ctx:
        await upgrade(ctx.db.engine)
        await sync_territory(db=ctx.db, territory=ctx.territory)
        setup = Actor("capture d'écran", interface="cli")
        await load_demo(ctx=ctx, if_empty=False, actor=setup)
        account = await ensure_demo_account(ctx=ctx, actor=setup)
        if account is None:
            raise SystemExit("the demo account exists already in a fresh database?")
        first = (await list_workshops(ctx=ctx))[0]
        enrolled = [
            await enrol_by_phone(
                ctx=ctx, name=name, phone=phone, commune=commune, workshop_id=first.id, actor=DEMO_ADVISER
            )
            for name, phone, commune in PEOPLE
        ]
        await send_broadcast(
            ctx=ctx, audience=Audience(workshop_id=first.id), body="Pensez à apporter votre tablette chargée.",
            actor=DEMO_ADVISER, expires_in=timedelta(days=2),
        )  # fmt: skip
        martine = enrolled[0].resident_id
        async with ctx.db.write() as session:  # Martine wrote CONSEILLER: a call on the list
            resident = await session.get(Resident, martine)
            if resident is not None:
                await request_callback(session=session, resident=resident, now=ctx.now(), reason="ma carte vitale")
        started = await _started_workshop(ctx)
        return account[1], Ids(first.id, started, martine)


async def _started_workshop(ctx: Context) -> int:
    """A workshop that began half an hour ago, planned (and two people enrolled) the day before."""
    start = (datetime.now(ctx.tz) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    before = dataclasses.replace(ctx, clock=lambda: start - timedelta(days=1))
    fields = WorkshopFields(
        date=f"{start:%d/%m/%Y}", start=f"{start:%H:%M}", end=f"{start + timedelta(hours=2):%H:%M}",
        commune="Domérat", venue="", address="", level="débutant", topic="Premiers pas sur tablette", capacity="6",
    )  # fmt: skip
    workshop = await add_workshop(ctx=before, fields=fields, actor=DEMO_ADVISER)
    for name, phone in (("Hélène Roux", "06 12 34 56 05"), ("Marcel Faure", "06 12 34 56 06")):
        await enrol_by_phone(
            ctx=before, name=name, phone=phone, commune="Domérat", workshop_id=workshop.id, actor=DEMO_ADVISER
        )
    await add_walk_in(ctx=ctx, workshop_id=workshop.id, name="Lucien Petit", commune="Domérat", actor=DEMO_ADVISER)
    return workshop.id


def wait(port: int) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("atelier serve did not start")


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/atelier.db"
        password, ids = asyncio.run(prepare(url))
        port = 8765
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ATELIER_", "TWILIO_", "TELEGRAM_"))}
        env |= {"ATELIER_DATABASE_URL": url}
        atelier = Path(sys.executable).parent / "atelier"
        server = subprocess.Popen(  # noqa: S603 — our own command, fixed arguments
            [str(atelier), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait(port)
            shoot(f"http://127.0.0.1:{port}/console", password, ids)
        finally:
            server.terminate()
            server.wait(timeout=20)


# A path, or a form to fill (a function of the page, the base URL and the ids) for the pages that come after one.
PAGES: dict[str, str | Callable[[Page, str, Ids], None]] = {
    "aujourdhui": "/aujourdhui",
    "planning": "/planning?semaine={monday}",  # the demo planning starts next week
    "atelier": "/ateliers/{workshop}",
    "apercu-modification": lambda page, base, ids: _edit_preview(page, base, ids),
    "apercu-annulation": lambda page, base, ids: _cancel_preview(page, base, ids),
    "emargement": "/ateliers/{workshop}/emargement",
    "appel": "/ateliers/{started}/presences",
    "residents": "/residents?q=dupont",
    "fiche": "/residents/{martine}",
    "apercu-desinscription": lambda page, base, ids: _unenrol_preview(page, base, ids),
    "diffusion": "/diffusion",
    "statistiques": "/statistiques",
}


def _cancel_preview(page: Page, base: str, ids: Ids) -> None:
    page.goto(f"{base}/ateliers/{ids.workshop}/annuler")
    page.get_by_label("Raison").fill("salle indisponible")
    page.get_by_role("button", name="Voir qui sera prévenu").click()


def _edit_preview(page: Page, base: str, ids: Ids) -> None:
    page.goto(f"{base}/ateliers/{ids.workshop}/modifier")
    page.get_by_label("Nombre de places").fill("8")
    page.get_by_role("button", name="Voir ce qui va se passer").click()


def _unenrol_preview(page: Page, base: str, ids: Ids) -> None:
    page.goto(f"{base}/residents/{ids.martine}")
    page.get_by_role("button", name="Désinscrire").first.click()


def next_monday() -> str:
    today = datetime.now(UTC).date()
    return (today + timedelta(days=7 - today.weekday())).isoformat()


def shoot(base: str, password: str, ids: Ids) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        devices: tuple[tuple[str, ViewportSize], ...] = (
            ("bureau", {"width": 1280, "height": 900}),
            ("telephone", {"width": 360, "height": 740}),
        )
        for device, viewport in devices:
            page = browser.new_page(viewport=viewport)
            page.goto(f"{base}/connexion")
            page.screenshot(path=DOCS / f"console-connexion-{device}.png")
            page.get_by_label("Adresse e-mail").fill(DEMO_EMAIL)
            page.get_by_label("Mot de passe").fill(password)
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url("**/aujourdhui")
            for name, path in PAGES.items():
                if isinstance(path, str):
                    values = dataclasses.asdict(ids) | {"monday": next_monday()}
                    page.goto(base + path.format(**values))
                else:
                    path(page, base, ids)
                page.screenshot(path=DOCS / f"console-{name}-{device}.png", full_page=True)
            page.close()
        browser.close()
    print(f"Captures enregistrées dans {DOCS}")


if __name__ == "__main__":
    main()
