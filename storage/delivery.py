"""Delivery reports on outbox rows: what the provider says happened to a message after it accepted it.

Reports arrive late, twice, or out of order (a "sent" after the "delivered"): a row only ever moves forward, and
the first final report (delivered or failed) wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Channel
from storage.models import MessageStatus, OutboundMessage
from storage.residents import clear_sms_unreachable, mark_sms_unreachable, set_opt_out

# How far along a message is. Cancelled and expired rows were never handed to a provider: no report moves them.
_RANK = {
    MessageStatus.pending: 0,
    MessageStatus.sending: 1,
    MessageStatus.sent: 2,
    MessageStatus.delivered: 3,
    MessageStatus.failed: 3,
}


@dataclass(frozen=True)
class Recorded:
    """A report found its row."""

    resident_id: int | None
    reachable_again: bool = False  # a delivered SMS lifted the resident's "cannot receive SMS" mark


async def record_status(
    *,
    session: AsyncSession,
    provider_id: str,
    status: MessageStatus,
    error_code: str | None = None,
    opted_out: bool = False,
    unreachable: bool = False,
    outbox_id: int | None = None,
) -> Recorded | None:
    """Record a provider's report on the outbox row it sent as ``provider_id``; None when no row has that id.

    ``outbox_id``: the report names the row itself. A reply returned in the webhook's answer (TwiML) has no
    provider id until the provider's first report on it, which gives it one.

    ``opted_out``: the recipient refused this channel (Twilio 21610) — the resident is opted out of it.
    ``unreachable``: the address can never receive on this channel (a landline) — for SMS, ``sms_unreachable``.
    Either way the resident's pending messages on that channel are cancelled in the same transaction.
    A delivered SMS proves the number receives SMS: a mark left by an earlier "unreachable carrier" (30006 is
    also a carrier's passing refusal) is lifted, and ``reachable_again`` says so (their reminders were cancelled).
    """
    row = await _locked(session, OutboundMessage.provider_id == provider_id)
    if row is None and outbox_id is not None:
        row = await _locked(
            session,
            OutboundMessage.id == outbox_id,
            OutboundMessage.provider_id.is_(None),
            OutboundMessage.inbound_id.is_not(None),  # only a reply to an inbound message is named this way
        )
        if row is not None:
            row.provider_id = provider_id
    if row is None:
        return None
    current = _RANK.get(row.status)
    if current is not None and _RANK[status] > current:
        if row.status is MessageStatus.sending and row.sent_at is None:  # a TwiML reply: its first report
            row.sent_at, row.lease_until = row.claimed_at, None
        row.status = status
        if status is MessageStatus.failed:
            row.error = error_code or "failed"
    if row.resident_id is not None:
        # set_opt_out / mark_sms_unreachable also cancel the resident's pending messages on that channel
        if opted_out and row.channel in set(Channel):
            await set_opt_out(session=session, resident_id=row.resident_id, channel=row.channel, opted_out=True)
        elif unreachable and row.channel == Channel.sms:
            await mark_sms_unreachable(session=session, resident_id=row.resident_id)
        elif status is MessageStatus.delivered and row.channel == Channel.sms:
            reachable = await clear_sms_unreachable(session=session, resident_id=row.resident_id)
            return Recorded(row.resident_id, reachable_again=reachable)
    return Recorded(row.resident_id)


async def _locked(session: AsyncSession, *conditions: ColumnElement[bool]) -> OutboundMessage | None:
    query = select(OutboundMessage).where(*conditions).limit(1)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()  # SQLite: the caller's BEGIN IMMEDIATE already serialises writers
    return (await session.execute(query)).scalars().first()
