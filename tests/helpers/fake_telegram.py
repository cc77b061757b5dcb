"""A fake Telegram Bot API served over real HTTP on 127.0.0.1, for python-telegram-bot to talk to.

It implements what Atelier uses of the Bot API (https://core.telegram.org/bots/api), under
``/bot<token>/<method>`` like the real server (https://core.telegram.org/bots/api#making-requests):

- ``getMe`` (a bot user with a username, which PTB's ``initialize`` fetches), ``sendMessage`` (answers the
  ``Message`` sent, with a ``message_id`` counting per chat), ``editMessageText``, ``answerCallbackQuery``;
- ``setWebhook``, ``deleteWebhook``, ``getWebhookInfo``;
- ``getUpdates``: the updates a test queued with ``queue_update``, from ``offset`` on, held open up to ``timeout``
  seconds (long polling) until one is queued;
- answers in Telegram's envelope: ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": …,
  "description": …, "parameters": {"retry_after": …}}`` (https://core.telegram.org/bots/api#responseparameters);
  an unknown token gets 401 and an unknown method 404, like Telegram.

PTB posts its parameters as a form whose non-string values are JSON strings (``reply_markup``,
``allowed_updates``, ``chat_id``…): each call is recorded with those values decoded (``Call.params``).

Knobs, for tests: fail the next N calls of a method with a status, a description and ``retry_after``; refuse every
message to a chat as a user who blocked the bot does (403); add latency to every request.

The module also builds the updates Telegram would post (``text_update``, ``command_update``, ``contact_update``,
``sticker_update``, ``callback_update``), with the fields and entities of the real ones.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_TOKEN = "123456:TEST-fake-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Atelier",
    "username": "atelier_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
MAX_TEXT = 4096  # https://core.telegram.org/bots/api#sendmessage — "1-4096 characters after entities parsing"
MAX_POLL_WAIT = 5.0  # seconds a getUpdates is held open at most, whatever timeout it asks for
# parameters PTB sends JSON-encoded inside the form
_JSON_PARAMS = {"reply_markup", "allowed_updates", "entities", "link_preview_options", "reply_parameters"}
_INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"}


@dataclass(frozen=True)
class Call:
    """One Bot API request, with its parameters decoded."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when it arrived


@dataclass(frozen=True)
class SentMessage:
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None

    @property
    def buttons(self) -> list[list[str]]:
        """The reply-keyboard rows' labels ([] when there is no reply keyboard)."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [[button["text"] if isinstance(button, dict) else str(button) for button in row] for row in rows]

    @property
    def inline_buttons(self) -> list[list[dict[str, Any]]]:
        return list((self.reply_markup or {}).get("inline_keyboard") or [])

    @property
    def removes_keyboard(self) -> bool:
        return bool((self.reply_markup or {}).get("remove_keyboard"))


@dataclass(frozen=True)
class Fault:
    """How one call goes wrong, in Telegram's words (https://core.telegram.org/bots/api#making-requests)."""

    status: int = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None


# Ready-made faults, with the descriptions Telegram gives.
TOO_MANY_REQUESTS = Fault(429, "Too Many Requests: retry after 3", retry_after=3)
BLOCKED = Fault(403, "Forbidden: bot was blocked by the user")
CHAT_NOT_FOUND = Fault(400, "Bad Request: chat not found")
BAD_GATEWAY = Fault(502, "Bad Gateway")


class _ApiError(Exception):
    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.description)
        self.fault = fault


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    faults: list[tuple[str | None, Fault]] = field(default_factory=list)  # (method or None for any, fault)
    blocked: set[int] = field(default_factory=set)
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_message_id: dict[int, int] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    latency: float = 0.0


