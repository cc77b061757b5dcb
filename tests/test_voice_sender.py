"""VoiceSender against the fake Twilio Voice API over loopback, with the official client; and the fake itself.

Each row places one call (after setting a fault on the fake) and says what must come out: a call recorded by the
fake with the parameters Atelier relies on (our TwiML route naming the outbox row, the status callback and its
events, machine detection), or a ``SendError`` classified for the dispatcher. Every row checks that the logs show
neither the number in full nor what is said. Then the in-doubt lookup (the call list) and the fetch of one call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.channels import CallLookup, Outgoing, Sender, SendError, SentLookup
from bot.conversation.phones import masked
from bot.handlers.voice import CALL_PATH, STATUS_PATH, VoiceSender
from tests.helpers.fake_twilio import (
    ACCEPT_THEN_DROP,
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    DROP,
    RATE_LIMITED,
    SERVER_ERROR,
    FakeTwilio,
    Fault,
    read_calls,
    spawn,
)
from tests.helpers.fake_twilio_voice import Pickup

LANDLINE = "+33470051234"
OTHER = "+33470059999"
PUBLIC = "https://atelier.example.org"
SPOKEN = "Nous vous rappelons votre atelier numérique : le mardi 10 mars, à 14 heures, à la mairie de Saint-Victor."


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def make_sender(url: str, *, token: str = DEFAULT_AUTH_TOKEN) -> VoiceSender:
    return VoiceSender(
        account_sid=DEFAULT_ACCOUNT_SID, auth_token=token, from_number=DEFAULT_FROM, public_url=PUBLIC, api_url=url,
        timeout=5.0,
    )  # fmt: skip


@pytest.fixture
async def sender(fake: FakeTwilio) -> AsyncIterator[VoiceSender]:
    voice = make_sender(fake.url)
    yield voice
    await voice.aclose()


def test_the_sender_is_a_sender_with_its_capabilities_as_data() -> None:
    voice = make_sender("http://127.0.0.1:1")
    assert isinstance(voice, Sender) and isinstance(voice, SentLookup) and isinstance(voice, CallLookup)
    assert (voice.channel, voice.supports_buttons, voice.max_length) == ("voice", False, 3000)
    assert voice.recipient_interval is None and voice.line_rest == timedelta(minutes=10)  # kept in the database
    assert voice.spoken_limit == timedelta(minutes=2)


# --- placing a call ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallCase:
    label: str
    fault: Fault | None = None
    to: str = LANDLINE
    body: str = SPOKEN
    message_id: int | None = 42
    token: str = DEFAULT_AUTH_TOKEN
    recorded: int = 1  # calls the fake placed
    error: bool = False
    transient: bool | None = None
    code: str | None = None


CALL_CASES = [
    CallCase("placed"),
    CallCase("429", RATE_LIMITED, recorded=0, error=True, transient=True, code="20429"),
    CallCase("500", SERVER_ERROR, recorded=0, error=True, transient=True, code="20500"),
    CallCase("wrong credentials", token="wrong", recorded=0, error=True, transient=True, code="20003"),
    CallCase("not E.164", to="0470051234", recorded=0, error=True, transient=False, code="21211"),
    CallCase(
        "a number that cannot be reached",
        Fault(status=400, code=21214, message="'To' phone number cannot be reached"),
        recorded=0,
        error=True,
        transient=False,
        code="21214",
    ),
    CallCase("connection dropped before Twilio had it", DROP, recorded=0, error=True, transient=True, code="network"),
    CallCase("answer lost, the call placed", ACCEPT_THEN_DROP, recorded=1, error=True, transient=True, code="network"),
    CallCase("too long to say", body="Un atelier. " * 300, recorded=0, error=True, transient=False, code="13521"),
    CallCase("longer to say than two minutes", body="Un atelier. " * 200, recorded=0, error=True, code="spoken"),
    CallCase("no outbox row to say", message_id=None, recorded=0, error=True, transient=False, code="no-row"),
]


@pytest.mark.parametrize("case", CALL_CASES, ids=lambda c: c.label)
async def test_placing_a_call(fake: FakeTwilio, case: CallCase, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    if case.fault is not None:
        fake.fail_next(case.fault)
    voice = make_sender(fake.url, token=case.token)
    try:
        outcome: str | SendError = await voice.send(Outgoing(case.to, case.body, message_id=case.message_id))
    except SendError as error:
        outcome = error
    finally:
        await voice.aclose()
    calls = fake.voice.calls
    assert len(calls) == case.recorded, case.label
    if case.error:
        assert isinstance(outcome, SendError), case.label
        assert outcome.code == case.code and not outcome.unreachable and not outcome.opted_out, case.label
        if case.transient is not None:
            assert outcome.transient is case.transient, case.label
    else:
        [call] = calls
        assert outcome == call.sid and call.sid.startswith("CA")
        assert (call.to, call.from_) == (LANDLINE, DEFAULT_FROM)
        assert call.url == f"{PUBLIC}{CALL_PATH}?outbox=42"
        assert call.status_callback == f"{PUBLIC}{STATUS_PATH}?outbox=42"
        assert call.events == ("initiated", "ringing", "answered", "completed")
        assert (call.machine_detection, call.timeout, call.time_limit) == ("DetectMessageEnd", 30, 300)
    logged = caplog.text
    assert LANDLINE not in logged and "0470051234" not in logged and "Saint-Victor" not in logged, case.label
    if case.error and case.code not in ("no-row",):
        assert masked(case.to) in logged, case.label


# --- the lookups: an in-doubt call (the call list), a call never reported (fetch) --------------------------------


async def test_an_in_doubt_call_is_found_in_the_call_list_from_its_claim_on(
    fake: FakeTwilio, sender: VoiceSender
) -> None:
    before = datetime.now(UTC)
    sid = await sender.send(Outgoing(LANDLINE, SPOKEN, message_id=1))
    await sender.send(Outgoing(OTHER, SPOKEN, message_id=2))
    assert await sender.find_sent(to=LANDLINE, body="", since=before) == sid
    assert await sender.find_sent(to=LANDLINE, body="", since=before + timedelta(minutes=5)) is None  # placed before
    assert await sender.find_sent(to="+33470050000", body="", since=before) is None
    fake.fail_next(SERVER_ERROR, method="GET")
    with pytest.raises(SendError) as failed:
        await sender.find_sent(to=LANDLINE, body="", since=before)
    assert failed.value.transient


async def test_a_call_is_fetched_with_its_status_who_answered_and_how_long(
    fake: FakeTwilio, sender: VoiceSender
) -> None:
    sid = await sender.send(Outgoing(LANDLINE, SPOKEN, message_id=1))
    queued = await sender.call_report(sid)
    assert queued is not None and (queued.call_sid, queued.status) == (sid, "queued")
    await asyncio.to_thread(fake.voice.ring, sid)
    await asyncio.to_thread(fake.voice.no_answer, sid)
    ended = await sender.call_report(sid)
    assert ended is not None and (ended.status, ended.duration_seconds) == ("no-answer", 0)
    assert await sender.call_report("CA" + "0" * 32) is None  # unknown: 404


# --- the fake itself, through the official client ----------------------------------------------------------------


def official(fake: FakeTwilio) -> Client:
    client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    client.api.base_url = fake.url
    client.region = client.edge = None
    return client


def test_the_fake_creates_lists_pages_and_fetches_calls(fake: FakeTwilio) -> None:
    client = official(fake)
    placed = [
        client.calls.create(to=LANDLINE if i % 2 else OTHER, from_=DEFAULT_FROM, url=f"{PUBLIC}/twiml?n={i}")
        for i in range(7)
    ]
    mine = client.calls.list(to=LANDLINE, page_size=2)  # three pages, newest first
    assert [c.sid for c in mine] == [c.sid for c in reversed(placed) if c.to == LANDLINE]
    assert len(client.calls.list(from_=DEFAULT_FROM, limit=5)) == 5
    fetched = client.calls(placed[3].sid).fetch()
    assert (fetched.sid, fetched.to, fetched.status) == (placed[3].sid, LANDLINE, "queued")
    assert fetched.direction == "outbound-api"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from_": DEFAULT_FROM, "url": PUBLIC}, 21201),  # no To: the client sends an empty one
        ({"to": "12", "from_": DEFAULT_FROM, "url": PUBLIC}, 21211),
        ({"to": LANDLINE, "from_": "", "url": PUBLIC}, 21213),
        ({"to": LANDLINE, "from_": DEFAULT_FROM, "url": ""}, 21205),
    ],
    ids=["no To", "To not E.164", "no From", "no Url"],
)
def test_the_fake_refuses_calls_as_twilio_does(fake: FakeTwilio, params: dict[str, str], code: int) -> None:
    with pytest.raises(TwilioRestException) as refused:
        official(fake).calls.create(**{"to": "", **params})
    assert (refused.value.status, refused.value.code) == (400, code)
    assert fake.voice.calls == []


def test_a_phone_left_to_itself_plays_its_part(fake: FakeTwilio) -> None:
    """``pickup``: the call runs by itself in a thread; without a server, the phone hears nothing (status 0) and
    the call still ends as the phone decides."""
    fake.voice.pickup(LANDLINE, Pickup(answer="busy"))
    call = official(fake).calls.create(
        to=LANDLINE, from_=DEFAULT_FROM, url="http://127.0.0.1:1/twiml", status_callback="http://127.0.0.1:1/status",
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )  # fmt: skip
    fake.voice.wait()
    [recorded] = fake.voice.calls
    assert recorded.sid == call.sid and recorded.status == "busy"
    assert [status for status, _ in recorded.callbacks] == ["initiated", "ringing", "busy"]
    assert all(answer == 0 for _, answer in recorded.callbacks)  # nobody listened


def test_the_standalone_fake_records_calls_and_takes_a_pickup(tmp_path: Path) -> None:
    record = tmp_path / "sent.jsonl"
    with spawn(record) as process:
        process.pickup(LANDLINE, Pickup(answer="no-answer"))
        client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        client.api.base_url = process.url
        client.region = client.edge = None
        sid = client.calls.create(to=LANDLINE, from_=DEFAULT_FROM, url=f"{PUBLIC}/twiml").sid
        assert [call["sid"] for call in process.calls()] == [sid]
    assert [(call["sid"], call["to"]) for call in read_calls(record)] == [(sid, LANDLINE)]
