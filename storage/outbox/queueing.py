"""Putting messages in the outbox, taking them back out before they leave, and reading what was queued.

Every function runs in the caller's transaction. Idempotency keys make a message planned twice queued once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import insert_or_skip
from storage.enums import Channel
from storage.models import MessageKind, MessageStatus, OutboundMessage, Resident
from storage.prepared import execute_in, one_of

PRIORITY_ANSWER, PRIORITY_URGENT, PRIORITY_NORMAL = 0, 1, 2

TABLE = cast(Table, OutboundMessage.__table__)  # the Core table, for statements that run for many rows


def priority_of(*, kind: MessageKind, urgent: bool, inbound_id: int | None) -> int:
    if kind == MessageKind.reply or inbound_id is not None:
        return PRIORITY_ANSWER
    return PRIORITY_URGENT if urgent else PRIORITY_NORMAL


@dataclass(frozen=True)
class NewMessage:
    """One message to queue: what it says, to whom, when, and what it is about."""

    channel: Channel
    to_address: str
    body: str
    kind: MessageKind
    due_at: datetime
    idempotency_key: str  # planned twice = queued once
    choices: tuple[str, ...] = ()
    ask_contact: bool = False  # Telegram: offer the "share my number" button
    expires_at: datetime | None = None
    urgent: bool = False
    resident_id: int | None = None
    adviser_id: int | None = None
    workshop_id: int | None = None
    enrolment_id: int | None = None
    broadcast_id: int | None = None
    inbound_id: int | None = None  # an answer to this inbound message
    about_resident_id: int | None = None  # to someone else about this resident: erased with them (or once sent)
    change: Mapping[str, Any] | None = None  # a change notice: the change it announces, as data
    # A reply handed to the provider already, outside the dispatcher (the terminal, a webhook's answer): recorded
    # ``sent`` at ``sent_at``; or, with ``unconfirmed_until``, ``sending`` under a lease until then: the provider's
    # report confirms it, and if none came by then, the dispatcher settles it as any message in doubt (asks the
    # provider, sends if absent).
    status: MessageStatus = MessageStatus.pending
    sent_at: datetime | None = None
    unconfirmed_until: datetime | None = None


def message_values(message: NewMessage) -> dict[str, Any]:
    """The outbox row's values for a message (``enqueue``)."""
    claimed = message.unconfirmed_until is not None
    return {
        "channel": message.channel,
        "to_address": message.to_address,
        "body": message.body,
        "choices": list(message.choices),
        "ask_contact": message.ask_contact,
        "kind": message.kind,
        "urgent": message.urgent,
        "priority": priority_of(kind=message.kind, urgent=message.urgent, inbound_id=message.inbound_id),
        "due_at": message.due_at,
        "expires_at": message.expires_at,
        "status": MessageStatus.sending if claimed else message.status,
        "attempts": 1 if message.sent_at is not None or claimed else 0,
        "idempotency_key": message.idempotency_key,
        "resident_id": message.resident_id,
        "adviser_id": message.adviser_id,
        "workshop_id": message.workshop_id,
        "enrolment_id": message.enrolment_id,
        "broadcast_id": message.broadcast_id,
        "inbound_id": message.inbound_id,
        "about_resident_id": message.about_resident_id,
        "change": dict(message.change) if message.change is not None else None,
        "sent_at": message.sent_at,
        "claimed_at": message.due_at if claimed else None,
        "lease_until": message.unconfirmed_until,
    }


async def enqueue(*, session: AsyncSession, message: NewMessage) -> int | None:
    """Queue one message and return its id; None when a message with its idempotency key exists already."""
    statement = insert_or_skip(session, TABLE, unique=("idempotency_key",))
    inserted = await execute_in(session, statement, message_values(message))
    return int(inserted[0][0]) if inserted else None


