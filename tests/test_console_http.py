"""Every console route × (anonymous, wrong CSRF token, signed in): the status expected, and "nothing changed"
checked on a digest of every table. Dialect-independent (the pages call the same service operations as the other
interfaces, tested on both databases): SQLite only."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select
from starlette.routing import Mount, Route

from bot.app import create_app
from bot.config import Settings
from bot.interfaces.web.base import Web
from bot.service.reminders import Promoted
from bot.service.residents import unenrol
from storage.models import AuditEvent
from tests.helpers.console_world import EMAIL, PASSWORD, ConsoleWorld, console_world
from tests.helpers.world import JULIE, in_2026

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
    Case("today", "GET", lambda w: "/console/aujourdhui",
         shows=("À appeler (1)", "Martine Dupont", "Demande de rappel", "Noter l'appel", "Messages retenus")),
    Case("call done", "POST", lambda w: f"/console/appels/{w.call_id}/fait", status=303, changes=True,
         form=lambda w: {"outcome": "rappelée : vient mardi"}, location="/console/aujourdhui?fait=appel"),
    Case("call done from the record", "POST", lambda w: f"/console/appels/{w.call_id}/fait", status=303,
         changes=True, form=lambda w: {"outcome": "rappelée", "fiche": str(w.resident_id)},
         location="/console/residents/1?fait=appel"),
    Case("call done without an outcome", "POST", lambda w: f"/console/appels/{w.call_id}/fait", status=400,
         form=lambda w: {"outcome": "  "}, shows=("Rien n'a été noté", "Indiquez ce qui a été convenu, par exemple")),
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
    Case("workshop", "GET", lambda w: f"/console/ateliers/{w.workshop_id}",
         shows=("Martine Dupont", "06 12 34 56 78", "Modifier (places, thème, conseiller)", "Désinscrire")),
    Case("sign-in sheet", "GET", lambda w: f"/console/ateliers/{w.workshop_id}/emargement", shows=("Signature",)),
    Case("roster for Excel", "GET", lambda w: f"/console/ateliers/{w.workshop_id}/inscrits.csv",
         shows=("\ufeffN° personne;Nom;", "Martine Dupont;06 12 34 56 78", "Paul Petit")),
    Case("edit form", "GET", lambda w: f"/console/ateliers/{w.workshop_id}/modifier",
         shows=("Nombre de places", 'value="2"', "Premiers pas")),
    Case("edit preview", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/modifier/apercu",
         form=lambda w: {"capacity": "3", "topic": "Premiers pas", "adviser": "aucun"},
         shows=("Aperçu", "2 → 3", "Paul Petit", "prévenue par message", "Confirmer la modification")),
    Case("edit", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/modifier", changes=True,
         form=lambda w: {"capacity": "3", "topic": "Tablette", "adviser": "aucun"},
         shows=("modifié", "« Premiers pas » → « Tablette »", "Paul Petit")),
    Case("edit refused", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/modifier/apercu", status=400,
         form=lambda w: {"capacity": "1", "topic": "Premiers pas", "adviser": "aucun"},
         shows=("Rien n'a été changé", "ne peut pas descendre sous 2")),
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
    Case("attendance form", "GET", lambda w: f"/console/ateliers/{w.started_id}/presences",
         shows=("Rose Blanc", "Une personne venue sans inscription")),
    Case("attendance before the start", "GET", lambda w: f"/console/ateliers/{w.workshop_id}/presences", status=409,
         shows=("n'a pas encore commencé",)),
    Case("attendance", "POST", lambda w: f"/console/ateliers/{w.started_id}/presences", status=303, changes=True,
         form=lambda w: {"p" + str(w.resident_id + 3): "present"}),
    Case("walk-in", "POST", lambda w: f"/console/ateliers/{w.started_id}/presences/sans-inscription", status=303,
         changes=True, form=lambda w: {"name": "Lucien Petit", "phone": "", "commune": "03098"},
         location="/console/ateliers/2/presences?ajout=Lucien%20Petit"),
    Case("walk-in with someone else's number", "POST",
         lambda w: f"/console/ateliers/{w.started_id}/presences/sans-inscription", status=400,
         form=lambda w: {"name": "Lucien Petit", "phone": "06 12 34 56 78"},
         shows=("Personne n'a été ajouté", "C'est bien Martine Dupont (personne n°1)")),
    Case("enrol form", "GET", lambda w: f"/console/ateliers/{w.workshop_id}/inscrire"),
    Case("enrol preview", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/inscrire/apercu",
         form=lambda w: {"name": "Lucie Roy", "phone": "06 11 22 33 44", "commune": "03098"},
         shows=("Aperçu : inscrire Lucie Roy", "la place n°2 sur la liste d'attente", "Confirmer l'inscription")),
    Case("enrol someone else's number", "POST", lambda w: f"/console/ateliers/{w.later_id}/inscrire/apercu",
         status=400, form=lambda w: {"name": "Lucie Roy", "phone": "06 12 34 56 78", "commune": "03098"},
         shows=("est celui de « Martine Dupont »", "C'est bien Martine Dupont (personne n°1) que j'inscris")),
    Case("enrol", "POST", lambda w: f"/console/ateliers/{w.workshop_id}/inscrire", changes=True,
         form=lambda w: {"name": "Lucie Roy", "phone": "06 11 22 33 44", "commune": "03098"},
         shows=("liste d'attente",)),
    Case("enrol someone else's number, confirmed", "POST", lambda w: f"/console/ateliers/{w.later_id}/inscrire",
         changes=True, form=lambda w: {"name": "Lucie Roy", "phone": "06 12 34 56 78", "commune": "03098",
                                       "owner": "oui"}, shows=("Inscription faite",)),
    Case("residents", "GET", lambda w: "/console/residents", shows=("Martine Dupont", "Nom ou numéro")),
    Case("find by name", "GET", lambda w: "/console/residents?q=DUPONT+martine",
         shows=("1 personne(s) pour « DUPONT martine »", "Martine Dupont")),
    Case("find by number", "GET", lambda w: "/console/residents?q=06.12.34.56.79", shows=("Jean Morel",)),
    Case("find nobody", "GET", lambda w: "/console/residents?q=dupond", shows=("Personne ne correspond",)),
    Case("residents for Excel", "GET", lambda w: "/console/residents/export.csv",
         shows=("\ufeffN° personne;Nom;Téléphone", "Martine Dupont;06 12 34 56 78")),
    Case("resident", "GET", lambda w: f"/console/residents/{w.resident_id}",
         shows=("06 12 34 56 78", "Joint par", "Ateliers à venir (1)", "Appels (1)", "Noter l'appel",
                "Pensez à votre tablette.", "Changer d'atelier", "Désinscrire")),
    Case("note a call", "POST", lambda w: f"/console/residents/{w.resident_id}/appel", status=303, changes=True,
         form=lambda w: {"outcome": "a demandé le niveau"}, location="/console/residents/1?fait=appel-note"),
    Case("enrol a person form", "GET", lambda w: f"/console/residents/{w.resident_id}/inscrire",
         shows=("Niveau débutant", "n°3 · lun. 16 mars 14:00 · Domérat")),
    Case("enrol a person preview", "POST", lambda w: f"/console/residents/{w.resident_id}/inscrire/apercu",
         form=lambda w: {"to": str(w.later_id)}, shows=("Aperçu", "une place à l'atelier n°3", "Confirmer")),
    Case("enrol a person", "POST", lambda w: f"/console/residents/{w.resident_id}/inscrire", changes=True,
         form=lambda w: {"to": str(w.later_id)}, shows=("est inscrite", "lundi 16 mars")),
    Case("move a person form", "GET", lambda w: f"/console/residents/{w.resident_id}/changer?atelier=1",
         shows=("Le nouvel atelier", "n°3 · lun. 16 mars")),
    Case("move a person preview", "POST", lambda w: f"/console/residents/{w.resident_id}/changer/apercu",
         form=lambda w: {"from": str(w.workshop_id), "to": str(w.later_id)},
         shows=("Aperçu", "Paul Petit", "Confirmer le changement")),
    Case("move a person", "POST", lambda w: f"/console/residents/{w.resident_id}/changer", changes=True,
         form=lambda w: {"from": str(w.workshop_id), "to": str(w.later_id)}, shows=("a changé d'atelier",)),
    Case("move a person refused", "POST", lambda w: f"/console/residents/{w.resident_id}/changer/apercu",
         status=400, form=lambda w: {"from": str(w.workshop_id), "to": str(w.workshop_id)},
         shows=("c'est le même atelier",)),
    Case("unenrol preview", "POST", lambda w: f"/console/residents/{w.resident_id}/desinscrire/apercu",
         form=lambda w: {"atelier": str(w.workshop_id), "retour": "atelier"},
         shows=("Aperçu", "Paul Petit", "Confirmer la désinscription")),
    Case("unenrol", "POST", lambda w: f"/console/residents/{w.resident_id}/desinscrire", changes=True,
         form=lambda w: {"atelier": str(w.workshop_id), "retour": "atelier"},
         shows=("ne vient plus à l'atelier n°1", "Paul Petit")),
    Case("unenrol refused", "POST", lambda w: f"/console/residents/{w.resident_id}/desinscrire", status=400,
         form=lambda w: {"atelier": str(w.later_id)}, shows=("Rien n'a été changé", "n'est pas inscrite")),
    Case("erase form", "GET", lambda w: f"/console/residents/{w.resident_id}/effacer",
         shows=("Effacer définitivement", "1 inscription(s) à venir (atelier n°1")),
    Case("erase", "POST", lambda w: f"/console/residents/{w.resident_id}/effacer", status=303, changes=True),
    Case("broadcast", "GET", lambda w: "/console/diffusion", shows=("Aperçu avant envoi",)),
    Case("broadcast counters", "POST", lambda w: "/console/diffusion/compter",
         form=lambda w: {"body": "Fermé à Noël", "target": "upcoming"}, shows=('"segments":1',)),
    Case("broadcast preview", "POST", lambda w: "/console/diffusion/apercu",
         form=lambda w: {"body": "Apportez votre tablette", "target": "workshop", "workshop": str(w.workshop_id)},
         shows=("3 destinataire(s)", "Envoyer")),
    Case("broadcast send", "POST", lambda w: "/console/diffusion/envoyer", status=303, changes=True,
         form=lambda w: {"body": "Apportez votre tablette", "target": "workshop", "workshop": str(w.workshop_id)}),
    Case("broadcast preview to a venue", "POST", lambda w: "/console/diffusion/apercu",
         form=lambda w: {"body": "La salle est fermée", "target": "venue", "venue": w.venue_choice},
         shows=("3 destinataire(s)", "atelier(s) à venir (n°1)")),
    Case("broadcast preview to a commune's workshops", "POST", lambda w: "/console/diffusion/apercu",
         form=lambda w: {"body": "Travaux", "target": "held_in", "held_in": "03098"},
         shows=("0 destinataire(s)", "0 atelier(s) à venir")),
    Case("broadcast send to a venue", "POST", lambda w: "/console/diffusion/envoyer", status=303, changes=True,
         form=lambda w: {"body": "La salle est fermée", "target": "venue", "venue": w.venue_choice}),
    Case("broadcast report", "GET", lambda w: f"/console/diffusion/{w.broadcast_id}", shows=("compte rendu",)),
    Case("statistics", "GET", lambda w: "/console/statistiques?du=2026-01-01&au=2026-03-31",
         shows=("<svg", "En personnes", "4</strong> personne(s) inscrite(s)", "Comptes rendus pour La Coop")),
    Case("statistics for Excel", "GET", lambda w: "/console/statistiques/chiffres.csv?du=2026-01-01&au=2026-03-31",
         shows=("\ufeffRegroupement;Valeur;Nouvelles personnes", "Total;;")),
    Case("La Coop records", "GET", lambda w: "/console/statistiques/activites.csv?mois=2026-03",
         shows=("\ufeffDate;Début;Fin;Durée", "Domérat")),
    Case("La Coop records, bad month", "GET", lambda w: "/console/statistiques/activites.csv?mois=mars", status=400,
         shows=("mois illisible",)),
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
    "call done": ("call_done",),
    "call done from the record": ("call_done",),
    "note a call": ("call_noted",),
    "edit": ("workshop_edited",),
    "walk-in": ("walk_in",),
    "enrol a person": ("enrolled_by_adviser",),
    "move a person": ("resident_moved",),
    "unenrol": ("resident_unenrolled",),
    "broadcast send to a venue": ("broadcast_sent",),
    "new workshop": ("workshop_added",),
    "import": ("planning_imported",),
    "cancel": ("workshop_cancelled",),
    "move": ("workshop_moved",),
    "attendance": ("attendance",),
    "enrol": ("enrolled_by_phone",),
    "enrol someone else's number, confirmed": ("enrolled_by_phone",),
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
    shown = html.unescape(answer.text)  # what the adviser reads ("n'a", not "n&#39;a")
    for text in case.shows:
        assert text in shown
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


async def test_a_booking_in_a_cancelled_workshop_is_neither_moved_nor_counted_for_erasure(world: ConsoleWorld) -> None:
    """The workshop cancelled keeps its people's bookings (their history); the pages that act on bookings to come
    leave them out, as the service does."""
    cancelled = await world.client.post(
        f"/console/ateliers/{world.workshop_id}/annuler", data={"csrf": world.csrf, "reason": "salle prise"}
    )
    assert "annulé" in cancelled.text
    moving = html.unescape((await world.client.get(f"/console/residents/{world.resident_id}/changer")).text)
    assert f'<option value="{world.workshop_id}"' not in moving
    erasing = html.unescape((await world.client.get(f"/console/residents/{world.resident_id}/effacer")).text)
    assert "aucune inscription à venir" in erasing and "inscription(s) à venir (atelier" not in erasing


@dataclass(frozen=True)
class PairPage:
    label: str
    action: str  # desinscrire, or changer (to the later workshop); "/apercu" added for a preview
    preview: bool
    landline: bool  # the pair's phone cannot receive SMS: neither can be messaged
    says: str  # the sentence about the seat, as read (links taken out)


PAIR_PAGES = [
    PairPage("unenrol preview", "desinscrire", True, False,
             "Sa place ira à Colette Martin et Bernard Martin, les premières personnes en attente, prévenues par "
             "message."),
    PairPage("unenrol", "desinscrire", False, False,
             "Sa place va à Colette Martin et Bernard Martin, les premières personnes en attente, prévenues par "
             "message."),
    PairPage("unenrol, the pair's phone a landline", "desinscrire", False, True,
             "Sa place va à Colette Martin et Bernard Martin, les premières personnes en attente : aucun message ne "
             "peut les prévenir, elles sont sur la liste « À appeler »."),
    PairPage("move preview", "changer", True, False,
             "Sa place ira à Colette Martin et Bernard Martin, les premières personnes en attente, prévenues par "
             "message."),
    PairPage("move, the pair's phone a landline", "changer", False, True,
             "Sa place va à Colette Martin et Bernard Martin, les premières personnes en attente : aucun message ne "
             "peut les prévenir, elles sont sur la liste « À appeler »."),
]  # fmt: skip


@pytest.mark.parametrize("case", PAIR_PAGES, ids=lambda c: c.label)
async def test_a_seat_given_to_a_pair_names_both_on_the_page(world: ConsoleWorld, case: PairPage) -> None:
    """Two people who share a phone wait at the head of the list, one seat free: the seat Martine gives up goes
    to both, and the page names each of them, with a link to their record."""
    town = world.town
    workshop = await town.workshop("Saint-Victor", in_2026(12, 14), capacity=2)
    colette = await town.resident("Colette Martin", phone="+33612349001", sms_unreachable=case.landline)
    bernard = await town.resident("Bernard Martin", companion_of_id=colette)
    jean = await town.resident("Jean Petit", phone="+33612349002")
    for person in (world.resident_id, jean, colette, bernard):
        await town.seat(person, workshop)
    await unenrol(ctx=world.ctx, resident_id=jean, workshop_id=workshop, actor=JULIE)  # a seat free: not enough
    form = (
        {"atelier": str(workshop)}
        if case.action == "desinscrire"
        else {"from": str(workshop), "to": str(world.later_id)}
    )
    path = f"/console/residents/{world.resident_id}/{case.action}" + ("/apercu" if case.preview else "")
    answer = await world.client.post(path, data={**form, "csrf": world.csrf})
    assert answer.status_code == 200, answer.text[:2000]
    page = html.unescape(answer.text)
    assert case.says in re.sub(r"<[^>]+>", "", page)
    for person in (colette, bernard):
        assert f'href="/console/residents/{person}"' in page


COLETTE, BERNARD = Promoted(3, "Colette Martin", told=True), Promoted(4, "Bernard Martin", told=True)
UNTOLD = Promoted(4, "Bernard Martin", told=False)

# Who gets the seat, as ``_told.html`` writes it for each mix of people told by message and people to call; a pair
# shares one phone, so both are reached the same way today, but the page says each one's lot whatever comes.
SEAT_GIVEN = [
    ("one person told: as before", (COLETTE,), False,
     "Sa place va à Colette Martin, la première personne en attente, prévenue par message."),
    ("one person to call: as before", (UNTOLD,), True,
     "Sa place ira à Bernard Martin, la première personne en attente : aucun message ne peut la prévenir, elle sera "
     "sur la liste « À appeler »."),
    ("a pair, one told and one to call", (COLETTE, UNTOLD), False,
     "Sa place va à Colette Martin et Bernard Martin, les premières personnes en attente : Colette Martin prévenue "
     "par message ; Bernard Martin sur la liste « À appeler » (aucun message ne peut la prévenir)."),
]  # fmt: skip


@pytest.mark.parametrize(("label", "promoted", "preview", "says"), SEAT_GIVEN, ids=[r[0] for r in SEAT_GIVEN])
async def test_who_gets_the_seat_as_the_page_says_it(
    world: ConsoleWorld, label: str, promoted: tuple[Promoted, ...], preview: bool, says: str
) -> None:
    fragment = Web.build(world.ctx).templates.get_template("_told.html")
    page = fragment.render(message=None, channel=None, promoted=promoted, groups=(), preview=preview)
    assert says in re.sub(r"<[^>]+>", "", page), label
    assert all(f'href="/console/residents/{p.resident_id}"' in page for p in promoted)


def test_the_table_covers_every_console_route(settings: Settings, now: datetime) -> None:
    """A new page cannot be forgotten here: each route and method of the console is in at least one case."""
    app = create_app(settings)  # its routes only: no request is made
    [console] = [r for r in app.routes if isinstance(r, Mount) and r.path == "/console"]
    wanted = {
        (method, re.compile("^/console" + re.sub(r"\{\w+\}", "[^/]+", route.path) + "$"))
        for route in console.routes
        if isinstance(route, Route) and route.path != "/connexion"  # signing in: test_console_auth
        for method in route.methods or ()
        if method != "HEAD"
    }
    fake = ConsoleWorld.__new__(ConsoleWorld)
    fake.__dict__.update(
        dict.fromkeys(ConsoleWorld.__dataclass_fields__, 1) | {"venue_choice": "03098|Salle", "csrf": "x"}
    )
    tried = {(case.method, case.path(fake).split("?")[0]) for case in CASES}
    missing = sorted(
        (method, pattern.pattern)
        for method, pattern in wanted
        if not any(m == method and pattern.match(p) for m, p in tried)
    )
    assert missing == []
