"""What was sent over a period, for the statistics' costs: SMS (by segments) and calls (by started minutes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Channel
from storage.models import MessageStatus, OutboundMessage, VoiceCall
from storage.voice import INBOUND, UNANSWERED


async def sms_sent(
    *, session: AsyncSession, since: datetime | None, until: datetime | None
) -> list[tuple[str, list[str]]]:
    """(text, choices) of every SMS handed to the provider over the period (their segments are what is paid)."""
    query = select(OutboundMessage.body, OutboundMessage.choices).where(
        OutboundMessage.channel == Channel.sms,
        OutboundMessage.status.in_((MessageStatus.sent, MessageStatus.delivered)),
    )
    if since is not None:
        query = query.where(OutboundMessage.sent_at >= since)
    if until is not None:
        query = query.where(OutboundMessage.sent_at < until)
    return [(body, list(choices or [])) for body, choices in (await session.execute(query)).all()]


@dataclass(frozen=True)
class CallTotals:
    """Calls over a period, for the statistics: placed by us, received on the territory's number."""

    placed: int = 0
    answered: int = 0  # by a person
    voicemail: int = 0  # an answering machine took the short message
    unanswered: int = 0  # no answer or busy
    failed: int = 0
    received: int = 0
    minutes: int = 0  # billed: started minutes of every call, both ways


def _billed_minutes(seconds: int | None) -> int:
    return -(-(seconds or 0) // 60)  # every started minute


async def call_totals(*, session: AsyncSession, since: datetime | None, until: datetime | None) -> CallTotals:
    query = select(VoiceCall.direction, VoiceCall.status, VoiceCall.answered_by, VoiceCall.duration_seconds)
    if since is not None:
        query = query.where(VoiceCall.created_at >= since)
    if until is not None:
        query = query.where(VoiceCall.created_at < until)
    counts = dict.fromkeys(("placed", "answered", "voicemail", "unanswered", "failed", "received", "minutes"), 0)
    for direction, status, answered_by, seconds in (await session.execute(query)).all():
        counts["minutes"] += _billed_minutes(seconds)
        if direction == INBOUND:
            counts["received"] += 1
            continue
        counts["placed"] += 1
        if status in UNANSWERED:
            counts["unanswered"] += 1
        elif status in ("failed", "canceled"):
            counts["failed"] += 1
        elif status == "completed" and (answered_by or "").startswith(("machine", "fax")):
            counts["voicemail"] += 1
        elif status == "completed":
            counts["answered"] += 1
    return CallTotals(**counts)
