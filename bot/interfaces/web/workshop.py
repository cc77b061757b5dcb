"""A workshop's page: details, roster, waiting list, history; cancel and move through a preview that lists every
message; the printable sign-in sheet; attendance (phone-sized); enrolling someone who phoned."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.interfaces.web.base import Web, form_of, int_or_none, sentence
from bot.service.accounts import SignedIn
from bot.service.audit import Actor, history, record_change
from bot.service.changes import ChangeReport, cancel_workshop_and_notify, move_workshop_and_notify
from bot.service.phone_enrolment import enrol_by_phone
from bot.service.stats import mark_attendance
from bot.service.workshops import MoveRequest, Roster, RosterEntry, WorkshopError, roster
from storage.enums import EnrolmentStatus, WorkshopStatus

MOVE_FIELDS = ("date", "start", "end", "commune", "venue", "address")


def _actor(user: SignedIn) -> Actor:
    return Actor("console", user.name, user.adviser_id)


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


def _split(found: Roster) -> tuple[list[RosterEntry], list[RosterEntry]]:
    seated = [e for e in found.enrolments if e.status != EnrolmentStatus.waiting]
    waiting = [e for e in found.enrolments if e.status == EnrolmentStatus.waiting]
    return seated, waiting


async def page(web: Web, request: Request, user: SignedIn) -> Response:
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    seated, waiting = _split(found)
    w = found.workshop
    now = web.ctx.now()
    return web.render(
        request,
        "workshop.html",
        user=user,
        w=w,
        seated=seated,
        waiting=waiting,
        events=await history(ctx=web.ctx, workshop_id=w.id),
        changeable=w.status == WorkshopStatus.planned and w.starts_at > now,
        started=w.status == WorkshopStatus.planned and w.starts_at <= now,
        done=request.query_params.get("fait"),
    )


async def sheet(web: Web, request: Request, user: SignedIn) -> Response:
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    seated, _ = _split(found)
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
    preview = request.url.path.endswith("/apercu")
    try:
        report = await cancel_workshop_and_notify(
            ctx=web.ctx, workshop_id=w.id, reason=reason, author=user.name, preview=preview
        )
    except WorkshopError as exc:
        return web.render(request, "cancel.html", user=user, w=w, reason=reason, errors=exc.problems, status=400)
    if not preview:
        await _record(web, user, report, f"atelier n°{w.id} annulé : {report.reason}")
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
    preview = request.url.path.endswith("/apercu")
    try:
        report = await move_workshop_and_notify(
            ctx=web.ctx, workshop_id=w.id, change=change, author=user.name, preview=preview
        )
    except WorkshopError as exc:
        return web.render(
            request, "move.html", user=user, w=w, values=values, errors=exc.problems, communes=communes,
            venues=venues, status=400,
        )  # fmt: skip
    if not preview:
        await _record(web, user, report, f"atelier n°{w.id} déplacé")
    return web.render(request, "change.html", user=user, w=w, report=report, hidden=values)


async def _record(web: Web, user: SignedIn, report: ChangeReport, summary: str) -> None:
    told = sum(report.told.values())
    await record_change(
        ctx=web.ctx, actor=_actor(user), action=f"workshop_{report.action}",
        summary=f"{summary} ; {told} message(s) prévu(s), {len(report.to_phone)} personne(s) à appeler",
        workshop_id=report.workshop.id,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Attendance and enrolment by phone


async def attendance(web: Web, request: Request, user: SignedIn) -> Response:
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    seated, _ = _split(found)
    w = found.workshop
    if request.method == "GET":
        return web.render(request, "attendance.html", user=user, w=w, seated=seated, errors=[], saved=False)
    form = form_of(request)
    present, absent = [], []
    for entry in seated:
        answer = form.get(f"p{entry.resident_id}")
        if answer == "present":
            present.append(entry.resident_id)
        elif answer == "absent":
            absent.append(entry.resident_id)
    try:
        await mark_attendance(ctx=web.ctx, workshop_id=w.id, present=present, absent=absent)
    except WorkshopError as exc:
        return web.render(
            request, "attendance.html", user=user, w=w, seated=seated, errors=exc.problems, saved=False, status=400
        )  # fmt: skip
    await record_change(
        ctx=web.ctx, actor=_actor(user), action="attendance",
        summary=f"présences de l'atelier n°{w.id} : {len(present)} présent(s), {len(absent)} absent(s)",
        workshop_id=w.id,
    )  # fmt: skip
    return web.see_other(f"/ateliers/{w.id}", fait="presences")


async def enrol(web: Web, request: Request, user: SignedIn) -> Response:
    found = await _roster(web, request)
    if found is None:
        return _not_found(web, request, user)
    w = found.workshop
    communes = sorted(web.ctx.territory.communes, key=lambda c: c.name)
    if request.method == "GET":
        return web.render(request, "enrol.html", user=user, w=w, values={}, errors=[], communes=communes)
    form = form_of(request)
    values = {name: form.get(name).strip() for name in ("name", "phone", "commune")}
    try:
        done = await enrol_by_phone(
            ctx=web.ctx, name=values["name"], phone=values["phone"], commune=values["commune"], workshop_id=w.id,
            adviser_id=user.adviser_id,
        )  # fmt: skip
    except WorkshopError as exc:
        return web.render(
            request, "enrol.html", user=user, w=w, values=values, errors=exc.problems, communes=communes, status=400
        )  # fmt: skip
    if not done.already:
        place = "inscrite" if done.seated else f"en liste d'attente (n°{done.position})"
        await record_change(
            ctx=web.ctx, actor=_actor(user), action="enrolled_by_phone",
            summary=f"personne n°{done.resident_id} {place} par téléphone à l'atelier n°{w.id}",
            workshop_id=w.id, resident_id=done.resident_id,
        )  # fmt: skip
    return web.render(request, "enrolled.html", user=user, w=w, done=done)


__all__ = ["attendance", "cancel", "enrol", "move", "page", "sentence", "sheet"]
