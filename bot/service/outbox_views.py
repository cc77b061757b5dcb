"""The outbox as advisers see it: every message, what it says, to whom, when, and what became of it; messages
held back (and until when), sends that failed.

Read-only views for the interfaces, which never query storage themselves. Full numbers: advisers phone people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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


async def held_messages(*, ctx: Context, limit: int = 50) -> list[MessageView]:
    """Messages waiting to leave later (quiet hours, Sunday, the daily cap…), soonest first."""
    query = (
        _views()
        .where(OutboundMessage.status == MessageStatus.pending, OutboundMessage.due_at > ctx.now())
        .order_by(OutboundMessage.due_at, OutboundMessage.id)
        .limit(limit)
    )
    async with ctx.db.read() as session:
        return [_view(row, name) for row, name in (await session.execute(query)).all()]


async def failed_messages(*, ctx: Context, within: timedelta = timedelta(days=7), limit: int = 50) -> list[MessageView]:
    """Sends that failed or expired lately, newest first: their recipients need a phone call."""
    query = (
        _views()
        .where(
            OutboundMessage.status.in_((MessageStatus.failed, MessageStatus.expired)),
            OutboundMessage.updated_at >= ctx.now() - within,
            OutboundMessage.kind != MessageKind.reply,
        )
        .order_by(OutboundMessage.updated_at.desc(), OutboundMessage.id.desc())
        .limit(limit)
    )
    async with ctx.db.read() as session:
        return [_view(row, name) for row, name in (await session.execute(query)).all()]


async def messages_about_workshop(*, ctx: Context, workshop_id: int, limit: int = 200) -> list[MessageView]:
    """The messages queued about a workshop (notices, reminders, broadcasts), newest first."""
    query = _views().where(OutboundMessage.workshop_id == workshop_id).order_by(OutboundMessage.id.desc()).limit(limit)
    async with ctx.db.read() as session:
        return [_view(row, name) for row, name in (await session.execute(query)).all()]
