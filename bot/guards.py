"""What protects every route and every log line, installed by the wiring (``app.py``, ``cli.py``).

- ``BodyLimit``: no route reads more request body than its limit, whatever the transfer encoding. A declared
  ``Content-Length`` over the limit is answered 413 before the route runs; a chunked body is counted as it streams
  in and the route is stopped at the limit (413). Either way the connection is closed, so the rest of the upload
  is never read. This runs before any parsing or signature check: an unsigned 900 MB form costs 64 KiB.
- ``protect_logs``: no log record, at any level and from any library, holds a secret of the settings (httpx logs
  every Bot API URL, token included), and uvicorn's access lines carry no query string (a webhook misconfigured as
  GET would print the sender's number and message).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels import plain_number
from bot.config import Settings

DEFAULT_BODY_LIMIT = 1024 * 1024  # a form of the console, an update: far less; a planning CSV fits
TOO_LARGE = b"Request body too large"


class _BodyTooLargeError(Exception):
    """Raised in the route by ``receive`` once the body passed the limit; caught by ``BodyLimit``."""


class BodyLimit:
    """ASGI middleware: at most ``limits[path]`` (else ``default``) bytes of request body per request."""

    def __init__(
        self, app: ASGIApp, *, default: int = DEFAULT_BODY_LIMIT, limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.limits = dict(limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared is not None and (declared < 0 or declared > limit):
            await _too_large(send)  # a length we cannot read (-1) is refused like one too long
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLargeError
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _BodyTooLargeError:
            if not started:
                await _too_large(send)


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when absent (chunked), -1 when unreadable or given twice."""
    values = [value for name, value in scope["headers"] if name == b"content-length"]
    if not values:
        return None
    number = plain_number(values[0].decode("latin-1").strip()) if len(values) == 1 else None
    return -1 if number is None else number


async def _too_large(send: Send) -> None:
    # "Connection: close": the server stops reading what the client still sends (uvicorn closes the socket).
    headers = [
        (b"content-type", b"text/plain"),
        (b"content-length", str(len(TOO_LARGE)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": TOO_LARGE})


# --- Logs ----------------------------------------------------------------------------------------------------------

REDACTED = "[secret]"
MIN_PART = 16  # a part of a secret shorter than this is no secret on its own (and would blank common words)
ACCESS_LOGGER = "uvicorn.access"


def secrets_of(settings: Settings) -> set[str]:
    """Every secret of the settings: any field named like a token, secret, key or password (a setting added later,
    a console session key say, is covered by its name), with the forms it takes in URLs and headers."""
    found: set[str] = set()
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, str) and value and name.endswith(("_token", "_secret", "_key", "_password")):
            found.add(value)
    token = settings.telegram_bot_token
    if token and len(token.partition(":")[2]) >= MIN_PART:
        found.add(token.partition(":")[2])  # the part after "123456789:" is the secret one (35 characters)
    if settings.twilio_account_sid and settings.twilio_auth_token:  # HTTP Basic authentication of the API calls
        pair = f"{settings.twilio_account_sid}:{settings.twilio_auth_token}"
        found.add(base64.b64encode(pair.encode()).decode("ascii"))
    encoded = {form for secret in found for form in (quote(secret, safe=""), quote_plus(secret), quote(secret))}
    return {secret for secret in found | encoded if secret}


@dataclass
class _Redactor:
    """The record factory: every record is looked at once, where it is made, whoever logs it and wherever it goes."""

    previous: Any
    secrets: set[str] = field(default_factory=set)
    ordered: tuple[str, ...] = ()

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets.update(secrets)
        self.ordered = tuple(sorted(self.secrets, key=len, reverse=True))  # "a:b" before "b"

    def redact(self, text: str) -> str:
        for secret in self.ordered:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.previous(*args, **kwargs)
        if record.name == ACCESS_LOGGER:
            _drop_query_string(record)
        try:
            self._clean(record)
        except Exception:  # a record whose arguments do not fit its message: logging reports it when emitting
            return record
        return record

    def _clean(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            if record.name == ACCESS_LOGGER:  # uvicorn's formatter reads the arguments: redact them one by one
                record.args = tuple(self.redact(a) if isinstance(a, str) else a for a in record.args or ())
            else:
                record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)  # formatters use exc_text when it is set
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)


def _drop_query_string(record: logging.LogRecord) -> None:
    """uvicorn logs '%s - "%s %s HTTP/%s" %d' with the path and its query string as the third argument."""
    args = record.args
    if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
        record.args = (args[0], args[1], args[2].partition("?")[0], args[3], args[4])


# Libraries whose DEBUG lines quote database parameters (numbers, names, and any key stored in the database): never
# below WARNING, whatever level the rest of the logs is set to.
QUIET_LIBRARIES = ("aiosqlite", "asyncpg", "sqlalchemy.engine")


def protect_logs(settings: Settings) -> None:
    """Install the redaction of ``settings``' secrets in every log record of the process (once; later calls add
    their secrets), and keep the database drivers quiet."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _Redactor):
        factory = _Redactor(previous=factory)
        logging.setLogRecordFactory(factory)
    factory.add(secrets_of(settings))
    for name in QUIET_LIBRARIES:
        library = logging.getLogger(name)
        if library.getEffectiveLevel() < logging.WARNING:
            library.setLevel(logging.WARNING)