async def enqueue_many(*, session: AsyncSession, messages: Sequence[NewMessage]) -> list[int]:
    """Queue many messages in a few statements (a broadcast to thousands); keys already present are skipped.
    Returns the ids of the rows added."""
    if not messages:
        return []
    statement = insert_or_skip(session, TABLE, unique=("idempotency_key",))
    result = await session.execute(statement, [message_values(m) for m in messages])
    return [int(row[0]) for row in result]


async def revive_cancelled(*, session: AsyncSession, message: NewMessage) -> bool:
    """Make the cancelled message of this idempotency key pending again, with the content of ``message`` (a seat
    given up, then taken again: its reminders come back). A message that was sent, or is pending, is left alone.
    Returns True when revived."""
    result = await session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.idempotency_key == message.idempotency_key,
            OutboundMessage.status == MessageStatus.cancelled,
        )
        .values(
            status=MessageStatus.pending,
            channel=message.channel,
            to_address=message.to_address,
            body=message.body,
            choices=list(message.choices),
            due_at=message.due_at,
            expires_at=message.expires_at,
            error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def cancel_pending(
    *,
    session: AsyncSession,
    enrolment_id: int | None = None,
    resident_id: int | None = None,
    workshop_id: int | None = None,
    kinds: Collection[MessageKind] | None = None,
    channel: str | None = None,
) -> int:
    """Cancel the pending messages matching every filter given; returns how many. At least one of enrolment,
    resident or workshop is required (never "cancel everything" by mistake)."""
    if enrolment_id is None and resident_id is None and workshop_id is None:
        raise ValueError("cancel_pending needs an enrolment, a resident or a workshop")
    given = {"enrolment": enrolment_id, "resident": resident_id, "workshop": workshop_id, "on_channel": channel}
    filters = {name: value for name, value in given.items() if value is not None}
    if kinds is not None and not kinds:
        return 0  # no kind at all: nothing matches (never "every kind")
    statement = _cancel_statement(frozenset(filters), tuple(sorted(kinds)) if kinds is not None else None)
    return len(await execute_in(session, statement, filters))


_FILTERS = {
    "enrolment": OutboundMessage.enrolment_id,
    "resident": OutboundMessage.resident_id,
    "workshop": OutboundMessage.workshop_id,
    "on_channel": OutboundMessage.channel,  # not "channel": an UPDATE's bound names cannot be its columns'
}


@cache
def _cancel_statement(filters: frozenset[str], kinds: tuple[MessageKind, ...] | None) -> Any:
    """``cancel_pending``'s UPDATE for the filters given (bound by name) and the kinds (written in), built once
    per combination: it runs for every seat taken or given up. Returns the ids cancelled (their count)."""
    conditions = [OutboundMessage.status == MessageStatus.pending]
    conditions += [column == bindparam(name) for name, column in _FILTERS.items() if name in filters]
    if kinds is not None:
        conditions.append(one_of(OutboundMessage.kind, kinds))
    return (
        update(TABLE).where(*conditions).values(status=MessageStatus.cancelled, lease_until=None).returning(TABLE.c.id)
    )


# What erasure blanks on a message: its address, its text, and a Telegram provider id ("chat id:message id").
# A Twilio sid names no one and stays (a late delivery report still finds its row).
SCRUBBED: dict[str, Any] = {
    "to_address": "",
    "body": "",
    "choices": [],
    "provider_id": case((OutboundMessage.channel == Channel.telegram, None), else_=OutboundMessage.provider_id),
}


async def scrub_resident_messages(*, session: AsyncSession, resident_id: int) -> None:
    """Erasure: a message's address and text are personal data; keep only the anonymous row (kind, status). Both
    the messages to the resident and those about them (an adviser's call-back notice): the latter, not sent yet,
    are cancelled (there is nobody to call any more)."""
    await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.about_resident_id == resident_id, OutboundMessage.status == MessageStatus.pending)
        .values(status=MessageStatus.cancelled, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    for about in (OutboundMessage.resident_id, OutboundMessage.about_resident_id):
        await session.execute(
            update(OutboundMessage)
            .where(about == resident_id)
            .values(**SCRUBBED)
            .execution_options(synchronize_session=False)
        )


async def scrub_sent_about_erased(*, session: AsyncSession, ids: Collection[int]) -> int:
    """Blank those of these messages, now sent (or failed), that speak about someone erased: the goodbye after
    OUBLIER on Telegram had to keep the chat until it left. Returns how many were blanked."""
    if not ids:
        return 0
    erased = select(Resident.id).where(Resident.erased.is_(True))
    result = await session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id.in_(list(ids)),
            OutboundMessage.about_resident_id.in_(erased),
            OutboundMessage.status.not_in((MessageStatus.pending, MessageStatus.sending)),
        )
        .values(**SCRUBBED)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- reading what was queued -------------------------------------------------------------------------------


