"""Property: no request, however hostile, gets a 5xx — 10,000 signed bodies across the SMS webhook, Twilio's status
callback, the Telegram webhook and the voice webhooks (hypothesis): 5,000 on each database, different ones. Nor is
any answered with the apology a webhook says when handling failed (a caught failure is a failure too).

Signed: each form carries a valid ``X-Twilio-Signature`` for its URL (query string included) and parameters, each
update the right secret token, so the bodies get past the gates into the parsing and the service, where a 5xx would
come from. The values are what an attacker or a broken client sends: numbers of 5,000 digits, ids over 64 bits,
control characters, 6,400-character bodies, repeated fields, special and foreign numbers, every chat type, JSON
nested deep, fields of the wrong type.

The voice webhooks (``/voice/twilio/call|keys|status|incoming|menu``) share the budget with the others (a quarter
of the bodies): a landline's reminder calls are outbox rows 1 and 2 of a seeded world, so that the forms that name
them reach the call's script, its keys (1, 2, 3: a seat confirmed or given up) and its status (a retry, or the
advisers' list), as well as the territory's number's menu.

Run in-process (httpx's ASGI transport, the application as ``create_app`` builds it, its lifespan running), 50
bodies per Hypothesis example: generating a body costs about 1 ms, answering it about 2 ms (a whole conversation
turn for most SMS and updates), so 5,000 take about 15 s of CPU on each database; 10,000 on each, measured by
hand (``ATELIER_FUZZ_BODIES=10000``, the voice routes included), 32 s on SQLite and 38 s on PostgreSQL, and no
5xx nor apology either. Twilio's status lookup retries (1.55 s for
an unknown sid, waiting for a sender to record it: ``ATELIER_STATUS_LOOKUP_DELAYS``) are set to none here.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import string
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.channels import Outgoing, Sender
from bot.config import load_settings
from bot.context import Context
from bot.handlers.sms import INBOUND_PATH, STATUS_PATH
from bot.handlers.telegram import SECRET_HEADER, WEBHOOK_PATH
from bot.handlers.voice import CALL_PATH, INCOMING_PATH, KEYS_PATH, MENU_PATH
from bot.handlers.voice import STATUS_PATH as VOICE_STATUS_PATH
from storage.enums import Channel
from tests.helpers.clock import Clock
from tests.helpers.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.helpers.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_FROM
from tests.helpers.world import Town

PUBLIC = "https://atelier.example.org"
AUTH_TOKEN = "fuzz-auth-token-0123456789abcdef"
SECRET = "fuzz-Secret_token"
# Per database: 5,000 on each, 10,000 in all (about 15 s of CPU each). ATELIER_FUZZ_BODIES=10000 for a longer run.
BODIES = int(os.environ.get("ATELIER_FUZZ_BODIES", "5000"))

# --- what the values are made of ---------------------------------------------------------------------------------

# Characters that have broken parsers: ASCII and its controls, accents and typographic quotes, digits that
# str.isdigit() accepts and int() does not, emoji, zero-width and right-to-left marks, a byte-order mark, NUL.
# (A sampled alphabet: generating from all of Unicode costs ten times more per body.)
HOSTILE = string.printable + "\x00\x07\x1b\x7féèàçêôœÉ’«»…€²³١٣६👍🙂🇫🇷\u200b\u200d\u202e\ufeff\u00a0\u2028\ufffd"
TEXT = st.text(st.sampled_from(HOSTILE), max_size=16)
LONG_TEXT = st.builds(lambda text, times: (text or "é") * times, TEXT, st.integers(50, 400))  # up to 6,400
# around the limits: a BIGINT's 19 digits, int()'s 4,300 (a ValueError past it)
DIGITS = st.sampled_from([1, 19, 20, 4300, 4301, 6000]).map(lambda n: "9" * n) | st.text(string.digits, max_size=25)
# ids: what Telegram sends, and what it never does (0, negative, past 52 bits, past a BIGINT, past a float's 53)
INTS = st.sampled_from([0, -1, 1, 7_770_001, 2**31, 2**52, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30])
INTS |= st.integers(1, 10**10)
WORDS = st.sampled_from(
    ["OUI", "NON", "STOP", "START", "OUBLIER", "CONSEILLER", "ANNULER", "AIDE", "MES ATELIERS", "1", "2 3", ""]
)
PHONES = st.sampled_from(
    [
        "+33612345678",
        "+33612345679",
        "06 12 34 56 78",
        "+33899234567",  # premium rate
        "+33810234567",  # shared cost
        "+979123456789",  # international premium rate
        "+447400123456",  # abroad
        "+262692123456",  # La Réunion
        "38600",  # a short code
        "",
        "+",
        "+3361234567812345678901234567890",
    ]
)
VALUE = WORDS | TEXT | LONG_TEXT | DIGITS | PHONES | INTS.map(str)
TWILIO_FIELDS = [
    "From",
    "To",
    "Body",
    "MessageSid",
    "SmsSid",
    "NumMedia",
    "NumSegments",
    "AccountSid",
    "MessageStatus",
    "ErrorCode",
    "MediaUrl0",
    "FromCountry",
]
SIDS = st.sampled_from(["SM" + "a" * 32, "SM" + "0" * 32, "SM" + "F" * 32, "SM"]) | TEXT.map("SM".__add__)
STATUSES = st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read", "receiving", ""]) | TEXT
FIELD = st.sampled_from(TWILIO_FIELDS) | TEXT


@dataclass(frozen=True)
class Post:
    route: str  # the path posted to, query string included
    body: bytes
    headers: dict[str, str]


def signed(path: str, pairs: list[tuple[str, str]]) -> Post:
    """A form as Twilio posts it, signed for the public URL and these parameters (repeated fields included)."""
    url = PUBLIC + path
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, ImmutableMultiDict(pairs))
    headers = {"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature}
    return Post(path, urlencode(pairs).encode(), headers)


@st.composite
def sms_posts(draw: st.DrawFn) -> Post:
    pairs = [("From", draw(PHONES)), ("MessageSid", draw(SIDS))]
    if draw(st.integers(0, 4)):  # now and then no Body: a picture, NumMedia decides
        pairs.append(("Body", draw(VALUE)))
    if draw(st.booleans()):
        pairs.append(("NumMedia", draw(DIGITS | VALUE)))
    pairs += draw(st.lists(st.tuples(FIELD, VALUE), max_size=3))
    return signed(INBOUND_PATH, pairs)


@st.composite
def status_posts(draw: st.DrawFn) -> Post:
    pairs = [("MessageSid", draw(SIDS)), ("MessageStatus", draw(STATUSES))]
    pairs += draw(st.lists(st.tuples(FIELD, VALUE), max_size=2))
    outbox = draw(st.none() | DIGITS | TEXT | st.sampled_from(["1", "-1", "0", "2", "", "1e3", "٣"]))
    path = STATUS_PATH if outbox is None else f"{STATUS_PATH}?outbox={quote(outbox, safe='')}"
    return signed(path, pairs)


JSON = st.recursive(
    st.none() | st.booleans() | INTS | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=5,
)
CHAT_TYPES = st.sampled_from(["private"] * 6 + ["group", "supergroup", "channel", "sender", "", "PRIVATE"])
REFUSED_JSON = [b"[" * 100_000, b'{"update_id": 1' + b"0" * 5000 + b"}", b"\xff\xfe{}", b"", b"null"]


@st.composite
def telegram_posts(draw: st.DrawFn) -> Post:
    chat_id = draw(INTS | TEXT)
    sender = {"id": draw(st.just(chat_id) | INTS), "is_bot": draw(st.booleans()), "first_name": "Martine"}
    message: dict[str, Any] = {"message_id": draw(INTS), "date": 1, "chat": {"id": chat_id, "type": draw(CHAT_TYPES)}}
    message["from"] = sender
    extras = draw(st.integers(0, 15))  # one draw for the rarer shapes
    if extras != 1:
        message["caption" if extras == 2 else "text"] = draw(VALUE)
    if extras == 3:
        message["entities"] = [{"type": "bot_command", "offset": draw(INTS), "length": draw(INTS)}]
    if extras == 4:
        message["contact"] = {"phone_number": draw(VALUE), "first_name": "x", "user_id": draw(INTS)}
    if extras == 5:
        message["from"] = draw(JSON)
    update: dict[str, Any] = {"update_id": draw(INTS | TEXT) if extras == 6 else draw(INTS)}
    kind = draw(st.sampled_from(["message"] * 5 + ["edited_message", "callback_query", "channel_post", "junk"]))
    if kind == "callback_query":
        update[kind] = {"id": "q", "from": sender, "chat_instance": "x", "data": draw(VALUE), "message": message}
    elif kind == "junk":
        update.update(draw(st.dictionaries(TEXT, JSON, max_size=3)))
    else:
        update[kind] = message
    body = json.dumps(update).encode()
    if extras == 7:  # what Python's JSON parser itself refuses: nested too deep, an int of 5,000 digits…
        body = draw(st.sampled_from(REFUSED_JSON))
    return Post(WEBHOOK_PATH, body, {"content-type": "application/json", SECRET_HEADER: SECRET})


# Well-formed: a few that recur (one call's keys and reports meet) and new ones (each call acts once on its keys);
# else what the handler must refuse.
RECURRING_SIDS = st.sampled_from(["CA" + "a" * 32, "CA" + "0" * 32, "CA" + "b1" * 16])
NEW_SIDS = st.text("0123456789abcdef", min_size=32, max_size=32).map("CA".__add__)
BAD_SIDS = st.sampled_from(["CA" + "A" * 32, "CA", "CA" + "a" * 33]) | TEXT.map("CA".__add__)
GOOD_SIDS = RECURRING_SIDS | NEW_SIDS
# Twilio's words, and the same with what a database may refuse to store (a NUL: PostgreSQL's text cannot hold it)
CALL_STATUSES = st.sampled_from(
    ["queued", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled", "", "COMPLETED ",
     "completed\x00", "\x00", "no-answer\u202e"]
) | TEXT  # fmt: skip
ANSWERED_BY = (
    st.sampled_from(["human", "machine_start", "machine_end_beep", "fax", "unknown", "", "human\x00", "\x00"]) | TEXT
)
KEYS = st.sampled_from(["1", "2", "3", "9", "0", "*", "#", "12", ""]) | DIGITS | TEXT
CALLERS = PHONES | st.sampled_from(["+33470051234", "anonymous", "Anonymous", "+266696687", "client:alice"])
# Henri's reminder calls (rows 1 and 2) often, else other rows (SMS ones, unknown ones) and what is not a number
ROWS = st.sampled_from(["1", "2"]) | st.none() | DIGITS | TEXT | st.sampled_from(["3", "0", "-1", "", "1e3", "٣"])
SUBJECTS = st.sampled_from(["1", "2", "3", "0", "", "٣"]) | DIGITS | TEXT  # an enrolment, in the menu's query
STEPS = st.sampled_from(["welcome", "cancel_next", "coming", "admin", ""]) | TEXT
VOICE_FIELDS = ["CallSid", "From", "To", "CallStatus", "AnsweredBy", "Digits", "CallDuration", "ErrorCode",
                "Direction", "AccountSid"]  # fmt: skip
VOICE_FIELD = st.sampled_from(VOICE_FIELDS) | TEXT


def _with_query(path: str, query: list[tuple[str, str]]) -> str:
    return path + (f"?{urlencode(query)}" if query else "")


@st.composite
def voice_posts(draw: st.DrawFn) -> Post:
    """One of the five voice webhooks, signed like Twilio's, with the fields each reads and stray ones."""
    route = draw(st.sampled_from([CALL_PATH, KEYS_PATH, VOICE_STATUS_PATH, INCOMING_PATH, MENU_PATH]))
    sid = draw(GOOD_SIDS if draw(st.integers(0, 4)) else BAD_SIDS)  # mostly well-formed: the forms go deeper
    pairs = [("CallSid", sid), ("From", draw(CALLERS)), ("AccountSid", DEFAULT_ACCOUNT_SID)]
    query: list[tuple[str, str]] = []
    if route in (CALL_PATH, KEYS_PATH, VOICE_STATUS_PATH) and (row := draw(ROWS)) is not None:
        query.append(("outbox", row))
    if route in (CALL_PATH, VOICE_STATUS_PATH):  # machine detection's verdict, in the TwiML request and the report
        pairs.append(("AnsweredBy", draw(ANSWERED_BY)))
    if route in (KEYS_PATH, MENU_PATH):
        pairs.append(("Digits", draw(KEYS)))
    if route == MENU_PATH:
        query.append(("step", draw(STEPS)))
        if draw(st.booleans()):
            query.append(("subject", draw(SUBJECTS)))
    if route == VOICE_STATUS_PATH:
        pairs += [("CallStatus", draw(CALL_STATUSES)), ("CallDuration", draw(DIGITS | TEXT))]
        if draw(st.booleans()):
            pairs.append(("ErrorCode", draw(DIGITS | TEXT)))
    pairs += draw(st.lists(st.tuples(VOICE_FIELD, VALUE), max_size=2))
    return signed(_with_query(route, query), pairs)