class FakeTelegram:
    """The fake Bot API, in-process. ``with FakeTelegram() as fake:`` serves it on a random port of 127.0.0.1;
    give PTB ``fake.api_url`` (what ``ATELIER_TELEGRAM_API_URL`` holds) or ``fake.base_url``."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self._state = _State()
        self._lock = threading.Condition()
        self._server = _Server((host, port), _Handler, self)
        self._thread: threading.Thread | None = None
        self._update_ids = itertools.count(1)
        self._stopping = False

    # --- life ---------------------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The server's root, as ``ATELIER_TELEGRAM_API_URL`` is written."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (the token is appended by PTB)."""
        return self.api_url + "/bot"

    def start(self) -> FakeTelegram:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-telegram", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True  # a held getUpdates answers now
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- knobs --------------------------------------------------------------------------------------------

    def fail_next(self, fault: Fault, count: int = 1, *, method: str | None = "sendMessage") -> None:
        with self._lock:
            self._state.faults.extend((method, fault) for _ in range(count))

    def block(self, chat_id: int) -> None:
        """The user of this chat blocked the bot: every message to it gets 403."""
        with self._lock:
            self._state.blocked.add(chat_id)

    def set_latency(self, seconds: float) -> None:
        with self._lock:
            self._state.latency = seconds

    def queue_update(self, update: dict[str, Any]) -> int:
        """An update for getUpdates (long polling); returns its update_id."""
        with self._lock:
            update = dict(update)
            update.setdefault("update_id", self.new_update_id())
            self._state.updates.append(update)
            self._lock.notify_all()
            return int(update["update_id"])

    def new_update_id(self) -> int:
        return 100_000 + next(self._update_ids)

    def reset(self) -> None:
        with self._lock:
            self._state = _State()

    # --- what was received --------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        """The messages accepted by sendMessage (to one chat, or all), oldest first."""
        out = []
        for call in self.calls_to("sendMessage"):
            if "result" not in call.params:
                continue  # refused
            params = call.params
            if chat_id is not None and params["chat_id"] != chat_id:
                continue
            out.append(SentMessage(params["chat_id"], params["result"], params["text"], params.get("reply_markup")))
        return out

    @property
    def webhook(self) -> dict[str, Any] | None:
        with self._lock:
            return None if self._state.webhook is None else dict(self._state.webhook)

    # --- the API ------------------------------------------------------------------------------------------

    def handle(self, path: str, params: dict[str, Any]) -> Any:
        """One Bot API call → its result, or raise _ApiError."""
        token, _, method = path.removeprefix("/bot").partition("/")
        if token != self.token:
            raise _ApiError(Fault(401, "Unauthorized"))
        with self._lock:
            latency = self._state.latency
        if latency:
            time.sleep(latency)
        call_params = dict(params)
        with self._lock:
            self._state.calls.append(Call(method, call_params, time.monotonic()))
            fault = self._take_fault(method)
        if fault is not None:
            raise _ApiError(fault)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise _ApiError(Fault(404, "Not Found"))
        result = handler(params)
        if method == "sendMessage":
            call_params["result"] = result["message_id"]  # marks the call as accepted (see ``sent``)
        return result

    def _take_fault(self, method: str) -> Fault | None:
        for index, (only, fault) in enumerate(self._state.faults):
            if only is None or only == method:
                del self._state.faults[index]
                return fault
        return None

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - the Bot API's method name
        return dict(BOT_USER)

    def _message(self, chat_id: int, text: str, reply_markup: Any) -> dict[str, Any]:
        with self._lock:
            number = self._state.next_message_id.get(chat_id, 0) + 1
            self._state.next_message_id[chat_id] = number
        message: dict[str, Any] = {
            "message_id": number,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Resident"},
            "from": dict(BOT_USER),
            "text": text,
        }
        if isinstance(reply_markup, dict) and "inline_keyboard" in reply_markup:
            message["reply_markup"] = reply_markup  # Telegram echoes inline keyboards only
        return message

    @staticmethod
    def _text(params: dict[str, Any]) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(Fault(400, "Bad Request: message text is empty"))
        if len(text) > MAX_TEXT:
            raise _ApiError(Fault(400, "Bad Request: message is too long"))
        return text

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _ApiError(Fault(400, "Bad Request: chat not found"))
        with self._lock:
            if chat_id in self._state.blocked:
                raise _ApiError(BLOCKED)
        return chat_id

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - the Bot API's method name
        chat_id = self._chat_id(params)
        return self._message(chat_id, self._text(params), params.get("reply_markup"))

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - the Bot API's method name
        chat_id = self._chat_id(params)
        if not isinstance(params.get("message_id"), int):
            raise _ApiError(Fault(400, "Bad Request: message to edit not found"))
        message = self._message(chat_id, self._text(params), params.get("reply_markup"))
        message["message_id"] = params["message_id"]
        message["edit_date"] = int(time.time())
        return message

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:  # noqa: N802 - the Bot API's method name
        if not params.get("callback_query_id"):
            description = "Bad Request: query is too old and response timeout expired or query ID is invalid"
            raise _ApiError(Fault(400, description))
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:  # noqa: N802 - the Bot API's method name
        url = params.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise _ApiError(Fault(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"))
        with self._lock:
            self._state.webhook = dict(params)
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:  # noqa: N802 - the Bot API's method name
        with self._lock:
            self._state.webhook = None
            if params.get("drop_pending_updates") in (True, "true"):
                self._state.updates.clear()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - the Bot API's method name
        with self._lock:
            hook = self._state.webhook or {}
            return {
                "url": hook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._state.updates),
                "allowed_updates": hook.get("allowed_updates", []),
            }

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: N802 - the Bot API's method name
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        wait = min(float(params.get("timeout") or 0), MAX_POLL_WAIT)
        deadline = time.monotonic() + wait
        with self._lock:
            if self._state.webhook is not None:
                raise _ApiError(Fault(409, "Conflict: can't use getUpdates method while webhook is active"))
            while True:
                # https://core.telegram.org/bots/api#getupdates — an offset confirms every update before it
                self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
                if self._state.updates:
                    return [dict(u) for u in self._state.updates[:limit]]
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping:
                    return []
                self._lock.wait(left)


# --- updates as Telegram posts them ----------------------------------------------------------------------------


def _user(user_id: int, first_name: str) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "fr"}


