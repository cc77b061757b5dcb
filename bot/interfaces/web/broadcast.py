"""« Diffusion »: write (live counters), choose the audience, preview, send; then the report."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.conversation.gsm7 import count_segments, is_gsm7, to_gsm7
from bot.interfaces.web.base import Form, Web, form_of, int_or_none
from bot.service.accounts import SignedIn
from bot.service.broadcasts import (
    Audience,
    BroadcastError,
    Preview,
    broadcast_report,
    preview_broadcast,
    recent_broadcasts,
    send_broadcast,
)
from bot.service.workshops import WorkshopError, WorkshopSummary, list_workshops

MAX_BODY = 1000  # three SMS are under 500 characters: anything longer is refused by the service anyway


def _audience(form: Form) -> Audience:
    target = form.get("target")
    if target == "workshop":
        return Audience(workshop_id=int_or_none(form.get("workshop")) or 0)
    if target == "communes":
        return Audience(communes=tuple(c for c in form.all("commune") if c))
    if target == "upcoming":
        return Audience(upcoming=True)
    if target == "venue":  # "03098|Salle des fêtes": the venue's commune, then its name
        commune, _, venue = form.get("venue").partition("|")
        return Audience(venue=venue or None, held_in=commune or None)
    if target == "held_in":
        return Audience(held_in=form.get("held_in") or None)
    return Audience()


def _kept(form: Form) -> dict[str, object]:
    """The choices made, shown again with the preview or a refusal (and carried by the send form)."""
    return {
        "target": form.get("target"),
        "chosen_workshop": int_or_none(form.get("workshop")),
        "chosen_communes": form.all("commune"),
        "chosen_venue": form.get("venue"),
        "chosen_held_in": form.get("held_in"),
    }


def _venues(workshops: list[WorkshopSummary]) -> list[tuple[str, str, int]]:
    """The venues of the upcoming workshops: (choice value, label, how many workshops), by commune then name."""
    counted: Counter[tuple[str, str, str]] = Counter((w.commune, w.commune_insee, w.venue) for w in workshops)
    return [
        (f"{insee}|{venue}", f"{venue} ({commune})", count)
        for (commune, insee, venue), count in sorted(counted.items())
    ]


def counters(text: str) -> dict[str, object]:
    """What the counters show: length, segments once written in GSM-7, and the letters that are not GSM-7
    (they are replaced: "ê" becomes "e", "’" becomes "'"), so the adviser sees why."""
    sms = to_gsm7(text)
    offending = sorted({ch for ch in text if not is_gsm7(ch) and not ch.isspace()})
    return {
        "characters": len(sms),
        "segments": count_segments(sms) if text.strip() else 0,
        "gsm7": not offending,
        "offending": "".join(offending),
    }


async def _page(web: Web, request: Request, user: SignedIn, **values: object) -> Response:
    # the next two months: a broadcast is about a workshop soon, and the list stays short
    workshops = await list_workshops(ctx=web.ctx, until=web.ctx.now() + timedelta(days=61))
    defaults: dict[str, object] = {
        "body": "", "target": "upcoming", "chosen_workshop": None, "chosen_communes": [], "chosen_venue": "",
        "chosen_held_in": "",
    }  # fmt: skip
    status = int(str(values.pop("status", 200)))
    return web.render(
        request,
        "broadcast.html",
        user=user,
        workshops=workshops,
        venues=_venues(workshops),
        communes=sorted(web.ctx.territory.communes, key=lambda c: c.name),
        recent=await recent_broadcasts(ctx=web.ctx),
        price=web.ctx.settings.sms_price,
        status=status,
        **(defaults | values),
    )


async def compose(web: Web, request: Request, user: SignedIn) -> Response:
    chosen = int_or_none(request.query_params.get("atelier"))
    if chosen is not None:
        return await _page(web, request, user, target="workshop", chosen_workshop=chosen)
    return await _page(web, request, user)


async def preview(web: Web, request: Request, user: SignedIn) -> Response:
    form = form_of(request)
    body, audience = form.get("body")[:MAX_BODY], _audience(form)
    keep = {"body": body} | _kept(form)
    try:
        seen: Preview = await preview_broadcast(ctx=web.ctx, audience=audience, body=body)
    except WorkshopError as exc:
        return await _page(web, request, user, errors=exc.problems, status=400, **keep)
    return await _page(web, request, user, preview=seen, counts=counters(body), **keep)


async def send(web: Web, request: Request, user: SignedIn) -> Response:
    form = form_of(request)
    body, audience = form.get("body")[:MAX_BODY], _audience(form)
    try:
        broadcast_id = await send_broadcast(ctx=web.ctx, audience=audience, body=body, actor=user.actor)
    except BroadcastError as exc:
        return await _page(web, request, user, errors=exc.problems, status=400, body=body, **_kept(form))
    return web.see_other(f"/diffusion/{broadcast_id}")


async def count(web: Web, request: Request, _user: SignedIn) -> Response:
    """The live counters (the page's script asks as the adviser types): text and audience in, figures out."""
    form = form_of(request)
    body = form.get("body")[:MAX_BODY]
    figures = counters(body)
    try:
        seen = await preview_broadcast(ctx=web.ctx, audience=_audience(form), body=body or ".")
    except WorkshopError:
        figures |= {"recipients": None, "sms_recipients": None, "cost": None}
    else:
        sms = seen.by_channel.get("sms", 0)
        figures |= {
            "recipients": seen.recipients,
            "sms_recipients": sms,
            "cost": round(sms * int(str(figures["segments"])) * web.ctx.settings.sms_price, 2),
        }
    return JSONResponse(figures)


async def report(web: Web, request: Request, user: SignedIn) -> Response:
    broadcast_id = int_or_none(request.path_params.get("broadcast_id"))
    try:
        found = await broadcast_report(ctx=web.ctx, broadcast_id=broadcast_id or 0)
    except BroadcastError:
        return web.render(request, "error.html", user=user, status=404, message="Cette diffusion n'existe pas.")
    return web.render(request, "broadcast_report.html", user=user, report=found)
