"""« Aujourd'hui »: the week's workshops with their fill, the "to call" list (why, what to say, a form to note
what came of each call), messages held back (when they will leave and why), and the sends that failed which the
"to call" list does not take over."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response

from bot.interfaces.web.base import Web, form_of, int_or_none, sentence
from bot.interfaces.web.residents import record_page
from bot.service.accounts import SignedIn
from bot.service.calls import SWEPT_KINDS, CallError, list_calls, mark_call_done
from bot.service.outbox_views import failed_messages, held_messages
from bot.service.workshops import list_workshops

HELD_SHOWN = 30


def week_bounds(web: Web, monday: datetime | None = None) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00, local time, of the week holding ``monday`` (today by default)."""
    today = (monday or web.ctx.now()).astimezone(web.ctx.tz).date()
    start_day = today - timedelta(days=today.weekday())
    start = datetime.combine(start_day, time(0), tzinfo=web.ctx.tz)
    end = datetime.combine(start_day + timedelta(days=7), time(0), tzinfo=web.ctx.tz)
    return start, end


async def today(web: Web, request: Request, user: SignedIn) -> Response:
    return await _page(web, request, user, done=request.query_params.get("fait"))


async def _page(web: Web, request: Request, user: SignedIn, *, status: int = 200, **values: object) -> Response:
    since, until = week_bounds(web)
    workshops = await list_workshops(ctx=web.ctx, upcoming_only=False, include_cancelled=True, since=since, until=until)
    return web.render(
        request,
        "today.html",
        user=user,
        status=status,
        workshops=workshops,
        calls=await list_calls(ctx=web.ctx),
        held=await held_messages(ctx=web.ctx, limit=HELD_SHOWN),
        failed=await failed_messages(ctx=web.ctx, limit=30, except_kinds=SWEPT_KINDS),
        **values,
    )


async def call_done(web: Web, request: Request, user: SignedIn) -> Response:
    """Note what came of a call on the list (from « Aujourd'hui », or from the person's record: ``retour``)."""
    call_id = int_or_none(request.path_params.get("call_id")) or 0
    form = form_of(request)
    back_to_record = int_or_none(form.get("fiche"))
    try:
        item = await mark_call_done(ctx=web.ctx, call_id=call_id, outcome=form.get("outcome"), actor=user.actor)
    except CallError as exc:
        if back_to_record is not None:  # the record shows the refusal beside the call
            return await record_page(
                web, request, user, back_to_record, status=400, call_errors={call_id: sentence(exc)}
            )
        return await _page(
            web, request, user, status=400, call_errors={call_id: sentence(exc)}, typed={call_id: form.get("outcome")}
        )
    if back_to_record is not None:
        return web.see_other(f"/residents/{item.resident_id}", fait="appel")
    return web.see_other("/aujourdhui", fait="appel")
