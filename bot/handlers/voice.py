"""The voice channel through Twilio, both directions: calls placed from the outbox, and the webhooks of calls.

Out: ``VoiceSender`` places one call per outbox row with Twilio's Calls API
(https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource): the call fetches what to say from our
own route, naming the row (``/voice/twilio/call?outbox=ID``), reports its progress to ``/voice/twilio/status``,
and uses answering machine detection with ``DetectMessageEnd`` (https://www.twilio.com/docs/voice/answering-machine-detection):
Twilio asks for the TwiML once it knows who answered — after the greeting's beep for a machine, so that the short
message left is heard whole. An in-doubt call is looked up in Twilio's call list (``find_sent``); a call whose end
was never reported is fetched (``call_report``).

In, all signed like the SMS webhook (``X-Twilio-Signature`` over ``ATELIER_PUBLIC_URL`` + path + query,
https://www.twilio.com/docs/usage/security#validating-requests), each form at most ``MAX_FORM_BYTES``:

- ``POST /voice/twilio/call?outbox=ID``: the call was answered; we answer TwiML (``<Say>``, ``<Gather>``,
  https://www.twilio.com/docs/voice/twiml);
- ``POST /voice/twilio/keys?outbox=ID``: the ``<Gather>`` action, with the key pressed (``Digits``);
- ``POST /voice/twilio/status[?outbox=ID]``: status callbacks (CallStatus, AnsweredBy, CallDuration);
- ``POST /voice/twilio/incoming``: the territory's number was called (its voice webhook), and
  ``POST /voice/twilio/menu?step=…``: the keys of its menu.

This module translates between Twilio and ``bot.service.voice``, which decides what a call says and what keys do.
Logs never show a whole phone number (``masked``) nor what is said.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import requests
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot import handlers
from bot.channels import MAX_ROW_ID, CallReport, Outgoing, SendError, plain_number
from bot.config import Settings
from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.phones import masked, to_e164
from bot.logs import log_failure
from bot.scheduler.screening import LINE_REST
from bot.service import voice as service
from bot.service.voice_costs import spoken_seconds
from storage.enums import Channel

log = logging.getLogger("atelier.voice")

CALL_PATH = "/voice/twilio/call"
KEYS_PATH = "/voice/twilio/keys"
STATUS_PATH = "/voice/twilio/status"
INCOMING_PATH = "/voice/twilio/incoming"
MENU_PATH = "/voice/twilio/menu"
PATHS = (CALL_PATH, KEYS_PATH, STATUS_PATH, INCOMING_PATH, MENU_PATH)
MAX_FORM_BYTES = 64 * 1024  # Twilio's voice webhook forms are a few kilobytes, like its SMS ones
TWIML = "application/xml"
LANGUAGE = "fr-FR"
_SID = re.compile(r"CA[0-9a-f]{32}")  # a CallSid (https://www.twilio.com/docs/glossary/what-is-a-sid)
# CallStatus (https://www.twilio.com/docs/voice/api/call-resource#call-status-values) and AnsweredBy
# (https://www.twilio.com/docs/voice/answering-machine-detection) values are such words
_WORD = re.compile(r"[a-z][a-z_-]*")
MAX_ERROR_CODE = 10  # digits
KEY_WAIT = 6  # seconds <Gather> waits for a key after its last word
# Caller ids Twilio gives for a withheld number (https://www.twilio.com/docs/voice/twiml#anonymous-callers and its
# spelled-out forms): nobody to call back, nobody to recognise.
HIDDEN_CALLERS = {"anonymous", "+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"}

# Twilio error codes when placing a call (https://www.twilio.com/docs/api/errors).
RATE_LIMITED = {20429}  # Too Many Requests
AUTHENTICATION = {20003}
NOT_CALLABLE = {
    21211,  # Invalid 'To' Phone Number
    21214,  # 'To' phone number cannot be reached
    21215,  # Geo permission configuration is not permitting call
    21217,  # Phone number does not appear to be valid
    13224,  # Dial: Invalid phone number
}


# --- Rendering: a service Script → TwiML ----------------------------------------------------------------------


def render(script: service.Script, *, settings: Settings, keys_path: str) -> Response:
    """``say`` in order; with ``gather``, listen for one key while saying the prompt, ask once more, then say the
    closing words and hang up. Every word in French, with the configured voice (``ATELIER_TTS_VOICE``)."""
    response = VoiceResponse()
    voice = settings.tts_voice
    if script.gather is None:
        for text in script.say:
            response.say(text, voice=voice, language=LANGUAGE)
        response.hangup()
        return _twiml(response)
    action = _url(settings, keys_path, dict(script.gather))
    first = Gather(input="dtmf", num_digits=1, action=action, method="POST", timeout=KEY_WAIT)
    for index, text in enumerate(script.say):
        if index:
            first.pause(length=1)
        first.say(text, voice=voice, language=LANGUAGE)
    first.say(script.prompt, voice=voice, language=LANGUAGE)
    response.append(first)
    again = Gather(input="dtmf", num_digits=1, action=action, method="POST", timeout=KEY_WAIT)
    again.say(script.prompt, voice=voice, language=LANGUAGE)
    response.append(again)
    if script.closing:
        response.say(script.closing, voice=voice, language=LANGUAGE)
    response.hangup()
    return _twiml(response)


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response.to_xml()), media_type=TWIML)


def _url(settings: Settings, path: str, query: dict[str, str]) -> str:
    base = settings.public_url or ""
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


# --- Webhooks ---------------------------------------------------------------------------------------------------


def _sid(form: FormData) -> str | None:
    value = handlers.field(form, "CallSid")
    return value if _SID.fullmatch(value) else None


def _caller(form: FormData) -> str | None:
    raw = handlers.field(form, "From").strip()
    if raw.casefold() in HIDDEN_CALLERS or raw in HIDDEN_CALLERS:
        return None
    return to_e164(raw)


def _query_number(request: Request, name: str) -> int | None:
    """A row's id in our own URL (``outbox``, ``subject``)."""
    return plain_number(request.query_params.get(name, ""), most=MAX_ROW_ID)


