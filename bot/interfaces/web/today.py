"""« Aujourd'hui »: the week's workshops with their fill, call-back requests, held messages, failed sends."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response

from bot.interfaces.web.base import Web, int_or_none
from bot.service.accounts import SignedIn
from bot.service.callbacks import list_callbacks, mark_callback_done
from bot.service.outbox_views import failed_messages, held_messages
from bot.service.workshops import list_workshops


def week_bounds(web: Web, monday: datetime | None = None) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00, local time, of the week holding ``monday`` (today by default)."""
    today = (monday or web.ctx.now()).astimezone(web.ctx.tz).date()
    start_day = today - timedelta(days=today.weekday())
    start = datetime.combine(start_day, time(0), tzinfo=web.ctx.tz)
    end = datetime.combine(start_day + timedelta(days=7), time(0), tzinfo=web.ctx.tz)
    return start, end


async def today(web: Web, request: Request, user: SignedIn) -> Response:
    since, until = week_bounds(web)
    workshops = await list_workshops(ctx=web.ctx, upcoming_only=False, include_cancelled=True, since=since, until=until)
    return web.render(
        request,
        "today.html",
        user=user,
        workshops=workshops,
        callbacks=await list_callbacks(ctx=web.ctx),
        held=await held_messages(ctx=web.ctx, limit=30),
        failed=await failed_messages(ctx=web.ctx, limit=30),
        done=request.query_params.get("fait"),
    )


async def callback_done(web: Web, request: Request, user: SignedIn) -> Response:
    callback_id = int_or_none(request.path_params.get("callback_id"))
    if callback_id is None or not await mark_callback_done(ctx=web.ctx, callback_id=callback_id, actor=user.actor):
        return web.see_other("/aujourdhui")
    return web.see_other("/aujourdhui", fait="rappel")