def _message(chat_id: int, *, user_id: int | None = None, first_name: str = "Martine", **fields: Any) -> dict[str, Any]:
    user = _user(user_id if user_id is not None else chat_id, first_name)
    return {
        "message_id": int(time.time() * 1000) % 1_000_000,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        "from": user,
        **fields,
    }


def text_update(update_id: int, chat_id: int, text: str, *, user_id: int | None = None) -> dict[str, Any]:
    """A private message with this text (a reply-keyboard button press is exactly this, too)."""
    return {"update_id": update_id, "message": _message(chat_id, user_id=user_id, text=text)}


def command_update(update_id: int, chat_id: int, text: str, *, user_id: int | None = None) -> dict[str, Any]:
    """A text starting with a /command, with the ``bot_command`` entity Telegram adds."""
    command = text.split(maxsplit=1)[0]
    entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": update_id, "message": _message(chat_id, user_id=user_id, text=text, entities=entities)}


def contact_update(
    update_id: int, chat_id: int, phone_number: str, *, contact_user_id: int | None = None, user_id: int | None = None
) -> dict[str, Any]:
    """The "share my number" button: a contact whose user_id is the sender's own (someone else's contact otherwise).

    Telegram writes the number without "+" (https://core.telegram.org/bots/api#contact)."""
    sender = user_id if user_id is not None else chat_id
    contact = {
        "phone_number": phone_number,
        "first_name": "Martine",
        "user_id": contact_user_id if contact_user_id is not None else sender,
    }
    return {"update_id": update_id, "message": _message(chat_id, user_id=sender, contact=contact)}


def sticker_update(update_id: int, chat_id: int) -> dict[str, Any]:
    """A message with no text at all (what an empty SMS body is on Telegram)."""
    sticker = {
        "file_id": "CAACAgIAAxkBAAE",
        "file_unique_id": "AgADBAADx",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "👍",
    }
    return {"update_id": update_id, "message": _message(chat_id, sticker=sticker)}


def group_update(update_id: int, chat_id: int, user_id: int, text: str) -> dict[str, Any]:
    message = _message(chat_id, user_id=user_id, text=text)
    message["chat"] = {"id": chat_id, "type": "group", "title": "Club du village"}
    return {"update_id": update_id, "message": message}


def callback_update(update_id: int, user_id: int, data: str, *, message_id: int = 1, text: str = "…") -> dict[str, Any]:
    """A press on an inline button of the bot's message ``message_id`` in the private chat with ``user_id``."""
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "Conseiller"},
        "from": dict(BOT_USER),
        "text": text,
    }
    query = {
        "id": f"cbq-{update_id}",
        "from": _user(user_id, "Conseiller"),
        "chat_instance": f"ci-{user_id}",
        "message": message,
        "data": data,
    }
    return {"update_id": update_id, "callback_query": query}


# --- the HTTP server -------------------------------------------------------------------------------------------


def decode_params(raw: dict[str, str]) -> dict[str, Any]:
    """PTB's form → values: JSON-encoded parameters decoded, numbers as int, booleans as bool."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _JSON_PARAMS:
            try:
                params[name] = json.loads(value)
            except ValueError as exc:
                raise _ApiError(Fault(400, f"Bad Request: can't parse {name} JSON object")) from exc
        elif name in _INT_PARAMS:
            try:
                params[name] = int(value)
            except ValueError:
                params[name] = value
        elif value in ("true", "false"):
            params[name] = value == "true"
        else:
            params[name] = value
    return params


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeTelegram) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that gave up (a timeout under test) closed its socket: nothing to report


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx's connection pool expects
    server_version = "FakeTelegram/1.0"
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _params(self) -> dict[str, Any]:
        url = urlsplit(self.path)
        raw = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind == "application/json" and body:
            data = json.loads(body)
            return {**decode_params(raw), **data}
        raw.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()})
        return decode_params(raw)

    def _serve(self) -> None:
        path = urlsplit(self.path).path
        try:
            params = self._params()
            result = self.server.fake.handle(path, params)
        except _ApiError as exc:
            fault = exc.fault
            payload: dict[str, Any] = {"ok": False, "error_code": fault.status, "description": fault.description}
            if fault.retry_after is not None:
                payload["parameters"] = {"retry_after": fault.retry_after}
            self._answer(fault.status, payload)
            return
        except ValueError:
            self._answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid parameters"})
            return
        self._answer(200, {"ok": True, "result": result})

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()


__all__ = [
    "BAD_GATEWAY",
    "BLOCKED",
    "BOT_USER",
    "CHAT_NOT_FOUND",
    "DEFAULT_TOKEN",
    "TOO_MANY_REQUESTS",
    "Call",
    "FakeTelegram",
    "Fault",
    "SentMessage",
    "callback_update",
    "command_update",
    "contact_update",
    "decode_params",
    "group_update",
    "sticker_update",
    "text_update",
]
