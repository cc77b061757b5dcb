"""The Telegram channel, both directions: updates in (webhook or long polling), the sender out.

python-telegram-bot 22 is the transport only: it parses updates (``Update.de_json``), talks to the Bot API and,
without a public URL, long-polls. The conversation state stays in our database (``bot.service.inbound``), never in PTB's
``ConversationHandler`` or persistence, so any server instance can answer the next message.

In: ``POST /telegram/webhook`` (https://core.telegram.org/bots/api#setwebhook) checks the
``X-Telegram-Bot-Api-Secret-Token`` header in constant time (403 otherwise, before anything is stored), parses the
update and hands it to ``handle_update``: adviser commands to the hook wired in by ``app.py``
(``bot.interfaces.telegram_advisers``), everything else translated to an ``Inbound`` for the same service as SMS.
The update_id
is the provider id, so an update Telegram delivers twice changes state once. Replies are queued in the outbox
(``inline=False``) and leave through ``TelegramSender`` when the dispatcher sends them.

Out: ``TelegramSender`` renders choices as a reply keyboard (https://core.telegram.org/bots/api#replykeyboardmarkup),
removes it when a message offers none (https://core.telegram.org/bots/api#replykeyboardremove), and classifies the
Bot API's errors for the dispatcher (https://core.telegram.org/bots/api#making-requests).

This module translates; what to answer is decided by ``bot.service.inbound``. Logs never show a whole chat id nor a
message body.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    Bot,
    Contact,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType, MessageEntityType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, CallbackContext, TypeHandler

from bot.channels import MAX_STORED_INT, Inbound, Outgoing, SendError, plain_number
from bot.config import Settings
from bot.context import Context
from bot.conversation import texts as messages
from bot.conversation.phones import masked, to_e164
from bot.logs import log_failure
from bot.service import inbound as service
from storage.enums import Channel

log = logging.getLogger("atelier.telegram")

WEBHOOK_PATH = "/telegram/webhook"
# https://core.telegram.org/bots/api#setwebhook (secret_token)
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header's name, not a secret
ALLOWED_UPDATES = ("message", "callback_query")  # what we handle; Telegram sends nothing else
DEFAULT_API_URL = "https://api.telegram.org"
MAX_UPDATE_BYTES = 1024 * 1024  # a text update is a few kilobytes; anything this big is not one of ours
MAX_TEXT = 4096  # https://core.telegram.org/bots/api#sendmessage — "1-4096 characters after entities parsing"

# The resident commands of the bot's menu, as the words the dialogue understands. Any other /command (an adviser's,
# typed by a resident) reaches the dialogue as an empty message: the resident gets the usual "not understood" or
# menu answer, and nothing about the command.
RESIDENT_COMMANDS = {"start": "START", "aide": "AIDE", "help": "AIDE", "annuler": "ANNULER", "stop": "STOP"}

# Something that may take an update for itself (adviser commands): True when it did. It is given the message's
# /command as this channel reads it (``command_of``), None for anything else. Wired in by ``app.py``: channels and
# interfaces never import each other.
AdviserHook = Callable[[Context, Bot, Update, tuple[str, str] | None], Awaitable[bool]]
TelegramApplication = Application[Any, Any, Any, Any, Any, Any]


# --- Building the bot --------------------------------------------------------------------------------------------


def api_urls(api_url: str | None) -> tuple[str, str]:
    """PTB's ``base_url`` and ``base_file_url`` for ``ATELIER_TELEGRAM_API_URL``.

    The variable holds the server's root (``https://api.telegram.org``, ``http://127.0.0.1:8081`` for a local Bot
    API server); PTB appends the token to its base URL (``…/bot`` + token), or fills a ``{token}`` placeholder. A
    value already ending in ``/bot`` or holding ``{token}`` is taken as PTB's own form.
    """
    root = (api_url or DEFAULT_API_URL).rstrip("/")
    if "{token}" in root:
        return root, root.replace("/bot{token}", "/file/bot{token}")
    if root.endswith("/bot"):
        return root, root.removesuffix("/bot") + "/file/bot"
    return root + "/bot", root + "/file/bot"


def uses_polling(settings: Settings) -> bool:
    """Without a public URL Telegram cannot reach us: fetch the updates instead (a laptop, a first try)."""
    return settings.public_url is None


def build_application(settings: Settings) -> TelegramApplication:
    """The PTB application: the bot for the Bot API, plus an updater only when long polling.

    No job queue (our scheduler plans everything), no persistence (our database holds the state).
    """
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN n'est pas défini : Telegram n'est pas configuré")
    # PTB 22 gives durations as timedelta when asked to (and warns otherwise): we read RetryAfter's as one.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    base_url, base_file_url = api_urls(settings.telegram_api_url)
    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .job_queue(None)
    )
    if not uses_polling(settings):
        builder = builder.updater(None)
    return builder.build()


def webhook_url(settings: Settings) -> str:
    """Where Telegram posts updates; raises ValueError (a sentence for the adviser) when it cannot be used."""
    if not settings.public_url:
        raise ValueError("ATELIER_PUBLIC_URL n'est pas défini : Telegram ne peut pas joindre le service")
    if not settings.telegram_secret:
        raise ValueError("ATELIER_TELEGRAM_SECRET n'est pas défini : il protège le webhook, il est obligatoire")
    return settings.public_url + WEBHOOK_PATH


async def register_webhook(*, bot: Bot, settings: Settings) -> str:
    """Tell Telegram where to post updates, with the secret it must send back; returns the URL.

    https://core.telegram.org/bots/api#setwebhook — updates waiting at Telegram are kept (``drop_pending_updates``
    false): a resident's message sent while we were down is answered once we are back.
    """
    url = webhook_url(settings)
    await bot.set_webhook(
        url=url,
        secret_token=settings.telegram_secret,
        allowed_updates=list(ALLOWED_UPDATES),
        drop_pending_updates=False,
    )
    return url


# --- Updates in --------------------------------------------------------------------------------------------------


def e164(raw: str | None) -> str | None:
    """A shared contact's number → E.164. Telegram writes it in international form, usually without the "+"."""
    text = (raw or "").strip()
    return to_e164(text if text.startswith(("+", "0")) else "+" + text)  # "0…": a national French number


