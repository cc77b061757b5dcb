"""What protects every route, installed by the wiring (``app.py``): bounded request bodies.

No route reads more request body than its limit, whatever the transfer encoding. A declared ``Content-Length``
over the limit is answered 413 before the route runs; a chunked body is counted as it streams in and the route is
stopped at the limit (413). Either way the connection is closed, so the rest of the upload is never read. This runs
before any parsing or signature check: an unsigned 900 MB form costs the SMS webhook's 64 KiB.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels import plain_number

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
