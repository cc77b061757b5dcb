"""The Twilio webhooks, end to end through the ASGI app (its lifespan running), on SQLite (PostgreSQL too for what
reaches a dialect's own statement: replays, delivery reports).

Tables of labelled rows: what Twilio (or an impostor) posts, with which signature; the HTTP answer; the TwiML
messages; and what changed in the database. Then the conversation transcripts (tests/helpers/transcripts.py) played
through the webhook, with the dispatcher sending what is not an immediate answer to a fake Twilio on loopback.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from sqlalchemy import func, select
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.channels import Outgoing, SentLookup
from bot.config import load_settings
from bot.context import Context
from bot.conversation.gsm7 import is_gsm7
from bot.handlers import MAX_FIELDS
from bot.handlers.sms import INBOUND_PATH, REPLY_CONFIRMATION, STATUS_PATH
from bot.scheduler.dispatch import Dispatcher
from bot.service import inbound as service
from bot.service.reminders import plan_reminders
from storage.database import Database
from storage.models import (
    Conversation,
    InboundMessage,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
)
from tests.helpers.clock import Clock
from tests.helpers.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_FROM, FakeTwilio
from tests.helpers.harness import PHONES, Shown, check_final, check_turn, seed, sms_shown, words_of_choice
from tests.helpers.scheduling import make_enrolment, make_workshop, message, resident
from tests.helpers.transcripts import TRANSCRIPTS, Transcript, fold

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://atelier.example.org"
NUMBER = "+33612345678"
DAY = timedelta(days=1)
OUR_NUMBER = DEFAULT_FROM
_sids = count(1)


def message_sid() -> str:
    return f"SM{next(_sids):032x}"


def twilio_form(body: str | None = "Bonjour", *, sender: str | None = NUMBER, sid: str | None = None) -> dict[str, str]:
    """What Twilio posts for an incoming SMS (https://www.twilio.com/docs/messaging/guides/webhook-request)."""
    form = {
        "ToCountry": "FR",
        "ToState": "",
        "SmsMessageSid": sid or message_sid(),
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": "",
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "FromCountry": "FR",
        "To": OUR_NUMBER,
        "ToZip": "",
        "NumSegments": "1",
        "AccountSid": DEFAULT_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
    }
    form["SmsSid"] = form["MessageSid"] = form["SmsMessageSid"]
    if body is not None:
        form["Body"] = body
    if sender is not None:
        form["From"] = sender
    return form


def padded(fields: int) -> dict[str, str]:
    """Twilio's form for "Bonjour", with empty fields added up to ``fields`` in all."""
    form = twilio_form()
    return form | {f"x{n}": "" for n in range(fields - len(form))}


def sign(url: str, form: Mapping[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, dict(form)))


def messages_of(twiml: str) -> list[str]:
    root = ET.fromstring(twiml)  # noqa: S314 - our own server's answer
    assert root.tag == "Response"
    return [message.text or "" for message in root.iter("Message")]


@dataclass
class Site:
    app: Starlette
    client: httpx.AsyncClient
    ctx: Context
    fake: FakeTwilio
    clock: Clock

    async def post(
        self,
        form: Mapping[str, str],
        *,
        path: str = INBOUND_PATH,
        signature: str | None = "valid",
        signed_url: str | None = None,
        signed_form: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Post ``form``; ``signature``: "valid" (over ``signed_url``/``signed_form``, default the real ones),
        None (no header), or a literal header value."""
        all_headers = dict(headers or {})
        if signature == "valid":
            all_headers["X-Twilio-Signature"] = sign(signed_url or PUBLIC + path, signed_form or form)
        elif signature is not None:
            all_headers["X-Twilio-Signature"] = signature
        if content is not None:
            return await self.client.post(path, content=content, headers=all_headers)
        return await self.client.post(path, data=dict(form), headers=all_headers)


@asynccontextmanager
async def open_site(
    db: Database,
    now: datetime,
    *,
    token: str | None = TOKEN,
    base_url: str = PUBLIC,
    public_url: str = PUBLIC,
    status_callbacks: bool = False,
    status_lookup_delays: str = "0.01,0.01",
) -> AsyncIterator[Site]:
    """The app on ``db`` with its lifespan, an HTTP client reaching it, and a fake Twilio for what it sends
    (the same account and token: Twilio signs webhooks with the token the API is called with). A report naming an
    unknown sid is looked up twice more, 10 ms apart, unless ``status_lookup_delays`` says otherwise."""
    with FakeTwilio(auth_token=token or TOKEN, status_callbacks=status_callbacks) as fake:
        environ = {
            "ATELIER_DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
            "ATELIER_PUBLIC_URL": public_url,
            "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
            "TWILIO_FROM": OUR_NUMBER,
            "ATELIER_TWILIO_API_URL": fake.url,
            "ATELIER_DISPATCH_INTERVAL": "0.1",  # the lifespan's dispatcher looks for due messages this often
            "ATELIER_STATUS_LOOKUP_DELAYS": status_lookup_delays,
        }
        if token is not None:
            environ["TWILIO_AUTH_TOKEN"] = token
        clock = Clock(now)
        app = create_app(load_settings(environ), clock=clock, db=db)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client,
        ):
            yield Site(app=app, client=client, ctx=app.state.ctx, fake=fake, clock=clock)


@dataclass(frozen=True)
class Counts:
    inbound: int
    residents: int
    outbox: int
    conversations: int


async def counts(db: Database) -> Counts:
    async with db.read() as session:

        async def number(model: Any) -> int:
            return int((await session.execute(select(func.count()).select_from(model))).scalar_one())

        return Counts(
            await number(InboundMessage),
            await number(Resident),
            await number(OutboundMessage),
            await number(Conversation),
        )


NOTHING = Counts(0, 0, 0, 0)


# --- The incoming-message webhook --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundCase:
    label: str
    form: dict[str, str] = field(default_factory=twilio_form)
    signature: str | None = "valid"  # "valid", None (missing) or a literal value
    signed_url: str | None = None  # sign for another URL than ours
    signed_form: dict[str, str] | None = None  # sign other parameters than those posted
    token: str | None = TOKEN  # None: no auth token configured (local use)
    base_url: str = PUBLIC  # where the request really arrives (a proxy forwards to an internal address)
    content: bytes | None = None  # a raw body instead of the form
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    replies: bool = True  # the TwiML holds at least one <Message>
    fragments: tuple[str, ...] = ()  # found in the answer (folded, like the transcripts)
    absent: tuple[str, ...] = ()  # never in the raw answer
    stored: bool = True  # the message was handled: an inbound row, a conversation, the replies in the outbox
    phone: str = NUMBER  # the resident's number as stored


LONG = ("Bonjour je voudrais m'inscrire " * 60)[:1600]
ACCENTED = twilio_form("Bonjour, c'est Hélène")
FORM_TYPE = "application/x-www-form-urlencoded"


def multipart(form: Mapping[str, str], boundary: str = "b0undary") -> bytes:
    """``form`` as multipart/form-data (RFC 7578), which Twilio never posts."""
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in form.items()]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


INBOUND_CASES = [
    InboundCase("valid signature", fragments=("prénom",)),
    InboundCase("forged signature", signature="bm90IGEgc2lnbmF0dXJl", status=403, replies=False, stored=False),
    InboundCase("missing signature", signature=None, status=403, replies=False, stored=False),
    InboundCase("empty signature", signature="", status=403, replies=False, stored=False),
    # Twilio may sign the URL with the scheme's default port written out; either form is accepted.
    InboundCase("signature of the URL with its port", signed_url=PUBLIC + ":443" + INBOUND_PATH, fragments=("prénom",)),
    InboundCase(
        "signature of the URL with another port",
        signed_url=PUBLIC + ":8443" + INBOUND_PATH,
        status=403,
        replies=False,
        stored=False,
    ),
    InboundCase(
        "signature for another URL",
        signed_url="https://evil.example.org" + INBOUND_PATH,
        status=403,
        replies=False,
        stored=False,
    ),
    InboundCase(
        "signature for the status URL",
        signed_url=PUBLIC + STATUS_PATH,
        status=403,
        replies=False,
        stored=False,
    ),
    InboundCase(
        "signature of another body",
        form=twilio_form("STOP", sid="SM" + "a" * 32),
        signed_form=twilio_form("Bonjour", sid="SM" + "a" * 32),
        status=403,
        replies=False,
        stored=False,
    ),
    InboundCase(
        "signed with another token",
        signature=sign(PUBLIC + INBOUND_PATH, twilio_form(sid="SM" + "b" * 32), token="another-token"),
        form=twilio_form(sid="SM" + "b" * 32),
        status=403,
        replies=False,
        stored=False,
    ),
    InboundCase("behind a proxy: the public URL counts", base_url="http://10.0.0.5:8000", fragments=("prénom",)),
    InboundCase("no auth token configured: accepted unsigned", signature=None, token=None, fragments=("prénom",)),
    InboundCase(
        "not a form, signed header present",
        content=b'{"Body": "Bonjour"}',
        headers={"Content-Type": "application/json"},
        status=403,
        replies=False,
        stored=False,
    ),
    InboundCase(
        "not a form, no auth token",
        content=b'{"Body": "Bonjour"}',
        headers={"Content-Type": "application/json"},
        signature=None,
        token=None,
        replies=False,
        stored=False,
    ),
    InboundCase(
        "oversized request",
        content=b"Body=" + b"x" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        status=413,
        replies=False,
        stored=False,
    ),
    InboundCase(
        "oversized request, no auth token",
        content=b"Body=" + b"x" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        signature=None,
        token=None,
        status=413,
        replies=False,
        stored=False,
    ),
    InboundCase(
        "spaces as %20, a charset after the form's type",
        form=ACCENTED,
        content=urlencode(ACCENTED, quote_via=quote).encode(),
        headers={"Content-Type": f"{FORM_TYPE.upper()}; charset=UTF-8"},
        fragments=("Merci Hélène",),  # the name read from the percent-encoded UTF-8
    ),
    InboundCase(
        "a signed multipart form: Twilio posts none",
        form=(multipart_form := twilio_form()),
        content=multipart(multipart_form),
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
        status=403,
        replies=False,
        stored=False,
    ),
    InboundCase(f"a signed form of {MAX_FIELDS} fields, the most read", form=padded(MAX_FIELDS), fragments=("prénom",)),
    InboundCase(
        f"a signed form of {MAX_FIELDS + 1} fields: refused",
        form=padded(MAX_FIELDS + 1),
        status=403,
        replies=False,
        stored=False,
    ),
    InboundCase("empty body: answered kindly", form=twilio_form(""), fragments=("prénom",)),
    InboundCase("blank body: answered kindly", form=twilio_form("  \n "), fragments=("prénom",)),
    InboundCase("no Body field: not a message", form=twilio_form(None), replies=False, stored=False),
    InboundCase("picture without text", form={**twilio_form(None), "NumMedia": "1"}, fragments=("prénom",)),
    InboundCase(
        "NumMedia of 5,000 digits: not a number",
        form={**twilio_form(None), "NumMedia": "9" * 5000},
        replies=False,
        stored=False,
    ),
    InboundCase("1,600 characters", form=twilio_form(LONG), fragments=("prénom",)),
    InboundCase("5,000 characters (more than Twilio sends)", form=twilio_form("x" * 5000)),
    InboundCase("emoji", form=twilio_form("👍🙂")),
    InboundCase("control characters", form=twilio_form("Bon\x00jour\x07\x1b\r\n"), fragments=("prénom",)),
    InboundCase("HTML", form=twilio_form("<script>alert(1)</script><b>Bonjour</b>"), absent=("<script>", "<b>")),
    InboundCase("another language", form=twilio_form("مرحبا، أريد التسجيل")),
    InboundCase("unparsable From", form=twilio_form(sender="not-a-number"), replies=False, stored=False),
    InboundCase("no From", form=twilio_form(sender=None), replies=False, stored=False),
    InboundCase("short code From", form=twilio_form(sender="38600"), replies=False, stored=False),
    InboundCase("national From is stored as E.164", form=twilio_form(sender="06 12 34 56 78"), fragments=("prénom",)),
]


@pytest.mark.parametrize("case", INBOUND_CASES, ids=[case.label for case in INBOUND_CASES])
async def test_inbound(
    case: InboundCase, db: Database, now: datetime, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)  # what production logs (DEBUG is aiosqlite quoting every statement's parameters)
    async with open_site(db, now, token=case.token, base_url=case.base_url) as site:
        response = await site.post(
            case.form,
            signature=case.signature,
            signed_url=case.signed_url,
            signed_form=case.signed_form,
            content=case.content,
            headers=case.headers,
        )
        assert response.status_code == case.status, response.text
        after = await counts(site.ctx.db)
        if case.status == 200:
            assert response.headers["content-type"].startswith("application/xml")
            replies = messages_of(response.text)
            assert bool(replies) is case.replies, replies
            for fragment in case.fragments:
                assert fold(fragment) in fold("\n".join(replies)), (fragment, replies)
            assert all(is_gsm7(text) for text in replies), replies
        for fragment in case.absent:
            assert fragment not in response.text
        if case.stored:
            assert (after.inbound, after.conversations, after.outbox) == (1, 1, len(replies))
            async with site.ctx.db.read() as session:
                rows = (await session.execute(select(OutboundMessage))).scalars().all()
                inbound = (await session.execute(select(InboundMessage))).scalars().one()
                address = (await session.execute(select(Conversation.address))).scalar_one()
            assert address == case.phone
            # With Twilio: in its hands, unconfirmed until its report (or until it is asked, after
            # REPLY_CONFIRMATION). Without (no credentials: the console sender): simply sent.
            expected: tuple[MessageStatus, datetime | None] = (MessageStatus.sent, None)
            if isinstance(site.ctx.senders.get("sms"), SentLookup):
                expected = (MessageStatus.sending, site.clock.now + REPLY_CONFIRMATION)
            assert {(row.status, row.to_address, row.kind, row.lease_until) for row in rows} <= {
                (expected[0], case.phone, MessageKind.reply, expected[1])
            }
            assert inbound.provider_id == case.form["MessageSid"]
        else:
            assert after == NOTHING
        assert site.fake.messages == []  # answers go back in the TwiML, not through the API
    logged = caplog.text
    assert NUMBER not in logged and "12 34 56 78" not in logged
    body = case.form.get("Body", "")
    assert len(body) < 4 or body not in logged
    assert NUMBER not in capsys.readouterr().out


@pytest.mark.both_dialects  # the MessageSid's unique key (ON CONFLICT)
async def test_replayed_message_sid_gets_the_same_answer_and_changes_state_once(db: Database, now: datetime) -> None:
    async with open_site(db, now) as site:
        hello = twilio_form("Bonjour")
        first = await site.post(hello)
        name = twilio_form("Martine Dupont")
        answered = await site.post(name)
        before = await counts(site.ctx.db)
        async with site.ctx.db.read() as session:
            state = (await session.execute(select(Conversation.step, Conversation.data))).one()
        # Twilio retries both (a lost answer): same TwiML, nothing changes
        again = await site.post(name)
        hello_again = await site.post(hello)
        assert (again.status_code, hello_again.status_code) == (200, 200)
        assert messages_of(again.text) == messages_of(answered.text) != []
        assert messages_of(hello_again.text) == messages_of(first.text) != []
        assert await counts(site.ctx.db) == before
        async with site.ctx.db.read() as session:
            assert (await session.execute(select(Conversation.step, Conversation.data))).one() == state
        assert "Martine" in str(state.data)
        # The same MessageSid from another number is no retry: nothing of Martine's conversation is shown.
        stranger = await site.post({**name, "From": "+33698765432"})
        assert stranger.status_code == 200 and messages_of(stranger.text) == []
        assert await counts(site.ctx.db) == before


@pytest.mark.both_dialects  # the transaction rolled back
async def test_a_failure_while_handling_gets_an_apology_and_changes_nothing(
    db: Database, now: datetime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    leak = f"{NUMBER}: Bonjour"  # what a database error would quote

    async def broken(**_: Any) -> service.Handled:
        raise RuntimeError(leak)

    monkeypatch.setattr(service, "handle_inbound", broken)
    async with open_site(db, now) as site:
        response = await site.post(twilio_form("Bonjour"))
        assert response.status_code == 200
        assert messages_of(response.text) == ["Désolé, un problème technique. Réessayez dans quelques minutes."]
        assert await counts(site.ctx.db) == NOTHING
    assert "RuntimeError" in caplog.text
    assert NUMBER not in caplog.text and "Bonjour" not in caplog.text


# --- The status callback -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCase:
    label: str
    reports: tuple[tuple[str, str | None], ...]  # (MessageStatus, ErrorCode) posted in this order
    status: MessageStatus  # of the outbox row afterwards
    error: str | None = None
    opted_out: bool = False
    unreachable: bool = False
    sid: str = "SM" + "5" * 32  # the MessageSid posted (the row's is always SM555…)
    signature: str | None = "valid"
    http: int = 204
    reminder: MessageStatus = MessageStatus.pending  # the resident's other, pending message afterwards


STATUS_CASES = [
    StatusCase("delivered", (("delivered", None),), MessageStatus.delivered),
    StatusCase("sent", (("sent", None),), MessageStatus.sent),
    StatusCase(
        "queued then sent then delivered",
        (("queued", None), ("sent", None), ("delivered", None)),
        MessageStatus.delivered,
    ),
    StatusCase(
        "failed 30006: landline",
        (("failed", "30006"),),
        MessageStatus.failed,
        error="30006",
        unreachable=True,
        reminder=MessageStatus.cancelled,
    ),
    StatusCase(
        "undelivered 21614: not a mobile",
        (("undelivered", "21614"),),
        MessageStatus.failed,
        error="21614",
        unreachable=True,
        reminder=MessageStatus.cancelled,
    ),
    StatusCase(
        "undelivered 21610: opted out at the carrier",
        (("undelivered", "21610"),),
        MessageStatus.failed,
        error="21610",
        opted_out=True,
        reminder=MessageStatus.cancelled,
    ),
    StatusCase("undelivered 30003: phone off", (("undelivered", "30003"),), MessageStatus.failed, error="30003"),
    StatusCase("failed without a code", (("failed", None),), MessageStatus.failed, error="failed"),
    StatusCase("out of order: sent after delivered", (("delivered", None), ("sent", None)), MessageStatus.delivered),
    StatusCase("out of order: queued after sent", (("sent", None), ("queued", None)), MessageStatus.sent),
    StatusCase(
        "a late delivered does not undo a failure",
        (("undelivered", "30005"), ("delivered", None)),
        MessageStatus.failed,
        error="30005",
    ),
    StatusCase("the same report twice", (("delivered", None), ("delivered", None)), MessageStatus.delivered),
    StatusCase("unknown sid", (("delivered", None),), MessageStatus.sent, sid="SM" + "9" * 32),
    StatusCase("unknown status", (("receiving", None),), MessageStatus.sent),
    StatusCase("no status", (("", None),), MessageStatus.sent),
    StatusCase("forged signature", (("failed", "21610"),), MessageStatus.sent, signature="Zm9yZ2Vk", http=403),
    StatusCase("missing signature", (("failed", "21610"),), MessageStatus.sent, signature=None, http=403),
]


async def _sent_row(db: Database, now: datetime) -> tuple[int, int, int]:
    """A resident, an SMS already sent to them as SM555…, and a reminder still pending: (resident, row, reminder)."""
    async with db.write() as session:
        resident = Resident(phone=NUMBER, name="Martine Dupont", interests=[])
        session.add(resident)
        await session.flush()
        rows = [
            OutboundMessage(
                resident_id=resident.id,
                channel="sms",
                to_address=NUMBER,
                body=body,
                kind=kind,
                due_at=due_at,
                status=status,
                provider_id=sid,
                idempotency_key=f"test:{index}",
            )
            for index, (body, kind, status, sid, due_at) in enumerate(
                [
                    ("Vous êtes inscrite.", MessageKind.confirmation, MessageStatus.sent, "SM" + "5" * 32, now),
                    ("Rappel : atelier demain.", MessageKind.reminder, MessageStatus.pending, None, now + DAY),
                ]
            )
        ]
        session.add_all(rows)
        await session.flush()
        return resident.id, rows[0].id, rows[1].id


def reply_row(
    resident_id: int, now: datetime, status: MessageStatus, *, key: str, sid: str | None = None
) -> OutboundMessage:
    """A reply to the resident, in the state given (sent ones with their Twilio sid)."""
    return OutboundMessage(
        resident_id=resident_id,
        channel="sms",
        to_address=NUMBER,
        body="Bonjour Martine",
        kind=MessageKind.reply,
        due_at=now,
        status=status,
        provider_id=sid,
        idempotency_key=key,
    )


def status_form(sid: str, status: str, error: str | None) -> dict[str, str]:
    """A status callback (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status)."""
    form = {
        "AccountSid": DEFAULT_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": OUR_NUMBER,
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": NUMBER,
    }
    if error is not None:
        form["ErrorCode"] = error
    return form


def test_the_status_lookup_delays_are_a_setting() -> None:
    """How long an unknown sid is looked up again (``ATELIER_STATUS_LOOKUP_DELAYS``): the tests above shorten it."""
    assert load_settings({}).status_lookup_delays == (0.05, 0.1, 0.2, 0.4, 0.8)
    assert load_settings({"ATELIER_STATUS_LOOKUP_DELAYS": "0.01, 0.02"}).status_lookup_delays == (0.01, 0.02)
    assert load_settings({"ATELIER_STATUS_LOOKUP_DELAYS": ""}).status_lookup_delays == ()  # one look, no wait
    with pytest.raises(ValidationError):
        load_settings({"ATELIER_STATUS_LOOKUP_DELAYS": "-1"})


@pytest.mark.parametrize("case", STATUS_CASES, ids=[case.label for case in STATUS_CASES])
@pytest.mark.both_dialects  # delivery reports lock the row on PostgreSQL only
async def test_status_callback(case: StatusCase, db: Database, now: datetime) -> None:
    async with open_site(db, now) as site:
        resident_id, row_id, reminder_id = await _sent_row(site.ctx.db, now)
        for status, error in case.reports:
            response = await site.post(status_form(case.sid, status, error), path=STATUS_PATH, signature=case.signature)
            assert response.status_code == case.http
        async with site.ctx.db.read() as session:
            row = await session.get(OutboundMessage, row_id)
            reminder = await session.get(OutboundMessage, reminder_id)
            resident = await session.get(Resident, resident_id)
        assert row is not None and reminder is not None and resident is not None
        assert (row.status, row.error) == (case.status, case.error)
        assert (resident.opted_out_sms, resident.sms_unreachable) == (case.opted_out, case.unreachable)
        assert reminder.status == case.reminder


@pytest.mark.both_dialects  # ids too large for the column
@pytest.mark.parametrize(
    "outbox",
    ["9" * 5000, "9" * 20, "3000000000", "-1", "١٢", "1e3"],
    ids=["5,000 digits", "over a BIGINT", "over a row id (32 bits)", "negative", "Arabic digits", "exponent"],
)
async def test_a_status_callback_naming_no_possible_row_is_ignored(outbox: str, db: Database, now: datetime) -> None:
    """The ``outbox`` parameter is ours, but a signed request may still carry anything there: no row is named."""
    async with open_site(db, now) as site:
        _, row_id, _ = await _sent_row(site.ctx.db, now)
        path = f"{STATUS_PATH}?outbox={quote(outbox)}"
        response = await site.post(status_form("SM" + "6" * 32, "delivered", None), path=path)
        assert response.status_code == 204
        async with site.ctx.db.read() as session:
            row = await session.get(OutboundMessage, row_id)
        assert row is not None and row.status == MessageStatus.sent


@pytest.mark.both_dialects  # a report that re-plans reminders
async def test_a_delivered_sms_lifts_the_unreachable_mark_and_plans_the_reminders_again(
    db: Database, now: datetime
) -> None:
    """30006 also means a carrier's passing refusal: once an SMS to the number is delivered (a reply to a message
    they sent, say), the number receives SMS after all, and the reminders the mark cancelled are planned again."""
    async with open_site(db, now) as site:
        db = site.ctx.db
        resident_id, _, _ = await _sent_row(db, now)
        enrolment_id = await make_enrolment(db, resident_id, await make_workshop(db, now + 3 * DAY))
        async with db.write() as session:
            planned = await plan_reminders(session=session, ctx=site.ctx, enrolment_id=enrolment_id, now=now)
        assert planned == 2

        async def reminders() -> list[MessageStatus]:
            async with db.read() as session:
                query = select(OutboundMessage.status).where(OutboundMessage.enrolment_id == enrolment_id)
                return sorted((await session.scalars(query)).all())

        failed = await site.post(status_form("SM" + "5" * 32, "undelivered", "30006"), path=STATUS_PATH)
        assert failed.status_code == 204
        assert (await resident(db, resident_id)).sms_unreachable
        assert await reminders() == [MessageStatus.cancelled] * 2
        async with db.write() as session:
            session.add(reply_row(resident_id, now, MessageStatus.sent, key="test:reply", sid="SM" + "7" * 32))
        delivered = await site.post(status_form("SM" + "7" * 32, "delivered", None), path=STATUS_PATH)
        assert delivered.status_code == 204
        assert not (await resident(db, resident_id)).sms_unreachable
        assert await reminders() == [MessageStatus.pending] * 2


@pytest.mark.both_dialects  # an id too large for the column
async def test_a_report_naming_an_impossible_row_is_ignored(db: Database, now: datetime) -> None:
    async with open_site(db, now) as site:
        _, row_id, _ = await _sent_row(site.ctx.db, now)
        for outbox in ("9" * 30, "%C2%B2", "-1"):  # %C2%B2: "²", a digit to str.isdigit()
            response = await site.post(
                status_form("SM" + "5" * 32, "delivered", None), path=f"{STATUS_PATH}?outbox={outbox}"
            )
            assert response.status_code == 204, outbox  # the sid still finds its row; the odd parameter is ignored
        assert (await message(site.ctx.db, row_id)).status == MessageStatus.delivered


async def test_status_callbacks_from_twilio_reach_the_row(db: Database, now: datetime) -> None:
    """The whole loop over real HTTP: the dispatcher sends through the fake with our status URL (from the public
    URL), the fake posts signed callbacks to the running server, the row and the resident are updated."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    public = f"http://127.0.0.1:{port}"
    # Twilio's reports race the dispatcher's record of the sid here: the product's delays, not the tests' short ones
    delays = ",".join(str(delay) for delay in load_settings({}).status_lookup_delays)
    async with open_site(db, now, public_url=public, status_callbacks=True, status_lookup_delays=delays) as site:
        site.fake.undeliverable(NUMBER, 30006)
        server = uvicorn.Server(
            uvicorn.Config(site.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        serving = asyncio.create_task(server.serve())
        try:
            for _ in range(500):  # uvicorn offers no event to wait on
                if server.started:
                    break
                await asyncio.sleep(0.01)
            resident_id, _, reminder_id = await _sent_row(site.ctx.db, now)
            async with site.ctx.db.write() as session:
                row = reply_row(resident_id, now, MessageStatus.pending, key="test:loop")
                session.add(row)
            await Dispatcher(site.ctx).tick()
            for _ in range(1000):  # 20 s at most: the wait ends as soon as it is over
                if len(site.fake.callback_results) >= 2:
                    break
                await asyncio.sleep(0.02)
        finally:
            server.should_exit = True
            await serving
        assert site.fake.callback_results == [204, 204]
        assert [m.status_callback for m in site.fake.messages] == [public + STATUS_PATH]
        async with site.ctx.db.read() as session:
            sent = await session.get(OutboundMessage, row.id)
            resident = await session.get(Resident, resident_id)
            reminder = await session.get(OutboundMessage, reminder_id)
        assert sent is not None and resident is not None and reminder is not None
        assert (sent.status, sent.error, sent.provider_id) == (MessageStatus.failed, "30006", site.fake.messages[0].sid)
        assert resident.sms_unreachable and reminder.status == MessageStatus.cancelled


@pytest.mark.both_dialects  # reports matched by outbox id
async def test_a_reply_in_twiml_gets_its_delivery_reports(db: Database, now: datetime) -> None:
    """Each <Message> of our TwiML names its outbox row in its report URL; Twilio's reports then reach that row,
    which gets the sid Twilio gave the message. Only a signed URL can name a row, and only a reply's row."""
    async with open_site(db, now) as site:
        response = await site.post(twilio_form("Bonjour"))
        root = ET.fromstring(response.text)  # noqa: S314 - our own server's answer
        actions = [(message.get("action"), message.get("method")) for message in root.iter("Message")]
        async with site.ctx.db.read() as session:
            replies = list(
                (
                    await session.execute(select(OutboundMessage.id).where(OutboundMessage.kind == MessageKind.reply))
                ).scalars()
            )
        assert actions == [(f"{PUBLIC}{STATUS_PATH}?outbox={reply}", "POST") for reply in replies] != []
        _, _, reminder_id = await _sent_row(site.ctx.db, now)  # a pending reminder: no sid, not a reply
        sid = "SM" + "7" * 32
        named, reminder = f"{STATUS_PATH}?outbox={replies[0]}", f"{STATUS_PATH}?outbox={reminder_id}"
        forged = await site.post(status_form(sid, "failed", "30006"), path=reminder, signed_url=PUBLIC + named)
        not_a_reply = await site.post(status_form("SM" + "8" * 32, "failed", "30006"), path=reminder)
        delivered = await site.post(status_form(sid, "delivered", None), path=named)
        late = await site.post(status_form(sid, "sent", None), path=named)  # out of order: never moves it back
        assert [r.status_code for r in (forged, not_a_reply, delivered, late)] == [403, 204, 204, 204]
        async with site.ctx.db.read() as session:
            reply = await session.get(OutboundMessage, replies[0])
            untouched = await session.get(OutboundMessage, reminder_id)
        assert reply is not None and (reply.provider_id, reply.status) == (sid, MessageStatus.delivered)
        assert untouched is not None and (untouched.provider_id, untouched.status) == (None, MessageStatus.pending)


@pytest.mark.parametrize(
    "twilio_had_it",
    [True, False],
    ids=["no report, Twilio had it: recorded, not resent", "no report, Twilio never had it: sent once, late"],
)
async def test_a_reply_without_any_report_is_settled_by_asking_twilio(
    twilio_had_it: bool, db: Database, now: datetime
) -> None:
    """Twilio's reports on a TwiML reply never came (or our answer missed Twilio's 15 s timeout). After
    REPLY_CONFIRMATION the dispatcher asks Twilio, as for any message in doubt: a reply Twilio has is recorded with
    its sid; a reply it never had is sent through the API — once."""
    async with open_site(db, now) as site:
        response = await site.post(twilio_form("Bonjour"))
        (text,) = messages_of(response.text)
        sender = site.ctx.senders["sms"]
        if twilio_had_it:  # what Twilio did with our TwiML, without telling us
            await sender.send(Outgoing(to=NUMBER, body=text))
        site.clock.advance(REPLY_CONFIRMATION + timedelta(seconds=1))
        site.ctx.wake_dispatcher()
        for _ in range(1000):  # 20 s at most: the wait ends as soon as it is over
            async with site.ctx.db.read() as session:
                row = (await session.execute(select(OutboundMessage))).scalar_one()
            if row.status == MessageStatus.sent:
                break
            await asyncio.sleep(0.02)
        assert (row.status, row.provider_id) == (MessageStatus.sent, site.fake.messages[-1].sid)
        assert site.fake.sent_to(NUMBER) == [text]  # exactly once either way


# --- The transcripts, through the webhook ------------------------------------------------------------------------


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[t.label for t in TRANSCRIPTS])
async def test_transcript_through_the_sms_webhook(transcript: Transcript, db: Database, now: datetime) -> None:
    async with open_site(db, now) as site:
        ids = await seed(site.ctx.db, transcript.setup, now)
        last: dict[str, list[Shown]] = {}
        for index, say in enumerate(transcript.turns):
            site.clock.advance(say.after)
            text = words_of_choice(say, last.get(say.who, []))
            response = await site.post(twilio_form(text, sender=PHONES[say.who]))
            assert response.status_code == 200, response.text
            shown = [sms_shown(sms) for sms in messages_of(response.text)]
            check_turn(transcript.label, index, say, shown)
            last[say.who] = shown
            await report_as_twilio(site, response.text)
        await check_final(site.ctx.db, transcript, PHONES["resident"], PHONES["other"], ids=ids)
        # What is not an answer (the promoted resident's notice…) leaves through the outbox, sent to Twilio by the
        # dispatcher the app's lifespan runs.
        assert await settled(site.ctx.db, site.clock.now), "due messages left unsent"
        if transcript.final.other_told is not None:
            told = site.fake.sent_to(PHONES["other"])
            assert any(fold(transcript.final.other_told) in fold(body) for body in told), told
        assert {m.to for m in site.fake.messages} <= set(PHONES.values())


async def report_as_twilio(site: Site, twiml: str) -> None:
    """What Twilio does with our TwiML: it creates each message and reports on it at the message's action URL."""
    root = ET.fromstring(twiml)  # noqa: S314 - our own server's answer
    for element in root.iter("Message"):
        action = element.get("action")
        assert action is not None and action.startswith(PUBLIC), twiml
        report = await site.post(status_form(message_sid(), "sent", None), path=action.removeprefix(PUBLIC))
        assert report.status_code == 204


async def settled(db: Database, now: datetime, patience: float = 30.0) -> bool:
    """True once no message due by ``now`` (reminders aside) is waiting to be sent."""
    for _ in range(int(patience / 0.02)):
        async with db.read() as session:
            unsent = (
                await session.execute(
                    select(func.count()).where(
                        OutboundMessage.status.in_([MessageStatus.pending, MessageStatus.sending]),
                        OutboundMessage.due_at <= now,
                        OutboundMessage.kind != MessageKind.reminder,
                    )
                )
            ).scalar_one()
        if unsent == 0:
            return True
        await asyncio.sleep(0.02)
    return False