def command_of(message: Message) -> tuple[str, str] | None:
    """``("annonce", "12 Salle fermée")`` for "/annonce@atelier_bot 12 Salle fermée"; None for plain text."""
    text = message.text or ""
    # Telegram marks a command with a bot_command entity; a text starting with "/" reads the same to a person.
    marked = any(e.type == MessageEntityType.BOT_COMMAND and e.offset == 0 for e in message.entities or ())
    if not (marked or text.startswith("/")):
        return None
    head, *rest = text.split(maxsplit=1) or [""]
    name = head.removeprefix("/").split("@", 1)[0].lower()
    return (name, rest[0].strip() if rest else "") if name.isalnum() else None


def resident_text(message: Message) -> str:
    """What the dialogue reads: the text (or a photo's caption), a menu command as its keyword."""
    command = command_of(message)
    if command is not None:
        return RESIDENT_COMMANDS.get(command[0], "")
    return message.text if message.text is not None else (message.caption or "")


def shared_phone(contact: Contact, sender_id: int) -> str | None:
    """The number of a contact the sender shared about themself (the contact button); someone else's is ignored."""
    if contact.user_id is None or contact.user_id != sender_id:
        return None
    return e164(contact.phone_number)


def from_private_chat(update: Update) -> bool:
    """True for an update from a private chat with the bot: a private chat's id is its user's id, always positive
    (https://core.telegram.org/bots/api#chat). Groups, supergroups and channels (negative ids), chat id 0 and
    anything without a chat are ignored: a roster or a resident's answer must never be posted where others read."""
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE and chat.id > 0


def private_message(update: Update) -> Message | None:
    """The message of an update from a person in a private chat with the bot; None for everything else (groups,
    channels, other bots, edits)."""
    message = update.message
    if message is None or not from_private_chat(update):
        return None
    if message.from_user is None or message.from_user.is_bot:
        return None
    return message


def inbound_of(update: Update) -> Inbound | None:
    """The resident's message as the service reads it, or None for what is ignored."""
    message = private_message(update)
    if message is None or message.from_user is None:
        return None
    common: dict[str, Any] = {
        "channel": Channel.telegram,
        "address": str(message.chat.id),
        "provider_id": str(update.update_id),
        "user_id": message.from_user.id,
    }
    if message.contact is not None:
        return Inbound(text="", shared_phone=shared_phone(message.contact, message.from_user.id), **common)
    if message.text is not None or message.caption is not None:
        return Inbound(text=resident_text(message), **common)
    if _has_content(message):
        return Inbound(text="", **common)  # a sticker, a voice message…: the dialogue answers as to an empty SMS
    return None  # a service message (pinned, chat photo…): nothing was said


def _has_content(message: Message) -> bool:
    kinds = ("sticker", "photo", "voice", "audio", "video", "video_note", "document", "animation", "location")
    return any(getattr(message, kind, None) for kind in kinds)


