"""The console's routes, under ``/console``: one table, read top to bottom like the navigation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from bot.context import Context
from bot.interfaces.web import advisers, auth, broadcast, planning, residents, stats, today, workshop
from bot.interfaces.web.base import HERE, PREFIX, UPLOAD_LIMIT, SecurityHeaders, Web

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]
# Request bodies above the wiring's default limit: the planning's upload and its confirmation (the file again).
BODY_LIMITS = {f"{PREFIX}/planning/import": UPLOAD_LIMIT, f"{PREFIX}/planning/import/confirmer": UPLOAD_LIMIT}


def mount(ctx: Context) -> Mount:
    web = Web.build(ctx)
    guard = web.guard

    def plain(endpoint: Callable[[Web, Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def call(request: Request) -> Response:
            return await endpoint(web, request)

        return call

    async def home(_: Request) -> Response:
        return web.see_other("/aujourdhui")

    routes: list[BaseRoute] = [
        Route("/", home, methods=GET),
        Route("/connexion", plain(auth.login_page), methods=GET),
        Route("/connexion", plain(auth.login), methods=POST),
        Route("/deconnexion", guard(auth.logout), methods=POST),
        Route("/compte/mot-de-passe", guard(auth.password_page), methods=BOTH),
        Route("/aujourdhui", guard(today.today), methods=GET),
        Route("/appels/{call_id}/fait", guard(today.call_done), methods=POST),
        Route("/planning", guard(planning.week), methods=GET),
        Route("/planning/nouveau", guard(planning.new_workshop), methods=BOTH),
        Route("/planning/import", guard(planning.import_page), methods=BOTH),
        Route("/planning/import/confirmer", guard(planning.import_confirm), methods=POST),
        Route("/ateliers/{workshop_id}", guard(workshop.page), methods=GET),
        Route("/ateliers/{workshop_id}/emargement", guard(workshop.sheet), methods=GET),
        Route("/ateliers/{workshop_id}/inscrits.csv", guard(workshop.roster_download), methods=GET),
        Route("/ateliers/{workshop_id}/modifier", guard(workshop.edit), methods=BOTH),
        Route("/ateliers/{workshop_id}/modifier/apercu", guard(workshop.edit), methods=POST),
        Route("/ateliers/{workshop_id}/annuler", guard(workshop.cancel), methods=BOTH),
        Route("/ateliers/{workshop_id}/annuler/apercu", guard(workshop.cancel), methods=POST),
        Route("/ateliers/{workshop_id}/deplacer", guard(workshop.move), methods=BOTH),
        Route("/ateliers/{workshop_id}/deplacer/apercu", guard(workshop.move), methods=POST),
        Route("/ateliers/{workshop_id}/presences", guard(workshop.attendance), methods=BOTH),
        Route("/ateliers/{workshop_id}/presences/sans-inscription", guard(workshop.walk_in), methods=POST),
        Route("/ateliers/{workshop_id}/inscrire", guard(workshop.enrol), methods=BOTH),
        Route("/ateliers/{workshop_id}/inscrire/apercu", guard(workshop.enrol), methods=POST),
        Route("/residents", guard(residents.listing), methods=GET),
        Route("/residents/export.csv", guard(residents.export), methods=GET),
        Route("/residents/{resident_id}", guard(residents.record), methods=GET),
        Route("/residents/{resident_id}/appel", guard(residents.note), methods=POST),
        Route("/residents/{resident_id}/inscrire", guard(residents.enrol_form), methods=GET),
        Route("/residents/{resident_id}/inscrire", guard(residents.enrol), methods=POST),
        Route("/residents/{resident_id}/inscrire/apercu", guard(residents.enrol), methods=POST),
        Route("/residents/{resident_id}/changer", guard(residents.move_form), methods=GET),
        Route("/residents/{resident_id}/changer", guard(residents.move), methods=POST),
        Route("/residents/{resident_id}/changer/apercu", guard(residents.move), methods=POST),
        Route("/residents/{resident_id}/desinscrire", guard(residents.unenrol_person), methods=POST),
        Route("/residents/{resident_id}/desinscrire/apercu", guard(residents.unenrol_person), methods=POST),
        Route("/residents/{resident_id}/effacer", guard(residents.erase), methods=BOTH),
        Route("/diffusion", guard(broadcast.compose), methods=GET),
        Route("/diffusion/compter", guard(broadcast.count), methods=POST),
        Route("/diffusion/apercu", guard(broadcast.preview), methods=POST),
        Route("/diffusion/envoyer", guard(broadcast.send), methods=POST),
        Route("/diffusion/{broadcast_id}", guard(broadcast.report), methods=GET),
        Route("/statistiques", guard(stats.page), methods=GET),
        Route("/statistiques/chiffres.csv", guard(stats.people_download), methods=GET),
        Route("/statistiques/activites.csv", guard(stats.coop_download), methods=GET),
        Route("/conseillers", guard(advisers.listing, admin=True), methods=GET),
        Route("/conseillers", guard(advisers.add, admin=True), methods=POST),
        Route("/conseillers/{adviser_id}/mot-de-passe", guard(advisers.reset, admin=True), methods=POST),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Mount(PREFIX, routes=routes, middleware=[Middleware(SecurityHeaders)])
