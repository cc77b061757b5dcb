"""The voice channel wired as ``atelier serve`` wires it, over real HTTP on loopback: the application (served by
uvicorn on a free port, which is also its public URL), the fake Twilio API it places calls with (``FakeTwilio``,
whose phones fetch our TwiML and post keys and status callbacks, signed), an injectable clock, and the dispatcher
run by hand (``dispatch``) so that a test says when calls leave.

The phones block while they talk to the server: an async test drives them through ``phone`` (a worker thread).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette

from bot.app import create_app
from bot.config import load_settings
from bot.context import Context
from bot.scheduler.dispatch import Dispatcher, TickResult
from tests.helpers.clock import PARIS, Clock
from tests.helpers.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.helpers.world import Town

OUR_NUMBER = "+33939000000"  # the territory's 09 number: SMS and calls
T = TypeVar("T")

__all__ = ["OUR_NUMBER", "PARIS", "Clock", "VoiceSite", "free_port", "voice_environ", "voice_site"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def voice_environ(db_url: str, public: str, fake_url: str, **extra: str) -> dict[str, str]:
    """Settings with Twilio (SMS and calls) pointed at the fake, and the public URL at the loopback server."""
    return {
        "ATELIER_DATABASE_URL": db_url,
        "ATELIER_PUBLIC_URL": public,
        "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "TWILIO_FROM": OUR_NUMBER,
        "ATELIER_TWILIO_API_URL": fake_url,
        "ATELIER_SMS_RATE": "1000/s",
        "ATELIER_CALL_RATE": "1000/s",
        **extra,
    }


@dataclass
class VoiceSite:
    app: Starlette
    ctx: Context
    fake: FakeTwilio
    clock: Clock
    public: str

    @property
    def town(self) -> Town:
        return Town(self.ctx, self.clock)

    async def dispatch(self) -> TickResult:
        """One claim of due messages (calls and SMS), sent to the fake."""
        return await Dispatcher(self.ctx).tick()

    async def phone(self, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A phone's action (answer, press, hang up…), which talks to our server: in a worker thread."""
        return await asyncio.to_thread(action, *args, **kwargs)

    def url(self, path: str) -> str:
        return self.public + path


@asynccontextmanager
async def voice_site(db_url: str, now: datetime, **extra: str) -> AsyncIterator[VoiceSite]:
    """The application with calls on, served on loopback; no background dispatcher (``VoiceSite.dispatch``)."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with FakeTwilio(auth_token=DEFAULT_AUTH_TOKEN) as fake:
        clock = Clock(now)
        app = create_app(load_settings(voice_environ(db_url, public, fake.url, **extra)), clock=clock)
        ctx: Context = app.state.ctx
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        serving = asyncio.create_task(server.serve())
        try:
            for _ in range(500):  # uvicorn offers no event to wait on
                if server.started:
                    break
                await asyncio.sleep(0.01)
            yield VoiceSite(app=app, ctx=ctx, fake=fake, clock=clock, public=public)
        finally:
            server.should_exit = True
            await serving
            for sender in ctx.senders.values():
                close = getattr(sender, "aclose", None)
                if close is not None:
                    await close()
            await ctx.db.dispose()