def parse_update(body: bytes, bot: Bot) -> Update | None:
    """The update in a webhook body, or None when it is not one (garbage is answered 200 and ignored: Telegram
    would otherwise retry it again and again)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[…" nested too deep
        return None
    if not isinstance(data, dict) or not _is_id(data.get("update_id")):
        return None
    try:
        update = Update.de_json(data, bot)
    except Exception:  # PTB raises whatever a malformed field leads to (KeyError, TypeError, ValueError…)
        return None
    chat, user = update.effective_chat, update.effective_user
    if (chat is not None and not _is_id(chat.id)) or (user is not None and not _is_id(user.id)):
        return None  # Telegram's ids fit in 52 bits (https://core.telegram.org/bots/api#chat): a forged update
    return update


def _is_id(value: object) -> bool:
    """An integer id that a BIGINT column holds (``True`` is an int to Python, not to Telegram)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_STORED_INT


async def handle_update(*, ctx: Context, bot: Bot, update: Update, advisers: AdviserHook | None = None) -> None:
    """One update, from the webhook or from long polling. Never raises: a failure is logged, the person told."""
    if not from_private_chat(update):
        return  # not even an adviser's command: nothing is answered outside private chats
    try:
        command = command_of(update.message) if update.message is not None else None
        if advisers is not None and await advisers(ctx, bot, update, command):
            return
        if update.callback_query is not None:
            # Residents are never shown inline buttons; an old adviser button pressed by someone who no longer is
            # one only needs its spinner stopped.
            await _quietly(bot.answer_callback_query(update.callback_query.id))
            return
        inbound = inbound_of(update)
        if inbound is None:
            return
        handled = await service.handle_inbound(ctx=ctx, inbound=inbound, inline=False)
    except Exception as exc:
        chat = update.effective_chat
        log_failure(log, f"Telegram update for {masked(chat.id if chat else None)}", exc)
        if chat is not None:  # a private chat (checked above)
            # The service's transaction was rolled back: nothing changed, and the person may write again.
            await _quietly(bot.send_message(chat_id=chat.id, text=messages.technical_problem()))
        return
    log.info(
        "Telegram message from %s: %d answer(s) queued%s",
        masked(inbound.address),
        len(handled.replies),
        " (repeated delivery)" if handled.duplicate else "",
    )


async def _quietly(call: Awaitable[Any]) -> None:
    try:
        await call
    except TelegramError as exc:
        log.warning("Telegram call failed: %s", type(exc).__name__)


def secret_ok(request: Request, secret: str | None) -> bool:
    """Constant-time comparison with ATELIER_TELEGRAM_SECRET; no secret configured refuses everything."""
    given = request.headers.get(SECRET_HEADER)
    if not secret or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8"))


async def _read_body(request: Request) -> bytes | None:
    length = request.headers.get("content-length")
    size = plain_number(length) if length is not None else 0
    if size is None or size > MAX_UPDATE_BYTES:
        return None
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_UPDATE_BYTES:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return None
    return b"".join(chunks)


def routes(ctx: Context, bot: Bot, *, advisers: AdviserHook | None = None) -> list[Route]:
    """``POST /telegram/webhook``, bound to ``ctx`` and ``bot``."""

    async def webhook(request: Request) -> Response:
        if not secret_ok(request, ctx.settings.telegram_secret):
            log.warning("Telegram webhook refused: missing or wrong secret token")
            return Response("Forbidden", status_code=403, media_type="text/plain")
        body = await _read_body(request)
        update = parse_update(body, bot) if body is not None else None
        if update is None:
            log.warning("Telegram webhook: not an update, ignored")
            return Response(status_code=200)
        await handle_update(ctx=ctx, bot=bot, update=update, advisers=advisers)
        return Response(status_code=200)

    return [Route(WEBHOOK_PATH, webhook, methods=["POST"], name="telegram_webhook")]


# --- Running inside `atelier serve` ------------------------------------------------------------------------------


@asynccontextmanager
async def running(
    ctx: Context, application: TelegramApplication | None, *, advisers: AdviserHook | None = None
) -> AsyncIterator[None]:
    """Start the PTB application for the server's lifetime (the Starlette lifespan); None: Telegram is off.

    With a public URL: the webhook is registered when the secret is set too (updates come to ``routes``). Without:
    long polling feeds the same ``handle_update``. Telegram being unreachable at start-up does not stop the
    service (SMS goes on); the webhook route and the sender work without PTB's start-up call.
    """
    if application is None:
        yield
        return
    settings = ctx.settings
    polling = uses_polling(settings)
    if polling:

        async def on_update(update: object, _: CallbackContext[Any, Any, Any, Any]) -> None:
            if isinstance(update, Update):
                await handle_update(ctx=ctx, bot=application.bot, update=update, advisers=advisers)

        application.add_handler(TypeHandler(Update, on_update))
    await _start(application, settings, polling=polling)
    try:
        yield
    finally:
        await _stop(application)


