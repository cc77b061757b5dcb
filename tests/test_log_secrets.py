"""No secret in any log line, at any level: a whole conversation on each channel, with the official clients
(twilio, python-telegram-bot over httpx) talking to the fake providers, every logger at DEBUG, then every captured
record scanned for the bot token, the Twilio auth token, the webhook secret and the secret key, in every form they
take on the wire (URL-encoded, in HTTP Basic authentication).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import and_, func, or_, select
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.config import Settings, load_settings
from bot.handlers.sms import INBOUND_PATH, REPLY_CONFIRMATION
from bot.handlers.telegram import SECRET_HEADER, WEBHOOK_PATH
from bot.logs import protect_logs
from storage.database import Database
from storage.models import MessageStatus, OutboundMessage
from tests.helpers.clock import Clock
from tests.helpers.fake_telegram import FakeTelegram, text_update
from tests.helpers.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_FROM, FakeTwilio
from tests.helpers.harness import seed
from tests.helpers.transcripts import SIGNUP

PUBLIC = "https://atelier.example.org"
BOT_TOKEN = "7312456789:AAHk3vJ9xQ2mZp8LwT5rN1cY6bF0dE4gHsU"
AUTH_TOKEN = "9f2c4e1ab7d35068c2e9f1a4b6d8e0c3"
WEBHOOK_SECRET = "wH-5ecret_Token-for-the-webhook"
SECRET_KEY = "k3y-of-the-erased-number-hash-0042"
PHONE = "+33647291853"
CHAT = 5_123_456_789
# Every form a secret takes in a request or a header: as it is, URL-encoded, and Twilio's Basic authentication.
FORBIDDEN = {
    BOT_TOKEN,
    BOT_TOKEN.partition(":")[2],
    quote(BOT_TOKEN, safe=""),
    AUTH_TOKEN,
    base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode(),
    WEBHOOK_SECRET,
    SECRET_KEY,
}
LOGGERS = ("", "httpx", "httpcore", "telegram", "twilio", "uvicorn", "apscheduler", "atelier", "bot")
# At DEBUG these quote every statement's parameters (numbers, names, whatever secret a table holds): the wiring
# keeps them at WARNING whatever the rest is set to.
DATABASE_DRIVERS = ("aiosqlite", "asyncpg")


@dataclass
class Both:
    app: Starlette
    client: httpx.AsyncClient
    clock: Clock
    telegram: FakeTelegram
    twilio: FakeTwilio


@asynccontextmanager
async def both_channels(db_url: str, now: datetime) -> AsyncIterator[Both]:
    with FakeTwilio(auth_token=AUTH_TOKEN) as twilio, FakeTelegram(token=BOT_TOKEN) as telegram:
        settings = load_settings(
            {
                "ATELIER_DATABASE_URL": db_url,
                "ATELIER_PUBLIC_URL": PUBLIC,
                "ATELIER_QUIET_HOURS": "none",
                "ATELIER_DISPATCH_INTERVAL": "0.1",
                "ATELIER_SECRET_KEY": SECRET_KEY,
                "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_FROM": DEFAULT_FROM,
                "ATELIER_TWILIO_API_URL": twilio.url,
                "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
                "ATELIER_TELEGRAM_API_URL": telegram.api_url,
                "ATELIER_TELEGRAM_SECRET": WEBHOOK_SECRET,
            }
        )
        clock = Clock(now)
        app = create_app(settings, clock=clock)
        transport = httpx.ASGITransport(app=app)
        async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            yield Both(app, client, clock, telegram, twilio)


async def unsettled(both: Both) -> int:
    """Messages due now that the dispatcher has not dealt with (reminders for next week are not due)."""
    now = both.clock.now
    due = or_(
        and_(OutboundMessage.status == MessageStatus.pending, OutboundMessage.due_at <= now),
        and_(OutboundMessage.status == MessageStatus.sending, OutboundMessage.lease_until <= now),
    )
    async with both.app.state.ctx.db.read() as session:
        return int(await session.scalar(select(func.count()).where(due)) or 0)


async def settle(both: Both) -> None:
    for _ in range(200):
        if await unsettled(both) == 0:
            return
        await asyncio.sleep(0.05)
        both.clock.advance(timedelta(seconds=0.2))  # the SMS pace (10/s) spreads messages in the clock's time
    async with both.app.state.ctx.db.read() as session:
        rows = (await session.execute(select(OutboundMessage))).scalars().all()
    left = [(r.channel, r.kind, r.status, r.due_at, r.attempts) for r in rows if r.status in ("pending", "sending")]
    raise AssertionError(f"the dispatcher did not send everything at {both.clock.now}: {left}")


async def sms_conversation(both: Both) -> None:
    """A sign-up by SMS through the signed webhook; the replies are then confirmed with Twilio's API (the
    dispatcher asks about TwiML replies with no report after two minutes)."""
    for index, say in enumerate(SIGNUP):
        form = {"From": PHONE, "Body": say.text, "MessageSid": f"SM{index:032x}", "To": DEFAULT_FROM}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + INBOUND_PATH, form)
        response = await both.client.post(INBOUND_PATH, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200 and "<Message" in response.text, say.text
    both.clock.advance(REPLY_CONFIRMATION + timedelta(minutes=1))
    await settle(both)


async def telegram_conversation(both: Both) -> None:
    for index, say in enumerate(SIGNUP):
        update = text_update(9_000 + index, CHAT, say.text)
        response = await both.client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert response.status_code == 200
        await settle(both)
        both.clock.advance(timedelta(seconds=2))  # Telegram's one message a second per chat


@pytest.mark.both_dialects  # each database driver logs in its own way
async def test_no_secret_in_any_log_line_after_a_conversation_on_each_channel(
    db: Database, db_url: str, now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name or None)
    await seed(db, "default", now)
    async with both_channels(db_url, now) as both:
        await sms_conversation(both)
        await telegram_conversation(both)
        assert both.telegram.sent(CHAT), "the Telegram replies were sent"
        assert both.twilio.requests > 0, "Twilio's API was called"
    lines = [*caplog.text.splitlines(), *(record.getMessage() for record in caplog.records)]
    lines += [record.exc_text or "" for record in caplog.records]
    assert "sendMessage" in caplog.text, "httpx's lines about the Bot API are there (without the token)"
    for secret in FORBIDDEN:
        leaks = [line for line in lines if secret in line]
        assert not leaks, f"{secret[:6]}… in {leaks[0][:300]!r}"
    assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in DATABASE_DRIVERS)


# --- The redaction, record by record ---------------------------------------------------------------------------


def _raise(message: str) -> None:
    raise RuntimeError(message)


@pytest.mark.parametrize(
    ("label", "log"),
    [
        ("in the message", lambda log: log.info(f"token {BOT_TOKEN}")),
        ("in a %s argument", lambda log: log.info("calling %s", f"/bot{BOT_TOKEN}/getMe")),
        ("in an object's str()", lambda log: log.info("GET %s", httpx.URL(f"https://x/bot{BOT_TOKEN}/getMe"))),
        ("in a mapping argument", lambda log: log.debug("%(auth)s", {"auth": AUTH_TOKEN})),
        ("URL-encoded", lambda log: log.warning("url %s", quote(BOT_TOKEN, safe=""))),
        ("the bot token's secret part alone", lambda log: log.error(BOT_TOKEN.partition(":")[2])),
        ("at DEBUG", lambda log: log.debug("secret=%s", WEBHOOK_SECRET)),
    ],
)
def test_a_secret_is_redacted_wherever_it_is_in_a_record(
    label: str, log: Any, caplog: pytest.LogCaptureFixture
) -> None:
    protect_logs(settings_with_secrets().secrets())
    caplog.set_level(logging.DEBUG, logger="redaction-test")
    log(logging.getLogger("redaction-test"))
    assert caplog.records, label
    assert "[secret]" in caplog.text
    assert not any(secret in caplog.text for secret in FORBIDDEN), caplog.text


def test_a_secret_in_an_exception_is_redacted_from_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    protect_logs(settings_with_secrets().secrets())
    try:
        _raise(f"Unauthorized for url https://api.telegram.org/bot{BOT_TOKEN}/getMe")
    except RuntimeError:
        logging.getLogger("redaction-test").exception("the Bot API refused")
    assert "Unauthorized for url" in caplog.text and "[secret]" in caplog.text
    assert BOT_TOKEN not in caplog.text


def test_an_access_line_keeps_its_shape_without_its_query_string(caplog: pytest.LogCaptureFixture) -> None:
    protect_logs(settings_with_secrets().secrets())
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    args = ("127.0.0.1:5000", "GET", f"/sms/twilio?From={quote(PHONE)}&Body=Bonjour", "1.1", 405)
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', *args)
    (record,) = caplog.records
    assert record.args == ("127.0.0.1:5000", "GET", "/sms/twilio", "1.1", 405)  # uvicorn's formatter reads them
    assert record.getMessage() == '127.0.0.1:5000 - "GET /sms/twilio HTTP/1.1" 405'


def settings_with_secrets() -> Settings:
    return load_settings(
        {
            "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "ATELIER_TELEGRAM_SECRET": WEBHOOK_SECRET,
            "ATELIER_SECRET_KEY": SECRET_KEY,
        }
    )
