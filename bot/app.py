"""The ASGI application factory: settings, database, channels and scheduler are wired here and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.channels import SMS, Sender
from bot.config import Settings, load_settings
from bot.context import Context, system_clock
from bot.handlers import sms
from bot.handlers.console import ConsoleSender
from bot.places import sync_territory
from bot.territory import load_territory
from storage.database import Database

log = logging.getLogger("atelier")


def create_app(
    settings: Settings | None = None,
    *,
    senders: Mapping[str, Sender] | None = None,
    clock: Callable[[], datetime] = system_clock,
) -> Starlette:
    settings = settings or load_settings()
    territory = load_territory(settings.territory)
    db = Database.from_url(settings.database_url)
    channel_senders: dict[str, Sender] = dict(senders or {})
    # --- SMS channel: Twilio when configured, else printed on the console (bot/handlers/sms.py) ---
    built: list[sms.TwilioSender] = []  # senders made here are closed here
    if SMS not in channel_senders:
        if settings.twilio_enabled:
            built.append(sms.TwilioSender.from_settings(settings))
            channel_senders[SMS] = built[-1]
        else:
            channel_senders[SMS] = ConsoleSender(render=sms.render_sms)
    # --- end SMS channel ---
    ctx = Context(settings=settings, db=db, territory=territory, senders=channel_senders, clock=clock)

    async def healthz(_: Request) -> JSONResponse:
        if await db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await sync_territory(db=db, territory=territory)
        try:
            yield
        finally:
            for sender in built:  # SMS channel
                await sender.aclose()
            await db.dispose()

    routes = [Route("/healthz", healthz)]
    routes += sms.routes(ctx)  # SMS channel: POST /sms/twilio, POST /sms/twilio/status
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ctx = ctx
    return app
