"""« Résidents »: the list, a person's record (with the history of changes about them), erasure on request."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.interfaces.web.base import Web, int_or_none
from bot.service.accounts import SignedIn
from bot.service.audit import history
from bot.service.residents import count_residents, erase_resident_for, get_resident, list_residents
from bot.service.workshops import WorkshopError

PAGE_SIZE = 100


async def listing(web: Web, request: Request, user: SignedIn) -> Response:
    total = await count_residents(ctx=web.ctx)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, int_or_none(request.query_params.get("page")) or 1), pages)
    residents = await list_residents(ctx=web.ctx, newest_first=True, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return web.render(
        request,
        "residents.html",
        user=user,
        residents=residents,
        total=total,
        page=page,
        pages=pages,
        done=request.query_params.get("fait"),
    )


async def record(web: Web, request: Request, user: SignedIn) -> Response:
    resident_id = int_or_none(request.path_params.get("resident_id"))
    try:
        resident = await get_resident(ctx=web.ctx, resident_id=resident_id or 0)
    except WorkshopError:
        return web.render(request, "error.html", user=user, status=404, message="Cette personne n'existe pas.")
    return web.render(
        request, "resident.html", user=user, r=resident, events=await history(ctx=web.ctx, resident_id=resident.id)
    )


async def erase(web: Web, request: Request, user: SignedIn) -> Response:
    """GET: what will be deleted, and a confirm button. POST: erase."""
    resident_id = int_or_none(request.path_params.get("resident_id"))
    try:
        resident = await get_resident(ctx=web.ctx, resident_id=resident_id or 0)
    except WorkshopError:
        return web.render(request, "error.html", user=user, status=404, message="Cette personne n'existe pas.")
    if request.method == "GET":
        return web.render(request, "erase.html", user=user, r=resident)
    await erase_resident_for(ctx=web.ctx, resident_id=resident.id, actor=user.actor)
    return web.see_other("/residents", fait="efface")
