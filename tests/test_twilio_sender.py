"""TwilioSender against the fake Twilio REST API over loopback, with the official client; and the fake itself.

Each row sends one message (after setting a fault on the fake) and says what must come out: a sid recorded by the
fake, or a ``SendError`` classified for the dispatcher. Every row also checks that the logs show neither the
number in full nor the body.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.channels import Outgoing, Sender, SendError, SentLookup
from bot.config import load_settings
from bot.conversation.gsm7 import render_sms
from bot.conversation.phones import masked
from bot.handlers.console import ConsoleSender
from bot.handlers.sms import STATUS_PATH, TwilioSender, parse_retry_after
from tests.helpers.clock import Clock
from tests.helpers.fake_twilio import (
    ACCEPT_THEN_DROP,
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    DROP,
    LANDLINE,
    NOT_MOBILE,
    OPTED_OUT,
    RATE_LIMITED,
    SERVER_ERROR,
    UNAVAILABLE,
    FakeTwilio,
    Fault,
    read_record,
    spawn,
)

NUMBER = "+33612345678"
OTHER = "+33798765432"
CALLBACK = "https://atelier.example.org" + STATUS_PATH
BODY = "Votre atelier à Montluçon : êtes-vous là ?"
CHOICES = ("OUI", "NON")


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


def make_sender(url: str, *, token: str = DEFAULT_AUTH_TOKEN, timeout: float = 5.0) -> TwilioSender:
    return TwilioSender(
        account_sid=DEFAULT_ACCOUNT_SID,
        auth_token=token,
        from_number=DEFAULT_FROM,
        api_url=url,
        status_callback=CALLBACK,
        timeout=timeout,
    )


@pytest.fixture
async def sender(fake: FakeTwilio) -> AsyncIterator[TwilioSender]:
    twilio = make_sender(fake.url)
    yield twilio
    await twilio.aclose()


# --- send -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendCase:
    label: str
    fault: Fault | None = None
    to: str = NUMBER
    body: str = BODY
    token: str = DEFAULT_AUTH_TOKEN
    timeout: float = 5.0
    latency: float = 0.0
    recorded: int = 1  # messages the fake accepted
    error: bool = False
    transient: bool | None = None
    code: str | None = None
    retry_after: float | None = None
    opted_out: bool = False
    unreachable: bool = False


SEND_CASES = [
    SendCase("success"),
    SendCase(
        "429 with Retry-After", RATE_LIMITED, recorded=0, error=True, transient=True, code="20429", retry_after=2.0
    ),
    SendCase(
        "429 without Retry-After",
        Fault(status=429, code=20429, message="Too Many Requests"),
        recorded=0,
        error=True,
        transient=True,
        code="20429",
    ),
    SendCase("500", SERVER_ERROR, recorded=0, error=True, transient=True, code="20500"),
    SendCase(
        "503 with Retry-After",
        Fault(status=503, code=20503, retry_after=30),
        recorded=0,
        error=True,
        transient=True,
        code="20503",
        retry_after=30.0,
    ),
    SendCase("502 without a Twilio body", Fault(status=502), recorded=0, error=True, transient=True, code="502"),
    SendCase("21610 opted out", OPTED_OUT, recorded=0, error=True, transient=False, code="21610", opted_out=True),
    SendCase("21614 not a mobile", NOT_MOBILE, recorded=0, error=True, transient=False, code="21614", unreachable=True),
    SendCase("30006 landline", LANDLINE, recorded=0, error=True, transient=False, code="30006", unreachable=True),
    SendCase("21211 invalid number", to="0612", recorded=0, error=True, transient=False, code="21211"),
    SendCase("wrong auth token", token="wrong", recorded=0, error=True, transient=True, code="20003"),
    SendCase("connection dropped", DROP, recorded=0, error=True, transient=True, code="network"),
    SendCase("accepted, answer lost", ACCEPT_THEN_DROP, recorded=1, error=True, transient=True, code="network"),
    SendCase("timeout", timeout=0.2, latency=0.6, recorded=1, error=True, transient=True, code="network"),
    SendCase("over 1,600 characters", body="a" * 1601, recorded=0, error=True, transient=False, code="21617"),
]


@pytest.mark.parametrize("case", SEND_CASES, ids=lambda case: case.label)
async def test_send(case: SendCase, fake: FakeTwilio, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    if case.fault is not None:
        fake.fail_next(case.fault)
    fake.set_latency(case.latency)
    sender = make_sender(fake.url, token=case.token, timeout=case.timeout)
    try:
        if case.error:
            with pytest.raises(SendError) as raised:
                await sender.send(Outgoing(to=case.to, body=case.body, choices=CHOICES))
            error = raised.value
            assert (error.transient, error.code, error.retry_after) == (case.transient, case.code, case.retry_after)
            assert (error.opted_out, error.unreachable) == (case.opted_out, case.unreachable)
        else:
            sid = await sender.send(Outgoing(to=case.to, body=case.body, choices=CHOICES))
            assert sid.startswith("SM") and len(sid) == 34
            assert [m.sid for m in fake.messages] == [sid]
    finally:
        await sender.aclose()
    if case.latency:
        await asyncio.sleep(case.latency)  # let the slow request finish on the fake's side before counting
    assert len(fake.messages) == case.recorded
    for message in fake.messages:
        assert message.body == "Votre atelier à Montlucon : etes-vous là ?\n1 OUI\n2 NON"
        assert (message.to, message.from_, message.status_callback) == (case.to, DEFAULT_FROM, CALLBACK)
    assert NUMBER not in caplog.text
    assert "Montlu" not in caplog.text


async def test_connection_refused() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = make_sender(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(SendError) as raised:
            await sender.send(Outgoing(to=NUMBER, body=BODY))
    finally:
        await sender.aclose()
    assert (raised.value.transient, raised.value.code) == (True, "network")


async def test_region_and_edge_from_the_environment_do_not_rewrite_the_api_url(
    fake: FakeTwilio, sender: TwilioSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "au1")
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    sid = await sender.send(Outgoing(to=NUMBER, body="Bonjour"))
    assert [m.sid for m in fake.messages] == [sid]


async def test_concurrent_sends_get_distinct_sids(fake: FakeTwilio, sender: TwilioSender) -> None:
    fake.set_latency(0.005)
    sids = await asyncio.gather(*(sender.send(Outgoing(to=NUMBER, body=f"Message {i}")) for i in range(300)))
    assert len(set(sids)) == 300
    assert sorted(m.sid for m in fake.messages) == sorted(sids)


async def test_retry_after_is_per_task(fake: FakeTwilio, sender: TwilioSender) -> None:
    """Two sends at once, one rate limited with Retry-After: the other one's error must not borrow it."""
    fake.fail_next(RATE_LIMITED)
    fake.fail_next(Fault(status=500, code=20500))
    results = await asyncio.gather(
        sender.send(Outgoing(to=NUMBER, body="a")), sender.send(Outgoing(to=OTHER, body="b")), return_exceptions=True
    )
    errors = sorted((e.code, e.retry_after) for e in results if isinstance(e, SendError))
    assert errors == [("20429", 2.0), ("20500", None)]


