"""Every console route × (anonymous, wrong CSRF token, signed in): the status expected, and "nothing changed"
checked on a digest of every table. Dialect-independent (the pages call the same service operations as the other
interfaces, tested on both databases): SQLite only."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from bot.config import Settings
from storage.models import AuditEvent
from tests.helpers.console_world import EMAIL, PASSWORD, ConsoleWorld, console_world

CSV = (
    "date;debut;fin;commune;lieu;adresse;niveau;theme;places\n16/03/2026;14:00;16:00;Désertines;;;débutant;Tablette;6\n"
)


@pytest.fixture
async def world(settings: Settings, now: datetime) -> AsyncIterator[ConsoleWorld]:
    async with console_world(settings, now) as built:
        yield built


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    path: Callable[[ConsoleWorld], str]
    form: Callable[[ConsoleWorld], dict[str, str | list[str]]] = lambda _: {}
    files: dict[str, tuple[str, bytes]] | None = None
    status: int = 200  # signed in, right token
    changes: bool = False  # signed in, right token: does it write anything?
    location: str | None = None  # where a 303 leads (a prefix)
    shows: tuple[str, ...] = field(default_factory=tuple)


CASES = [
    Case("home", "GET", lambda w: "/console/", status=303, location="/console/aujourdhui"),
    Case("today", "GET", lambda w: "/console/aujourdhui", shows=("Martine Dupont", "Rappel fait")),
    Case("callback done", "POST", lambda w: f"/console/rappels/{w.callback_id}/fait", status=303, changes=True),
    Case("planning", "GET", lambda w: "/console/planning?semaine=2026-03-09", shows=("Saint-Victor", "2/2")),
    Case("planning filtered", "GET", lambda w: "/console/planning?semaine=2026-03-09&niveau=advanced",
         shows=("0 atelier",)),
    Case("new workshop form", "GET", lambda w: "/console/planning/nouveau", shows=("Planifier",)),
    Case(
        "new workshop", "POST", lambda w: "/console/planning/nouveau", status=303, changes=True,
        form=lambda w: {"date": "2026-03-20", "start": "14:00", "end": "16:00", "commune": "03098", "level": "beginner",
                        "topic": "Tablette", "capacity": "6"},
    ),
    Case("import form", "GET", lambda w: "/console/planning/import"),
    Case("import preview", "POST", lambda w: "/console/planning/import", files={"file": ("p.csv", CSV.encode())},
         shows=("1 atelier(s) seront créés", "Importer")),
    Case("import", "POST", lambda w: "/console/planning/import/confirmer", changes=True,
         form=lambda w: {"data": base64.b64encode(CSV.encode()).decode()}, shows=("1 atelier(s) créé(s)",)),
    Case("workshop", "GET", lambda w: f"/console/ateliers/{w.workshop_id}", shows=("Martine Dupont", "06 12 34 56 78")),
    Case("sign-in sheet", "GET", lambda w: f"/console/ateliers/{w.workshop_id}/emargement", shows=("Signature",)),
    Case("cancel form", "GET", lambda w: f"/console/ateliers/{w.workshop_id}/annuler"),
    Case("cancel preview", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/annuler/apercu",
         form=lambda w: {"reason": "salle indisponible"}, shows=("Aperçu", "Martine Dupont", "salle indisponible")),
    Case("cancel", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/annuler", changes=True,
         form=lambda w: {"reason": "salle indisponible"}, shows=("annulé",)),
    Case("move form", "GET", lambda w: f"/console/ateliers/{w.workshop_id}/deplacer"),
    Case("move preview", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/deplacer/apercu",
         form=lambda w: {"start": "15:00"}, shows=("Aperçu", "Jean Morel")),
    Case("move", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/deplacer", changes=True,
         form=lambda w: {"start": "15:00"}, shows=("déplacé",)),
    Case("attendance form", "GET", lambda w: f"/console/ateliers/{w.started_id}/presences", shows=("Rose Blanc",)),
    Case("attendance", "POST", lambda w: f"/console/ateliers/{w.started_id}/presences", status=303, changes=True,
         form=lambda w: {"p" + str(w.resident_id + 3): "present"}),
    Case("enrol form", "GET", lambda w: f"/console/ateliers/{w.workshop_id}/inscrire"),
    Case("enrol", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/inscrire", changes=True,
         form=lambda w: {"name": "Lucie Roy", "phone": "06 11 22 33 44", "commune": "03098"},
         shows=("liste d'attente",)),
    Case("residents", "GET", lambda w: "/console/residents", shows=("Martine Dupont",)),
    Case("resident", "GET", lambda w: f"/console/residents/{w.resident_id}", shows=("06 12 34 56 78", "Joint par")),
    Case("erase form", "GET", lambda w: f"/console/residents/{w.resident_id}/effacer",
         shows=("Effacer définitivement",)),
    Case("erase", "POST", lambda w: f"/console/residents/{w.resident_id}/effacer", status=303, changes=True),
    Case("broadcast", "GET", lambda w: "/console/diffusion", shows=("Aperçu avant envoi",)),
    Case("broadcast counters", "POST", lambda w: "/console/diffusion/compter",
         form=lambda w: {"body": "Fermé à Noël", "target": "upcoming"}, shows=('"segments":1',)),
    Case("broadcast preview", "POST", lambda w: "/console/diffusion/apercu",
         form=lambda w: {"body": "Apportez votre tablette", "target": "workshop", "workshop": str(w.workshop_id)},
         shows=("3 destinataire(s)", "Envoyer")),
    Case("broadcast send", "POST", lambda w: "/console/diffusion/envoyer", status=303, changes=True,
         form=lambda w: {"body": "Apportez votre tablette", "target": "workshop", "workshop": str(w.workshop_id)}),
    Case("broadcast report", "GET", lambda w: f"/console/diffusion/{w.broadcast_id}", shows=("compte rendu",)),
    Case("statistics", "GET", lambda w: "/console/statistiques?du=2026-01-01&au=2026-03-31", shows=("<svg",)),
    Case("advisers", "GET", lambda w: "/console/conseillers", shows=(EMAIL,)),
    Case("adviser add", "POST", lambda w: "/console/conseillers", changes=True,
         form=lambda w: {"name": "Julie Bernard", "email": "julie@example.fr"}, shows=("ne sera plus affiché",)),
    Case("adviser reset", "POST", lambda w: f"/console/conseillers/{w.adviser_id}/mot-de-passe", changes=True,
         shows=("ne sera plus affiché",)),
    Case("own password form", "GET", lambda w: "/console/compte/mot-de-passe"),
    Case("own password", "POST", lambda w: "/console/compte/mot-de-passe", status=303, changes=True,
         form=lambda w: {"current": PASSWORD, "new": "un autre mot de passe", "again": "un autre mot de passe"}),
    Case("logout", "POST", lambda w: "/console/deconnexion", status=303, location="/console/connexion"),
]  # fmt: skip

# What the audit trail records of each change, in order, as done by the signed-in adviser through the console.
AUDITED = {
    "callback done": ("callback_done",),
    "new workshop": ("workshop_added",),
    "import": ("planning_imported",),
    "cancel": ("workshop_cancelled",),
    "move": ("workshop_moved",),
    "attendance": ("attendance",),
    "enrol": ("enrolled_by_phone",),
    "erase": ("resident_erased",),
    "broadcast send": ("broadcast_sent",),
    "adviser add": ("adviser_added", "password_set"),
    "adviser reset": ("password_set",),
    "own password": ("password_set",),
}


async def _send(world: ConsoleWorld, case: Case, client: httpx.AsyncClient | None, csrf: str | None) -> httpx.Response:
    form = dict(case.form(world))
    if csrf is not None:
        form["csrf"] = csrf
    target = world.client if client is None else client
    if case.method == "GET":
        return await target.get(case.path(world))
    return await target.post(case.path(world), data=form, files=case.files)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
async def test_signed_in(world: ConsoleWorld, case: Case) -> None:
    before = await world.fingerprint()
    last = max((e.id for e in await _events(world)), default=0)
    answer = await _send(world, case, None, world.csrf)
    assert answer.status_code == case.status, answer.text[:2000]
    for text in case.shows:
        assert text in answer.text
    if case.location is not None:
        assert answer.headers["location"].startswith(case.location)
    assert (await world.fingerprint() != before) is case.changes
    audited = AUDITED.get(case.label, ())
    assert bool(audited) is case.changes, "every change is in the audit trail"
    who = ("console", "Claire Martin", world.adviser_id)
    assert [(e.interface, e.actor, e.adviser_id, e.action) for e in await _events(world, after=last)] == [
        (*who, action) for action in audited
    ]


async def _events(world: ConsoleWorld, *, after: int = 0) -> list[AuditEvent]:
    async with world.ctx.db.read() as session:
        query = select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)
        return list((await session.execute(query)).scalars())


async def test_anonymous_requests_go_to_sign_in_and_change_nothing(world: ConsoleWorld) -> None:
    before = await world.fingerprint()
    wrong = []
    async with world.anonymous() as anonymous:
        for case in CASES:
            answer = await _send(world, case, anonymous, None)
            where = answer.headers.get("location", "")
            expected = "/console/aujourdhui" if case.label == "home" else "/console/connexion"
            if answer.status_code != 303 or not where.startswith(expected):
                wrong.append((case.label, answer.status_code, where))
    assert wrong == []
    assert await world.fingerprint() == before


@pytest.mark.parametrize("token", ["missing", "wrong"])
async def test_a_post_without_the_right_csrf_token_is_refused_and_changes_nothing(
    world: ConsoleWorld, token: str
) -> None:
    before = await world.fingerprint()
    statuses = {}
    for case in CASES:
        if case.method == "POST":
            answer = await _send(world, case, None, None if token == "missing" else "not-the-token")
            statuses[case.label] = answer.status_code
    assert set(statuses.values()) == {403}, statuses
    assert await world.fingerprint() == before


async def test_the_workshop_page_shows_its_history(world: ConsoleWorld) -> None:
    path = f"/console/ateliers/{world.workshop_id}/annuler"
    await world.client.post(path, data={"csrf": world.csrf, "reason": "salle prise"})
    page = await world.client.get(f"/console/ateliers/{world.workshop_id}")
    assert "Claire Martin (console)" in page.text and "salle prise" in page.text
