"""The neutral language between channel adapters and the rest of Atelier.

An adapter turns a provider's request into an ``Inbound`` and renders ``Reply``/``Outgoing`` its own way
(numbered lines in an SMS, keyboard buttons on Telegram). A sender is a channel name, a few capabilities as data
and ``send`` — nothing more (compare apprise's plugins, ``body_sms_maxlen = 160``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from storage.enums import Channel

# Short names for tests and benchmarks; the code in bot/ and storage/ writes ``Channel.sms``.
SMS, TELEGRAM = Channel.sms, Channel.telegram


MAX_STORED_INT = 2**63 - 1  # a BIGINT column: a larger id in a request is bad input, not a database error
# An INTEGER column — every table's id, a call's duration — is 32 bits on PostgreSQL: a larger value compared with
# one is refused by the driver (a database error), where SQLite would simply find nothing.
MAX_ROW_ID = 2**31 - 1
_MAX_DIGITS = len(str(MAX_STORED_INT))


def plain_number(text: str, *, most: int = MAX_STORED_INT) -> int | None:
    """A number written in a request (a header, a URL parameter, a button's data): ASCII digits only, and small
    enough to store (``most``: ``MAX_ROW_ID`` for a row's id). None otherwise, so that odd input is refused rather
    than raising ("²".isdigit() is true, and ``int()`` raises on more than 4,300 digits)."""
    digits = text.lstrip("0") or "0"
    if not (text.isascii() and text.isdigit()) or len(digits) > _MAX_DIGITS:
        return None
    value = int(digits)
    return value if value <= min(most, MAX_STORED_INT) else None


@dataclass(frozen=True)
class Inbound:
    """A message from a resident or an adviser, whatever the channel."""

    channel: Channel
    address: str  # where answers go: an E.164 number for SMS, the chat id for Telegram
    text: str
    provider_id: str | None = None  # Twilio MessageSid, Telegram update_id: the same id twice changes state once
    shared_phone: str | None = None  # Telegram: the number shared with the contact button, E.164
    user_id: int | None = None  # Telegram: the sender's user id (advisers are recognised by it)


@dataclass(frozen=True)
class Reply:
    """What the dialogue answers: text plus the choices it offers."""

    text: str
    choices: tuple[str, ...] = ()
    ask_contact: bool = False  # Telegram only: offer the "share my number" button (never required)


@dataclass(frozen=True)
class Outgoing:
    """One outbox row as a sender sees it."""

    to: str
    body: str
    choices: tuple[str, ...] = ()
    ask_contact: bool = False
    # the outbox row it comes from: a call fetches what it says from us by this id (not part of what is said, so
    # two messages saying the same thing to the same person compare equal)
    message_id: int | None = field(default=None, compare=False)


class SendError(Exception):
    """A send that did not go through, classified so the dispatcher knows what to do next."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        code: str | None = None,
        retry_after: float | None = None,
        opted_out: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.transient = transient  # try again later (429, 5xx, timeouts)
        self.code = code  # the provider's error code, recorded on the outbox row
        self.retry_after = retry_after  # seconds the provider asked us to wait
        self.opted_out = opted_out  # the recipient refused messages on this channel (Twilio 21610, Telegram 403)
        self.unreachable = unreachable  # this address can never receive on this channel (a landline for SMS)


@runtime_checkable
class Sender(Protocol):
    @property
    def channel(self) -> str:
        """The channel it sends on (a ``Channel``); read-only, so any sender's own type of label fits."""
        ...

    max_length: int  # longest body the provider accepts, in characters
    supports_buttons: bool  # choices can be shown as buttons rather than numbered lines
    recipient_interval: timedelta | None  # shortest gap between two messages to one recipient; None: no such limit

    async def send(self, message: Outgoing) -> str:
        """Send one message; return the provider's id for it. Raise SendError when it did not go through."""
        ...


@runtime_checkable
class SentLookup(Protocol):
    """Optional capability: find whether a message was already accepted by the provider (crash recovery)."""

    async def find_sent(self, *, to: str, body: str, since: datetime) -> str | None: ...


@dataclass(frozen=True)
class CallReport:
    """What a telephony provider says of one call (the voice channel): its status, who answered, how long."""

    call_sid: str
    status: str  # queued, ringing, in-progress, completed, busy, no-answer, failed, canceled (Twilio's words)
    answered_by: str | None = None  # machine detection: human, machine_end_beep, fax, unknown…
    duration_seconds: int | None = None
    error_code: str | None = None


@runtime_checkable
class CallLookup(Protocol):
    """Optional capability of a voice sender: ask the provider what became of a call whose end was never reported."""

    async def call_report(self, call_sid: str) -> CallReport | None: ...
