"""« Planning »: workshops by week with filters, adding one, importing the spreadsheet (preview, then import)."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.interfaces.web.base import FILE_LIMIT, Web, form_of, sentence
from bot.interfaces.web.today import week_bounds
from bot.service.accounts import SignedIn
from bot.service.planning_csv import WorkshopFields
from bot.service.team import list_advisers
from bot.service.workshops import WorkshopError, add_workshop, import_planning, list_workshops


def _monday(value: str, web: Web) -> datetime | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day, time(12), tzinfo=web.ctx.tz)


async def week(web: Web, request: Request, user: SignedIn) -> Response:
    query = request.query_params
    since, until = week_bounds(web, _monday(query.get("semaine", ""), web))
    commune, level, adviser = query.get("commune", ""), query.get("niveau", ""), query.get("conseiller", "")
    workshops = await list_workshops(ctx=web.ctx, upcoming_only=False, include_cancelled=True, since=since, until=until)
    shown = [
        w
        for w in workshops
        if (not commune or w.commune_insee == commune)
        and (not level or w.level.value == level)
        and (not adviser or (w.adviser or "") == adviser)
    ]
    days = []
    for offset in range(7):
        day = (since + timedelta(days=offset)).date()
        days.append((day, [w for w in shown if w.starts_at.astimezone(web.ctx.tz).date() == day]))
    filters = {"commune": commune, "niveau": level, "conseiller": adviser}
    return web.render(
        request,
        "planning.html",
        user=user,
        days=days,
        monday=since.date(),
        previous=(since - timedelta(days=7)).date(),
        following=(since + timedelta(days=7)).date(),
        filters=filters,
        query="&".join(f"{k}={v}" for k, v in filters.items() if v),
        communes=sorted(web.ctx.territory.communes, key=lambda c: c.name),
        advisers=[a.name for a in await list_advisers(ctx=web.ctx)],
        count=len(shown),
    )


def _choices(web: Web) -> dict[str, Any]:
    return {
        "communes": sorted(web.ctx.territory.communes, key=lambda c: c.name),
        "venues": sorted({v.name for v in web.ctx.territory.venues}),
    }


async def new_workshop(web: Web, request: Request, user: SignedIn) -> Response:
    advisers = [a.name for a in await list_advisers(ctx=web.ctx)]
    if request.method == "GET":
        return web.render(
            request, "workshop_new.html", user=user, values={"capacity": "6"}, errors=[], advisers=advisers,
            **_choices(web),
        )  # fmt: skip
    form = form_of(request)
    values = {name: form.get(name).strip() for name in (*WorkshopFields.__dataclass_fields__, "adviser")}
    fields = WorkshopFields(**{k: v for k, v in values.items() if k != "adviser"})
    try:
        created = await add_workshop(ctx=web.ctx, fields=fields, adviser=values["adviser"] or None, actor=user.actor)
    except WorkshopError as exc:
        return web.render(
            request, "workshop_new.html", user=user, values=values, errors=exc.problems, advisers=advisers,
            status=400, **_choices(web),
        )  # fmt: skip
    return web.see_other(f"/ateliers/{created.id}", fait="cree")


async def import_page(web: Web, request: Request, user: SignedIn) -> Response:
    """GET: the upload form. POST with a file: a dry run (the line errors, or what would be created)."""
    if request.method == "GET":
        return web.render(request, "import.html", user=user, result=None, data="", filename="")
    form = form_of(request)
    filename, data = form.files.get("file", ("", b""))
    if not data or len(data) > FILE_LIMIT:
        return web.render(
            request, "import.html", user=user, result=None, data="", filename="", status=400,
            error="Choisissez le fichier du planning (CSV, enregistré depuis le tableur).",
        )  # fmt: skip
    result = await import_planning(ctx=web.ctx, data=data, dry_run=True, actor=user.actor)
    encoded = base64.b64encode(data).decode() if result.ok else ""
    return web.render(
        request, "import.html", user=user, result=result, data=encoded, filename=filename,
        status=200 if result.ok else 422,
    )  # fmt: skip


async def import_confirm(web: Web, request: Request, user: SignedIn) -> Response:
    form = form_of(request)
    try:
        data = base64.b64decode(form.get("data"), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data or len(data) > FILE_LIMIT:
        return web.see_other("/planning/import")
    result = await import_planning(ctx=web.ctx, data=data, actor=user.actor)
    if not result.ok:  # the territory or the planning changed since the preview: show the errors again
        return web.render(request, "import.html", user=user, result=result, data="", filename="", status=422)
    return web.render(request, "import_done.html", user=user, result=result)


__all__ = ["import_confirm", "import_page", "new_workshop", "sentence", "week"]
