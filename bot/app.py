"""The ASGI application factory: settings, database, channels and scheduler are wired here and nowhere else."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.channels import Sender
from bot.config import Settings, load_settings
from bot.context import Context, system_clock
from bot.conversation.gsm7 import render_sms
from bot.guards import BodyLimit
from bot.handlers import sms, telegram, voice
from bot.handlers.console import ConsoleSender
from bot.interfaces import telegram_advisers
from bot.interfaces.web import console
from bot.logs import protect_logs
from bot.scheduler.jobs import start_jobs, stop_jobs
from bot.service.calls import sweep_now
from bot.service.erasure import purge_inactive
from bot.service.places import sync_territory
from bot.service.team import team_reach
from bot.service.voice import settle_unreported, take_over_from_sms
from bot.territory import load_territory
from storage.database import Database
from storage.enums import Channel

log = logging.getLogger("atelier")


async def _warn_if_no_adviser_reachable(ctx: Context) -> None:
    """Said at start-up: without an adviser who has a phone or Telegram, nobody is told of what needs them."""
    reach = await team_reach(ctx=ctx)
    if reach.nobody:
        log.warning(
            "no adviser can be reached (%d registered, none with a phone or a Telegram account): CONSEILLER requests "
            "and the people to call will only be listed (atelier callbacks list, atelier calls list)",
            reach.advisers,
        )
    elif reach.unreached_communes:
        log.warning("no adviser can be reached for %d commune(s) of the territory", len(reach.unreached_communes))


def create_app(
    settings: Settings | None = None,
    *,
    senders: Mapping[str, Sender] | None = None,
    clock: Callable[[], datetime] = system_clock,
    db: Database | None = None,
) -> Starlette:
    """The application. ``senders``, ``clock`` and ``db`` are injected by tests; a database made here (from
    ``ATELIER_DATABASE_URL``) is disposed with the application, an injected one is left to its owner."""
    settings = settings or load_settings()
    protect_logs(
        settings.secrets()
    )  # before anything can log: no secret in any record, no query string in access lines
    territory = load_territory(settings.territory)
    own_db = db is None
    db = db or Database.from_url(settings.database_url)
    channel_senders: dict[str, Sender] = dict(senders or {})
    # --- SMS channel: Twilio when configured, else printed on the console (bot/handlers/sms.py) ---
    built: list[sms.TwilioSender | voice.VoiceSender] = []  # senders made here are closed here
    if Channel.sms not in channel_senders:
        if settings.twilio_enabled:
            built.append(sms.TwilioSender.from_settings(settings))
            channel_senders[Channel.sms] = built[-1]
        else:
            channel_senders[Channel.sms] = ConsoleSender(render=render_sms)
    # --- end SMS channel ---
    # --- Voice channel: residents with a landline are phoned, when Twilio and a public URL are configured ---
    if settings.calls_enabled and Channel.voice not in channel_senders:
        built.append(voice.VoiceSender.from_settings(settings))
        channel_senders[Channel.voice] = built[-1]
    # --- Telegram channel: when TELEGRAM_BOT_TOKEN is set (bot/handlers/telegram.py; advisers' commands in
    # bot/interfaces/telegram_advisers.py, handed to the channel as its adviser hook) ---
    telegram_app = telegram.build_application(settings) if settings.telegram_enabled else None
    if telegram_app is not None and Channel.telegram not in channel_senders:
        channel_senders[Channel.telegram] = telegram.TelegramSender(telegram_app.bot)
    # --- end Telegram channel ---
    ctx = Context(settings=settings, db=db, territory=territory, senders=channel_senders, clock=clock)

    async def healthz(_: Request) -> JSONResponse:
        if await db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await sync_territory(db=db, territory=territory)
        await _warn_if_no_adviser_reachable(ctx)
        # --- scheduler: dispatch loop + retention purge + every minute, calls never reported, the voice channel taking
        # over from SMS, and the to-call list's sweep (bot/scheduler/jobs.py; the jobs: bot/service) ---
        jobs = start_jobs(ctx, purge=purge_inactive, minutely=(settle_unreported, take_over_from_sms, sweep_now))
        try:
            # Telegram channel: webhook registered, or long polling without ATELIER_PUBLIC_URL
            async with telegram.running(ctx, telegram_app, advisers=telegram_advisers.handle):
                try:
                    yield
                finally:
                    # Stop sending while the Telegram bot is still open: in-flight sends finish, not fail.
                    await stop_jobs(jobs)  # --- scheduler: in-flight sends finish or stay claimed ---
        finally:
            for sender in built:  # SMS and voice channels
                await sender.aclose()
            if own_db:
                await db.dispose()

    routes: list[BaseRoute] = [Route("/healthz", healthz)]
    routes += sms.routes(ctx)  # SMS channel: POST /sms/twilio, POST /sms/twilio/status
    routes += voice.routes(ctx)  # voice channel: POST /voice/twilio/… (calls placed, and the territory's number)
    if telegram_app is not None:  # Telegram channel: POST /telegram/webhook
        routes += telegram.routes(ctx, telegram_app.bot, advisers=telegram_advisers.handle)
    routes.append(console.mount(ctx))  # the advisers' web console: /console/…
    # Every route reads at most its limit of request body (the default for the others), before any parsing or
    # signature check: 413 beyond it.
    limits = {sms.INBOUND_PATH: sms.MAX_FORM_BYTES, sms.STATUS_PATH: sms.MAX_FORM_BYTES}
    limits[telegram.WEBHOOK_PATH] = telegram.MAX_UPDATE_BYTES
    limits |= dict.fromkeys(voice.PATHS, voice.MAX_FORM_BYTES)
    limits |= console.BODY_LIMITS
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(BodyLimit, limits=limits)])
    app.state.ctx = ctx
    return app
