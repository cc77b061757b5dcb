"""The outbox as advisers see it: every message, what it says, to whom, when, and what became of it; messages
held back (and until when), sends that failed.

Read-only views for the interfaces, which never query storage themselves. Full numbers: advisers phone people.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, or_, select

from bot.context import Context
from bot.service.departures import ON_TIME, WaitReason, forecast_rows
from storage.models import MessageKind, MessageStatus, OutboundMessage, Resident
from storage.outbox.departures import pending_soonest


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


@dataclass(frozen=True)
class HeldMessage:
    """A message held back by a rule: when it will leave, and why it waits."""

    message: MessageView
    leaves_at: datetime
    reasons: tuple[WaitReason, ...]  # quiet hours, the night, Sunday, a public holiday, the daily cap, a retry


HELD_LOOK_AHEAD = 500  # pending messages looked at, soonest due first (reminders for next week come after)


async def held_messages(*, ctx: Context, limit: int = 50) -> list[HeldMessage]:
    """Messages that will leave later than they could, soonest first, with when and why they wait (the forecast
    replays the dispatcher's rules: quiet hours, Sundays, public holidays, each person's daily cap). A reminder
    waiting for the time planned for it is not held."""
    now = ctx.now()
    async with ctx.db.read() as session:
        rows = await pending_soonest(session=session, limit=HELD_LOOK_AHEAD)
        departures = await forecast_rows(session=session, ctx=ctx, rows=rows, now=now)
        held = sorted(
            (d for d in departures if d.reasons and d.leaves_at > now + ON_TIME),
            key=lambda d: (d.leaves_at, d.message_id),
        )[:limit]
        query = _views().where(OutboundMessage.id.in_([d.message_id for d in held]))
        views = {row.id: _view(row, name) for row, name in (await session.execute(query)).all()}
    return [HeldMessage(views[d.message_id], d.leaves_at, d.reasons) for d in held if d.message_id in views]


async def failed_messages(
    *,
    ctx: Context,
    within: timedelta = timedelta(days=7),
    limit: int = 50,
    except_kinds: Mapping[str, Collection[MessageKind]] | None = None,
) -> list[MessageView]:
    """Sends that failed or expired lately, newest first: their recipients need a phone call. ``except_kinds``:
    per channel, leave out the kinds another list takes care of (``bot.service.calls.SWEPT_KINDS``: the "to call"
    list takes over failed notices, and by phone every message)."""
    taken = [
        and_(OutboundMessage.channel == channel, OutboundMessage.kind.in_(list(kinds)))
        for channel, kinds in (except_kinds or {}).items()
        if kinds
    ]
    query = (
        _views()
        .where(
            OutboundMessage.status.in_((MessageStatus.failed, MessageStatus.expired)),
            OutboundMessage.updated_at >= ctx.now() - within,
            OutboundMessage.kind != MessageKind.reply,
            *([~or_(*taken)] if taken else []),
        )
        .order_by(OutboundMessage.updated_at.desc(), OutboundMessage.id.desc())
        .limit(limit)
    )
    async with ctx.db.read() as session:
        return [_view(row, name) for row, name in (await session.execute(query)).all()]