def test_the_sender_satisfies_the_channel_protocols(sender: TwilioSender) -> None:
    assert isinstance(sender, Sender) and isinstance(sender, SentLookup)
    assert (sender.channel, sender.max_length, sender.supports_buttons) == ("sms", 1600, False)
    console = ConsoleSender(render=render_sms)
    assert isinstance(console, Sender)
    assert (console.channel, console.max_length, console.supports_buttons) == ("sms", 1600, False)


def test_from_settings_sets_the_status_callback_only_with_a_public_url() -> None:
    base = {"TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": DEFAULT_FROM}
    with_url = TwilioSender.from_settings(load_settings({**base, "ATELIER_PUBLIC_URL": "https://a.example/"}))
    without = TwilioSender.from_settings(load_settings(base))
    assert with_url._status_callback == "https://a.example/sms/twilio/status"
    assert without._status_callback is None
    with pytest.raises(ValueError, match="TWILIO_FROM"):
        TwilioSender.from_settings(load_settings({"TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID}))


# --- find_sent ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindCase:
    label: str
    sent: tuple[tuple[str, str, tuple[str, ...], timedelta], ...]  # (to, body, choices, age) sent beforehand
    to: str
    body: str
    since_age: timedelta  # the search looks at messages younger than this
    found: int | None  # index in ``sent`` of the expected match, None for no match


HOUR = timedelta(hours=1)
FIND_CASES = [
    FindCase("same text", ((NUMBER, BODY, (), HOUR),), NUMBER, BODY, 2 * HOUR, 0),
    FindCase("text without its choices", ((NUMBER, BODY, CHOICES, HOUR),), NUMBER, BODY, 2 * HOUR, 0),
    FindCase("already GSM-7", ((NUMBER, BODY, (), HOUR),), NUMBER, render_sms(BODY), 2 * HOUR, 0),
    FindCase("another text", ((NUMBER, BODY, (), HOUR),), NUMBER, "Bonjour", 2 * HOUR, None),
    FindCase(
        "a longer text that starts the same", ((NUMBER, BODY + " Merci", (), HOUR),), NUMBER, BODY, 2 * HOUR, None
    ),
    FindCase("another number", ((OTHER, BODY, (), HOUR),), NUMBER, BODY, 2 * HOUR, None),
    FindCase("sent before the window", ((NUMBER, BODY, (), 3 * HOUR),), NUMBER, BODY, 2 * HOUR, None),
    FindCase(
        "the right one among several",
        ((NUMBER, "Bonjour", (), HOUR), (OTHER, BODY, (), HOUR), (NUMBER, BODY, CHOICES, HOUR)),
        NUMBER,
        BODY,
        2 * HOUR,
        2,
    ),
    FindCase("nothing sent", (), NUMBER, BODY, 2 * HOUR, None),
]


@pytest.mark.parametrize("case", FIND_CASES, ids=lambda case: case.label)
async def test_find_sent(case: FindCase) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    clock = Clock(now)
    with FakeTwilio(clock=clock) as fake:
        sender = make_sender(fake.url)
        try:
            sids = []
            for to, body, choices, age in case.sent:
                clock.now = now - age
                sids.append(await sender.send(Outgoing(to=to, body=body, choices=choices)))
            clock.now = now
            found = await sender.find_sent(to=case.to, body=case.body, since=now - case.since_age)
        finally:
            await sender.aclose()
    assert found == (sids[case.found] if case.found is not None else None)


async def test_find_sent_after_a_lost_answer(fake: FakeTwilio, sender: TwilioSender) -> None:
    """The crash-recovery story: Twilio took the message, we never heard; asking Twilio finds it."""
    since = datetime.now(UTC) - timedelta(seconds=5)
    fake.fail_next(ACCEPT_THEN_DROP)
    with pytest.raises(SendError):
        await sender.send(Outgoing(to=NUMBER, body=BODY, choices=CHOICES))
    assert await sender.find_sent(to=NUMBER, body=BODY, since=since) == fake.messages[0].sid


async def test_find_sent_when_twilio_cannot_be_asked(fake: FakeTwilio, sender: TwilioSender) -> None:
    fake.fail_next(SERVER_ERROR, method="GET")
    with pytest.raises(SendError) as raised:
        await sender.find_sent(to=NUMBER, body=BODY, since=datetime.now(UTC))
    assert (raised.value.transient, raised.value.code) == (True, "500")


# --- pure helpers ---------------------------------------------------------------------------------------------


RENDER_ROWS = [
    ("plain", "Bonjour", (), "Bonjour"),
    ("choices numbered", "Vous diriez :", ("Je débute", "À l'aise"), "Vous diriez :\n1 Je débute\n2 A l'aise"),
    ("GSM-7", "Montluçon, l’hôtel « Le Relais »", (), 'Montlucon, l\'hotel " Le Relais "'),
    ("CRLF", "a\r\nb\rc", (), "a\nb\nc"),
    ("control chars dropped", "a\x00b\x07c", (), "abc"),
    ("emoji dropped", "Merci 👍", (), "Merci"),
    ("only choices", "", ("OUI", "NON"), "1 OUI\n2 NON"),
    ("blank choice text trimmed", "  Alors ?  ", (" OUI ",), "Alors ?\n1 OUI"),
]


@pytest.mark.parametrize(("label", "body", "choices", "expected"), RENDER_ROWS, ids=[row[0] for row in RENDER_ROWS])
def test_render_sms(label: str, body: str, choices: tuple[str, ...], expected: str) -> None:
    assert render_sms(body, choices) == expected, label


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+33612345678", "+*********78"),
        ("0612345678", "********78"),
        ("", "?"),
        (None, "?"),
        ("+1", "+1"),
        (123456789, "*******89"),  # a Telegram chat id
    ],
    ids=["e164", "national", "empty", "none", "short", "chat-id"],
)
def test_masked(number: str | int | None, expected: str) -> None:
    assert masked(number) == expected


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("2", 2.0), ("1.5", 1.5), ("-3", 0.0), (None, None), ("soon", None), ("Thu, 26 Nov 2026 15:00:30 GMT", 30.0)],
    ids=["seconds", "fraction", "negative", "absent", "garbage", "http-date"],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=datetime(2026, 11, 26, 15, 0, tzinfo=UTC)) == seconds