async def _start(application: TelegramApplication, settings: Settings, *, polling: bool) -> None:
    """Failures are logged, not raised: without Telegram the service still answers SMS."""
    try:
        await application.initialize()  # getMe: checks the token
        await application.start()
        if polling and application.updater is not None:
            await application.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False)
            log.info("Telegram: long polling (no ATELIER_PUBLIC_URL)")
        elif settings.telegram_secret:
            url = await register_webhook(bot=application.bot, settings=settings)
            log.info("Telegram: webhook registered at %s", url)
        else:
            log.error("Telegram: ATELIER_TELEGRAM_SECRET is not set, the webhook is not registered and refuses updates")
    except InvalidToken:
        log.error("Telegram refused TELEGRAM_BOT_TOKEN: check it with @BotFather; Telegram is off until restart")
    except TelegramError as exc:
        log.error("Telegram unreachable at start-up (%s); updates are not received until restart", type(exc).__name__)


async def _stop(application: TelegramApplication) -> None:
    """Stop whatever was started, and close the bot's HTTP connections (the sender may have used them even if
    the start-up failed)."""
    try:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await application.bot.shutdown()  # a no-op when the application's shutdown closed it already
    except (TelegramError, RuntimeError) as exc:
        log.warning("Telegram: stopping failed (%s)", type(exc).__name__)


# --- Sending -----------------------------------------------------------------------------------------------------


def keyboard(message: Outgoing) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """The dialogue's choices as big buttons, one per row; they go away once pressed (``one_time_keyboard``), and a
    message without choices removes any keyboard left, so old buttons never answer a new question."""
    rows: list[list[KeyboardButton]] = []
    if message.ask_contact:
        share, no_thanks = messages.contact_buttons()
        rows.append([KeyboardButton(share, request_contact=True)])
        rows.append([KeyboardButton(no_thanks)])
    rows.extend([KeyboardButton(choice.strip())] for choice in message.choices if choice.strip())
    if not rows:
        return ReplyKeyboardRemove()
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


_CHAT_ID = re.compile(r"-?\d{1,20}")  # https://core.telegram.org/bots/api#chat — an integer, negative for groups


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: TelegramError) -> SendError:
    """A Bot API error → what the dispatcher should do (https://core.telegram.org/bots/api#making-requests)."""
    if isinstance(exc, RetryAfter):
        # https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this — wait what Telegram says
        return SendError("rate limited", transient=True, code="429", retry_after=_seconds(exc.retry_after))
    if isinstance(exc, Forbidden):
        # "bot was blocked by the user", "user is deactivated": this chat refuses our messages
        return SendError("blocked by the user", transient=False, code="403", opted_out=True)
    if isinstance(exc, InvalidToken):
        # Our token, not the message: keep the message for when it is fixed, and say so loudly.
        log.error("Telegram refused TELEGRAM_BOT_TOKEN (check it with @BotFather)")
        return SendError("Telegram authentication failed", transient=True, code="401")
    if isinstance(exc, BadRequest | ChatMigrated):
        return SendError("refused by Telegram", transient=False, code="400")
    if isinstance(exc, TimedOut):
        return SendError("Telegram timed out", transient=True, code="timeout")
    if isinstance(exc, NetworkError):
        return SendError("Telegram unreachable", transient=True, code="network")
    return SendError("refused by Telegram", transient=False, code=type(exc).__name__)


class TelegramSender:
    """Sends outbox rows to Telegram chats with PTB's bot, as plain text (no parse_mode: a resident's name or an
    adviser's broadcast may hold characters that Markdown or HTML would read as markup).

    The provider id is ``chat:message_id`` (message ids are only unique within a chat). Telegram cannot be asked
    what it sent, so this sender has no ``find_sent``.
    """

    channel = Channel.telegram
    max_length = MAX_TEXT
    supports_buttons = True
    # "avoid sending more than one message per second" in one chat: https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
    recipient_interval: timedelta | None = timedelta(seconds=1)

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, message: Outgoing) -> str:
        if not _CHAT_ID.fullmatch(message.to):
            raise SendError("not a Telegram chat id", transient=False, code="address")
        chat_id = int(message.to)
        text = message.body.strip()
        if len(text) > self.max_length:
            log.warning("Telegram message to %s cut to %d characters", masked(chat_id), self.max_length)
            text = text[: self.max_length - 1] + "…"
        try:
            sent = await self._bot.send_message(chat_id=chat_id, text=text, reply_markup=keyboard(message))
        except TelegramError as exc:
            error = classify(exc)
            log.warning("Telegram message to %s not sent: %s (%s)", masked(chat_id), error.code, type(exc).__name__)
            raise error from None
        return f"{chat_id}:{sent.message_id}"
