"""The Programmable Voice part of the fake Twilio REST API (served by ``FakeTwilio``, on the same base URL as
Messages, like Twilio itself), and the phones it rings.

API (https://www.twilio.com/docs/voice/api/call-resource), for the official ``twilio`` client:

- ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` — places a call (To, From, Url, Method, StatusCallback,
  repeated StatusCallbackEvent, MachineDetection, Timeout, TimeLimit); 201 with a call resource whose ``sid`` is a
  unique ``CA…``; Twilio's errors for a missing or invalid To (21201 / 21211), a missing From (21213) or Url (21205);
- ``GET  /2010-04-01/Accounts/{AccountSid}/Calls.json`` — lists calls, newest first, filtered by ``To``/``From``,
  paged with ``PageSize``/``Page``;
- ``GET  /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`` — fetches one call (its status, who answered,
  how long it lasted).

A call rings a phone the test controls, over real HTTP, with requests signed like Twilio's
(``X-Twilio-Signature``, https://www.twilio.com/docs/usage/security#validating-requests):

- ``answer(sid, by="human")`` — the call's status goes to in-progress (an ``answered`` status callback when asked
  for), then the TwiML is fetched from the call's ``Url`` with ``AnsweredBy`` (machine detection);
- ``press(sid, digits)`` — posts ``Digits`` to the action of the last ``<Gather>`` heard, and hears the answer;
- ``hang_up(sid)``, ``no_answer(sid)``, ``busy(sid)``, ``fail(sid)`` — the final status callback (with
  ``CallDuration`` for an answered call);
- ``pickup(to, Pickup(...))`` — from then on every call to ``to`` runs by itself in a thread: no answer, busy, a
  machine, or a person who presses the given keys, one per menu heard;
- ``dial_in(url, caller)`` — someone calls the territory's number: the number's voice webhook ``url`` is fetched.

Everything a phone heard is kept per call (``heard``), as the text of every ``<Say>``, in order.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

if TYPE_CHECKING:
    from tests.helpers.fake_twilio import FakeTwilio

API_VERSION = "2010-04-01"
CALLS = "Calls"
ANSWERED_SECONDS = 42  # what an answered call lasts, unless the test says otherwise
FINAL = ("completed", "busy", "no-answer", "failed", "canceled")


@dataclass
class RecordedCall:
    """One call the fake placed, and what happened on it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    url: str
    status_callback: str | None
    events: tuple[str, ...]
    machine_detection: str | None
    timeout: int | None
    time_limit: int | None
    created_at: datetime
    status: str = "queued"
    answered_by: str | None = None
    duration: int | None = None
    heard: list[str] = field(default_factory=list)  # every <Say>, in order
    keys: list[str] = field(default_factory=list)  # every key pressed
    gather_action: str | None = None  # where the next key goes
    last_press: tuple[str, str] | None = None  # (action, digits) of the last key posted
    callbacks: list[tuple[str, int]] = field(default_factory=list)  # (status posted, our HTTP answer)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        data["created_at"] = self.created_at.isoformat()
        data["kind"] = "call"
        return data


@dataclass(frozen=True)
class Twiml:
    """What our server answered to one request of the call, as the phone hears it."""

    status: int
    says: tuple[str, ...]
    gather_action: str | None  # the first <Gather>'s action: where a key goes
    hangup: bool
    raw: str


@dataclass(frozen=True)
class Pickup:
    """How the phone at a number behaves when called (``FakeVoice.pickup``)."""

    answer: str = "human"  # "human", "machine" (answering machine), "no-answer", "busy", "failed"
    keys: str = ""  # one key per menu heard, in order ("32": hear it again, then 2)
    seconds: int = ANSWERED_SECONDS


def parse_twiml(status: int, text: str) -> Twiml:
    try:
        root = ET.fromstring(text)  # noqa: S314 - our own server's answer, in a test
    except ET.ParseError:
        return Twiml(status, (), None, False, text)
    says = tuple((element.text or "").strip() for element in root.iter("Say"))
    gather = next(root.iter("Gather"), None)
    return Twiml(
        status, says, gather.get("action") if gather is not None else None, root.find("Hangup") is not None, text
    )


