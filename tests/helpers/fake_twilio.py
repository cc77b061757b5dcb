"""A fake Twilio REST API served over real HTTP on 127.0.0.1, for the official ``twilio`` client to talk to.

It implements what Atelier uses of the Programmable Messaging API
(https://www.twilio.com/docs/messaging/api/message-resource):

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` — creates a message (To, From or MessagingServiceSid,
  Body, StatusCallback) and answers 201 with a message resource whose ``sid`` is a unique ``SM…``;
- ``GET  /2010-04-01/Accounts/{AccountSid}/Messages.json`` — lists messages, newest first, filtered by ``To``,
  ``From``, ``DateSent``, ``DateSent>`` and ``DateSent<`` (the query names the official client sends for
  ``list(to=, from_=, date_sent=, date_sent_after=, date_sent_before=)``), paged with ``PageSize``/``Page``;
- HTTP Basic authentication with the account SID and auth token, like Twilio (401, error 20003, otherwise);
- Twilio's validation errors for a missing To/From/Body (21604/21603/21602), a body over 1,600 characters (21617),
  a To that is not E.164 (21211); errors answered in Twilio's JSON shape
  (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions).

Knobs, for tests: fail the next N requests with a given HTTP status and Twilio error code (and ``Retry-After``);
drop the connection without answering, before or after the message was accepted (the answer is lost, the SMS is
sent: what a crash of the network or of the client between the two looks like); refuse one number for good
(21610, 21614); add latency to every request; send signed status callbacks (``sent`` then ``delivered``, or
``undelivered`` with an ErrorCode for chosen numbers) to the message's StatusCallback URL.

It serves the Programmable Voice API too (calls create, list and fetch), and rings phones the test controls:
``FakeTwilio.voice`` (``tests/helpers/fake_twilio_voice.py``).

It runs in-process (a ``ThreadingHTTPServer`` in a thread: one thread per connection, many client processes) or
as a standalone process that outlives the client under test::

    python -m tests.helpers.fake_twilio --port 8099 --record /tmp/sent.jsonl

The standalone process appends each accepted message to the record file as one JSON line, flushed at once, so
whatever happens to the client the file is a consistent record of what "Twilio" accepted. Its knobs are reached
over HTTP under ``/_fake/`` (see ``FakeTwilioProcess``, which starts and drives one).
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

from tests.helpers.fake_twilio_voice import FakeVoice, Pickup

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "fake-auth-token"
DEFAULT_FROM = "+33939000000"
MAX_BODY = 1600
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages\.json$")
_REPO_ROOT = Path(__file__).resolve().parents[2]


# --- what the fake records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedMessage:
    """One message the fake accepted (what Twilio would have sent to the handset)."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    status_callback: str | None
    messaging_service_sid: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        data["created_at"] = self.created_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordedMessage:
        return cls(
            sid=data["sid"],
            account_sid=data["account_sid"],
            to=data["to"],
            from_=data.get("from"),
            body=data["body"],
            status_callback=data.get("status_callback"),
            messaging_service_sid=data.get("messaging_service_sid"),
            created_at=datetime.fromisoformat(data["created_at"]),
        )


def _record_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a standalone fake's record file; a torn last line (the fake itself killed) is ignored."""
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def read_record(path: Path) -> list[RecordedMessage]:
    """The messages of a standalone fake's record file."""
    messages = []
    for data in _record_lines(path):
        if data.get("kind") == "call":
            continue
        try:
            messages.append(RecordedMessage.from_json(data))
        except KeyError:
            continue
    return messages


def read_calls(path: Path) -> list[dict[str, Any]]:
    """The calls of a standalone fake's record file (``RecordedCall.to_json``: sid, to, from, url…)."""
    return [data for data in _record_lines(path) if data.get("kind") == "call"]


