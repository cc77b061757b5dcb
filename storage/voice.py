"""Phone calls (the voice channel): one row per call Twilio places or receives, and the outbox moves a call makes.

Functions take the caller's session and never commit. Twilio may report on a call twice or out of order: a call's
row is created by whichever request about it comes first (the call's script, a status callback), and the first
final report settles it (``finish_call``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, String, Table, exists, func, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.database import insert_or_skip
from storage.enums import Channel
from storage.models import MessageKind, MessageStatus, OutboundMessage, Resident, VoiceCall

_TABLE = cast(Table, VoiceCall.__table__)

OUTBOUND, INBOUND = "outbound", "inbound"
# Twilio's CallStatus values (https://www.twilio.com/docs/voice/api/call-resource#call-status-values)
FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
UNANSWERED = ("busy", "no-answer")


async def note_call(
    *,
    session: AsyncSession,
    call_sid: str,
    direction: str,
    now: datetime,
    status: str | None = None,
    outbox_id: int | None = None,
    resident_id: int | None = None,
    answered_by: str | None = None,
    duration_seconds: int | None = None,
) -> VoiceCall:
    """The call's row, created at the first news of it; what is given here (not None) is written on it."""
    values = {
        "call_sid": call_sid,
        "direction": direction,
        "outbox_id": outbox_id,
        "resident_id": resident_id,
        "status": status or "queued",
        "created_at": now,
    }
    await session.execute(insert_or_skip(session, _TABLE, unique=("call_sid",)), values)
    query = select(VoiceCall).where(VoiceCall.call_sid == call_sid).execution_options(populate_existing=True)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()  # SQLite: the caller's BEGIN IMMEDIATE already serialises writers
    call = (await session.execute(query)).scalar_one()
    changes: dict[str, Any] = {
        "status": status,
        "outbox_id": outbox_id,
        "resident_id": resident_id,
        "answered_by": answered_by,
        "duration_seconds": duration_seconds,
    }
    for name, value in changes.items():
        if value is not None and not (name == "status" and call.status in FINAL):  # a final status stays
            setattr(call, name, value)
    await session.flush()
    return call


