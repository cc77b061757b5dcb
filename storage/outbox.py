"""The outbox: every message that leaves Atelier is a row here first (SPEC §5).

Functions take the caller's session and never commit. Claiming is what makes several processes safe:

- PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` then ``UPDATE`` in the same transaction — two dispatchers never
  get the same row and never wait for each other's rows
  (https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE);
- SQLite: the same statements inside ``Database.write()``, whose ``BEGIN IMMEDIATE`` holds the database's single
  write lock for the whole transaction, so select-then-update is atomic.

A claimed row is ``sending`` with a lease; when the lease runs out (the worker died) the row is claimable again
and reported "in doubt": the message may or may not have reached the provider.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import dialect_insert, insert_or_skip
from storage.models import (
    Enrolment,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    SendPace,
    Workshop,
    WorkshopStatus,
)

PRIORITY_ANSWER, PRIORITY_URGENT, PRIORITY_NORMAL = 0, 1, 2

_TABLE = cast(Table, OutboundMessage.__table__)  # the Core table, for executemany updates
_COUNTED = (MessageStatus.sending, MessageStatus.sent, MessageStatus.delivered)


def priority_of(*, kind: MessageKind, urgent: bool, inbound_id: int | None) -> int:
    if kind == MessageKind.reply or inbound_id is not None:
        return PRIORITY_ANSWER
    return PRIORITY_URGENT if urgent else PRIORITY_NORMAL


async def enqueue(
    *,
    session: AsyncSession,
    channel: str,
    to_address: str,
    body: str,
    kind: MessageKind,
    due_at: datetime,
    idempotency_key: str,
    resident_id: int | None = None,
    adviser_id: int | None = None,
    choices: Sequence[str] = (),
    expires_at: datetime | None = None,
    urgent: bool = False,
    workshop_id: int | None = None,
    enrolment_id: int | None = None,
    broadcast_id: int | None = None,
    inbound_id: int | None = None,
    status: MessageStatus = MessageStatus.pending,
    sent_at: datetime | None = None,
    ask_contact: bool = False,
    unconfirmed_until: datetime | None = None,
) -> int | None:
    """Queue one message and return its id; None when a message with this idempotency key exists already
    (planned twice = once).

    ``unconfirmed_until``: the message was handed to the provider just now, outside the dispatcher (a reply in a
    webhook's answer). It is recorded ``sending`` under a lease until then: the provider's report confirms it, and
    if none came by then, the dispatcher settles it as any message in doubt (asks the provider, sends if absent)."""
    claimed = unconfirmed_until is not None
    values = {
        "channel": channel,
        "to_address": to_address,
        "body": body,
        "choices": list(choices),
        "kind": kind,
        "urgent": urgent,
        "priority": priority_of(kind=kind, urgent=urgent, inbound_id=inbound_id),
        "due_at": due_at,
        "expires_at": expires_at,
        "status": MessageStatus.sending if claimed else status,
        "attempts": 1 if sent_at is not None or claimed else 0,
        "idempotency_key": idempotency_key,
        "resident_id": resident_id,
        "adviser_id": adviser_id,
        "workshop_id": workshop_id,
        "enrolment_id": enrolment_id,
        "broadcast_id": broadcast_id,
        "inbound_id": inbound_id,
        "sent_at": sent_at,
        "ask_contact": ask_contact,
        "claimed_at": due_at if claimed else None,
        "lease_until": unconfirmed_until,
    }
    statement = insert_or_skip(session, _TABLE, unique=("idempotency_key",))
    new_id = (await session.execute(statement, values)).scalar_one_or_none()
    return int(new_id) if new_id is not None else None


@dataclass(frozen=True)
class NewMessage:
    """One message for ``enqueue_many`` (the fields of ``enqueue``)."""

    channel: str
    to_address: str
    body: str
    kind: MessageKind
    due_at: datetime
    idempotency_key: str
    resident_id: int | None = None
    adviser_id: int | None = None
    choices: tuple[str, ...] = ()
    expires_at: datetime | None = None
    urgent: bool = False
    workshop_id: int | None = None
    enrolment_id: int | None = None
    broadcast_id: int | None = None


async def enqueue_many(*, session: AsyncSession, messages: Sequence[NewMessage]) -> list[int]:
    """Queue many messages in a few statements (a broadcast to thousands); keys already present are skipped.
    Returns the ids of the rows added."""
    if not messages:
        return []
    rows = [
        {
            "channel": m.channel,
            "to_address": m.to_address,
            "body": m.body,
            "choices": list(m.choices),
            "kind": m.kind,
            "urgent": m.urgent,
            "priority": priority_of(kind=m.kind, urgent=m.urgent, inbound_id=None),
            "due_at": m.due_at,
            "expires_at": m.expires_at,
            "status": MessageStatus.pending,
            "attempts": 0,
            "idempotency_key": m.idempotency_key,
            "resident_id": m.resident_id,
            "adviser_id": m.adviser_id,
            "workshop_id": m.workshop_id,
            "enrolment_id": m.enrolment_id,
            "broadcast_id": m.broadcast_id,
        }
        for m in messages
    ]
    result = await session.execute(insert_or_skip(session, _TABLE, unique=("idempotency_key",)), rows)
    return [int(row[0]) for row in result]


async def revive_cancelled(
    *,
    session: AsyncSession,
    idempotency_key: str,
    channel: str,
    to_address: str,
    body: str,
    choices: Sequence[str],
    due_at: datetime,
    expires_at: datetime | None,
) -> bool:
    """Make a cancelled message pending again, with fresh content (a seat given up, then taken again: its
    reminders come back). A message that was sent, or is pending, is left alone. Returns True when revived."""
    result = await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.idempotency_key == idempotency_key, OutboundMessage.status == MessageStatus.cancelled)
        .values(
            status=MessageStatus.pending,
            channel=channel,
            to_address=to_address,
            body=body,
            choices=list(choices),
            due_at=due_at,
            expires_at=expires_at,
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
    conditions = [OutboundMessage.status == MessageStatus.pending]
    if enrolment_id is not None:
        conditions.append(OutboundMessage.enrolment_id == enrolment_id)
    if resident_id is not None:
        conditions.append(OutboundMessage.resident_id == resident_id)
    if workshop_id is not None:
        conditions.append(OutboundMessage.workshop_id == workshop_id)
    if kinds is not None:
        conditions.append(OutboundMessage.kind.in_(list(kinds)))
    if channel is not None:
        conditions.append(OutboundMessage.channel == channel)
    result = await session.execute(
        update(OutboundMessage)
        .where(*conditions)
        .values(status=MessageStatus.cancelled, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


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


async def list_messages(
    *,
    session: AsyncSession,
    status: MessageStatus | None = None,
    kind: MessageKind | None = None,
    limit: int | None = None,
) -> list[OutboundMessage]:
    """The outbox, newest due first."""
    statement = select(OutboundMessage).order_by(OutboundMessage.due_at.desc(), OutboundMessage.id.desc())
    if status is not None:
        statement = statement.where(OutboundMessage.status == status)
    if kind is not None:
        statement = statement.where(OutboundMessage.kind == kind)
    if limit is not None:
        statement = statement.limit(limit)
    return list(await session.scalars(statement))


async def scrub_resident_messages(*, session: AsyncSession, resident_id: int) -> None:
    """Erasure: a message's address and text are personal data; keep only the anonymous row (kind, status)."""
    await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.resident_id == resident_id)
        .values(to_address="", body="", choices=[])
        .execution_options(synchronize_session=False)
    )


