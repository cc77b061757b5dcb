"""Atelier's Telegram channel wired as ``app.py`` wires it, against the fake Bot API: for the Telegram tests.

Updates are posted to ``POST /telegram/webhook`` of a Starlette app holding the channel's routes (in-process ASGI);
replies are queued in the outbox and sent by real dispatcher ticks through ``TelegramSender`` and PTB's bot, over
HTTP on loopback, to the fake; what a chat received is read back from the fake.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.config import Settings, load_settings
from bot.context import Context
from bot.handlers import telegram
from bot.interfaces import telegram_advisers as advisers
from bot.scheduler.dispatch import Dispatcher
from bot.territory import Territory
from storage.database import Database
from storage.models import MessageStatus, OutboundMessage
from tests.helpers.clock import Clock
from tests.helpers.fake_telegram import (
    DEFAULT_TOKEN,
    FakeTelegram,
    SentMessage,
    command_update,
    sticker_update,
    text_update,
)

SECRET = "s3cret-Token_for-tests"
PUBLIC_URL = "https://atelier.example.org"
RETRY_HORIZON = timedelta(minutes=1)
TICK = timedelta(seconds=1.5)  # the clock moves this much before each dispatcher tick: past Telegram's 1 s per chat


def telegram_settings(db_url: str, fake: FakeTelegram, **extra: str) -> Settings:
    values = {
        "ATELIER_DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "ATELIER_TELEGRAM_API_URL": fake.api_url,
        "ATELIER_TELEGRAM_SECRET": SECRET,
        "ATELIER_PUBLIC_URL": PUBLIC_URL,
        **extra,
    }
    return load_settings({k: v for k, v in values.items() if v})


@dataclass
class Rig:
    fake: FakeTelegram
    ctx: Context
    clock: Clock
    client: httpx.AsyncClient
    dispatcher: Dispatcher
    seen: dict[int, int] = field(default_factory=dict)  # chat → messages already read
    update_ids: Any = field(default_factory=lambda: itertools.count(1_000))

    def next_update_id(self) -> int:
        return int(next(self.update_ids))

    async def post(self, update: dict[str, Any], *, secret: str | None = SECRET, body: bytes | None = None) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        content = body if body is not None else httpx.Request("POST", "/", json=update).content
        response = await self.client.post(telegram.WEBHOOK_PATH, content=content, headers=headers)
        return response.status_code

    async def deliver(self, *, max_ticks: int = 20) -> None:
        """Dispatcher ticks until nothing more is claimed (one message per chat per tick: Telegram's pace); a
        message to retry within a minute is waited for (the clock jumps to it)."""
        for _ in range(max_ticks):
            self.clock.advance(TICK)
            if (await self.dispatcher.tick()).claimed:
                continue
            retry = await self._next_retry()
            if retry is None:
                return
            self.clock.now = max(self.clock.now, retry)
        raise AssertionError("the dispatcher kept claiming messages")

    async def _next_retry(self) -> datetime | None:
        async with self.ctx.db.read() as session:
            due = await session.execute(
                select(func.min(OutboundMessage.due_at)).where(
                    OutboundMessage.status == MessageStatus.pending,
                    OutboundMessage.attempts > 0,
                    OutboundMessage.due_at <= self.clock.now + RETRY_HORIZON,
                )
            )
            return due.scalar_one_or_none()

    def new_messages(self, chat_id: int) -> list[SentMessage]:
        received = self.fake.sent(chat_id)
        start = self.seen.get(chat_id, 0)
        self.seen[chat_id] = len(received)
        return received[start:]

    async def say(self, chat_id: int, text: str, *, user_id: int | None = None) -> list[SentMessage]:
        """A person writes (a /command, a text, or an empty message: a sticker); returns what they receive."""
        update_id = self.next_update_id()
        if text.startswith("/"):
            update = command_update(update_id, chat_id, text, user_id=user_id)
        elif text.strip():
            update = text_update(update_id, chat_id, text, user_id=user_id)
        else:
            update = sticker_update(update_id, chat_id)
        assert await self.post(update) == 200
        return await self.received(chat_id)

    async def received(self, chat_id: int) -> list[SentMessage]:
        await self.deliver()
        return self.new_messages(chat_id)

    async def outbox_rows(self, messages: list[SentMessage]) -> dict[str, tuple[str, tuple[str, ...], bool]]:
        """provider id → (body, choices, ask_contact) of the outbox row each message was sent for."""
        ids = [f"{m.chat_id}:{m.message_id}" for m in messages]
        async with self.ctx.db.read() as session:
            rows = await session.execute(
                select(
                    OutboundMessage.provider_id,
                    OutboundMessage.body,
                    OutboundMessage.choices,
                    OutboundMessage.ask_contact,
                ).where(OutboundMessage.channel == "telegram", OutboundMessage.provider_id.in_(ids))
            )
            return {str(pid): (body, tuple(choices or ()), bool(ask)) for pid, body, choices, ask in rows}


@asynccontextmanager
async def rig(
    *, db: Database, db_url: str, territory: Territory, now: datetime, fake: FakeTelegram, **extra: str
) -> AsyncIterator[Rig]:
    settings = telegram_settings(db_url, fake, **extra)
    application = telegram.build_application(settings)
    clock = Clock(now)
    ctx = Context(settings=settings, db=db, territory=territory, clock=clock)
    ctx.senders = {"telegram": telegram.TelegramSender(application.bot)}
    app = Starlette(routes=telegram.routes(ctx, application.bot, advisers=advisers.handle))
    transport = httpx.ASGITransport(app=app)
    await application.initialize()  # what the lifespan does (getMe); shutdown closes the HTTP connections
    try:
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            yield Rig(fake=fake, ctx=ctx, clock=clock, client=client, dispatcher=Dispatcher(ctx))
    finally:
        await application.shutdown()
