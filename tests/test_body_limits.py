"""Every route reads at most its limit of request body, whatever the transfer encoding, before any parsing or
signature check: 413 beyond it, nothing stored, and the rest of the body is not even read.

In-process, through the application ``create_app`` builds (so with the middleware the wiring installs); the same
attack against a real ``atelier serve`` process, with its memory measured, is in ``test_serve_guards.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.app import create_app
from bot.config import load_settings
from bot.handlers.sms import INBOUND_PATH, MAX_FORM_BYTES, STATUS_PATH
from bot.handlers.telegram import MAX_UPDATE_BYTES, SECRET_HEADER, WEBHOOK_PATH
from storage.models import InboundMessage, OutboundMessage, Resident
from tests.helpers.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.helpers.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_FROM, FakeTwilio

PUBLIC = "https://atelier.example.org"
SECRET = "s3cret-Token_for-tests"
CHUNK = 16 * 1024
DEFAULT_LIMIT = 1024 * 1024  # every other route


@asynccontextmanager
async def site(db_url: str) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    with FakeTwilio(auth_token=DEFAULT_AUTH_TOKEN) as twilio, FakeTelegram() as telegram:
        settings = load_settings(
            {
                "ATELIER_DATABASE_URL": db_url,
                "ATELIER_PUBLIC_URL": PUBLIC,
                "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
                "TWILIO_FROM": DEFAULT_FROM,
                "ATELIER_TWILIO_API_URL": twilio.url,
                "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
                "ATELIER_TELEGRAM_API_URL": telegram.api_url,
                "ATELIER_TELEGRAM_SECRET": SECRET,
            }
        )
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            yield app, client


@dataclass
class Source:
    """A request body streamed from a generator (chunked), counting what the server pulled from it."""

    size: int
    pulled: int = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"Body="
        while self.pulled < self.size:
            self.pulled += CHUNK
            yield b"x" * CHUNK


@dataclass(frozen=True)
class Route:
    label: str
    method: str
    path: str
    limit: int
    headers: tuple[tuple[str, str], ...] = ()
    answer: int = 413  # a route that refuses without reading the body answers as it always does


ROUTES = [
    Route("SMS webhook, unsigned", "POST", INBOUND_PATH, MAX_FORM_BYTES),
    Route("SMS status callback", "POST", STATUS_PATH + "?outbox=1", MAX_FORM_BYTES),
    Route("Telegram webhook, right secret", "POST", WEBHOOK_PATH, MAX_UPDATE_BYTES, ((SECRET_HEADER, SECRET),)),
    Route("Telegram webhook, no secret", "POST", WEBHOOK_PATH, MAX_UPDATE_BYTES, answer=403),
    Route("health check", "POST", "/healthz", DEFAULT_LIMIT, answer=405),
    Route("a path that does not exist", "POST", "/nowhere", DEFAULT_LIMIT, answer=404),
]
FORM = "application/x-www-form-urlencoded"


async def stored(app: Starlette) -> int:
    async with app.state.ctx.db.read() as session:
        counted = [await session.scalar(select(func.count()).select_from(m)) for m in (InboundMessage, Resident)]
        counted.append(await session.scalar(select(func.count()).select_from(OutboundMessage)))
    return sum(int(n or 0) for n in counted)


@pytest.mark.parametrize("route", ROUTES, ids=[r.label for r in ROUTES])
@pytest.mark.parametrize("backend", ["sqlite"])  # the limit is HTTP, before any database
async def test_a_chunked_body_over_the_limit_is_refused_before_it_is_read(route: Route, db_url: str) -> None:
    source = Source(size=100 * route.limit)  # 6.4 MB to 100 MB: the server must stop pulling long before
    async with site(db_url) as (app, client):
        headers = {"content-type": FORM, **dict(route.headers)}
        response = await client.request(route.method, route.path, content=source, headers=headers)
        assert response.status_code == route.answer
        assert response.status_code != 413 or response.headers["connection"] == "close"
        assert source.pulled <= route.limit + 2 * CHUNK, source.pulled
        assert await stored(app) == 0


@pytest.mark.parametrize("route", ROUTES, ids=[r.label for r in ROUTES])
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_declared_length_over_the_limit_is_refused_before_the_route_runs(route: Route, db_url: str) -> None:
    source = Source(size=2 * route.limit)
    async with site(db_url) as (app, client):
        headers = {"content-type": FORM, "content-length": str(route.limit + 10), **dict(route.headers)}
        response = await client.request(route.method, route.path, content=source, headers=headers)
        assert response.status_code == 413
        assert source.pulled == 0  # not a byte of the body read
        assert await stored(app) == 0


@pytest.mark.parametrize(
    "length",
    ["9" * 5000, "-1", "12, 12", "0x10", "١٢"],
    ids=["5,000 digits", "negative", "two values", "hexadecimal", "Arabic digits"],
)
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_an_unreadable_content_length_is_refused(length: str, db_url: str) -> None:
    async with site(db_url) as (app, client):
        request = client.build_request("POST", INBOUND_PATH, content=b"Body=Bonjour")
        request.headers["content-length"] = length
        response = await client.send(request)
        assert response.status_code == 413
        assert await stored(app) == 0


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_multipart_body_over_the_limit_is_refused(db_url: str) -> None:
    fields = {f"f{n}": "x" * 1000 for n in range(100)}  # 100 kB of fields, sent chunked
    async with site(db_url) as (app, client):
        request = client.build_request("POST", INBOUND_PATH, files={"Body": ("a.txt", b"y" * 10)}, data=fields)
        body = request.read()

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), CHUNK):
                yield body[start : start + CHUNK]

        headers = {"content-type": request.headers["content-type"]}
        response = await client.post(INBOUND_PATH, content=chunks(), headers=headers)
        assert response.status_code == 413
        assert await stored(app) == 0


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_body_within_the_limit_reaches_the_route(db_url: str) -> None:
    """Just under the SMS limit, chunked: the route reads it, and refuses it for its missing signature (403)."""
    body = b"Body=" + b"x" * (MAX_FORM_BYTES - 10)
    async with site(db_url) as (_, client):

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), CHUNK):
                yield body[start : start + CHUNK]

        response = await client.post(INBOUND_PATH, content=chunks(), headers={"content-type": FORM})
        assert response.status_code == 403


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_planning_upload_over_the_default_limit_reaches_the_console(db_url: str) -> None:
    """The console's import takes a spreadsheet of up to 2 MiB (its own check says so kindly): the wiring lets its
    upload through (here anonymous, so sent to the sign-in page) where another route would answer 413."""
    body = b"x" * (DEFAULT_LIMIT + DEFAULT_LIMIT // 2)
    async with site(db_url) as (_, client):
        for path in ("/console/planning/import", "/console/planning/import/confirmer"):
            response = await client.post(path, content=body, headers={"content-type": "multipart/form-data; b=x"})
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/console/connexion")
