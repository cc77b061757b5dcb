"""Claiming due messages (the dispatcher) and writing what became of them.

Claiming is what makes several processes safe:

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
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import dialect_insert
from storage.enums import Channel
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
from storage.outbox.queueing import PRIORITY_NORMAL, TABLE

_COUNTED = (MessageStatus.sending, MessageStatus.sent, MessageStatus.delivered)  # towards the daily cap


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
    about_resident_id: int | None = None  # it speaks about this resident: blanked once sent if they were erased


_DUE_COLUMNS = (
    TABLE.c.id,
    TABLE.c.channel,
    TABLE.c.to_address,
    TABLE.c.body,
    TABLE.c.choices,
    TABLE.c.kind,
    TABLE.c.urgent,
    TABLE.c.due_at,
    TABLE.c.expires_at,
    TABLE.c.attempts,
    TABLE.c.resident_id,
    TABLE.c.adviser_id,
    TABLE.c.enrolment_id,
    TABLE.c.workshop_id,
    TABLE.c.broadcast_id,
    TABLE.c.inbound_id,
    TABLE.c.ask_contact,
    TABLE.c.claimed_at,
    TABLE.c.about_resident_id,
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
        about_resident_id=row.about_resident_id,
    )


async def lock_due(*, session: AsyncSession, channel: str, now: datetime, limit: int) -> list[DueMessage]:
    """Lock up to ``limit`` rows of ``channel`` that are due: rows whose lease ran out first (they have waited
    longest), then pending rows by priority and due time. Rows locked by another transaction are skipped.

    Plain column rows, not ORM objects: the dispatcher reads thousands of them a minute."""
    if limit <= 0:
        return []
    c = TABLE.c
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
    c = TABLE.c
    statement = update(TABLE).where(c.id == bindparam("o_id"))
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
    # Calls: per number, the voice rows ringing it now (claimed) or recently (placed since ``line_since``). One
    # call at a time per number, with a rest between calls: what makes an in-doubt call's lookup exact.
    lines: dict[str, set[int]] = field(default_factory=dict)

    def line_busy(self, message: DueMessage) -> bool:
        """Another call to this number is ringing, or rang lately."""
        return bool(self.lines.get(message.to_address, set()) - {message.id})


async def capped_since(*, session: AsyncSession, resident_ids: Collection[int], since: datetime) -> dict[int, int]:
    """Per resident: the messages that count towards the daily cap (non-urgent, not answers) that left since
    ``since``; the one count of the dispatcher (``load_facts``) and of the departures forecast."""
    if not resident_ids:
        return {}
    rows = await session.execute(
        select(OutboundMessage.resident_id, func.count())
        .where(
            OutboundMessage.resident_id.in_(list(resident_ids)),
            OutboundMessage.priority == PRIORITY_NORMAL,
            OutboundMessage.status.in_(_COUNTED),
            or_(
                OutboundMessage.sent_at >= since,
                and_(OutboundMessage.sent_at.is_(None), OutboundMessage.claimed_at >= since),
            ),
        )
        .group_by(OutboundMessage.resident_id)
    )
    return {int(r[0]): int(r[1]) for r in rows if r[0] is not None}


async def load_facts(
    *,
    session: AsyncSession,
    messages: Sequence[DueMessage],
    day_start: datetime,
    line_since: datetime | None = None,
) -> Facts:
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
        facts.sent_today.update(await capped_since(session=session, resident_ids=resident_ids, since=day_start))
    if enrolment_ids:
        statuses = await session.execute(select(Enrolment.id, Enrolment.status).where(Enrolment.id.in_(enrolment_ids)))
        facts.enrolments.update({r[0]: EnrolmentStatus(r[1]) for r in statuses})
    if workshop_ids:
        workshops = await session.execute(
            select(Workshop.id, Workshop.status, Workshop.starts_at).where(Workshop.id.in_(workshop_ids))
        )
        facts.workshops.update({r[0]: (WorkshopStatus(r[1]), r[2]) for r in workshops})
    numbers = {m.to_address for m in messages if m.channel == Channel.voice and m.to_address}
    if numbers and line_since is not None:
        calls = await session.execute(
            select(OutboundMessage.id, OutboundMessage.to_address).where(
                OutboundMessage.channel == Channel.voice,
                OutboundMessage.to_address.in_(numbers),
                OutboundMessage.inbound_id.is_(None),  # a spoken answer is said during a call, not a call
                or_(OutboundMessage.status == MessageStatus.sending, OutboundMessage.sent_at >= line_since),
            )
        )
        for row_id, number in calls:
            facts.lines.setdefault(number, set()).add(int(row_id))
    return facts
