"""The SMS channel through Twilio, both directions: the webhooks in, the sender out.

In: ``POST /sms/twilio`` receives a resident's SMS (https://www.twilio.com/docs/messaging/guides/webhook-request),
checks ``X-Twilio-Signature`` (https://www.twilio.com/docs/usage/security#validating-requests) and answers the
dialogue's replies as TwiML (https://www.twilio.com/docs/messaging/twiml). ``POST /sms/twilio/status`` records
delivery reports (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status) on the outbox row.

Out: ``TwilioSender`` sends outbox rows with the official client and classifies Twilio's errors for the
dispatcher (https://www.twilio.com/docs/api/errors).

This module translates between Twilio and the neutral types of ``bot.channels``; what to answer is decided by
``bot.service.inbound``. Logs never show a whole phone number (``masked``) nor a message body.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from xml.sax.saxutils import escape

import aiohttp
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from bot import handlers
from bot.channels import MAX_ROW_ID, Inbound, Outgoing, SendError, SentLookup, plain_number
from bot.config import Settings
from bot.context import Context
from bot.conversation import texts as messages
from bot.conversation.gsm7 import render_sms
from bot.conversation.phones import masked, to_e164
from bot.logs import log_failure
from bot.service import inbound as service
from bot.service.reminders import record_report
from storage.enums import Channel
from storage.models import MessageStatus

log = logging.getLogger("atelier.sms")

INBOUND_PATH = "/sms/twilio"
STATUS_PATH = "/sms/twilio/status"
OUTBOX_PARAMETER = "outbox"  # on the status callback of a TwiML reply: the outbox row it reports on
# Twilio creates a TwiML reply within seconds and reports on it; without a report by then, it is asked. An answer
# Twilio never had (our webhook answered after its 15 s timeout) is then sent again, late rather than never.
REPLY_CONFIRMATION = timedelta(minutes=2)
MAX_FORM_BYTES = 64 * 1024  # Twilio's webhook forms are a few kilobytes; anything bigger is not Twilio
TWIML = "application/xml"
_SID = re.compile(r"[A-Z]{2}[0-9a-f]{32}")
MAX_ERROR_CODE = 10  # digits

# Twilio error codes that say something about the recipient rather than about this one message.
OPTED_OUT = {21610}  # https://www.twilio.com/docs/api/errors/21610 — "Attempt to send to unsubscribed recipient"
UNREACHABLE = {
    21614,  # https://www.twilio.com/docs/api/errors/21614 — "'To' number is not a valid mobile number"
    21635,  # https://www.twilio.com/docs/api/errors/21635 — "'To' number cannot be a landline" (France among others)
    30006,  # https://www.twilio.com/docs/api/errors/30006 — "Landline or unreachable carrier"
}
RATE_LIMITED = {20429}  # https://www.twilio.com/docs/api/errors/20429 — "Too Many Requests"
AUTHENTICATION = {20003}  # https://www.twilio.com/docs/api/errors/20003 — wrong account SID or auth token


# --- Rendering ---------------------------------------------------------------------------------------------------


def twiml(texts: Sequence[str] = (), reports: Sequence[str | None] = ()) -> Response:
    """One ``<Message>`` per text; no text gives the empty ``<Response />`` that tells Twilio to send nothing.

    ``reports``: per text, the URL where Twilio reports on the message it creates (the ``action`` attribute,
    https://www.twilio.com/docs/messaging/twiml/message), or None.

    Written as text, escaped as ElementTree escapes (the same bytes as twilio's ``MessagingResponse``, tests/
    test_sms_twiml.py): building the tree and serialising it cost 18 µs a turn, the text 2 µs."""
    if not texts:
        return Response(_EMPTY_TWIML, media_type=TWIML)
    parts = [_XML_DECLARATION, "<Response>"]
    for index, text in enumerate(texts):
        report = reports[index] if index < len(reports) else None
        action = "" if report is None else f' action="{escape(report, _ATTRIBUTE)}" method="POST"'
        parts.append(f"<Message{action}>{escape(text)}</Message>" if text else f"<Message{action} />")
    parts.append("</Response>")
    return Response("".join(parts), media_type=TWIML)


_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_EMPTY_TWIML = _XML_DECLARATION + "<Response />"
# What ElementTree escapes in an attribute's value besides &, < and > (xml.etree.ElementTree._escape_attrib).
_ATTRIBUTE = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"}


def _confirm_within(ctx: Context) -> timedelta | None:
    """How long a reply in TwiML stays unconfirmed before Twilio is asked whether it sent it: only when the SMS
    sender can ask (Twilio itself; never the console sender, whose replies would otherwise be sent again)."""
    return REPLY_CONFIRMATION if isinstance(ctx.senders.get(Channel.sms), SentLookup) else None


def report_url(settings: Settings, outbox_id: int) -> str | None:
    """Where Twilio reports on a reply it sends from our TwiML: the status callback, naming the outbox row (the
    row has no Twilio sid yet). None without a public URL: Twilio could not reach us."""
    if settings.public_url is None:
        return None
    return f"{settings.public_url}{STATUS_PATH}?{OUTBOX_PARAMETER}={outbox_id}"


# --- Webhooks ----------------------------------------------------------------------------------------------------


def _sid(value: str) -> str | None:
    """A Twilio sid (``SM`` and 32 hexadecimal digits, https://www.twilio.com/docs/glossary/what-is-a-sid), or None
    for anything else: only Twilio signs our webhooks, but the value still goes into a bounded column."""
    return value if _SID.fullmatch(value) else None


def _inbound_of(form: FormData) -> Inbound | None:
    """The resident's message, or None for what is ignored: no sender number, or neither a Body field nor a
    picture (not an incoming message). An empty Body is a message: the dialogue answers it kindly."""
    address = to_e164(handlers.field(form, "From"))
    if address is None:
        return None
    if "Body" not in form and not plain_number(handlers.field(form, "NumMedia")):
        return None
    return Inbound(
        channel=Channel.sms,
        address=address,
        text=handlers.field(form, "Body"),
        provider_id=_sid(handlers.field(form, "MessageSid")),
    )


def routes(ctx: Context) -> list[Route]:
    """The two Twilio webhooks, bound to ``ctx``."""

    async def inbound(request: Request) -> Response:
        form = await handlers.read_form(request, most=MAX_FORM_BYTES)
        if not handlers.twilio_signed(request, form, ctx.settings, INBOUND_PATH):
            log.warning("SMS webhook refused: missing or wrong X-Twilio-Signature")
            return handlers.forbidden()
        message = _inbound_of(form) if form is not None else None
        if message is None:
            # Not a message we can answer (no valid sender number, nothing said): logged so it can be looked into.
            log.info(
                "SMS webhook ignored: from %s, not a message", masked(handlers.field(form, "From") if form else None)
            )
            return twiml()
        try:
            handled = await service.handle_inbound(
                ctx=ctx, inbound=message, inline=True, confirm_within=_confirm_within(ctx)
            )
        except Exception as exc:  # the resident gets a kind answer, never an error page
            # The service's transaction was rolled back: nothing changed, and the resident is told to write
            # again. Twilio does not retry a messaging webhook that failed (it only logs error 11200), so an
            # apology is kinder than a 500. It is the one SMS that leaves without an outbox row: the database is
            # the likely culprit.
            log_failure(log, f"SMS for {masked(message.address)}", exc)
            return twiml([render_sms(messages.technical_problem())])
        log.info(
            "SMS from %s answered with %d message(s)%s",
            masked(message.address),
            len(handled.replies),
            " (repeated delivery)" if handled.duplicate else "",
        )
        reports = [report_url(ctx.settings, outbox_id) for outbox_id in handled.reply_ids]
        return twiml([render_sms(reply.text, reply.choices) for reply in handled.replies], reports)

    async def status(request: Request) -> Response:
        form = await handlers.read_form(request, most=MAX_FORM_BYTES)
        if not handlers.twilio_signed(request, form, ctx.settings, STATUS_PATH):
            log.warning("SMS status callback refused: missing or wrong X-Twilio-Signature")
            return handlers.forbidden()
        update = delivery_update(form) if form is not None else None
        if update is None:
            return Response(status_code=204)
        outbox = plain_number(request.query_params.get(OUTBOX_PARAMETER, ""), most=MAX_ROW_ID)
        if outbox is not None:  # signed with the URL: only our own TwiML can have named it
            update["outbox_id"] = outbox
        try:
            found = await _record(ctx, update)
        except Exception as exc:  # Twilio shows a failed callback in its console (error 11200); we log it
            log_failure(log, "SMS status for ?", exc)
            return Response(status_code=500)
        if not found:
            log.info("SMS status %s for an unknown message", update["status"].value)
        return Response(status_code=204)

    return [
        Route(INBOUND_PATH, inbound, methods=["POST"], name="sms_inbound"),
        Route(STATUS_PATH, status, methods=["POST"], name="sms_status"),
    ]


# A report can overtake the sender's own record of the sid: Twilio may call back ("queued", or "failed" for a
# landline) a few milliseconds after answering the send, before the dispatcher has written the sid on the row.
# Twilio does not retry status callbacks, so an unknown sid is looked up again for a moment before giving up
# (``ATELIER_STATUS_LOOKUP_DELAYS``: 1.55 s in all by default).


async def _record(ctx: Context, update: dict[str, Any]) -> bool:
    for delay in (*ctx.settings.status_lookup_delays, None):
        if await record_report(ctx=ctx, report=update, now=ctx.now()):
            return True
        if delay is not None:
            await asyncio.sleep(delay)
    return False


# Twilio's MessageStatus values → the outbox's. "queued"/"sending" mean Twilio has the message: for us it is sent.
_TWILIO_STATUS = {
    "accepted": MessageStatus.sent,
    "scheduled": MessageStatus.sent,
    "queued": MessageStatus.sent,
    "sending": MessageStatus.sent,
    "sent": MessageStatus.sent,
    "delivered": MessageStatus.delivered,
    "read": MessageStatus.delivered,
    "undelivered": MessageStatus.failed,
    "failed": MessageStatus.failed,
    "canceled": MessageStatus.failed,
}


def _code(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def delivery_update(form: FormData) -> dict[str, Any] | None:
    """A status callback → the keyword arguments of ``storage.delivery.record_status``; None when irrelevant."""
    sid = _sid(handlers.field(form, "MessageSid") or handlers.field(form, "SmsSid"))
    status = _TWILIO_STATUS.get((handlers.field(form, "MessageStatus") or handlers.field(form, "SmsStatus")).lower())
    if sid is None or status is None:
        return None
    raw_code = handlers.field(form, "ErrorCode").strip()
    code = plain_number(raw_code) if len(raw_code) <= MAX_ERROR_CODE else None  # Twilio's codes have 5 digits
    return {
        "provider_id": sid,
        "status": status,
        "error_code": str(code) if code is not None else None,
        "opted_out": code in OPTED_OUT,
        "unreachable": code in UNREACHABLE,
    }


# --- Sending -----------------------------------------------------------------------------------------------------

# Twilio's exceptions do not carry the response headers, so the HTTP client keeps the Retry-After of the last
# error response here. Per task: concurrent sends do not see each other's.
_retry_after: contextvars.ContextVar[float | None] = contextvars.ContextVar("twilio_retry_after", default=None)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds, from either form RFC 9110 allows (seconds, or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
    return max(0.0, seconds)


class _HttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio ships no type information
    """The official async HTTP client, with three repairs:

    - aiohttp 3.12+ deprecates ``auth=BasicAuth(...)`` (a DeprecationWarning on every request): the
      ``Authorization`` header is sent directly instead;
    - twilio passes ``timeout=None`` when none is given, which aiohttp reads as "no timeout at all": a request
      never waits longer than ``timeout`` seconds here;
    - the ``Retry-After`` of an error response is kept (see ``_retry_after``), and the request is not logged
      (twilio's logger prints the query string, which holds the recipient's number for a list call).
    """

    def __init__(self, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the parameter of twilio's HttpClient.request
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        headers = dict(headers or {})
        if auth is not None:
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {credentials}"
        if self.session is None:  # the parent builds it (pool_connections=True); closed clients have none
            raise aiohttp.ClientConnectionError("the Twilio HTTP client is closed")
        async with self.session.request(
            method.upper(),
            url,
            params=params,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout) if timeout else self._client_timeout,
            allow_redirects=allow_redirects,
        ) as response:
            text = await response.text()
            if response.status >= 400:
                _retry_after.set(parse_retry_after(response.headers.get("Retry-After")))
            return TwilioResponse(response.status, text, response.headers)


def classify(exc: TwilioRestException | TwilioServiceException) -> SendError:
    """A Twilio error → what the dispatcher should do (https://www.twilio.com/docs/api/errors)."""
    status = int(exc.status or 0)
    code = _code(exc.code) if exc.code is not None else None
    label = str(code if code is not None else status)
    if code in OPTED_OUT:
        return SendError("recipient opted out", transient=False, code=label, opted_out=True)
    if code in UNREACHABLE:
        return SendError("not a mobile number", transient=False, code=label, unreachable=True)
    if status == 429 or code in RATE_LIMITED:
        return SendError("rate limited", transient=True, code=label, retry_after=_retry_after.get())
    if status >= 500:
        return SendError("Twilio unavailable", transient=True, code=label, retry_after=_retry_after.get())
    if status == 401 or code in AUTHENTICATION:
        # Our credentials, not the message: keep the message for when they are fixed, and say so loudly.
        log.error("Twilio refused our credentials (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)")
        return SendError("Twilio authentication failed", transient=True, code=label)
    return SendError("refused by Twilio", transient=False, code=label)


class TwilioSender:
    """Sends SMS through Twilio's Messages API; also a ``SentLookup`` for crash recovery.

    The HTTP client is built on first use, inside the running event loop (aiohttp requires it); ``aclose``
    releases it.
    """

    channel = Channel.sms
    max_length = 1600  # https://www.twilio.com/docs/api/errors/21617 — concatenated body limit
    supports_buttons = False
    recipient_interval: timedelta | None = None  # Twilio queues per sender number, not per recipient

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_url: str | None = None,
        status_callback: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from = from_number
        self._api_url = api_url
        self._status_callback = status_callback
        self._timeout = timeout
        self._client: Client | None = None
        self._http: _HttpClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioSender:
        if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from):
            raise ValueError("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM are all needed to send SMS")
        return cls(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from,
            api_url=settings.twilio_api_url,
            status_callback=settings.public_url + STATUS_PATH if settings.public_url else None,
        )

    def _twilio(self) -> Client:
        if self._client is None:
            self._http = _HttpClient(timeout=self._timeout)
            client = Client(self._account_sid, self._auth_token, http_client=self._http)
            if self._api_url:
                client.api.base_url = self._api_url
                # TWILIO_REGION / TWILIO_EDGE (read from os.environ by the client) would rewrite the host of our
                # own API URL. Passing environment={} does not prevent it: the client does `environment or
                # os.environ`, and an empty dict is falsy. So they are cleared here.
                client.region = None
                client.edge = None
            self._client = client
        return self._client

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._client, self._http = None, None

    async def send(self, message: Outgoing) -> str:
        body = render_sms(message.body, message.choices)
        if len(body) > self.max_length:  # Twilio would refuse it (21617): say so without a request
            log.warning("SMS to %s not sent: %d characters", masked(message.to), len(body))
            raise SendError(f"longer than {self.max_length} characters", transient=False, code="21617")
        _retry_after.set(None)
        try:
            created = await self._twilio().messages.create_async(
                to=message.to,
                from_=self._from,
                body=body,
                status_callback=self._status_callback or values.unset,
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            error = classify(exc)
            log.warning("SMS to %s refused by Twilio: code %s", masked(message.to), error.code)
            raise error from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("SMS to %s not sent: %s", masked(message.to), type(exc).__name__)
            raise SendError("Twilio unreachable", transient=True, code="network") from None
        return str(created.sid)

    async def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:
        """The sid of a message Twilio accepted for ``to`` since ``since`` with this body, if any.

        ``body`` may be the outbox row's text without its choices: a message whose text starts with it followed by
        the choice lines matches too. Raises ``SendError`` (transient) when Twilio cannot be asked.
        """
        wanted = render_sms(body)
        try:
            found = await self._twilio().messages.list_async(
                to=to,
                from_=self._from,
                # the client writes the datetime with strftime("…Z") without converting it: give it UTC
                date_sent_after=since.astimezone(UTC),
                limit=100,
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise classify(exc) from None
        except TwilioException as exc:  # "Unable to fetch page": the list call's own error, holding the response
            status = getattr(exc.args[1], "status_code", None) if len(exc.args) > 1 else None
            raise SendError("Twilio could not list messages", transient=True, code=str(status)) from None
        except (aiohttp.ClientError, TimeoutError, OSError):
            raise SendError("Twilio unreachable", transient=True, code="network") from None
        skew = timedelta(minutes=1)  # our clock and Twilio's may differ a little
        for candidate in found:
            created = candidate.date_created or candidate.date_sent
            if created is not None and created < since - skew:
                continue
            text = candidate.body or ""
            if text == wanted or text.startswith(wanted + "\n"):
                return str(candidate.sid)
        return None
