"""Delivery reports on outbox rows: what the provider says happened to a message after it accepted it.

Reports arrive late, twice, or out of order (a "sent" after the "delivered"): a row only ever moves forward, and
the first final report (delivered or failed) wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Integer, Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Channel
from storage.models import MessageStatus, OutboundMessage, Resident, utcnow
from storage.prepared import execute
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

    One statement (every message sent brings two or three reports): the row is found, moved forward and read
    back by one ``UPDATE … RETURNING``, which also locks it on PostgreSQL; the resident is touched only when the
    report says something about them.
    """
    params = {"pid": provider_id, "oid": outbox_id, "status": status, "rank": _RANK[status], "now": utcnow()}
    params["error"] = (error_code or "failed") if status is MessageStatus.failed else None
    # Core on the transaction's connection, below the ORM session (the statement leaves no loaded object stale:
    # nothing in this session holds the row); straight on pysqlite on SQLite's writer (storage/prepared.py).
    rows = await session.run_sync(lambda sync: execute(sync.connection(), _report_statement(), params))
    if not rows:
        return None
    (row,) = rows
    resident_id: int | None = row[0]
    channel: str = row[1]
    marked: bool | None = row[2]
    if resident_id is not None:
        # set_opt_out / mark_sms_unreachable also cancel the resident's pending messages on that channel
        if opted_out and channel in set(Channel):
            await set_opt_out(session=session, resident_id=resident_id, channel=channel, opted_out=True)
        elif unreachable and channel == Channel.sms:
            await mark_sms_unreachable(session=session, resident_id=resident_id)
        elif status is MessageStatus.delivered and channel == Channel.sms and marked:
            reachable = await clear_sms_unreachable(session=session, resident_id=resident_id)
            return Recorded(resident_id, reachable_again=reachable)
    return Recorded(resident_id)


@cache
def _report_statement() -> Any:
    """``UPDATE outbound_messages … RETURNING``, built once. The row: the one with this provider id, else the reply
    named by ``oid`` that has no provider id yet (and gets this one). Its status only moves forward (``_RANK``);
    every SET reads the row as it was before the statement."""
    table = cast(Table, OutboundMessage.__table__)
    c = table.c
    # Typed parameters: PostgreSQL must know each one's type where the statement alone does not say it.
    pid, oid = bindparam("pid", type_=c.provider_id.type), bindparam("oid", type_=c.id.type)
    error, now = bindparam("error", type_=c.error.type), bindparam("now", type_=c.updated_at.type)
    by_provider = select(c.id).where(c.provider_id == pid).limit(1).scalar_subquery()
    by_outbox = select(c.id).where(c.id == oid, c.provider_id.is_(None), c.inbound_id.is_not(None)).scalar_subquery()
    rank = case(*((c.status == value, number) for value, number in _RANK.items()), else_=None)
    moves = rank < bindparam("rank", type_=Integer)
    first_report = and_(moves, c.status == MessageStatus.sending, c.sent_at.is_(None))  # a TwiML reply's first
    marked = select(Resident.sms_unreachable).where(Resident.id == c.resident_id).scalar_subquery()
    return (
        update(table)
        .where(
            c.id == func.coalesce(by_provider, by_outbox),
            or_(c.provider_id.is_(None), c.provider_id == pid),  # or named meanwhile by this very report
        )
        .values(
            provider_id=pid,
            status=case((moves, bindparam("status", type_=c.status.type)), else_=c.status),
            sent_at=case((first_report, c.claimed_at), else_=c.sent_at),
            lease_until=case((first_report, None), else_=c.lease_until),
            error=case((and_(moves, error.is_not(None)), error), else_=c.error),
            updated_at=case((or_(moves, c.provider_id.is_(None)), now), else_=c.updated_at),
        )
        .returning(c.resident_id, c.channel, marked)
    )