# --- knobs -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """How one request goes wrong.

    ``drop`` closes the connection without any answer; with ``accept`` the message is recorded first (Twilio took
    it, the client never heard), otherwise nothing is recorded.
    """

    status: int = 500
    code: int | None = None
    message: str = "Internal Server Error"
    retry_after: float | None = None
    drop: bool = False
    accept: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# Ready-made faults, with Twilio's codes and wording (https://www.twilio.com/docs/api/errors).
RATE_LIMITED = Fault(status=429, code=20429, message="Too Many Requests", retry_after=2)
SERVER_ERROR = Fault(status=500, code=20500, message="Internal Server Error")
UNAVAILABLE = Fault(status=503, code=20503, message="Service Unavailable")
OPTED_OUT = Fault(status=400, code=21610, message="Attempt to send to unsubscribed recipient")
NOT_MOBILE = Fault(status=400, code=21614, message="'To' number is not a valid mobile number")
LANDLINE = Fault(status=400, code=30006, message="Landline or unreachable carrier")
DROP = Fault(drop=True)  # the connection breaks before Twilio accepted anything
ACCEPT_THEN_DROP = Fault(drop=True, accept=True)  # Twilio accepted the message, the answer is lost


@dataclass
class _Knobs:
    faults: list[tuple[Fault, str | None]] = field(default_factory=list)  # (fault, HTTP method or None for any)
    refused: dict[str, Fault] = field(default_factory=dict)  # To → fault, for every message to that number
    undeliverable: dict[str, int] = field(default_factory=dict)  # To → ErrorCode of its "undelivered" callback
    latency: float = 0.0


class _DropError(Exception):
    """Close the connection without answering."""


class _ApiError(Exception):
    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.message)
        self.fault = fault


# --- the server ------------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


class FakeTwilio:
    """The fake API, in-process. ``with FakeTwilio() as fake:`` serves it on a random port of 127.0.0.1."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        record: Path | None = None,
        latency: float = 0.0,
        status_callbacks: bool = False,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock
        self.status_callbacks = status_callbacks
        self._record_path = record
        self._record_file = record.open("a", encoding="utf-8") if record else None
        self._lock = threading.Lock()
        self._messages: list[RecordedMessage] = []
        self._knobs = _Knobs(latency=latency)
        self._requests = 0
        self._callbacks: queue.Queue[tuple[RecordedMessage, str, int | None] | None] = queue.Queue()
        self._callback_thread: threading.Thread | None = None
        self.callback_results: list[int] = []  # HTTP status of each status callback the fake posted
        self._server = _Server((host, port), _Handler, self)
        self._thread: threading.Thread | None = None
        self.voice = FakeVoice(self)  # the Calls API and the phones it rings

    # lifecycle

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give ``ATELIER_TWILIO_API_URL`` / ``client.api.base_url``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTwilio:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-twilio", daemon=True
        )
        self._thread.start()
        if self.status_callbacks:
            self._callback_thread = threading.Thread(target=self._post_callbacks, name="fake-twilio-cb", daemon=True)
            self._callback_thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the standalone process)."""
        if self.status_callbacks:
            self._callback_thread = threading.Thread(target=self._post_callbacks, name="fake-twilio-cb", daemon=True)
            self._callback_thread.start()
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()
        if self._callback_thread is not None:
            self._callbacks.put(None)
            self._callback_thread.join()
            self._callback_thread = None
        if self._record_file is not None:
            self._record_file.close()
            self._record_file = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # reading what happened

    @property
    def messages(self) -> list[RecordedMessage]:
        """The messages accepted so far, oldest first (a copy)."""
        with self._lock:
            return list(self._messages)

    @property
    def requests(self) -> int:
        """API requests received (failed ones included; control requests excluded)."""
        with self._lock:
            return self._requests

    def sent_to(self, number: str) -> list[str]:
        return [message.body for message in self.messages if message.to == number]

    # knobs

    def fail_next(self, fault: Fault, count: int = 1, *, method: str | None = "POST") -> None:
        """The next ``count`` requests (of ``method``; None for any) get ``fault`` instead of an answer."""
        with self._lock:
            self._knobs.faults.extend([(fault, method)] * count)

    def refuse(self, to: str, fault: Fault = NOT_MOBILE) -> None:
        """Every message to ``to`` is refused with ``fault`` (a landline, a number that sent STOP)."""
        with self._lock:
            self._knobs.refused[to] = fault

    def undeliverable(self, to: str, error_code: int = 30006) -> None:
        """Messages to ``to`` are accepted, then reported ``undelivered`` with ``error_code`` by status callback."""
        with self._lock:
            self._knobs.undeliverable[to] = error_code

    def set_latency(self, seconds: float) -> None:
        with self._lock:
            self._knobs.latency = seconds

    def reset(self) -> None:
        """Forget the knobs and the in-memory messages and calls (the record file is append-only and kept)."""
        with self._lock:
            self._knobs = _Knobs()
            self._messages.clear()
            self._requests = 0
        self.voice.reset()

    def record(self, data: dict[str, Any]) -> None:
        """Append one accepted message or call to the record file (one JSON line, flushed at once)."""
        with self._lock:
            if self._record_file is not None:
                self._record_file.write(json.dumps(data, ensure_ascii=False) + "\n")
                self._record_file.flush()

    def take_fault(self, method: str, to: str | None) -> Fault | None:
        """The fault the next request of ``method`` (to ``to``) gets, if any (consumed)."""
        return self._take_fault(method, to)

    @staticmethod
    def fail_with(fault: Fault) -> None:
        """Answer the request with ``fault``: an error, or a dropped connection."""
        if fault.drop:
            raise _DropError
        raise _ApiError(fault)

    # the API

    def _take_fault(self, method: str, to: str | None) -> Fault | None:
        with self._lock:
            for index, (fault, only) in enumerate(self._knobs.faults):
                if only is None or only == method:
                    del self._knobs.faults[index]
                    return fault
            if method == "POST" and to is not None:
                return self._knobs.refused.get(to)
        return None

    def handle_api(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        """One API request → (HTTP status, JSON payload). Raises ``_ApiError`` / ``_DropError`` for errors."""
        with self._lock:
            self._requests += 1
            latency = self._knobs.latency
        if latency:
            time.sleep(latency)
        match = _MESSAGES_PATH.match(path)
        calls = self.voice.route(path) if match is None else None
        if match is None and calls is None:
            raise _ApiError(Fault(status=404, code=20404, message="The requested resource was not found"))
        account = match.group("account") if match is not None else calls[0] if calls is not None else ""
        if not self._authorised(headers.get("authorization", ""), account):
            raise _ApiError(Fault(status=401, code=20003, message="Authenticate"))
        if calls is not None:  # the Calls API: repeated parameters (StatusCallbackEvent) are kept as lists
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True) if method == "POST" else {}
            return self.voice.handle(method, calls[1], parse_qs(query, keep_blank_values=True), form)
        if method == "POST":
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            return 201, self._create({key: values[-1] for key, values in form.items()})
        if method == "GET":
            return 200, self._list(parse_qs(query, keep_blank_values=True), path)
        raise _ApiError(Fault(status=405, code=20004, message="Method not allowed"))

    def _authorised(self, header: str, account: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except ValueError:
            return False
        # Twilio compares in constant time too; the account in the path must be the authenticated one
        return (
            hmac.compare_digest(user, self.account_sid)
            and hmac.compare_digest(password, self.auth_token)
            and account == self.account_sid
        )

    def _create(self, form: dict[str, str]) -> dict[str, Any]:
        to = form.get("To", "").strip()
        fault = self._take_fault("POST", to or None)
        if fault is not None:
            if fault.accept:
                self._accept(form, to)
            if fault.drop:
                raise _DropError
            raise _ApiError(fault)
        self._validate(form, to)
        return self._resource(self._accept(form, to))

    @staticmethod
    def _validate(form: dict[str, str], to: str) -> None:
        if not to:
            raise _ApiError(Fault(status=400, code=21604, message="A 'To' phone number is required."))
        if not _E164.match(to):
            raise _ApiError(Fault(status=400, code=21211, message="Invalid 'To' Phone Number"))
        if not form.get("From") and not form.get("MessagingServiceSid"):
            raise _ApiError(Fault(status=400, code=21603, message="A 'From' phone number is required."))
        body = form.get("Body", "")
        if not body and not form.get("MediaUrl"):
            raise _ApiError(Fault(status=400, code=21602, message="Message body is required."))
        if len(body) > MAX_BODY:
            raise _ApiError(
                Fault(status=400, code=21617, message="The concatenated message body exceeds the 1600 character limit.")
            )

    def _accept(self, form: dict[str, str], to: str) -> RecordedMessage:
        message = RecordedMessage(
            sid="SM" + uuid.uuid4().hex,
            account_sid=self.account_sid,
            to=to,
            from_=form.get("From") or None,
            body=form.get("Body", ""),
            status_callback=form.get("StatusCallback") or None,
            messaging_service_sid=form.get("MessagingServiceSid") or None,
            created_at=self.clock(),
        )
        with self._lock:
            self._messages.append(message)
            error_code = self._knobs.undeliverable.get(to)
        self.record(message.to_json())
        if self.status_callbacks and message.status_callback:
            self._callbacks.put((message, "sent", None))
            self._callbacks.put((message, "undelivered" if error_code else "delivered", error_code))
        return message

    def _resource(self, message: RecordedMessage, status: str = "queued") -> dict[str, Any]:
        created = format_datetime(message.created_at.astimezone(UTC), usegmt=True)
        uri = f"/{API_VERSION}/Accounts/{message.account_sid}/Messages/{message.sid}.json"
        return {
            "sid": message.sid,
            "account_sid": message.account_sid,
            "api_version": API_VERSION,
            "body": message.body,
            "date_created": created,
            "date_updated": created,
            "date_sent": created,  # the fake "sends" at once, so DateSent filters see every accepted message
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": message.from_,
            "messaging_service_sid": message.messaging_service_sid,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "status": status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": message.to,
            "uri": uri,
        }

    def _list(self, query: dict[str, list[str]], path: str) -> dict[str, Any]:
        if (fault := self._take_fault("GET", None)) is not None:
            if fault.drop:
                raise _DropError
            raise _ApiError(fault)

        def first(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        try:
            page_size = max(1, min(1000, int(first("PageSize") or 50)))
            page = max(0, int(first("Page") or 0))
        except ValueError as exc:
            raise _ApiError(Fault(status=400, code=20001, message="Invalid paging parameter")) from exc
        selected = [message for message in self.messages if _matches(message, query)]
        selected.reverse()  # newest first, like Twilio
        chunk = selected[page * page_size : (page + 1) * page_size]
        base = {key: values[0] for key, values in query.items() if key not in {"Page", "PageToken", "PageSize"}}

        def page_uri(number: int) -> str:
            return f"{path}?{urlencode({**base, 'PageSize': page_size, 'Page': number})}"

        has_next = (page + 1) * page_size < len(selected)
        return {
            "messages": [self._resource(message, status="sent") for message in chunk],
            "page": page,
            "page_size": page_size,
            "start": page * page_size,
            "end": page * page_size + max(len(chunk) - 1, 0),
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if has_next else None,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        }

    # status callbacks (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status)

    def _post_callbacks(self) -> None:
        validator = RequestValidator(self.auth_token)
        while (item := self._callbacks.get()) is not None:
            message, status, error_code = item
            assert message.status_callback is not None
            params = {
                "AccountSid": message.account_sid,
                "ApiVersion": API_VERSION,
                "From": message.from_ or "",
                "MessageSid": message.sid,
                "MessageStatus": status,
                "SmsSid": message.sid,
                "SmsStatus": status,
                "To": message.to,
            }
            if error_code is not None:
                params["ErrorCode"] = str(error_code)
            request = urllib.request.Request(  # noqa: S310 - the URL is the test's own loopback server
                message.status_callback,
                data=urlencode(params).encode(),
                headers={"X-Twilio-Signature": validator.compute_signature(message.status_callback, params)},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - see above
                    result = int(response.status)
            except urllib.error.HTTPError as exc:
                result = exc.code
            except OSError:
                result = 0
            with self._lock:
                self.callback_results.append(result)

    # control requests of the standalone process

    def handle_control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        data = json.loads(body or b"{}") if method == "POST" else {}
        name = path.removeprefix("/_fake/")
        if name == "health":
            return 200, {"ok": True}
        if name == "messages":
            return 200, [message.to_json() for message in self.messages]
        if name == "fail" and method == "POST":
            count, only = int(data.pop("count", 1)), data.pop("method", "POST")
            self.fail_next(Fault(**data), count, method=only)
            return 200, {"ok": True}
        if name == "refuse" and method == "POST":
            to = data.pop("to")
            self.refuse(to, Fault(**data) if data else NOT_MOBILE)
            return 200, {"ok": True}
        if name == "undeliverable" and method == "POST":
            self.undeliverable(data["to"], int(data.get("error_code", 30006)))
            return 200, {"ok": True}
        if name == "calls":
            return 200, [call.to_json() for call in self.voice.calls]
        if name == "pickup" and method == "POST":
            self.voice.pickup(data.pop("to"), Pickup(**data))
            return 200, {"ok": True}
        if name == "latency" and method == "POST":
            self.set_latency(float(data["seconds"]))
            return 200, {"ok": True}
        if name == "reset" and method == "POST":
            self.reset()
            return 200, {"ok": True}
        return 404, {"error": f"no control {name!r}"}


def _parse_when(value: str) -> datetime:
    if "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _matches(message: RecordedMessage, query: dict[str, list[str]]) -> bool:
    """Twilio's list filters. ``DateSent>`` means "on or after" (its docs write ``DateSent>=YYYY-MM-DD``); a bare
    date compares days, a date-time (what the official client sends for a datetime) compares instants."""
    for name, values in query.items():
        value = values[0]
        if name == "To" and message.to != value:
            return False
        if name == "From" and message.from_ != value:
            return False
        if name in {"DateSent", "DateSent>", "DateSent<"}:
            bound = _parse_when(value)
            sent = message.created_at
            if "T" not in value:  # day granularity
                sent = datetime.combine(sent.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
            if (name == "DateSent>" and sent < bound) or (name == "DateSent<" and sent > bound):
                return False
            if name == "DateSent" and sent != bound:
                return False
    return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # bursts of thousands of connections from several processes must not be refused
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeTwilio) -> None:
        self.fake = fake
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self._open_lock:
            self._open.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake the threads serving kept-alive connections so they end (and close their sockets)."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects
    disable_nagle_algorithm = True  # headers and body are two writes: without this each answer waits 40 ms
    server_version = "FakeTwilio/1.0"
    timeout = 60  # an idle kept-alive connection is closed after this long
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the test output is not the place for an access log

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _serve(self, method: str) -> None:
        body = self._body()
        url = urlsplit(self.path)
        fake = self.server.fake
        if url.path.startswith("/_fake/"):
            try:
                status, payload = fake.handle_control(method, url.path, body)
            except (ValueError, KeyError, TypeError) as exc:
                status, payload = 400, {"error": str(exc)}
            self._answer(status, payload)
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            status, payload = fake.handle_api(method, url.path, url.query, headers, body)
        except _DropError:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        except _ApiError as exc:
            fault = exc.fault
            code = fault.code if fault.code is not None else fault.status
            payload = {
                "code": code,
                "message": fault.message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": fault.status,
            }
            extra = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            if fault.status == 401:
                extra["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            self._answer(fault.status, payload, extra)
            return
        self._answer(status, payload)

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")


# --- the standalone process, and a handle to drive it from a test ----------------------------------------------


@dataclass
class FakeTwilioProcess:
    """A standalone fake in its own process (it outlives the client under test); knobs over HTTP."""

    process: subprocess.Popen[str]
    url: str
    record: Path
    account_sid: str
    auth_token: str

    def messages(self) -> list[RecordedMessage]:
        return read_record(self.record)

    def calls(self) -> list[dict[str, Any]]:
        return read_calls(self.record)

    def pickup(self, to: str, behaviour: Pickup) -> None:
        self._control("pickup", {"to": to, **asdict(behaviour)})

    def _control(self, name: str, payload: dict[str, Any] | None = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback URL of the fake we started
            f"{self.url}/_fake/{name}", data=data, method="GET" if payload is None else "POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - see above
            return json.loads(response.read())

    def fail_next(self, fault: Fault, count: int = 1, *, method: str | None = "POST") -> None:
        self._control("fail", {**fault.to_json(), "count": count, "method": method})

    def refuse(self, to: str, fault: Fault = NOT_MOBILE) -> None:
        self._control("refuse", {**fault.to_json(), "to": to})

    def undeliverable(self, to: str, error_code: int = 30006) -> None:
        self._control("undeliverable", {"to": to, "error_code": error_code})

    def set_latency(self, seconds: float) -> None:
        self._control("latency", {"seconds": seconds})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextmanager
def spawn(
    record: Path,
    *,
    port: int = 0,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    auth_token: str = DEFAULT_AUTH_TOKEN,
    latency: float = 0.0,
    status_callbacks: bool = False,
) -> Iterator[FakeTwilioProcess]:
    """Start ``python -m tests.helpers.fake_twilio`` and stop it on exit."""
    command = [
        sys.executable,
        "-m",
        "tests.helpers.fake_twilio",
        f"--port={port}",
        f"--record={record}",
        f"--account-sid={account_sid}",
        f"--auth-token={auth_token}",
        f"--latency={latency}",
    ]
    if status_callbacks:
        command.append("--status-callbacks")
    process = subprocess.Popen(command, cwd=_REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()  # "fake-twilio listening on http://127.0.0.1:PORT"
    if not line.startswith("fake-twilio listening on "):
        process.kill()
        process.wait()
        raise RuntimeError(f"the fake Twilio did not start: {line!r}")
    handle = FakeTwilioProcess(
        process=process,
        url=line.rsplit(" ", 1)[1].strip(),
        record=record,
        account_sid=account_sid,
        auth_token=auth_token,
    )
    try:
        yield handle
    finally:
        handle.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Twilio REST API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on stdout)")
    parser.add_argument("--record", type=Path, required=True, help="append-only JSONL file of accepted messages")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every API request")
    parser.add_argument("--status-callbacks", action="store_true", help="post sent/delivered status callbacks")
    args = parser.parse_args(argv)
    # terminate() from the test: leave through the finally below (the record file is already flushed line by line)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    fake = FakeTwilio(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        port=args.port,
        record=args.record,
        latency=args.latency,
        status_callbacks=args.status_callbacks,
    )
    sys.stdout.write(f"fake-twilio listening on {fake.url}\n")
    sys.stdout.flush()
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


__all__ = [
    "ACCEPT_THEN_DROP",
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_FROM",
    "DROP",
    "LANDLINE",
    "NOT_MOBILE",
    "OPTED_OUT",
    "RATE_LIMITED",
    "SERVER_ERROR",
    "UNAVAILABLE",
    "FakeTwilio",
    "FakeTwilioProcess",
    "Fault",
    "Pickup",
    "RecordedMessage",
    "read_calls",
    "read_record",
    "spawn",
]

if __name__ == "__main__":
    main()
