"""A small world for the web console's tests: the app (no lifespan: no scheduler, nothing leaves), a fixed clock,
workshops, residents seated, a call-back request (a call on the "to call" list), a broadcast, and an adviser signed
in through the service.

On SQLite the world is built once per test process and settings: its database file is kept (SQLite's backup API:
a consistent copy, write-ahead log included) with the values it hands the tests, and put in place of the next test's
fresh database before its app starts. The clock is fixed, so the rows are the same as if built again (a third of a
second of set-up per test saved, 80 tests).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from bot.app import create_app
from bot.config import Settings
from bot.context import Context
from bot.service.accounts import set_password, sign_in, signed_in
from bot.service.broadcasts import Audience, send_broadcast
from bot.service.callbacks import request_callback
from bot.service.calls import list_calls
from bot.service.team import add_adviser
from bot.service.workshops import get_workshop
from storage.models import Base, Resident
from tests.helpers.clock import Clock
from tests.helpers.world import JULIE, Town, in_2026

PASSWORD = "un mot de passe assez long"
EMAIL = "claire@example.fr"
# Rows that reading a page may write (a sign-in, a failed one): not part of "what changed".
IGNORED = {"console_sessions", "login_failures"}


@dataclass
class ConsoleWorld:
    app: Starlette
    ctx: Context
    client: httpx.AsyncClient
    town: Town
    token: str
    csrf: str
    workshop_id: int  # in a week, two people seated, one waiting
    started_id: int  # started an hour ago, one person seated
    resident_id: int
    callback_id: int
    broadcast_id: int
    adviser_id: int
    later_id: int  # in two weeks, nobody enrolled: where people are enrolled or moved to
    call_id: int  # Martine's call-back request, on the "to call" list
    venue_choice: str  # the workshop's venue as the broadcast form offers it ("INSEE|name")

    async def fingerprint(self) -> str:
        """A digest of every row of every table (sessions and failed sign-ins aside): equal means nothing changed."""
        return await self.town.fingerprint(ignore=IGNORED)

    def anonymous(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="https://testserver")


@dataclass(frozen=True)
class _Built:
    """What a world hands its tests besides the app: the ids and the session the build made."""

    token: str
    csrf: str
    workshop_id: int
    started_id: int
    resident_id: int
    callback_id: int
    broadcast_id: int
    adviser_id: int
    later_id: int
    call_id: int
    venue_choice: str


# Per test process: (settings but the database URL, now) -> (the database file's bytes, what the build handed out).
_BUILT: dict[str, tuple[bytes, _Built]] = {}
_SQLITE = "sqlite+aiosqlite:///"


def _key(settings: Settings, now: datetime) -> str:
    return f"{now.isoformat()} {settings.model_dump(exclude={'database_url'})!r}"


def _file_of(settings: Settings) -> Path | None:
    url = settings.database_url
    return Path(url.removeprefix(_SQLITE)) if url.startswith(_SQLITE) else None


def _copy_of(path: Path) -> bytes:
    source, copy = sqlite3.connect(path), sqlite3.connect(":memory:")
    try:
        source.backup(copy)
        return copy.serialize()
    finally:
        source.close()
        copy.close()


@asynccontextmanager
async def console_world(settings: Settings, now: datetime) -> AsyncIterator[ConsoleWorld]:
    file = _file_of(settings)
    kept = _BUILT.get(_key(settings, now)) if file is not None else None
    if file is not None and kept is not None:
        file.write_bytes(kept[0])  # the test's fresh database, not opened yet: nothing else holds it
    clock = Clock(now)
    app = create_app(settings, clock=clock)
    ctx: Context = app.state.ctx
    town = Town(ctx, clock)
    built = kept[1] if kept is not None else await _build(ctx, town, clock, now)
    if file is not None and kept is None:
        _BUILT[_key(settings, now)] = (_copy_of(file), built)
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(
        transport=transport, base_url="https://testserver", cookies={"atelier_session": built.token}
    )
    try:
        yield ConsoleWorld(app, ctx, client, town, *astuple(built))
    finally:
        await client.aclose()
        await ctx.db.dispose()


async def _build(ctx: Context, town: Town, clock: Clock, now: datetime) -> _Built:
    workshop_id = await town.workshop("Saint-Victor", in_2026(9, 14), capacity=2)
    started_id = await town.workshop("Domérat", now - timedelta(hours=1))
    later_id = await town.workshop("Domérat", in_2026(16, 14))
    resident_id = await town.resident("Martine Dupont", phone="+33612345678")
    for rid in (resident_id, await town.resident("Jean Morel", phone="+33612345679")):
        await town.seat(rid, workshop_id)
    await town.seat(await town.resident("Paul Petit", phone="+33612345680"), workshop_id)  # waits
    clock.now = now - timedelta(days=1)
    await town.seat(await town.resident("Rose Blanc", phone="+33612345681"), started_id)
    clock.now = now
    async with ctx.db.write() as session:
        resident = await session.get(Resident, resident_id)
        assert resident is not None
        callback_id = (await request_callback(session=session, resident=resident, now=now)).id
    [call] = await list_calls(ctx=ctx)
    summary = await get_workshop(ctx=ctx, workshop_id=workshop_id)
    broadcast_id = await send_broadcast(
        ctx=ctx, audience=Audience(workshop_id=workshop_id), body="Pensez à votre tablette.", actor=JULIE
    )
    adviser = await add_adviser(ctx=ctx, name="Claire Martin", email=EMAIL, admin=True, actor=JULIE)
    await set_password(ctx=ctx, adviser_id=adviser.id, password=PASSWORD, actor=JULIE)
    outcome = await sign_in(ctx=ctx, email=EMAIL, password=PASSWORD, address="127.0.0.1")
    assert outcome.token is not None
    user = await signed_in(ctx=ctx, token=outcome.token)
    assert user is not None
    return _Built(
        outcome.token, user.csrf_token, workshop_id, started_id, resident_id, callback_id, broadcast_id,
        adviser.id, later_id, call.id, f"{summary.commune_insee}|{summary.venue}",
    )  # fmt: skip


async def count_rows(ctx: Context, model: type[Base]) -> int:
    async with ctx.db.read() as session:
        return len((await session.execute(select(model))).unique().scalars().all())