# --- claiming (the dispatcher) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueMessage:
    """A due row, locked by the claiming transaction, as the dispatcher sees it."""

    id: int
    channel: str
    to_address: str
    body: str
    choices: tuple[str, ...]
    kind: MessageKind
    urgent: bool
    due_at: datetime
    expires_at: datetime | None
    attempts: int
    resident_id: int | None
    adviser_id: int | None
    enrolment_id: int | None
    workshop_id: int | None
    broadcast_id: int | None
    inbound_id: int | None
    ask_contact: bool
    # set when a worker claimed it before and its lease ran out: the send may have happened after this moment
    in_doubt_since: datetime | None = None


_DUE_COLUMNS = (
    _TABLE.c.id,
    _TABLE.c.channel,
    _TABLE.c.to_address,
    _TABLE.c.body,
    _TABLE.c.choices,
    _TABLE.c.kind,
    _TABLE.c.urgent,
    _TABLE.c.due_at,
    _TABLE.c.expires_at,
    _TABLE.c.attempts,
    _TABLE.c.resident_id,
    _TABLE.c.adviser_id,
    _TABLE.c.enrolment_id,
    _TABLE.c.workshop_id,
    _TABLE.c.broadcast_id,
    _TABLE.c.inbound_id,
    _TABLE.c.ask_contact,
    _TABLE.c.claimed_at,
)


