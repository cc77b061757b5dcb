"""Reads of the outbox for forecasting departures: a resident's pending messages (what they received today is
``storage.outbox.claiming.capped_since``, the dispatcher's own count).

Plain column rows (no ORM objects); the caller's session, no writes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Result, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MessageKind, MessageStatus, OutboundMessage


@dataclass(frozen=True)
class PendingRow:
    id: int
    resident_id: int | None
    kind: MessageKind
    priority: int
    urgent: bool
    due_at: datetime
    created_at: datetime
    attempts: int
    broadcast_id: int | None


_COLUMNS = (
    OutboundMessage.id,
    OutboundMessage.resident_id,
    OutboundMessage.kind,
    OutboundMessage.priority,
    OutboundMessage.urgent,
    OutboundMessage.due_at,
    OutboundMessage.created_at,
    OutboundMessage.attempts,
    OutboundMessage.broadcast_id,
)


def _rows(result: Result[Any]) -> list[PendingRow]:
    return [PendingRow(*tuple(row)) for row in result]


async def pending_rows(
    *, session: AsyncSession, ids: Collection[int] = (), broadcast_id: int | None = None
) -> list[PendingRow]:
    """Pending messages by id, or those of a broadcast."""
    query = select(*_COLUMNS).where(OutboundMessage.status == MessageStatus.pending)
    if broadcast_id is not None:
        query = query.where(OutboundMessage.broadcast_id == broadcast_id)
    else:
        query = query.where(OutboundMessage.id.in_(list(ids)))
    return _rows(await session.execute(query.order_by(OutboundMessage.id)))


async def pending_soonest(*, session: AsyncSession, limit: int) -> list[PendingRow]:
    """The pending messages due soonest (those held back by a rule are among them: due now or at the window)."""
    query = (
        select(*_COLUMNS)
        .where(OutboundMessage.status == MessageStatus.pending)
        .order_by(OutboundMessage.due_at, OutboundMessage.id)
        .limit(limit)
    )
    return _rows(await session.execute(query))


async def pending_of_residents(*, session: AsyncSession, resident_ids: Collection[int]) -> list[PendingRow]:
    """Every pending message of these residents (the queue the dispatcher will take them from)."""
    if not resident_ids:
        return []
    query = select(*_COLUMNS).where(
        OutboundMessage.status == MessageStatus.pending, OutboundMessage.resident_id.in_(list(resident_ids))
    )
    return _rows(await session.execute(query.order_by(OutboundMessage.id)))
