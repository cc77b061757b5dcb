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

from bot.channels import Sender
from bot.config import Settings, load_settings
from bot.context import Context, system_clock
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
    ctx = Context(settings=settings, db=db, territory=territory, senders=dict(senders or {}), clock=clock)

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
            await db.dispose()

    app = Starlette(routes=[Route("/healthz", healthz)], lifespan=lifespan)
    app.state.ctx = ctx
    return app
