"""The outbox as advisers see it: every message, what it says, to whom, when, and what became of it.

Read-only views for the interfaces, which never query storage themselves. Full numbers: advisers phone people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from bot.context import Context
from storage.models import MessageKind, MessageStatus, OutboundMessage, Resident


@dataclass(frozen=True)
class MessageView:
    id: int
    resident_id: int | None
    name: str | None  # the resident's
    channel: str
    to_address: str
    kind: MessageKind
    body: str
    due_at: datetime
    status: MessageStatus
    error: str | None
    workshop_id: int | None
    choices: tuple[str, ...] = ()  # shown under the body: numbered in an SMS, buttons on Telegram
    attempts: int = 0
    provider_id: str | None = None


def _views() -> Select[OutboundMessage, str | None]:
    return select(OutboundMessage, Resident.name).outerjoin(Resident, Resident.id == OutboundMessage.resident_id)


def _view(row: OutboundMessage, name: str | None) -> MessageView:
    return MessageView(
        row.id,
        row.resident_id,
        name,
        row.channel,
        row.to_address,
        MessageKind(row.kind),
        row.body,
        row.due_at,
        MessageStatus(row.status),
        row.error,
        row.workshop_id,
        choices=tuple(row.choices or ()),
        attempts=row.attempts,
        provider_id=row.provider_id,
    )


async def list_messages(
    *, ctx: Context, status: MessageStatus | None = None, kind: MessageKind | None = None, limit: int | None = None
) -> list[MessageView]:
    """The outbox, newest due first; only the messages of this status and kind when given."""
    query = _views().order_by(OutboundMessage.due_at.desc(), OutboundMessage.id.desc())
    if status is not None:
        query = query.where(OutboundMessage.status == status)
    if kind is not None:
        query = query.where(OutboundMessage.kind == kind)
    if limit is not None:
        query = query.limit(limit)
    async with ctx.db.read() as session:
        return [_view(row, name) for row, name in (await session.execute(query)).all()]
