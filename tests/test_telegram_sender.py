"""TelegramSender against the fake Bot API over loopback, with PTB's own bot; the pure translations of the channel
(updates in, keyboards out, errors classified); and the fake itself.

Each sender row sends one message (after setting a fault on the fake) and says what must come out: a message the
fake recorded with its keyboard, or a ``SendError`` classified for the dispatcher. Every row also checks that the
logs show neither the chat id in full nor the body.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.channels import Outgoing, Sender, SendError
from bot.config import load_settings
from bot.handlers.telegram import (
    TelegramSender,
    api_urls,
    build_application,
    classify,
    e164,
    inbound_of,
    keyboard,
    parse_update,
    uses_polling,
    webhook_url,
)
from tests.helpers.fake_telegram import (
    BAD_GATEWAY,
    CHAT_NOT_FOUND,
    DEFAULT_TOKEN,
    TOO_MANY_REQUESTS,
    FakeTelegram,
    Fault,
    callback_update,
    command_update,
    contact_update,
    group_update,
    sticker_update,
    text_update,
)

CHAT = 123_456_789
BODY = "Bonjour Martine <b>&amp; *vous* _venez_ ?"
CHOICES = ("Je débute", "Je me débrouille un peu", "Je suis à l'aise")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def make_bot(fake: FakeTelegram, *, token: str = DEFAULT_TOKEN, read_timeout: float = 5.0) -> Bot:
    return Bot(token, base_url=fake.base_url, request=HTTPXRequest(read_timeout=read_timeout))


def button_rows(*labels: str) -> list[list[dict[str, Any]]]:
    return [[{"text": label}] for label in labels]


# --- send -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendCase:
    label: str
    message: Outgoing = field(default_factory=lambda: Outgoing(to=str(CHAT), body=BODY))
    fault: Fault | None = None
    blocked: bool = False
    token: str = DEFAULT_TOKEN
    latency: float = 0.0
    markup: dict[str, Any] | None = None  # the reply_markup the fake must have received (None: not checked)
    text: str | None = None  # the text the fake must have received (default: the body)
    error: bool = False
    transient: bool | None = None
    code: str | None = None
    retry_after: float | None = None
    opted_out: bool = False


ONE_TIME = {"resize_keyboard": True, "one_time_keyboard": True}
SEND_CASES = [
    SendCase(
        "choices become one big button per row",
        Outgoing(to=str(CHAT), body="Votre niveau ?", choices=CHOICES),
        markup={"keyboard": button_rows(*CHOICES), **ONE_TIME},
    ),
    SendCase("no choices remove the keyboard", markup={"remove_keyboard": True}),
    SendCase(
        "the contact button, with a way to decline",
        Outgoing(to=str(CHAT), body="Quel est votre nom ?", ask_contact=True),
        markup={
            "keyboard": [[{"text": "Partager mon numéro", "request_contact": True}], [{"text": "Non merci"}]],
            **ONE_TIME,
        },
    ),
    SendCase(
        "the contact button above choices",
        Outgoing(to=str(CHAT), body="Oui ?", choices=("OUI", "NON"), ask_contact=True),
        markup={
            "keyboard": [
                [{"text": "Partager mon numéro", "request_contact": True}],
                [{"text": "Non merci"}],
                *button_rows("OUI", "NON"),
            ],
            **ONE_TIME,
        },
    ),
    SendCase("markup characters are sent as plain text"),
    SendCase("a body over 4,096 characters is cut", Outgoing(to=str(CHAT), body="a" * 5000), text="a" * 4095 + "…"),
    SendCase("429 with retry_after", fault=TOO_MANY_REQUESTS, error=True, transient=True, code="429", retry_after=3.0),
    SendCase("blocked by the user", blocked=True, error=True, transient=False, code="403", opted_out=True),
    SendCase("chat not found", fault=CHAT_NOT_FOUND, error=True, transient=False, code="400"),
    SendCase("bad gateway", fault=BAD_GATEWAY, error=True, transient=True, code="network"),
    SendCase("500", fault=Fault(500, "Internal Server Error"), error=True, transient=True, code="network"),
    SendCase("a token Telegram refuses", token="999:wrong", error=True, transient=True, code="401"),
    SendCase("Telegram too slow", latency=1.0, error=True, transient=True, code="timeout"),
    SendCase("not a chat id", Outgoing(to="+33612345678", body="x"), error=True, transient=False, code="address"),
]


@pytest.mark.parametrize("case", SEND_CASES, ids=[c.label for c in SEND_CASES])
async def test_send(case: SendCase, fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="atelier")
    if case.fault is not None:
        fake.fail_next(case.fault)
    if case.blocked:
        fake.block(CHAT)
    fake.set_latency(case.latency)
    bot = make_bot(fake, token=case.token, read_timeout=0.3 if case.latency else 5.0)
    sender = TelegramSender(bot)  # not initialized: a sender works even if getMe failed at start-up
    assert isinstance(sender, Sender)
    try:
        if case.error:
            with pytest.raises(SendError) as caught:
                await sender.send(case.message)
            error = caught.value
            outcome = (error.transient, error.code, error.retry_after, error.opted_out)
            assert outcome == (case.transient, case.code, case.retry_after, case.opted_out)
            assert fake.sent() == []
        else:
            provider_id = await sender.send(case.message)
            [sent] = fake.sent()
            assert provider_id == f"{CHAT}:{sent.message_id}"
            assert sent.text == (case.text if case.text is not None else case.message.body)
            if case.markup is not None:
                assert sent.reply_markup == case.markup
            [call] = fake.calls_to("sendMessage")
            assert "parse_mode" not in call.params
    finally:
        await bot.request.shutdown()  # the bot was never initialized: close its HTTP client directly
    assert str(CHAT) not in caplog.text and case.message.body[:20] not in caplog.text


# --- errors, pure -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RetryAfter(timedelta(seconds=12)), (True, "429", 12.0, False)),
        (RetryAfter(7), (True, "429", 7.0, False)),
        (Forbidden("Forbidden: bot was blocked by the user"), (False, "403", None, True)),
        (Forbidden("Forbidden: user is deactivated"), (False, "403", None, True)),
        (BadRequest("Bad Request: chat not found"), (False, "400", None, False)),
        (ChatMigrated(-100123), (False, "400", None, False)),
        (InvalidToken("Unauthorized"), (True, "401", None, False)),
        (TimedOut("Timed out"), (True, "timeout", None, False)),
        (NetworkError("Bad Gateway"), (True, "network", None, False)),
        (Conflict("Conflict"), (False, "Conflict", None, False)),
        (TelegramError("something new"), (False, "TelegramError", None, False)),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
def test_classify(error: TelegramError, expected: tuple[bool, str, float | None, bool]) -> None:
    result = classify(error)
    assert (result.transient, result.code, result.retry_after, result.opted_out) == expected


# --- keyboards, pure ---------------------------------------------------------------------------------------------


def test_keyboard_buttons_are_stripped_and_empty_ones_dropped() -> None:
    markup = keyboard(Outgoing(to="1", body="x", choices=(" OUI ", "", "NON")))
    assert markup.to_dict() == {"keyboard": button_rows("OUI", "NON"), **ONE_TIME}


# --- settings, pure ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (None, ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot")),
        ("http://127.0.0.1:8081", ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")),
        ("http://127.0.0.1:8081/", ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")),
        ("https://proxy.example/tg/bot", ("https://proxy.example/tg/bot", "https://proxy.example/tg/file/bot")),
        (
            "https://api.telegram.org/bot{token}/test",
            ("https://api.telegram.org/bot{token}/test", "https://api.telegram.org/file/bot{token}/test"),
        ),
    ],
    ids=["default", "local server", "trailing slash", "PTB's form", "test environment"],
)
def test_api_urls(configured: str | None, expected: tuple[str, str]) -> None:
    assert api_urls(configured) == expected


def test_the_application_talks_to_the_configured_server(fake: FakeTelegram) -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "ATELIER_TELEGRAM_API_URL": fake.api_url})
    application = build_application(settings)
    assert application.bot.base_url == f"{fake.api_url}/bot{DEFAULT_TOKEN}"
    assert uses_polling(settings) and application.updater is not None
    with_url = load_settings({"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN, "ATELIER_PUBLIC_URL": "https://a.example/"})
    assert not uses_polling(with_url) and build_application(with_url).updater is None


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "ATELIER_PUBLIC_URL"),
        ({"ATELIER_PUBLIC_URL": "https://a.example"}, "ATELIER_TELEGRAM_SECRET"),
        (
            {"ATELIER_PUBLIC_URL": "https://a.example/", "ATELIER_TELEGRAM_SECRET": "s"},
            "https://a.example/telegram/webhook",
        ),
    ],
    ids=["no public URL", "no secret", "both"],
)
def test_webhook_url(environ: dict[str, str], expected: str) -> None:
    settings = load_settings(environ)
    if expected.startswith("https://"):
        assert webhook_url(settings) == expected
    else:
        with pytest.raises(ValueError, match=expected):
            webhook_url(settings)


def test_no_token_no_application() -> None:
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        build_application(load_settings({}))


# --- updates in, pure --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InCase:
    label: str
    update: dict[str, Any]
    text: str | None  # None: ignored
    phone: str | None = None


IN_CASES = [
    InCase("text", text_update(1, CHAT, "Bonjour"), "Bonjour"),
    InCase("a button press is its label", text_update(2, CHAT, "Je me débrouille un peu"), "Je me débrouille un peu"),
    InCase("/start", command_update(3, CHAT, "/start"), "START"),
    InCase("/start with a payload", command_update(4, CHAT, "/start from-poster"), "START"),
    InCase("/START@bot", command_update(5, CHAT, "/START@atelier_test_bot"), "START"),
    InCase("/aide", command_update(6, CHAT, "/aide"), "AIDE"),
    InCase("/annuler with words", command_update(7, CHAT, "/annuler 12 raison"), "ANNULER"),
    InCase("/stop", command_update(8, CHAT, "/stop"), "STOP"),
    InCase("an adviser's command", command_update(9, CHAT, "/inscrits 12"), ""),
    InCase("an unknown command", command_update(10, CHAT, "/xyz"), ""),
    InCase("a slash in a sentence", text_update(11, CHAT, "1/2 journée"), "1/2 journée"),
    InCase("own contact", contact_update(12, CHAT, "33612345678"), "", phone="+33612345678"),
    InCase("own contact with +", contact_update(13, CHAT, "+33612345678"), "", phone="+33612345678"),
    InCase("someone else's contact", contact_update(14, CHAT, "33612345678", contact_user_id=5), "", phone=None),
    InCase("a contact that is no number", contact_update(15, CHAT, "12"), "", phone=None),
    InCase("a sticker", sticker_update(16, CHAT), ""),
    InCase("a group", group_update(17, -100, CHAT, "Bonjour"), None),
    InCase("a button press on an inline keyboard", callback_update(18, CHAT, "x"), None),
    InCase(
        "a service message", {"update_id": 19, "message": {**text_update(0, CHAT, "")["message"], "text": None}}, None
    ),
]


@pytest.mark.parametrize("case", IN_CASES, ids=[c.label for c in IN_CASES])
def test_inbound_of(case: InCase) -> None:
    update = Update.de_json(case.update, None)
    inbound = inbound_of(update)
    if case.text is None:
        assert inbound is None
        return
    assert inbound is not None
    assert (inbound.channel, inbound.address, inbound.provider_id) == (
        "telegram",
        str(CHAT),
        str(case.update["update_id"]),
    )
    assert inbound.text == case.text and inbound.shared_phone == case.phone and inbound.user_id == CHAT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("33612345678", "+33612345678"),
        ("+33612345678", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("447911123456", "+447911123456"),
        ("12", None),
        ("", None),
        (None, None),
        ("9" * 50, None),
    ],
)
def test_e164(raw: str | None, expected: str | None) -> None:
    assert e164(raw) == expected


def test_parse_update_refuses_garbage() -> None:
    bot = Bot(DEFAULT_TOKEN)
    assert parse_update(b"nope", bot) is None
    assert parse_update(b'{"update_id": 1, "message": 5}', bot) is None
    parsed = parse_update(json.dumps(text_update(3, CHAT, "x")).encode(), bot)
    assert parsed is not None and parsed.update_id == 3


# --- the fake -----------------------------------------------------------------------------------------------------


def raw_call(fake: FakeTelegram, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    data = "&".join(f"{k}={v}" for k, v in (form or {}).items()).encode()
    request = urllib.request.Request(fake.api_url + path, data=data, method="POST")  # noqa: S310 - loopback fake
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback fake
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_fake_answers_like_telegram(fake: FakeTelegram) -> None:
    assert raw_call(fake, f"/bot{DEFAULT_TOKEN}/getMe")[1]["result"]["username"] == "atelier_test_bot"
    assert raw_call(fake, "/bot1:nope/getMe") == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert raw_call(fake, f"/bot{DEFAULT_TOKEN}/sendPhoto")[0] == 404
    status, body = raw_call(fake, f"/bot{DEFAULT_TOKEN}/sendMessage", {"chat_id": "5", "text": ""})
    assert status == 400 and "empty" in body["description"]
    status, body = raw_call(fake, f"/bot{DEFAULT_TOKEN}/setWebhook", {"url": "http://plain.example"})
    assert status == 400 and "HTTPS" in body["description"]
    fake.fail_next(TOO_MANY_REQUESTS, method=None)
    assert raw_call(fake, f"/bot{DEFAULT_TOKEN}/getMe")[1]["parameters"] == {"retry_after": 3}


async def test_the_fake_serves_long_polling(fake: FakeTelegram) -> None:
    fake.queue_update(text_update(0, CHAT, "Bonjour") | {"update_id": 50})
    fake.queue_update(text_update(0, CHAT, "Encore") | {"update_id": 51})
    async with make_bot(fake) as bot:
        first = await bot.get_updates(offset=0, timeout=0)
        assert [u.update_id for u in first] == [50, 51]
        second = await bot.get_updates(offset=51, timeout=0)  # 50 is confirmed
        assert [u.update_id for u in second] == [51]
        assert await bot.get_updates(offset=52, timeout=timedelta(seconds=0.2)) == ()
        await bot.set_webhook("https://a.example/telegram/webhook", secret_token="s")
        with pytest.raises(Conflict):
            await bot.get_updates(offset=52, timeout=0)
        assert (await bot.get_webhook_info()).url == "https://a.example/telegram/webhook"
        await bot.delete_webhook()
        assert fake.webhook is None
