"""A workshop's page: details, roster (each person can be unenrolled, through the person's preview), waiting list,
history; edit (capacity, topic, adviser), move and cancel, each through a preview that says exactly what will
happen; the printable sign-in sheet and the roster for Excel; attendance from the start of the workshop (phone
sized), with the people who came without signing up; enrolling someone who phoned."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.interfaces.web.base import Web, csv_download, form_of, int_or_none, is_preview, sentence
from bot.service.accounts import SignedIn
from bot.service.audit import history
from bot.service.changes import (
    MoveRequest,
    WorkshopEdit,
    cancel_workshop_and_notify,
    edit_workshop_and_notify,
    move_workshop_and_notify,
)
from bot.service.exports import roster_csv
from bot.service.phone_enrolment import NumberOfSomeoneElseError, enrol_by_phone
from bot.service.stats import add_walk_in, attendance_sheet, mark_attendance
from bot.service.team import list_advisers
from bot.service.workshops import Roster, WorkshopError, roster

MOVE_FIELDS = ("date", "start", "end", "commune", "venue", "address")


async def _roster(web: Web, request: Request) -> Roster | None:
    workshop_id = int_or_none(request.path_params.get("workshop_id"))
    if workshop_id is None:
        return None
    try:
        return await roster(ctx=web.ctx, workshop_id=workshop_id)
    except WorkshopError:
        return None


def _not_found(web: Web, request: Request, user: SignedIn) -> Response:
    return web.render(request, "error.html", user=user, status=404, message="Cet atelier n'existe pas.")


async def page(web: Web, request: Request, user: SignedIn) -> Response:
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    w = found.workshop
    now = web.ctx.now()
    return web.render(
        request,
        "workshop.html",
        user=user,
        w=w,
        seated=found.seated,
        waiting=found.waiting,
        events=await history(ctx=web.ctx, workshop_id=w.id),
        changeable=w.changeable(now),
        started=w.started(now),
        done=request.query_params.get("fait"),
    )


async def roster_download(web: Web, request: Request, user: SignedIn) -> Response:
    """The roster for Excel (``;``, UTF-8 with a byte order mark): seated, then waiting, in order."""
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    day = found.workshop.starts_at.astimezone(web.ctx.tz)
    return csv_download(roster_csv(found, tz=web.ctx.tz), f"atelier-{found.workshop.id}-{day:%Y-%m-%d}.csv")


async def sheet(web: Web, request: Request, user: SignedIn) -> Response:
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    seated = found.seated
    return web.render(request, "sheet.html", user=user, w=found.workshop, seated=seated, blank=max(4, 10 - len(seated)))


# ---------------------------------------------------------------------------------------------------------------
# Cancel and move: form → preview (every message listed) → confirm


async def cancel(web: Web, request: Request, user: SignedIn) -> Response:
    """GET: the form. POST ``/apercu``: the preview. POST: confirm."""
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    w = found.workshop
    if request.method == "GET":
        return web.render(request, "cancel.html", user=user, w=w, reason="", errors=[])
    reason = form_of(request).get("reason")
    preview = is_preview(request)
    try:
        report = await cancel_workshop_and_notify(
            ctx=web.ctx, workshop_id=w.id, reason=reason, actor=user.actor, preview=preview
        )
    except WorkshopError as exc:
        return web.render(request, "cancel.html", user=user, w=w, reason=reason, errors=exc.problems, status=400)
    return web.render(request, "change.html", user=user, w=w, report=report, hidden={"reason": reason})


async def move(web: Web, request: Request, user: SignedIn) -> Response:
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    w = found.workshop
    communes = sorted(web.ctx.territory.communes, key=lambda c: c.name)
    venues = sorted({v.name for v in web.ctx.territory.venues})
    if request.method == "GET":
        return web.render(
            request, "move.html", user=user, w=w, values={}, errors=[], communes=communes, venues=venues
        )  # fmt: skip
    form = form_of(request)
    values = {name: form.get(name).strip() for name in MOVE_FIELDS}
    change = MoveRequest(**{k: (v or None) for k, v in values.items()})
    preview = is_preview(request)
    try:
        report = await move_workshop_and_notify(
            ctx=web.ctx, workshop_id=w.id, change=change, actor=user.actor, preview=preview
        )
    except WorkshopError as exc:
        return web.render(
            request, "move.html", user=user, w=w, values=values, errors=exc.problems, communes=communes,
            venues=venues, status=400,
        )  # fmt: skip
    return web.render(request, "change.html", user=user, w=w, report=report, hidden=values)


# ---------------------------------------------------------------------------------------------------------------
# Edit: capacity, topic, adviser in charge — form → preview → confirm

NOBODY = "aucun"


async def edit(web: Web, request: Request, user: SignedIn) -> Response:
    """GET: the form, filled with what the workshop is. POST ``/apercu``: the preview. POST: confirm."""
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    w = found.workshop
    advisers = await list_advisers(ctx=web.ctx)
    current = next((str(a.id) for a in advisers if a.name == w.adviser), NOBODY)
    if request.method == "GET":
        values = {"capacity": str(w.capacity), "topic": w.topic, "adviser": current}
        return web.render(request, "edit.html", user=user, w=w, values=values, advisers=advisers, errors=[])
    form = form_of(request)
    values = {name: form.get(name).strip() for name in ("capacity", "topic", "adviser")}
    change = WorkshopEdit(
        capacity=values["capacity"] or None,
        topic=values["topic"] or None,
        adviser=values["adviser"] if values["adviser"] != current else None,
    )
    preview = is_preview(request)
    try:
        report = await edit_workshop_and_notify(
            ctx=web.ctx, workshop_id=w.id, edit=change, actor=user.actor, preview=preview
        )
    except WorkshopError as exc:
        return web.render(
            request, "edit.html", user=user, w=w, values=values, advisers=advisers, errors=exc.problems, status=400
        )  # fmt: skip
    return web.render(request, "edited.html", user=user, w=w, report=report, hidden=values)


# ---------------------------------------------------------------------------------------------------------------
# Attendance (from the start of the workshop), walk-ins, and enrolment by phone


async def _attendance_page(
    web: Web, request: Request, user: SignedIn, *, status: int = 200, **values: object
) -> Response:
    workshop_id = int_or_none(request.path_params.get("workshop_id")) or 0
    try:
        sheet = await attendance_sheet(ctx=web.ctx, workshop_id=workshop_id)
    except WorkshopError as exc:
        found = await _roster(web, request)
        if found is None:
            return _not_found(web, request, user)
        back = f"/ateliers/{workshop_id}"
        return web.render(request, "refused.html", user=user, status=409, errors=exc.problems, back=back)
    communes = sorted(web.ctx.territory.communes, key=lambda c: c.name)
    defaults: dict[str, object] = {"errors": [], "walk_in": {}, "walk_in_errors": [], "owner": None}
    return web.render(
        request, "attendance.html", user=user, w=sheet.workshop, seated=list(sheet.enrolments), communes=communes,
        status=status, **(defaults | values),
    )  # fmt: skip


async def attendance(web: Web, request: Request, user: SignedIn) -> Response:
    if request.method == "GET":
        return await _attendance_page(web, request, user, added=request.query_params.get("ajout"))
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    seated = found.seated
    w = found.workshop
    form = form_of(request)
    present, absent = [], []
    for entry in seated:
        answer = form.get(f"p{entry.resident_id}")
        if answer == "present":
            present.append(entry.resident_id)
        elif answer == "absent":
            absent.append(entry.resident_id)
    try:
        await mark_attendance(ctx=web.ctx, workshop_id=w.id, present=present, absent=absent, actor=user.actor)
    except WorkshopError as exc:
        return await _attendance_page(web, request, user, errors=exc.problems, status=400)
    return web.see_other(f"/ateliers/{w.id}", fait="presences")


async def walk_in(web: Web, request: Request, user: SignedIn) -> Response:
    """Someone came without signing up: marked present (counted in the figures); a resident if a number is given,
    their consent given at the workshop. A number already someone else's is said, and asked about, first."""
    workshop_id = int_or_none(request.path_params.get("workshop_id")) or 0
    form = form_of(request)
    typed = {name: form.get(name).strip() for name in ("name", "phone", "commune")}
    try:
        added = await add_walk_in(
            ctx=web.ctx, workshop_id=workshop_id, name=typed["name"], phone=typed["phone"] or None,
            commune=typed["commune"] or None, owner_confirmed=form.get("owner") == "oui", actor=user.actor,
        )  # fmt: skip
    except NumberOfSomeoneElseError as exc:
        return await _attendance_page(
            web, request, user, walk_in=typed, owner=exc, walk_in_errors=[sentence(exc).split(" ; ")[0]],
            status=400,
        )  # fmt: skip
    except WorkshopError as exc:
        return await _attendance_page(web, request, user, walk_in=typed, walk_in_errors=exc.problems, status=400)
    return web.see_other(f"/ateliers/{workshop_id}/presences", ajout=added.name)