class FakeVoice:
    """Calls, for ``FakeTwilio``: the API, and the phones."""

    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._pickups: dict[str, Pickup] = {}
        self._threads: list[threading.Thread] = []

    # reading what happened

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def call(self, sid: str) -> RecordedCall:
        with self._lock:
            for call in self._calls:
                if call.sid == sid:
                    return call
        raise KeyError(sid)

    def calls_to(self, number: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.to == number]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._pickups.clear()

    def wait(self) -> None:
        """Until the calls running by themselves (``pickup``) are over."""
        while True:
            with self._lock:
                running = [thread for thread in self._threads if thread.is_alive()]
                self._threads = running
            if not running:
                return
            for thread in running:
                thread.join(timeout=30)

    # the API

    def route(self, path: str) -> tuple[str, str | None] | None:
        """(account, call sid or None) for a Calls path; None for any other path."""
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == API_VERSION and parts[1] == "Accounts" and parts[3] == f"{CALLS}.json":
            return parts[2], None
        if len(parts) == 5 and parts[0] == API_VERSION and parts[1] == "Accounts" and parts[3] == CALLS:
            sid = parts[4].removesuffix(".json")
            return (parts[2], sid) if parts[4].endswith(".json") else None
        return None

    def handle(
        self, method: str, sid: str | None, query: dict[str, list[str]], form: dict[str, list[str]]
    ) -> tuple[int, Any]:
        from tests.helpers.fake_twilio import Fault, _ApiError

        if sid is not None:
            if method != "GET":
                raise _ApiError(Fault(status=405, code=20004, message="Method not allowed"))
            try:
                return 200, self._resource(self.call(sid))
            except KeyError:
                raise _ApiError(Fault(status=404, code=20404, message="The requested resource was not found")) from None
        if method == "POST":
            return 201, self._resource(self._create(form))
        if method == "GET":
            return 200, self._list(query)
        raise _ApiError(Fault(status=405, code=20004, message="Method not allowed"))

    def _create(self, form: dict[str, list[str]]) -> RecordedCall:
        from tests.helpers.fake_twilio import _E164, Fault, _ApiError

        def one(name: str) -> str:
            values = form.get(name)
            return values[-1].strip() if values else ""

        to = one("To")
        fault = self.fake.take_fault("POST", None)  # the SMS fake's refused numbers are refused SMS, not calls
        if fault is not None:
            if fault.accept:
                self._accept(form, to)
            self.fake.fail_with(fault)
        if not to:
            raise _ApiError(Fault(status=400, code=21201, message="No 'To' number is specified"))
        if not _E164.match(to):
            raise _ApiError(Fault(status=400, code=21211, message="Invalid 'To' Phone Number"))
        if not one("From"):
            raise _ApiError(Fault(status=400, code=21213, message="No 'From' number is specified"))
        if not one("Url") and not one("Twiml"):
            raise _ApiError(Fault(status=400, code=21205, message="Url parameter is required."))
        call = self._accept(form, to)
        pickup = self._pickups.get(to)
        if pickup is not None:
            thread = threading.Thread(target=self.run, args=(call.sid, pickup), name="fake-phone", daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()
        return call

    def _accept(self, form: dict[str, list[str]], to: str) -> RecordedCall:
        def one(name: str) -> str | None:
            values = form.get(name)
            return values[-1] if values else None

        def number(name: str) -> int | None:
            value = one(name)
            return int(value) if value and value.isdigit() else None

        call = RecordedCall(
            sid="CA" + uuid.uuid4().hex,
            account_sid=self.fake.account_sid,
            to=to,
            from_=one("From") or "",
            url=one("Url") or "",
            status_callback=one("StatusCallback"),
            events=tuple(form.get("StatusCallbackEvent", [])),
            machine_detection=one("MachineDetection"),
            timeout=number("Timeout"),
            time_limit=number("TimeLimit"),
            created_at=self.fake.clock(),
        )
        with self._lock:
            self._calls.append(call)
        self.fake.record(call.to_json())
        return call

    def _resource(self, call: RecordedCall) -> dict[str, Any]:
        created = format_datetime(call.created_at.astimezone(UTC), usegmt=True)
        started = created if call.status not in ("queued", "ringing", "busy", "no-answer", "failed") else None
        return {
            "sid": call.sid,
            "account_sid": call.account_sid,
            "api_version": API_VERSION,
            "date_created": created,
            "date_updated": created,
            "start_time": started,
            "end_time": created if call.status in FINAL else None,
            "direction": "outbound-api",
            "duration": str(call.duration) if call.duration is not None else None,
            "answered_by": call.answered_by,
            "from": call.from_,
            "to": call.to,
            "status": call.status,
            "price": None,
            "price_unit": "USD",
            "uri": f"/{API_VERSION}/Accounts/{call.account_sid}/Calls/{call.sid}.json",
        }

    def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        fault = self.fake.take_fault("GET", None)
        if fault is not None:
            self.fake.fail_with(fault)

        def first(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        page_size = max(1, min(1000, int(first("PageSize") or 50)))
        page = max(0, int(first("Page") or 0))
        selected = [
            call
            for call in self.calls
            if (first("To") is None or call.to == first("To"))
            and (first("From") is None or call.from_ == first("From"))
        ]
        selected.reverse()  # newest first, like Twilio
        chunk = selected[page * page_size : (page + 1) * page_size]
        base = {key: values[0] for key, values in query.items() if key not in {"Page", "PageToken", "PageSize"}}
        path = f"/{API_VERSION}/Accounts/{self.fake.account_sid}/{CALLS}.json"

        def page_uri(number: int) -> str:
            return f"{path}?{urlencode({**base, 'PageSize': page_size, 'Page': number})}"

        has_next = (page + 1) * page_size < len(selected)
        return {
            "calls": [self._resource(call) for call in chunk],
            "page": page,
            "page_size": page_size,
            "start": page * page_size,
            "end": page * page_size + max(len(chunk) - 1, 0),
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if has_next else None,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        }

    # the phones (blocking: an async test calls them through asyncio.to_thread)

    def pickup(self, to: str, behaviour: Pickup) -> None:
        """Every call to ``to`` from now on runs by itself, as ``behaviour`` says."""
        with self._lock:
            self._pickups[to] = behaviour

    def run(self, sid: str, pickup: Pickup) -> None:
        """A whole call, as the phone at its number behaves."""
        self.ring(sid)
        if pickup.answer in ("no-answer", "busy", "failed"):
            self._end(sid, pickup.answer)
            return
        twiml = self.answer(sid, by="machine_end_beep" if pickup.answer == "machine" else "human")
        for key in pickup.keys:
            if twiml.gather_action is None:
                break
            twiml = self.press(sid, key)
        self.hang_up(sid, seconds=pickup.seconds)

    def ring(self, sid: str) -> None:
        self._status(sid, "initiated", event="initiated")
        self._status(sid, "ringing", event="ringing")

    def answer(self, sid: str, *, by: str = "human") -> Twiml:
        """Picked up (by a person, or an answering machine: ``machine_end_beep``); our TwiML is fetched."""
        call = self.call(sid)
        with self._lock:
            call.answered_by = by if call.machine_detection else None
        self._status(sid, "in-progress", event="answered")
        params = {**self._params(call, "in-progress")}
        if call.machine_detection:
            params["AnsweredBy"] = by
        return self._hear(call, call.url, params)

    def press(self, sid: str, digits: str) -> Twiml:
        """Keys pressed in the last <Gather>; what our server answers is heard."""
        call = self.call(sid)
        if call.gather_action is None:
            raise AssertionError(f"no <Gather> to press {digits!r} into on call {sid}")
        action = call.gather_action
        with self._lock:
            call.keys.append(digits)
            call.last_press = (action, digits)
        return self._post_keys(call, action, digits)

    def press_again(self, sid: str) -> Twiml:
        """Twilio posts the last key a second time (a retry after a timeout): our answer must be the same."""
        call = self.call(sid)
        if call.last_press is None:
            raise AssertionError(f"no key was pressed on call {sid}")
        action, digits = call.last_press
        return self._post_keys(call, action, digits)

    def _post_keys(self, call: RecordedCall, action: str, digits: str) -> Twiml:
        params = {**self._params(call, "in-progress"), "Digits": digits, "FinishedOnKey": ""}
        if call.answered_by:
            params["AnsweredBy"] = call.answered_by
        return self._hear(call, action, params)

    def hang_up(self, sid: str, *, seconds: int = ANSWERED_SECONDS) -> None:
        self._end(sid, "completed", duration=seconds)

    def no_answer(self, sid: str) -> None:
        self._end(sid, "no-answer")

    def busy(self, sid: str) -> None:
        self._end(sid, "busy")

    def fail(self, sid: str) -> None:
        self._end(sid, "failed")

    def dial_in(self, url: str, caller: str, *, to: str | None = None) -> tuple[RecordedCall, Twiml]:
        """Someone calls the territory's number, whose voice webhook is ``url``."""
        call = RecordedCall(
            sid="CA" + uuid.uuid4().hex,
            account_sid=self.fake.account_sid,
            to=to or "",
            from_=caller,
            url=url,
            status_callback=None,
            events=(),
            machine_detection=None,
            timeout=None,
            time_limit=None,
            created_at=self.fake.clock(),
            status="ringing",
        )
        with self._lock:
            self._calls.append(call)
        params = {**self._params(call, "ringing"), "Direction": "inbound"}
        return call, self._hear(call, url, params)

    # plumbing

    def _params(self, call: RecordedCall, status: str) -> dict[str, str]:
        return {
            "AccountSid": call.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": status,
            "Direction": "outbound-api",
            "From": call.from_,
            "To": call.to,
        }

    def _hear(self, call: RecordedCall, url: str, params: dict[str, str]) -> Twiml:
        status, text = self.post(url, params)
        twiml = parse_twiml(status, text)
        with self._lock:
            call.heard.extend(twiml.says)
            call.gather_action = twiml.gather_action
        return twiml

    def _status(self, sid: str, status: str, *, event: str) -> None:
        call = self.call(sid)
        with self._lock:
            if call.status not in FINAL:
                call.status = status
        if call.status_callback and event in call.events:
            self._callback(call, status)

    def _end(self, sid: str, status: str, *, duration: int | None = None) -> None:
        call = self.call(sid)
        with self._lock:
            call.status = status
            call.duration = duration if duration is not None else 0
            call.gather_action = None
        if call.status_callback:  # "completed" (the final status) is always reported
            extra = {"CallDuration": str(call.duration)} if status == "completed" else {}
            self._callback(call, status, extra)

    def _callback(self, call: RecordedCall, status: str, extra: dict[str, str] | None = None) -> None:
        assert call.status_callback is not None
        params = {**self._params(call, status), "CallbackSource": "call-progress-events", **(extra or {})}
        if call.answered_by:
            params["AnsweredBy"] = call.answered_by
        answer, _ = self.post(call.status_callback, params)
        with self._lock:
            call.callbacks.append((status, answer))

    def post(self, url: str, params: dict[str, str]) -> tuple[int, str]:
        """A signed POST to our server, as Twilio makes them; (HTTP status, body), status 0 when unreachable."""
        signature = RequestValidator(self.fake.auth_token).compute_signature(url, params)
        request = urllib.request.Request(  # noqa: S310 - the URL is the test's own loopback server
            url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": signature}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - see above
                return int(response.status), response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", errors="replace")
        except OSError:
            return 0, ""


__all__ = ["FakeVoice", "Pickup", "RecordedCall", "Twiml", "parse_twiml"]
