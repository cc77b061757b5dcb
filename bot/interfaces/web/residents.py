"""« Résidents »: finding someone by name or number, the list, a person's record (workshops past and upcoming,
messages and what became of them, calls, how they are reached, the history of changes), and what an adviser does
for them — enrol, move to another workshop, unenrol (each through a preview of exactly what will happen, then a
confirm button), note a call, erase their data on request."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from bot.interfaces.web.base import Web, csv_download, form_of, int_or_none, is_preview, sentence
from bot.service.accounts import SignedIn
from bot.service.audit import history
from bot.service.calls import CallError, note_call
from bot.service.exports import residents_csv
from bot.service.phone_enrolment import enrol_resident
from bot.service.residents import (
    ResidentRecord,
    count_residents,
    erase_resident_for,
    find_residents,
    list_residents,
    move_person,
    resident_record,
    unenrol,
)
from bot.service.workshops import WorkshopError, WorkshopSummary, get_workshop, list_workshops
from storage.enums import Level

PAGE_SIZE = 100
MAX_QUERY = 100
CHOICE_WINDOW = timedelta(days=92)  # the workshops offered to enrol or move someone: the next three months
NOT_FOUND = "Cette personne n'existe pas, ou ses données ont été effacées."


def _resident_id(request: Request) -> int:
    return int_or_none(request.path_params.get("resident_id")) or 0


def _not_found(web: Web, request: Request, user: SignedIn) -> Response:
    return web.render(request, "error.html", user=user, status=404, message=NOT_FOUND)


async def listing(web: Web, request: Request, user: SignedIn) -> Response:
    """With ``q``: the people whose name or number matches (accents, case, spaces and the way a number is written
    forgiven). Without: everyone, the newest first, a hundred a page."""
    typed = " ".join(request.query_params.get("q", "").split())[:MAX_QUERY]
    if typed:
        errors: list[str] = []
        try:
            found = await find_residents(ctx=web.ctx, text=typed)
        except WorkshopError as exc:
            found, errors = [], exc.problems
        return web.render(request, "residents.html", user=user, query=typed, residents=found, errors=errors)
    total = await count_residents(ctx=web.ctx)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, int_or_none(request.query_params.get("page")) or 1), pages)
    residents = await list_residents(ctx=web.ctx, newest_first=True, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return web.render(
        request,
        "residents.html",
        user=user,
        query="",
        residents=residents,
        total=total,
        page=page,
        pages=pages,
        done=request.query_params.get("fait"),
    )


async def export(web: Web, _request: Request, _user: SignedIn) -> Response:
    """Everyone (not erased), for Excel: ``;``, UTF-8 with a byte order mark."""
    data = residents_csv(await list_residents(ctx=web.ctx), tz=web.ctx.tz)
    return csv_download(data, f"residents-{web.ctx.now().astimezone(web.ctx.tz):%Y-%m-%d}.csv")


# ---------------------------------------------------------------------------------------------------------------
# The record


async def record(web: Web, request: Request, user: SignedIn) -> Response:
    return await record_page(web, request, user, _resident_id(request), done=request.query_params.get("fait"))


async def record_page(
    web: Web, request: Request, user: SignedIn, resident_id: int, *, status: int = 200, **values: object
) -> Response:
    try:
        found = await resident_record(ctx=web.ctx, resident_id=resident_id)
    except WorkshopError:
        return _not_found(web, request, user)
    return web.render(
        request,
        "resident.html",
        user=user,
        status=status,
        r=found.resident,
        rec=found,
        active=found.active,
        events=await history(ctx=web.ctx, resident_id=resident_id),
        **values,
    )


async def note(web: Web, request: Request, user: SignedIn) -> Response:
    """A call made or taken outside the list, noted on the record."""
    resident_id = _resident_id(request)
    outcome = form_of(request).get("outcome")
    try:
        await note_call(ctx=web.ctx, resident_id=resident_id, outcome=outcome, actor=user.actor)
    except CallError as exc:
        return await record_page(
            web, request, user, resident_id, status=400, note_error=sentence(exc), note_typed=outcome
        )
    return web.see_other(f"/residents/{resident_id}", fait="appel-note")


# ---------------------------------------------------------------------------------------------------------------
# Unenrol, move, enrol: a preview (POST …/apercu: nothing written), then the confirm button (POST)


def _refused(web: Web, request: Request, user: SignedIn, error: WorkshopError, back: str) -> Response:
    return web.render(request, "refused.html", user=user, status=400, errors=error.problems, back=back)


async def unenrol_person(web: Web, request: Request, user: SignedIn) -> Response:
    """Take someone off a workshop at their request: their seat goes to the first person waiting."""
    resident_id = _resident_id(request)
    form = form_of(request)
    workshop_id = int_or_none(form.get("atelier")) or 0
    back = f"/ateliers/{workshop_id}" if form.get("retour") == "atelier" else f"/residents/{resident_id}"
    try:
        found = await resident_record(ctx=web.ctx, resident_id=resident_id)
        done = await unenrol(
            ctx=web.ctx, resident_id=resident_id, workshop_id=workshop_id, actor=user.actor,
            preview=is_preview(request),
        )  # fmt: skip
    except WorkshopError as exc:
        return _refused(web, request, user, exc, back)
    booking = next((b for b in found.upcoming if b.workshop_id == workshop_id), None)
    return web.render(
        request, "unenrol.html", user=user, r=found.resident, booking=booking, done=done,
        preview=is_preview(request), back=back, retour=form.get("retour"),
    )  # fmt: skip


async def _choices(web: Web, found: ResidentRecord) -> list[tuple[str, list[WorkshopSummary]]]:
    """The workshops of the next three months the person is not in, by level, theirs first."""
    taken = {b.workshop_id for b in found.active}
    now = web.ctx.now()
    offered = [
        w
        for w in await list_workshops(ctx=web.ctx, until=now + CHOICE_WINDOW)
        if w.starts_at > now and w.id not in taken
    ]
    theirs = found.resident.level
    groups: list[tuple[str, list[WorkshopSummary]]] = []
    levels = sorted({w.level for w in offered}, key=lambda level: (level != theirs, list(Level).index(level)))
    for level in levels:
        groups.append((level.value, [w for w in offered if w.level == level]))
    return groups


async def move_form(web: Web, request: Request, user: SignedIn) -> Response:
    """GET: choose the workshop they go to instead of ``atelier``."""
    return await _move_page(web, request, user, values={"from": request.query_params.get("atelier", "")})


async def _move_page(
    web: Web, request: Request, user: SignedIn, *, values: dict[str, str], errors: list[str] | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    try:
        found = await resident_record(ctx=web.ctx, resident_id=_resident_id(request))
    except WorkshopError:
        return _not_found(web, request, user)
    return web.render(
        request, "person_move.html", user=user, r=found.resident, active=found.active,
        groups=await _choices(web, found), values=values, errors=errors or [], status=status,
    )  # fmt: skip


async def move(web: Web, request: Request, user: SignedIn) -> Response:
    """POST …/apercu: what moving them does; POST: move them."""
    resident_id = _resident_id(request)
    form = form_of(request)
    values = {"from": form.get("from"), "to": form.get("to"), "waiting": form.get("waiting")}
    try:
        found = await resident_record(ctx=web.ctx, resident_id=resident_id)
        done = await move_person(
            ctx=web.ctx, resident_id=resident_id, from_workshop_id=int_or_none(values["from"]) or 0,
            to_workshop_id=int_or_none(values["to"]) or 0, actor=user.actor, allow_waiting=values["waiting"] == "oui",
            preview=is_preview(request),
        )  # fmt: skip
    except WorkshopError as exc:
        return await _move_page(web, request, user, values=values, errors=exc.problems, status=400)
    return web.render(
        request, "person_moved.html", user=user, r=found.resident, done=done, preview=is_preview(request),
        values=values, bookings={b.workshop_id: b for b in found.upcoming},
        target=await _summary(web, done.to_workshop_id),
    )  # fmt: skip


async def _summary(web: Web, workshop_id: int) -> WorkshopSummary | None:
    try:
        return await get_workshop(ctx=web.ctx, workshop_id=workshop_id)
    except WorkshopError:
        return None


async def enrol_form(web: Web, request: Request, user: SignedIn) -> Response:
    return await _enrol_page(web, request, user, values={})


async def _enrol_page(
    web: Web, request: Request, user: SignedIn, *, values: dict[str, str], errors: list[str] | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    try:
        found = await resident_record(ctx=web.ctx, resident_id=_resident_id(request))
    except WorkshopError:
        return _not_found(web, request, user)
    return web.render(
        request, "person_enrol.html", user=user, r=found.resident, groups=await _choices(web, found), values=values,
        errors=errors or [], status=status,
    )  # fmt: skip


async def enrol(web: Web, request: Request, user: SignedIn) -> Response:
    """POST …/apercu: what enrolling them does; POST: enrol them (a seat, or the waiting list when it is full)."""
    resident_id = _resident_id(request)
    values = {"to": form_of(request).get("to")}
    try:
        found = await resident_record(ctx=web.ctx, resident_id=resident_id)
        done = await enrol_resident(
            ctx=web.ctx, resident_id=resident_id, workshop_id=int_or_none(values["to"]) or 0, actor=user.actor,
            preview=is_preview(request),
        )  # fmt: skip
    except WorkshopError as exc:
        return await _enrol_page(web, request, user, values=values, errors=exc.problems, status=400)
    return web.render(
        request, "person_enrolled.html", user=user, r=found.resident, done=done, preview=is_preview(request),
        values=values, target=await _summary(web, done.workshop_id),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Erasure


async def erase(web: Web, request: Request, user: SignedIn) -> Response:
    """GET: what will be deleted, and a confirm button. POST: erase."""
    resident_id = _resident_id(request)
    try:
        found = await resident_record(ctx=web.ctx, resident_id=resident_id)
    except WorkshopError:
        return _not_found(web, request, user)
    if request.method == "GET":
        return web.render(request, "erase.html", user=user, r=found.resident, rec=found, active=found.active)
    try:
        await erase_resident_for(ctx=web.ctx, resident_id=resident_id, actor=user.actor)
    except WorkshopError as exc:
        return _refused(web, request, user, exc, "/residents")
    return web.see_other("/residents", fait="efface")