POSTS = st.one_of(sms_posts(), status_posts(), telegram_posts(), voice_posts())


# --- the site ----------------------------------------------------------------------------------------------------


@dataclass
class Nowhere:
    """A sender for the dispatcher: what leaves is not the subject here."""

    channel: Channel
    max_length: int = 4096
    supports_buttons: bool = False
    recipient_interval: timedelta | None = None

    async def send(self, message: Outgoing) -> str:
        return "SM" + "f" * 32


@asynccontextmanager
async def site(db_url: str, telegram: FakeTelegram) -> AsyncIterator[httpx.AsyncClient]:
    environ = {
        "ATELIER_DATABASE_URL": db_url,
        "ATELIER_PUBLIC_URL": PUBLIC,
        "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM": DEFAULT_FROM,
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "ATELIER_TELEGRAM_API_URL": telegram.api_url,
        "ATELIER_TELEGRAM_SECRET": SECRET,
        "ATELIER_REPLY_LIMIT": "1000000/1m",  # the same few numbers write thousands of times: answer them all
        "ATELIER_STATUS_LOOKUP_DELAYS": "",  # an unknown sid is looked up once: the retries are a wait, not a parse
    }
    senders: dict[str, Sender] = {channel: Nowhere(channel) for channel in Channel}
    app = create_app(load_settings(environ), senders=senders)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a crash is a 500 to count, not raised
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        await seed_landline(app.state.ctx)
        yield client