async def finish_call(*, session: AsyncSession, call_sid: str, now: datetime) -> bool:
    """Mark the call ended; True only the first time (the first final report decides what follows)."""
    result = await session.execute(
        update(VoiceCall)
        .where(VoiceCall.call_sid == call_sid, VoiceCall.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def set_outcome(*, session: AsyncSession, call_sid: str, outcome: str) -> None:
    await session.execute(
        update(VoiceCall)
        .where(VoiceCall.call_sid == call_sid)
        .values(outcome=outcome[:40])
        .execution_options(synchronize_session=False)
    )


async def unanswered_tries(*, session: AsyncSession, outbox_id: int) -> int:
    """Calls placed for this outbox row that nobody answered (no answer, busy)."""
    result = await session.execute(
        select(func.count())
        .select_from(VoiceCall)
        .where(VoiceCall.outbox_id == outbox_id, VoiceCall.status.in_(UNANSWERED))
    )
    return int(result.scalar_one())


async def locked_message(*, session: AsyncSession, outbox_id: int) -> OutboundMessage | None:
    query = select(OutboundMessage).where(OutboundMessage.id == outbox_id).execution_options(populate_existing=True)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.execute(query)).scalars().first()


async def call_again(*, session: AsyncSession, message: OutboundMessage, due_at: datetime, error: str) -> None:
    """Nobody answered: the row is pending again, due at ``due_at`` (a new call, a new provider id)."""
    message.status = MessageStatus.pending
    message.due_at = due_at
    message.provider_id = None
    message.lease_until = None
    message.claimed_at = None
    message.error = error[:300]
    await session.flush()


async def calls_without_report(
    *, session: AsyncSession, sent_before: datetime, limit: int = 100
) -> list[tuple[int, str]]:
    """(outbox id, call sid) of calls placed before ``sent_before`` whose end Twilio never reported (a lost status
    callback, or our service down when it came): they are asked for (``calls(sid).fetch()``)."""
    result = await session.execute(
        select(OutboundMessage.id, OutboundMessage.provider_id)
        .where(
            OutboundMessage.channel == Channel.voice,
            OutboundMessage.status == MessageStatus.sent,
            OutboundMessage.inbound_id.is_(None),
            OutboundMessage.provider_id.is_not(None),
            OutboundMessage.sent_at < sent_before,
        )
        .order_by(OutboundMessage.id)
        .limit(limit)
    )
    return [(int(row[0]), str(row[1])) for row in result]


TAKEN_OVER = (
    MessageKind.reminder,
    MessageKind.promotion,
    MessageKind.confirmation,
    MessageKind.change_notice,
    MessageKind.broadcast,
)
TAKE_OVER_WITHIN = timedelta(days=2)  # SMS lost this recently are said by a call (older news is stale)


_TAKEN_OVER_PREFIX = "voice-for:"


def taken_over_key(sms_id: int) -> str:
    """The idempotency key of the call that says what SMS ``sms_id`` could not."""
    return f"{_TAKEN_OVER_PREFIX}{sms_id}"


def _lost_to_landlines(since: datetime) -> Select[OutboundMessage]:
    """SMS to residents now known to have no mobile (failed as a landline, or withdrawn when the number was found
    to be one) since ``since``, about something a call can say; said by a call or not."""
    return (
        select(OutboundMessage)
        .join(Resident, Resident.id == OutboundMessage.resident_id)
        .where(
            OutboundMessage.channel == Channel.sms,
            OutboundMessage.kind.in_(TAKEN_OVER),
            OutboundMessage.inbound_id.is_(None),
            OutboundMessage.status.in_((MessageStatus.failed, MessageStatus.cancelled)),
            OutboundMessage.updated_at >= since,
            Resident.sms_unreachable.is_(True),
            Resident.erased.is_(False),
            Resident.opted_out_sms.is_(False),
            Resident.phone.is_not(None),
        )
        .order_by(OutboundMessage.id)
    )


async def _said(session: AsyncSession, sms_ids: Sequence[int]) -> set[int]:
    """Which of these SMS a call says already."""
    if not sms_ids:
        return set()
    keys = {taken_over_key(sms_id): sms_id for sms_id in sms_ids}
    known = select(OutboundMessage.idempotency_key).where(OutboundMessage.idempotency_key.in_(list(keys)))
    return {keys[key] for key in (await session.execute(known)).scalars()}


async def sms_lost_to_landlines(*, session: AsyncSession, since: datetime, limit: int = 200) -> list[OutboundMessage]:
    """SMS to residents now known to have no mobile (failed as a landline, or withdrawn when the number was found
    to be one) since ``since``, about something a call can say, and not said by a call yet (in SQL: those said
    already never fill the ``limit``)."""
    call = aliased(OutboundMessage)
    key = literal(_TAKEN_OVER_PREFIX).concat(sql_cast(OutboundMessage.id, String))
    unsaid = ~exists().where(call.idempotency_key == key)
    return list((await session.execute(_lost_to_landlines(since).where(unsaid).limit(limit))).scalars())


async def said_by_calls(*, session: AsyncSession, sms_ids: Sequence[int], lost_since: datetime | None) -> set[int]:
    """Which of these SMS a call says instead: those a call says already, and — with ``lost_since`` (calls are on)
    — those ``sms_lost_to_landlines(since=lost_since)`` finds, which the take-over says at its next run."""
    if not sms_ids:
        return set()
    said = await _said(session, sms_ids)
    if lost_since is not None:
        query = _lost_to_landlines(lost_since).where(OutboundMessage.id.in_(list(sms_ids)))
        said |= {row.id for row in (await session.execute(query)).scalars()}
    return said