async def enrol(web: Web, request: Request, user: SignedIn) -> Response:
    """GET: the form. POST ``/apercu``: what enrolling them does (the confirmation they will get). POST: enrol.
    A number already someone else's is said, with a box to tick when it is indeed that person."""
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    w = found.workshop
    communes = sorted(web.ctx.territory.communes, key=lambda c: c.name)
    if request.method == "GET":
        return web.render(request, "enrol.html", user=user, w=w, values={}, errors=[], communes=communes, owner=None)
    form = form_of(request)
    values = {name: form.get(name).strip() for name in ("name", "phone", "commune", "owner")}
    preview = is_preview(request)
    try:
        done = await enrol_by_phone(
            ctx=web.ctx, name=values["name"], phone=values["phone"], commune=values["commune"], workshop_id=w.id,
            actor=user.actor, owner_confirmed=values["owner"] == "oui", preview=preview,
        )  # fmt: skip
    except NumberOfSomeoneElseError as exc:
        problem = sentence(exc).split(" ; ")[0]  # the rest speaks of the command line's --yes
        return web.render(
            request, "enrol.html", user=user, w=w, values=values, errors=[problem], communes=communes, owner=exc,
            status=400,
        )  # fmt: skip
    except WorkshopError as exc:
        return web.render(
            request, "enrol.html", user=user, w=w, values=values, errors=exc.problems, communes=communes, owner=None,
            status=400,
        )  # fmt: skip
    return web.render(request, "enrolled.html", user=user, w=w, done=done, preview=preview, values=values)


__all__ = ["attendance", "cancel", "edit", "enrol", "move", "page", "roster_download", "sheet", "walk_in"]