async def seed_landline(ctx: Context) -> None:
    """Henri, a landline, seated in next week's workshop (one seat; Martine waits): his reminders are calls,
    outbox rows 1 and 2, which the voice forms name."""
    town = Town(ctx, Clock(ctx.now()))
    workshop = await town.workshop("Saint-Victor", ctx.now() + timedelta(days=7), capacity=1)
    henri = await town.resident("Henri Bouchet", phone="+33470051234", sms_unreachable=True)
    await town.seat(henri, workshop)
    await town.seat(await town.resident("Martine Dupont", phone="+33612345678"), workshop)
    calls = await town.messages(channel=Channel.voice)
    assert sorted(m.id for m in calls)[:2] == [1, 2], [(m.id, m.kind) for m in calls]


APOLOGY = re.compile(r"probl[eè]me technique")  # texts.technical_problem(), said when handling a request failed
BATCH = 50  # bodies drawn per example: Hypothesis's own cost per example is then shared by 50 requests
SEEDS = {"sqlite": 12, "postgresql": 13}  # other bodies on each database: 10,000 different ones in all


@pytest.mark.slow
@pytest.mark.both_dialects  # column bounds, integers too large and failed transactions differ between engines
def test_ten_thousand_signed_hostile_bodies_get_no_5xx(
    backend: str, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answers: Counter[tuple[str, int]] = Counter()
    with FakeTelegram() as telegram, asyncio.Runner() as runner:
        stack = AsyncExitStack()
        client = runner.run(stack.enter_async_context(site(db_url, telegram)))

        async def send(batch: list[Post]) -> None:
            for request in batch:
                response = await client.post(request.route, content=request.body, headers=request.headers)
                answers[(request.route.partition("?")[0], response.status_code)] += 1
                assert response.status_code < 500, (request, response.text[:300])  # Hypothesis shrinks to it
                # a failure the webhook caught is said as an apology (TwiML, with or without accents), not a 5xx
                assert not APOLOGY.search(response.text), (request, response.text[:300])

        @seed(SEEDS[backend])  # the same bodies every run: a failure is reproduced by running the test again
        @settings(
            max_examples=-(-BODIES // BATCH), deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(st.lists(POSTS, min_size=BATCH, max_size=BATCH))
        def post(batch: list[Post]) -> None:
            runner.run(send(batch))

        try:
            post()
        finally:
            runner.run(stack.aclose())
    tried = sum(answers.values())
    failed = sum(n for (_, status), n in answers.items() if status >= 500)
    with capsys.disabled():
        print(f"\n{tried} signed hostile bodies, {failed} answered 5xx: {dict(sorted(answers.items()))}")
    assert tried >= BODIES
    assert failed == 0