async def test_console_sender_prints_what_the_phone_shows(capsys: pytest.CaptureFixture[str]) -> None:
    sid = await ConsoleSender(render=render_sms).send(Outgoing(to=NUMBER, body=BODY, choices=CHOICES))
    out = capsys.readouterr().out
    assert sid.startswith("console-")
    assert out == (
        "--- SMS pour +*********78 (1 segment) ---\nVotre atelier à Montlucon : etes-vous là ?\n1 OUI\n2 NON\n\n"
    )


# --- the fake itself ------------------------------------------------------------------------------------------


async def test_fake_lists_with_paging_through_the_official_client(fake: FakeTwilio, sender: TwilioSender) -> None:
    for index in range(25):
        await sender.send(Outgoing(to=NUMBER if index % 5 else OTHER, body=f"n{index}"))
    listed = await sender._twilio().messages.list_async(to=NUMBER, page_size=7)
    assert [m.body for m in listed] == [f"n{i}" for i in reversed(range(25)) if i % 5]
    assert fake.requests == 25 + 3  # 20 messages to NUMBER: three pages of seven


def test_fake_refuses_bad_credentials_and_unknown_paths(fake: FakeTwilio) -> None:
    def status(path: str, auth: str) -> int:
        request = urllib.request.Request(fake.url + path, headers={"Authorization": auth})  # noqa: S310 - loopback
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback http URL
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    good = "Basic " + base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode()
    bad = "Basic " + base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:nope".encode()).decode()
    messages = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
    assert status(messages, good) == 200
    assert status(messages, bad) == 401
    assert status(messages, "") == 401
    assert status("/2010-04-01/Accounts/ACother/Messages.json", good) == 401
    assert status("/2010-04-01/Accounts/x/Recordings.json", good) == 404
    assert status("/2010-04-01/Accounts/x/Calls.json", good) == 401  # the Calls API is served, for its account only
    assert status(f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Calls.json", good) == 200


def test_fake_standalone_process_records_and_takes_knobs(tmp_path: Path) -> None:
    record = tmp_path / "sent.jsonl"

    async def scenario(url: str) -> list[str | SendError]:
        sender = make_sender(url)
        try:
            results: list[str | SendError] = []
            for body in ("un", "deux", "trois"):
                try:
                    results.append(await sender.send(Outgoing(to=NUMBER, body=body)))
                except SendError as exc:
                    results.append(exc)
            return results
        finally:
            await sender.aclose()

    with spawn(record) as process:
        process.fail_next(UNAVAILABLE)
        process.refuse(OTHER, OPTED_OUT)
        first = asyncio.run(scenario(process.url))
        assert [type(r).__name__ for r in first] == ["SendError", "str", "str"]
        assert [m.body for m in process.messages()] == ["deux", "trois"]
    # the record outlives the process, one JSON object per line
    lines = record.read_text().splitlines()
    assert [json.loads(line)["body"] for line in lines] == ["deux", "trois"]
    assert [m.sid for m in read_record(record)] == [r for r in first if isinstance(r, str)]


def test_fake_record_ignores_a_torn_last_line(tmp_path: Path) -> None:
    record = tmp_path / "sent.jsonl"
    line = {
        "sid": "SM1",
        "account_sid": DEFAULT_ACCOUNT_SID,
        "to": NUMBER,
        "from": DEFAULT_FROM,
        "body": "x",
        "status_callback": None,
        "messaging_service_sid": None,
        "created_at": "2026-03-02T08:00:00+00:00",
    }
    record.write_text(json.dumps(line) + "\n" + json.dumps(line)[:20])
    assert [m.sid for m in read_record(record)] == ["SM1"]


async def test_find_sent_with_a_local_time(fake: FakeTwilio, sender: TwilioSender) -> None:
    """``since`` in Paris time must mean the same instant (the client formats datetimes without converting)."""
    sid = await sender.send(Outgoing(to=NUMBER, body=BODY))
    since = (datetime.now(UTC) - timedelta(minutes=30)).astimezone(ZoneInfo("Europe/Paris"))
    assert await sender.find_sent(to=NUMBER, body=BODY, since=since) == sid