def _word(form: FormData, name: str, *, longest: int) -> str | None:
    """One of Twilio's words (a CallStatus, an AnsweredBy: ``no-answer``, ``machine_end_beep``), lower case; None
    for anything else — a value we store must be one a database can hold (PostgreSQL's text refuses NUL)."""
    value = handlers.field(form, name).strip().lower()
    return value if _WORD.fullmatch(value) and len(value) <= longest else None


def report_of(form: FormData) -> CallReport | None:
    """A status callback → the neutral report; None when it is not one."""
    sid, status = _sid(form), _word(form, "CallStatus", longest=20)
    if sid is None or status is None:
        return None
    duration = plain_number(handlers.field(form, "CallDuration").strip(), most=MAX_ROW_ID)
    raw_code = handlers.field(form, "ErrorCode").strip()
    code = plain_number(raw_code) if len(raw_code) <= MAX_ERROR_CODE else None
    answered_by = _word(form, "AnsweredBy", longest=30)
    return CallReport(sid, status, answered_by, duration, str(code) if code is not None else None)


def routes(ctx: Context) -> list[Route]:
    """The voice webhooks, bound to ``ctx``."""
    settings = ctx.settings

    async def signed_form(request: Request, path: str) -> FormData | Response:
        form = await handlers.read_form(request, most=MAX_FORM_BYTES)
        if not handlers.twilio_signed(request, form, settings, path):
            log.warning("voice webhook %s refused: missing or wrong X-Twilio-Signature", path)
            return handlers.forbidden()
        return form if form is not None else FormData()

    def spoken(script: service.Script, keys_path: str) -> Response:
        return render(script, settings=settings, keys_path=keys_path)

    async def kindly(what: str, script: Awaitable[service.Script]) -> service.Script:
        """A failure says sorry and hangs up, never an error Twilio would read out as "an application error"."""
        try:
            return await script
        except Exception as exc:
            log_failure(log, what, exc)
            return service.Script(say=(say.technical_problem(),))

    async def placed_call(request: Request, path: str) -> tuple[FormData, int, str] | Response:
        """A webhook about a call we placed: its form, outbox row and CallSid; or the response that ends it."""
        form = await signed_form(request, path)
        if isinstance(form, Response):
            return form
        outbox, sid = _query_number(request, "outbox"), _sid(form)
        if outbox is None or sid is None:
            return spoken(service.Script(say=(say.goodbye_spoken(),)), KEYS_PATH)
        return form, outbox, sid

    async def call(request: Request) -> Response:
        placed = await placed_call(request, CALL_PATH)
        if isinstance(placed, Response):
            return placed
        form, outbox, sid = placed
        answered_by = _word(form, "AnsweredBy", longest=30)
        script = await kindly(
            f"call {outbox}", service.answer_call(ctx=ctx, outbox_id=outbox, call_sid=sid, answered_by=answered_by)
        )
        log.info("call for message %s answered (%s)", outbox, answered_by or "no detection")
        return spoken(script, KEYS_PATH)

    async def keys(request: Request) -> Response:
        placed = await placed_call(request, KEYS_PATH)
        if isinstance(placed, Response):
            return placed
        form, outbox, sid = placed
        digits = handlers.field(form, "Digits")[:8]
        script = await kindly(
            f"keys for call {outbox}", service.press_keys(ctx=ctx, outbox_id=outbox, call_sid=sid, digits=digits)
        )
        return spoken(script, KEYS_PATH)

    async def status(request: Request) -> Response:
        form = await signed_form(request, STATUS_PATH)
        if isinstance(form, Response):
            return form
        report = report_of(form)
        if report is None:
            return Response(status_code=204)
        outbox = _query_number(request, "outbox")
        try:
            await service.record_call_status(ctx=ctx, report=report, outbox_id=outbox)
        except Exception as exc:  # Twilio shows a failed callback in its console; the sweep asks again later
            log_failure(log, f"call status for message {outbox}", exc)
            return Response(status_code=500)
        log.info("call for message %s: %s", outbox, report.status)
        return Response(status_code=204)

    async def received_call(request: Request, path: str) -> tuple[FormData, str] | Response:
        """A webhook about a call someone made to us: its form and CallSid; or the response that ends it."""
        form = await signed_form(request, path)
        if isinstance(form, Response):
            return form
        sid = _sid(form)
        if sid is None:
            return spoken(service.Script(say=(say.goodbye_spoken(),)), MENU_PATH)
        return form, sid

    async def incoming(request: Request) -> Response:
        received = await received_call(request, INCOMING_PATH)
        if isinstance(received, Response):
            return received
        form, sid = received
        log.info("call received from %s", masked(_caller(form)))
        return spoken(await kindly("incoming call", service.incoming_call(ctx=ctx, call_sid=sid)), MENU_PATH)

    async def menu(request: Request) -> Response:
        received = await received_call(request, MENU_PATH)
        if isinstance(received, Response):
            return received
        form, sid = received
        step = request.query_params.get("step", "")[:20]
        script = await kindly(
            "menu of an incoming call",
            service.menu_keys(
                ctx=ctx, call_sid=sid, caller=_caller(form), step=step, subject=_query_number(request, "subject"),
                digits=handlers.field(form, "Digits")[:8],
            ),
        )  # fmt: skip
        return spoken(script, MENU_PATH)

    return [
        Route(CALL_PATH, call, methods=["POST"], name="voice_call"),
        Route(KEYS_PATH, keys, methods=["POST"], name="voice_keys"),
        Route(STATUS_PATH, status, methods=["POST"], name="voice_status"),
        Route(INCOMING_PATH, incoming, methods=["POST"], name="voice_incoming"),
        Route(MENU_PATH, menu, methods=["POST"], name="voice_menu"),
    ]