def _due(row: Any, *, in_doubt: bool) -> DueMessage:
    return DueMessage(
        id=row.id,
        channel=row.channel,
        to_address=row.to_address,
        body=row.body,
        choices=tuple(row.choices or ()),
        kind=MessageKind(row.kind),
        urgent=row.urgent,
        due_at=row.due_at,
        expires_at=row.expires_at,
        attempts=row.attempts,
        resident_id=row.resident_id,
        adviser_id=row.adviser_id,
        enrolment_id=row.enrolment_id,
        workshop_id=row.workshop_id,
        broadcast_id=row.broadcast_id,
        inbound_id=row.inbound_id,
        ask_contact=bool(row.ask_contact),
        in_doubt_since=(row.claimed_at or row.due_at) if in_doubt else None,
    )


async def lock_due(*, session: AsyncSession, channel: str, now: datetime, limit: int) -> list[DueMessage]:
    """Lock up to ``limit`` rows of ``channel`` that are due: rows whose lease ran out first (they have waited
    longest), then pending rows by priority and due time. Rows locked by another transaction are skipped.

    Plain column rows, not ORM objects: the dispatcher reads thousands of them a minute."""
    if limit <= 0:
        return []
    c = _TABLE.c
    in_doubt = (
        await session.execute(
            select(*_DUE_COLUMNS)
            .where(c.status == MessageStatus.sending, c.channel == channel, c.lease_until <= now)
            .order_by(c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    pending = (
        await session.execute(
            select(*_DUE_COLUMNS)
            .where(c.status == MessageStatus.pending, c.channel == channel, c.due_at <= now)
            .order_by(c.priority, c.due_at, c.id)
            .limit(limit - len(in_doubt))
            .with_for_update(skip_locked=True)
        )
    ).all()
    return [_due(row, in_doubt=True) for row in in_doubt] + [_due(row, in_doubt=False) for row in pending]


async def mark_claimed(
    *, session: AsyncSession, ids: Collection[int], now: datetime, lease_until: datetime, in_doubt: bool = False
) -> None:
    """The locked rows become ``sending`` under a lease; ``lease_until`` identifies this claim (see Outcome).

    ``claimed_at`` is when a send may first have happened: set for fresh rows, kept for rows in doubt, so that a
    lookup at the provider searches from the first claim however many times the row was taken over."""
    if not ids:
        return
    values: dict[str, Any] = {"status": MessageStatus.sending, "lease_until": lease_until, "updated_at": now}
    if not in_doubt:
        values["claimed_at"] = now
    await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_(list(ids)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Outcome:
    """What became of one row. With ``claim`` (the claim's ``lease_until``) set, it applies only if the row is
    still under that claim: a worker whose lease ran out must not overwrite the result of the one that took over."""

    id: int
    status: MessageStatus
    claim: datetime | None = None
    due_at: datetime | None = None  # a new due time (retry, sending window, daily cap)
    provider_id: str | None = None
    error: str | None = None
    sent_at: datetime | None = None
    attempted: bool = False  # a send was tried: one more attempt
    # with status ``sending``: in doubt from this moment (the send may have reached the provider; it will be
    # looked up before any new try). Otherwise None: the row is not claimed any more.
    lease_until: datetime | None = None


def _outcome_statement(*, guarded: bool) -> Any:
    c = _TABLE.c
    statement = update(_TABLE).where(c.id == bindparam("o_id"))
    if guarded:
        statement = statement.where(
            c.status == MessageStatus.sending, c.lease_until == bindparam("o_claim", type_=c.lease_until.type)
        )
    return statement.values(
        status=bindparam("o_status", type_=c.status.type),
        due_at=func.coalesce(bindparam("o_due", type_=c.due_at.type), c.due_at),
        provider_id=func.coalesce(bindparam("o_provider", type_=c.provider_id.type), c.provider_id),
        error=bindparam("o_error", type_=c.error.type),
        sent_at=func.coalesce(bindparam("o_sent", type_=c.sent_at.type), c.sent_at),
        attempts=c.attempts + bindparam("o_tries", type_=c.attempts.type),
        lease_until=bindparam("o_lease", type_=c.lease_until.type),
        updated_at=bindparam("o_now", type_=c.updated_at.type),
    )


async def record_outcomes(*, session: AsyncSession, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Write many outcomes in two statements (executemany), in id order so that concurrent writers lock rows in
    the same order."""
    rows: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for outcome in sorted(outcomes, key=lambda o: o.id):
        params = {
            "o_id": outcome.id,
            "o_status": outcome.status,
            "o_due": outcome.due_at,
            "o_provider": outcome.provider_id,
            "o_error": outcome.error,
            "o_sent": outcome.sent_at,
            "o_tries": 1 if outcome.attempted else 0,
            "o_lease": outcome.lease_until,
            "o_now": now,
        }
        if outcome.claim is not None:
            params["o_claim"] = outcome.claim
        rows[outcome.claim is not None].append(params)
    for guarded, params_list in rows.items():
        if params_list:
            await session.execute(_outcome_statement(guarded=guarded), params_list)


async def lock_pace(*, session: AsyncSession, channel: str, now: datetime) -> SendPace:
    """The channel's shared pacing row, locked until the end of the transaction (created at the first use)."""
    await session.execute(
        dialect_insert(session)(SendPace)
        .values(channel=channel, next_at=now)
        .on_conflict_do_nothing(index_elements=["channel"])
    )
    result = await session.scalars(
        select(SendPace).where(SendPace.channel == channel).with_for_update().execution_options(populate_existing=True)
    )
    return result.one()


# --- what the dispatcher checks before sending --------------------------------------------------------------


@dataclass(frozen=True)
class ResidentFacts:
    erased: bool
    opted_out_sms: bool
    opted_out_telegram: bool
    sms_unreachable: bool


@dataclass(frozen=True)
class Facts:
    """What decides whether due messages are still wanted, loaded in a few queries for a whole batch."""

    residents: dict[int, ResidentFacts] = field(default_factory=dict)
    enrolments: dict[int, EnrolmentStatus] = field(default_factory=dict)
    workshops: dict[int, tuple[WorkshopStatus, datetime]] = field(default_factory=dict)
    sent_today: dict[int, int] = field(default_factory=dict)  # resident → non-urgent messages since day start


async def load_facts(*, session: AsyncSession, messages: Sequence[DueMessage], day_start: datetime) -> Facts:
    resident_ids = {m.resident_id for m in messages if m.resident_id is not None}
    enrolment_ids = {m.enrolment_id for m in messages if m.enrolment_id is not None}
    workshop_ids = {m.workshop_id for m in messages if m.workshop_id is not None}
    facts = Facts()
    if resident_ids:
        rows = await session.execute(
            select(
                Resident.id,
                Resident.erased,
                Resident.opted_out_sms,
                Resident.opted_out_telegram,
                Resident.sms_unreachable,
            ).where(Resident.id.in_(resident_ids))
        )
        facts.residents.update({r[0]: ResidentFacts(r[1], r[2], r[3], r[4]) for r in rows})
        counted = await session.execute(
            select(OutboundMessage.resident_id, func.count())
            .where(
                OutboundMessage.resident_id.in_(resident_ids),
                OutboundMessage.priority == PRIORITY_NORMAL,
                OutboundMessage.status.in_(_COUNTED),
                or_(
                    OutboundMessage.sent_at >= day_start,
                    and_(OutboundMessage.sent_at.is_(None), OutboundMessage.claimed_at >= day_start),
                ),
            )
            .group_by(OutboundMessage.resident_id)
        )
        facts.sent_today.update({int(r[0] or 0): int(r[1]) for r in counted})
    if enrolment_ids:
        statuses = await session.execute(select(Enrolment.id, Enrolment.status).where(Enrolment.id.in_(enrolment_ids)))
        facts.enrolments.update({r[0]: EnrolmentStatus(r[1]) for r in statuses})
    if workshop_ids:
        workshops = await session.execute(
            select(Workshop.id, Workshop.status, Workshop.starts_at).where(Workshop.id.in_(workshop_ids))
        )
        facts.workshops.update({r[0]: (WorkshopStatus(r[1]), r[2]) for r in workshops})
    return facts
