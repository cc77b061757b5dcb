"""Telegram inside ``atelier serve`` (the app factory's lifespan) and ``atelier telegram webhook``, against the fake
Bot API: the webhook registered at start-up, long polling without a public URL, a refused token that does not stop
the service, and the command line's refusals.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from typer.testing import CliRunner

from bot.app import create_app
from bot.cli import app as cli
from bot.handlers.telegram import ALLOWED_UPDATES, WEBHOOK_PATH, TelegramSender
from tests.helpers.fake_telegram import DEFAULT_TOKEN, FakeTelegram, text_update
from tests.helpers.telegram_rig import PUBLIC_URL, SECRET, telegram_settings
from tests.helpers.transcripts import fold

CHAT = 6_660_001
runner = CliRunner()


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


async def wait_for(condition: object, seconds: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not callable(condition) or not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


# --- atelier serve ----------------------------------------------------------------------------------------------


async def test_serve_registers_the_webhook_and_answers_through_the_outbox(db_url: str, fake: FakeTelegram) -> None:
    application = create_app(telegram_settings(db_url, fake))
    assert isinstance(application.state.ctx.senders["telegram"], TelegramSender)
    async with application.router.lifespan_context(application):
        hook = fake.webhook
        assert hook is not None
        assert hook["url"] == PUBLIC_URL + WEBHOOK_PATH and hook["secret_token"] == SECRET
        assert hook["allowed_updates"] == list(ALLOWED_UPDATES) and hook["drop_pending_updates"] is False
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            response = await client.post(WEBHOOK_PATH, json=text_update(1, CHAT, "Bonjour"), headers=headers)
            assert response.status_code == 200
            refused = await client.post(WEBHOOK_PATH, json=text_update(2, CHAT, "Bonjour"))
            assert refused.status_code == 403
        await wait_for(lambda: fake.sent(CHAT))  # the dispatcher, woken by the service, sent the welcome
    assert "prenom" in fold(fake.sent(CHAT)[0].text)
    assert len(fake.sent(CHAT)) == 1


async def test_serve_without_a_public_url_polls(db_url: str, fake: FakeTelegram) -> None:
    application = create_app(telegram_settings(db_url, fake, ATELIER_PUBLIC_URL=""))
    async with application.router.lifespan_context(application):
        await wait_for(lambda: fake.calls_to("getUpdates"))
        assert fake.calls_to("deleteWebhook"), "a webhook left from before would stop polling"
        fake.queue_update(text_update(0, CHAT, "Bonjour"))
        await wait_for(lambda: fake.sent(CHAT))
    assert "prenom" in fold(fake.sent(CHAT)[0].text)
    allowed = {tuple(c.params.get("allowed_updates") or ()) for c in fake.calls_to("getUpdates")}
    assert tuple(ALLOWED_UPDATES) in allowed


async def test_a_refused_token_does_not_stop_the_service(
    db_url: str, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    application = create_app(telegram_settings(db_url, fake, TELEGRAM_BOT_TOKEN="999:refused"))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            assert (await client.get("/healthz")).status_code == 200
    assert "refused TELEGRAM_BOT_TOKEN" in caplog.text
    assert fake.webhook is None


async def test_without_a_token_there_is_no_telegram(db_url: str, fake: FakeTelegram) -> None:
    application = create_app(telegram_settings(db_url, fake, TELEGRAM_BOT_TOKEN=""))
    assert "telegram" not in application.state.ctx.senders
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
            response = await client.post(WEBHOOK_PATH, json=text_update(1, CHAT, "Bonjour"))
    assert response.status_code == 404


async def test_with_a_public_url_but_no_secret_nothing_is_registered(
    db_url: str, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="atelier")
    application = create_app(telegram_settings(db_url, fake, ATELIER_TELEGRAM_SECRET=""))
    async with application.router.lifespan_context(application):
        pass
    assert fake.webhook is None and fake.calls_to("getUpdates") == []
    assert "ATELIER_TELEGRAM_SECRET is not set" in caplog.text


# --- atelier telegram webhook -------------------------------------------------------------------------------------


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@dataclass(frozen=True)
class CliCase:
    label: str
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    code: int = 1
    says: str = ""  # folded fragment of the output
    registered: bool = False


def base_env(fake: FakeTelegram, tmp: str) -> dict[str, str]:
    return {
        "ATELIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/cli.db",
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "ATELIER_TELEGRAM_API_URL": fake.api_url,
        "ATELIER_TELEGRAM_SECRET": SECRET,
        "ATELIER_PUBLIC_URL": PUBLIC_URL,
    }


CLI_CASES = [
    CliCase("registers", code=0, says="webhook enregistre pour @atelier_test_bot", registered=True),
    CliCase("no token", {"TELEGRAM_BOT_TOKEN": ""}, says="telegram_bot_token n'est pas defini"),
    CliCase("no public URL", {"ATELIER_PUBLIC_URL": ""}, says="atelier_public_url n'est pas defini"),
    CliCase("no secret", {"ATELIER_TELEGRAM_SECRET": ""}, says="atelier_telegram_secret n'est pas defini"),
    CliCase("a token Telegram refuses", {"TELEGRAM_BOT_TOKEN": "1:nope"}, says="refuse le jeton"),
    CliCase("a URL Telegram refuses", {"ATELIER_PUBLIC_URL": "http://plain.example"}, says="refuse ce webhook"),
    CliCase("Telegram unreachable", {"ATELIER_TELEGRAM_API_URL": "closed"}, says="ne repond pas"),
    CliCase("delete", args=("--delete",), code=0, says="webhook retire"),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.label for c in CLI_CASES])
def test_atelier_telegram_webhook(case: CliCase, fake: FakeTelegram, tmp_path: object) -> None:
    env = base_env(fake, str(tmp_path)) | case.env
    if env["ATELIER_TELEGRAM_API_URL"] == "closed":
        env["ATELIER_TELEGRAM_API_URL"] = closed_port_url()
    result = runner.invoke(cli, ["telegram", "webhook", *case.args], env=env)
    output = fold(" ".join((result.stdout + result.stderr).split()))
    assert result.exit_code == case.code, output
    assert fold(case.says) in output
    assert "traceback" not in output
    if case.registered:
        assert fake.webhook is not None and fake.webhook["url"] == PUBLIC_URL + WEBHOOK_PATH
        assert fake.webhook["secret_token"] == SECRET
    elif case.code:
        assert fake.calls_to("setWebhook") == [] or fake.webhook is None
    if "--delete" in case.args:
        assert fake.calls_to("deleteWebhook")