class RecentReplies(NamedTuple):
    total: int  # replies to the address since the moment given (cancelled ones never left: not counted)
    marked: int  # of which those whose idempotency key ends with the marker given


class LastDigest(NamedTuple):
    id: int
    pending: bool
    left_at: datetime  # when it was sent, or is due


async def last_digest(*, session: AsyncSession, adviser_id: int) -> LastDigest | None:
    """The adviser's latest call-back digest that left or will leave (cancelled and expired ones do not count)."""
    row = (
        await session.execute(
            select(OutboundMessage.id, OutboundMessage.status, OutboundMessage.sent_at, OutboundMessage.due_at)
            .where(
                OutboundMessage.adviser_id == adviser_id,
                OutboundMessage.kind == MessageKind.callback_digest,
                OutboundMessage.status.not_in((MessageStatus.cancelled, MessageStatus.expired)),
            )
            .order_by(OutboundMessage.id.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    return LastDigest(int(row[0]), row[1] == MessageStatus.pending, row[2] or row[3])


async def rewrite_pending(*, session: AsyncSession, message_id: int, body: str) -> bool:
    """A pending message's new text (a digest counting one more request); False when it is no longer pending."""
    result = await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status == MessageStatus.pending)
        .values(body=body)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


ASKING_KINDS = (MessageKind.reminder, MessageKind.promotion, MessageKind.change_notice)  # each about one seat


class Asked(NamedTuple):
    enrolment_id: int
    sent_at: datetime


async def last_asked_enrolment(*, session: AsyncSession, resident_id: int, since: datetime) -> Asked | None:
    """The enrolment that the latest reminder or notice sent to the resident since ``since`` was about, and when
    it was sent."""
    result = await session.execute(
        select(OutboundMessage.enrolment_id, OutboundMessage.sent_at)
        .where(
            OutboundMessage.resident_id == resident_id,
            OutboundMessage.enrolment_id.is_not(None),
            OutboundMessage.kind.in_(ASKING_KINDS),
            OutboundMessage.status.in_((MessageStatus.sent, MessageStatus.delivered)),
            OutboundMessage.sent_at >= since,
        )
        .order_by(OutboundMessage.sent_at.desc(), OutboundMessage.id.desc())
        .limit(1)
    )
    row = result.one_or_none()
    if row is None or row[0] is None or row[1] is None:  # both are set on every row the query can return
        return None
    return Asked(int(row[0]), row[1])


async def pending_about_workshop(
    *, session: AsyncSession, workshop_id: int, kinds: Collection[MessageKind]
) -> list[OutboundMessage]:
    """The workshop's messages of these kinds not sent yet, locked (PostgreSQL: a dispatcher claiming one makes
    us wait, then it is no longer pending and is left alone)."""
    result = await session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.workshop_id == workshop_id,
            OutboundMessage.kind.in_(list(kinds)),
            OutboundMessage.status == MessageStatus.pending,
        )
        .order_by(OutboundMessage.id)
        .with_for_update()
    )
    return list(result)


async def replies_for_inbound(*, session: AsyncSession, inbound_id: int) -> list[OutboundMessage]:
    result = await session.scalars(
        select(OutboundMessage).where(OutboundMessage.inbound_id == inbound_id).order_by(OutboundMessage.id)
    )
    return list(result)