# --- Placing calls ----------------------------------------------------------------------------------------------


def classify(exc: TwilioRestException) -> SendError:
    """A Twilio error when placing a call → what the dispatcher should do."""
    status = int(exc.status or 0)
    code = plain_number(str(exc.code)) if exc.code is not None else None
    label = str(code if code is not None else status)
    if status == 429 or code in RATE_LIMITED:
        return SendError("rate limited", transient=True, code=label)
    if status >= 500:
        return SendError("Twilio unavailable", transient=True, code=label)
    if status == 401 or code in AUTHENTICATION:
        log.error("Twilio refused our credentials (check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)")
        return SendError("Twilio authentication failed", transient=True, code=label)
    if code in NOT_CALLABLE:
        return SendError("number cannot be called", transient=False, code=label)
    return SendError("refused by Twilio", transient=False, code=label)


class VoiceSender:
    """Places calls through Twilio's Calls API; also a ``SentLookup`` (the call list) and a ``CallLookup``.

    The official client's synchronous HTTP client runs in a worker thread: at a call or two per second that costs
    nothing, and it needs none of the repairs the asynchronous one does (see ``bot.handlers.sms``). Its request
    log, which holds the numbers called, is kept quiet.
    """

    channel = Channel.voice
    # characters in one <Say> with an Amazon Polly voice (https://www.twilio.com/docs/api/errors/13521)
    max_length = 3000
    supports_buttons = False  # keys, said after the message
    # One call at a time to a number, and ten minutes between two calls (nobody is rung twice in a row): the
    # dispatcher keeps that gap in the database, across processes and restarts (``screening.LINE_REST``), rather
    # than in a process's memory, which would also hold back a call given back for a later slot.
    recipient_interval: timedelta | None = None
    line_rest = LINE_REST
    spoken_limit = timedelta(minutes=2)  # the longest a message may take to say (said twice, then the keys)
    ring_seconds = 30  # how long a call rings before it counts as "no-answer"
    time_limit_seconds = 300  # a call never lasts longer (and never costs more than five minutes)

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        public_url: str,
        api_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from = from_number
        self._public_url = public_url
        self._api_url = api_url
        self._timeout = timeout
        self._client: Client | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> VoiceSender:
        if not (settings.calls_enabled and settings.twilio_account_sid and settings.twilio_auth_token):
            raise ValueError("calls need Twilio (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM) and a public URL")
        assert settings.twilio_from is not None and settings.public_url is not None  # noqa: S101 - calls_enabled
        return cls(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from,
            public_url=settings.public_url,
            api_url=settings.twilio_api_url,
        )

    def _twilio(self) -> Client:
        if self._client is None:
            quiet = logging.getLogger("atelier.voice.twilio_http")
            quiet.setLevel(logging.WARNING)  # twilio logs each request's parameters at INFO: the number called
            http = TwilioHttpClient(timeout=self._timeout, logger=quiet)
            client = Client(self._account_sid, self._auth_token, http_client=http)
            if self._api_url:
                client.api.base_url = self._api_url
                client.region = None  # see TwilioSender._twilio: TWILIO_REGION / TWILIO_EDGE would rewrite the host
                client.edge = None
            self._client = client
        return self._client

    async def aclose(self) -> None:
        client = self._client
        self._client = None
        if client is not None:
            session = getattr(client.http_client, "session", None)
            if isinstance(session, requests.Session):
                await asyncio.to_thread(session.close)

    async def send(self, message: Outgoing) -> str:
        if message.message_id is None:
            raise SendError("a call needs its outbox row", transient=False, code="no-row")
        if len(message.body) > self.max_length:
            log.warning("call to %s not placed: %d characters to say", masked(message.to), len(message.body))
            raise SendError(f"longer than {self.max_length} characters", transient=False, code="13521")
        if 2 * spoken_seconds(message.body) > self.spoken_limit.total_seconds():  # said twice
            log.warning("call to %s not placed: too long to say", masked(message.to))
            raise SendError("too long to say on the phone", transient=False, code="spoken")
        query = {"outbox": str(message.message_id)}
        try:
            created = await asyncio.to_thread(
                self._twilio().calls.create,
                to=message.to,
                from_=self._from,
                url=f"{self._public_url}{CALL_PATH}?{urlencode(query)}",
                method="POST",
                status_callback=f"{self._public_url}{STATUS_PATH}?{urlencode(query)}",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                status_callback_method="POST",
                machine_detection="DetectMessageEnd",
                timeout=self.ring_seconds,
                time_limit=self.time_limit_seconds,
            )
        except TwilioRestException as exc:
            error = classify(exc)
            log.warning("call to %s refused by Twilio: code %s", masked(message.to), error.code)
            raise error from None
        except (requests.RequestException, OSError) as exc:
            log.warning("call to %s not placed: %s", masked(message.to), type(exc).__name__)
            raise SendError("Twilio unreachable", transient=True, code="network") from None
        return str(created.sid)

    async def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:  # noqa: ARG002 - a call has no text
        """The sid of a call placed to ``to`` from our number since ``since``, if any. A call carries no text to
        compare: the dispatcher never lets two calls to one number be in flight or close together (``LINE_REST``),
        so the one call found since the claim is this message's. Raises ``SendError`` (transient) when Twilio
        cannot be asked."""
        try:
            found = await asyncio.to_thread(self._twilio().calls.list, to=to, from_=self._from, limit=20)
        except TwilioRestException as exc:
            raise classify(exc) from None
        except TwilioException as exc:
            raise SendError("Twilio could not list calls", transient=True, code="list") from exc
        except (requests.RequestException, OSError):
            raise SendError("Twilio unreachable", transient=True, code="network") from None
        skew = timedelta(seconds=30)  # our clock and Twilio's may differ a little
        for candidate in found:
            created = candidate.date_created or candidate.start_time
            if created is not None and created >= (since - skew).astimezone(UTC):
                return str(candidate.sid)
        return None

    async def call_report(self, call_sid: str) -> CallReport | None:
        """What Twilio knows of the call now; None when it cannot say."""
        try:
            call = await asyncio.to_thread(self._twilio().calls(call_sid).fetch)
        except (TwilioRestException, TwilioException, requests.RequestException, OSError) as exc:
            log.warning("call %s could not be fetched: %s", call_sid, type(exc).__name__)
            return None
        duration = plain_number(str(call.duration or ""))
        status = str(call.status or "")
        return CallReport(call_sid, status, getattr(call, "answered_by", None), duration)
