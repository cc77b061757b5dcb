"""In-memory senders (the ``Sender`` protocol of ``bot.channels``) for the dispatcher, outbox and reminder tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.channels import SMS, Outgoing, SendError


@dataclass
class RecordingSender:
    """A sender that keeps what it sends; ``failures`` are raised, in order, by the next sends."""

    channel: str = SMS
    max_length: int = 1600
    supports_buttons: bool = False
    recipient_interval: timedelta | None = None
    sent: list[Outgoing] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: Outgoing) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        self._changed.set()
        return f"SM{len(self.sent):04d}"

    async def wait_for(self, count: int) -> None:
        """Until ``count`` messages were sent (the caller bounds the wait with a timeout)."""
        while len(self.sent) < count:
            self._changed.clear()
            await self._changed.wait()


@dataclass
class LookupSender(RecordingSender):
    """Also a ``SentLookup``: ``accepted`` is what the provider already has (to, body, provider id)."""

    accepted: list[tuple[str, str, str]] = field(default_factory=list)
    lookups: int = 0

    async def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:
        self.lookups += 1
        for address, text, provider_id in self.accepted:
            if address == to and text == body:
                return provider_id
        return None


def transient(code: str = "20503", retry_after: float | None = None) -> SendError:
    return SendError("unavailable", transient=True, code=code, retry_after=retry_after)
