"""Server time of each console page with 5,000 residents and 1,000 workshops: median and p95 over 50 loads.

The outbox holds two reminders for each person seated (about 7,700 still pending), and the "to call" list 100 call-back
requests, so that « Aujourd'hui » reads a realistic day.

.venv/bin/python bench/console.py [--residents 5000] [--workshops 1000] [--loads 50]

The app is called in-process (httpx's ASGI transport): the figures are the server's own time, network aside.
Target: every page under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.app import create_app
from bot.config import load_settings
from bot.service.accounts import set_password, sign_in
from bot.service.actors import Actor
from bot.service.places import sync_territory
from bot.service.team import add_adviser
from bot.territory import load_territory
from storage.database import Database
from storage.enums import EnrolmentStatus, Level, WorkshopStatus
from storage.migrate import upgrade
from storage.models import (
    Call,
    CallKind,
    Commune,
    Enrolment,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    Venue,
    Workshop,
)

PASSWORD = "mot de passe du banc d'essai"


async def seed(url: str, residents: int, workshops: int) -> None:
    settings = load_settings({"ATELIER_DATABASE_URL": url})
    db = Database.from_url(url)
    await upgrade(db.engine)
    await sync_territory(db=db, territory=load_territory(settings.territory))
    now = datetime.now(UTC)
    async with db.write() as session:
        venues = list((await session.execute(select(Venue))).unique().scalars())
        communes = [c.insee for c in (await session.execute(select(Commune))).scalars()]
        levels = list(Level)
        planned = [
            Workshop(
                venue_id=venues[i % len(venues)].id,
                starts_at=now + timedelta(hours=3 * i - 300),  # some past, most to come, ~8 a day
                ends_at=now + timedelta(hours=3 * i - 298),
                level=levels[i % 3],
                topic="Premiers pas",
                capacity=6,
                status=WorkshopStatus.planned,
            )
            for i in range(workshops)
        ]
        session.add_all(planned)
        people = [
            Resident(
                phone=f"+3361{i:07d}", name=f"Résident {i}", commune_insee=communes[i % len(communes)],
                level=levels[i % 3], interests=[], consent_at=now - timedelta(days=i % 90), consent_channel="sms",
            )
            for i in range(residents)
        ]  # fmt: skip
        session.add_all(people)
        await session.flush()
        session.add_all(
            Enrolment(
                resident_id=person.id,
                workshop_id=planned[i % workshops].id,
                status=EnrolmentStatus.seated if i % 7 else EnrolmentStatus.waiting,
                position=None if i % 7 else 1 + i // workshops,
            )
            for i, person in enumerate(people)
        )
        session.add_all(
            OutboundMessage(
                resident_id=person.id, channel="sms", to_address=person.phone, body="Rappel : atelier demain.",
                kind=MessageKind.reminder, due_at=planned[i % workshops].starts_at - before,
                status=MessageStatus.pending if planned[i % workshops].starts_at - before > now else MessageStatus.sent,
                idempotency_key=f"bench:{i}:{before}", workshop_id=planned[i % workshops].id,
            )
            for i, person in enumerate(people)
            if i % 7
            for before in (timedelta(days=1), timedelta(hours=3))
        )  # fmt: skip
        session.add_all(
            Call(
                key=f"bench:{i}", kind=CallKind.callback, resident_id=people[i * 37 % len(people)].id, created_at=now,
                what_to_say="A demandé à être rappelé(e) (CONSEILLER).",
            )
            for i in range(min(100, len(people)))
        )  # fmt: skip
    await db.dispose()


async def main(residents: int, workshops: int, loads: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await seed(url, residents, workshops)
        app = create_app(load_settings({"ATELIER_DATABASE_URL": url}))
        ctx = app.state.ctx
        bench = Actor("banc d'essai", interface="cli")
        adviser = await add_adviser(ctx=ctx, name="Banc d'essai", email="banc@example.fr", admin=True, actor=bench)
        await set_password(ctx=ctx, adviser_id=adviser.id, password=PASSWORD, actor=bench)
        token = (await sign_in(ctx=ctx, email="banc@example.fr", password=PASSWORD, address="bench")).token
        assert token is not None
        middle = workshops // 2 + 1
        begun = min(workshops, 50)  # began 150 hours ago
        person = (residents + 1) // 2
        today = datetime.now(UTC).date()
        month = f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"
        pages = {
            "Aujourd'hui": "/console/aujourdhui",
            "Planning (semaine)": f"/console/planning?semaine={today.isoformat()}",
            "Atelier": f"/console/ateliers/{middle}",
            "Émargement": f"/console/ateliers/{middle}/emargement",
            "Inscrits (CSV)": f"/console/ateliers/{middle}/inscrits.csv",
            "Annuler (formulaire)": f"/console/ateliers/{middle}/annuler",
            "Modifier (formulaire)": f"/console/ateliers/{middle}/modifier",
            "Appel (présences)": f"/console/ateliers/{begun}/presences",
            "Résidents": "/console/residents",
            "Recherche par nom": f"/console/residents?q=resident+{person}",
            "Recherche par numéro": f"/console/residents?q=06+1{person:07d}",
            "Résidents (CSV)": "/console/residents/export.csv",
            "Fiche résident": f"/console/residents/{person}",
            "Inscrire (formulaire)": f"/console/residents/{person}/inscrire",
            "Diffusion": "/console/diffusion",
            "Statistiques (12 semaines)": "/console/statistiques",
            "Chiffres (CSV)": "/console/statistiques/chiffres.csv",
            "La Coop (CSV)": f"/console/statistiques/activites.csv?mois={month}",
            "Conseillers": "/console/conseillers",
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b", cookies={"atelier_session": token}) as c:
            print(f"{residents} résidents, {workshops} ateliers, {loads} chargements par page (SQLite)")
            print(f"{'page':30} {'médiane':>10} {'p95':>10}")
            for name, path in pages.items():
                timings = []
                for _ in range(loads):
                    started = time.perf_counter()
                    answer = await c.get(path)
                    timings.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, (path, answer.status_code)
                timings.sort()
                p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
                print(f"{name:30} {statistics.median(timings):8.1f} ms {p95:8.1f} ms")
        await ctx.db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--workshops", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=50)
    options = parser.parse_args()
    asyncio.run(main(options.residents, options.workshops, options.loads))
