"""« Conseillers » (the coordinator only): the team's console accounts, adding an adviser, resetting a password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.interfaces.web.base import Web, form_of, int_or_none, sentence
from bot.service.accounts import SignedIn, list_accounts, new_password, set_password
from bot.service.team import TeamError, add_adviser


async def listing(web: Web, request: Request, user: SignedIn) -> Response:
    return await _page(web, request, user)


async def _page(web: Web, request: Request, user: SignedIn, **values: object) -> Response:
    status = int(str(values.pop("status", 200)))
    return web.render(
        request, "advisers.html", user=user, accounts=await list_accounts(ctx=web.ctx), status=status, **values
    )


async def add(web: Web, request: Request, user: SignedIn) -> Response:
    form = form_of(request)
    values = {"name": form.get("name").strip(), "email": form.get("email").strip(), "phone": form.get("phone")}
    try:
        if not values["email"]:
            raise TeamError("l'adresse e-mail manque : c'est l'identifiant de la console")
        adviser = await add_adviser(
            ctx=web.ctx, name=values["name"], phone=values["phone"] or None, email=values["email"], admin=False,
            actor=user.actor,
        )  # fmt: skip
        password = new_password()
        account = await set_password(ctx=web.ctx, adviser_id=adviser.id, password=password, actor=user.actor)
    except TeamError as exc:
        return await _page(web, request, user, errors=[sentence(exc)], values=values, status=400)
    return await _page(web, request, user, handed=(account, password))


async def reset(web: Web, request: Request, user: SignedIn) -> Response:
    adviser_id = int_or_none(request.path_params.get("adviser_id"))
    password = new_password()
    try:
        account = await set_password(ctx=web.ctx, adviser_id=adviser_id or 0, password=password, actor=user.actor)
    except TeamError as exc:
        return await _page(web, request, user, errors=[sentence(exc)], status=400)
    return await _page(web, request, user, handed=(account, password))
