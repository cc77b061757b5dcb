"""The statements of every resident's message — the hot path — in two blocks on a synchronous connection.

A message is answered in one transaction: ``open_turn`` records it and reads all the dialogue needs, the pure
dialogue answers, ``close_turn`` stores the new step and the replies. Each block is plain SQLAlchemy Core on a
``Connection``, written once for both databases; the service runs it with ``AsyncSession.run_sync``, on the
transaction's own connection. On SQLite's writer thread each statement runs straight on pysqlite, compiled once
(``storage/prepared.py``); on PostgreSQL the same statements go through SQLAlchemy and asyncpg. What the effects of
a message change is written in between, in the same transaction: a seat and a profile in Core statements too
(``storage/seats.py``, ``storage/residents.py``), the rarer ones (a move, an erasure) through the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from storage.catalogue import HouseholdBooking, OpenWorkshop, household_statement, open_workshops_statement
from storage.database import insert_or_skip_statement
from storage.enums import Level
from storage.models import (
    Conversation,
    InboundMessage,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    WorldVersion,
)
from storage.outbox.queueing import ASKING_KINDS, Asked, NewMessage, RecentReplies, message_values
from storage.prepared import execute, one_of
from storage.world import ROW_ID

_INBOUND = cast(Table, InboundMessage.__table__)
_OUTBOX = cast(Table, OutboundMessage.__table__)
_RESIDENTS = cast(Table, Resident.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)


@dataclass(frozen=True)
class Person:
    """The resident a message comes from, as the dialogue sees them (no ORM object: most messages change
    nothing about them)."""

    id: int
    phone: str | None
    name: str | None
    commune_insee: str | None
    level: Level | None
    interests: tuple[str, ...]
    opted_out_sms: bool
    opted_out_telegram: bool
    telegram_contact_offered: bool


@dataclass(frozen=True)
class Stored:
    """Where the conversation with the address is."""

    step: str
    data: dict[str, Any]
    updated_at: datetime


NO_REPLIES = RecentReplies(0, 0)


@dataclass(frozen=True)
class Opened:
    """What a message starts from. ``inbound_id``: its row (the first one, when ``new`` is False: a provider
    delivering it again — nothing else is read then)."""

    inbound_id: int
    new: bool
    version: int | None = None  # the world's version (storage/world.py), read before anything changed
    person: Person | None = None
    conversation: Stored | None = None
    asked: Asked | None = None  # what the latest reminder or notice sent to them asked about
    replies: RecentReplies = NO_REPLIES  # replies to the address since ``replies_since``
    bookings: tuple[HouseholdBooking, ...] = ()  # theirs and those of the people on their phone
    workshops: tuple[OpenWorkshop, ...] | None = None  # open for sign-up; None: the version is ``kept_version``


def open_turn(
    connection: Connection,
    *,
    channel: str,
    address: str,
    provider_id: str,
    body: str,
    now: datetime,
    phone: str | None,
    telegram_chat_id: int | None,
    lock_key: str,
    replies_since: datetime,
    marker: str,
    asked_since: datetime,
    kept_version: int | None,
    workshops_after: datetime,
) -> Opened:
    """Record the message (once per provider id: ``INSERT … ON CONFLICT DO NOTHING``), then, for a new one: take
    the address's lock (PostgreSQL: messages from one address one at a time, the reply count shared exactly),
    read in one statement the world's version, the resident (by ``phone``, else ``telegram_chat_id``), the stored
    conversation, the last question asked and the replies counted since ``replies_since`` (those whose
    idempotency key ends with ``marker`` apart); then their bookings, and the workshops open for sign-up (starting
    after ``workshops_after``) unless the version is still ``kept_version``."""
    dialect = connection.dialect.name
    values = {"channel": channel, "provider_id": provider_id, "body": body, "received_at": now}
    inserted = execute(connection, insert_or_skip_statement(dialect, _INBOUND, ("channel", "provider_id")), values)
    if not inserted:
        (known,) = execute(connection, _inbound_id_statement(), {"channel": channel, "provider_id": provider_id})
        return Opened(int(known[0]), new=False)
    new_id = int(inserted[0][0])
    if dialect == "postgresql":
        connection.execute(_LOCK, {"key": lock_key})
    by_phone = bool(phone)
    params = {
        "channel": channel,
        "address": address,
        "who": phone if by_phone else telegram_chat_id,
        "since": asked_since,
        "replies_since": replies_since,
        "marker": marker,
    }
    (row,) = execute(connection, _start_statement(by_phone=by_phone), params)
    version, person = row[0], None
    if row[1] is not None:
        person = Person(
            int(row[1]), row[2], row[3], row[4], row[5], tuple(row[6] or ()), bool(row[7]), bool(row[8]), bool(row[9])
        )
    stored = None if row[10] is None else Stored(row[10], dict(row[11] or {}), row[12])
    asked = Asked(int(row[13]), row[14]) if row[13] is not None and row[14] is not None else None
    replies = RecentReplies(int(row[15] or 0), int(row[16] or 0))
    bookings: tuple[HouseholdBooking, ...] = ()
    if person is not None:
        found = execute(connection, household_statement(), {"resident_id": person.id, "now": now})
        bookings = tuple(HouseholdBooking.of(values) for values in found)
    workshops = None
    if version is None or version != kept_version:
        rows = execute(connection, open_workshops_statement(), {"starting_after": workshops_after})
        workshops = tuple(OpenWorkshop(*values) for values in rows)
    return Opened(new_id, True, version, person, stored, asked, replies, bookings, workshops)


# Serialises the transactions that take the same key until they end: a PostgreSQL advisory lock
# (https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS). Nothing to take on SQLite,
# where a writing transaction holds the database's one write lock from its start.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


@cache
def _inbound_id_statement() -> Select[int]:
    return select(_INBOUND.c.id).where(
        _INBOUND.c.channel == bindparam("channel"), _INBOUND.c.provider_id == bindparam("provider_id")
    )


@cache
def _start_statement(*, by_phone: bool) -> Select[Any]:
    """Built once per kind of address: from one constant row, the resident and the conversation joined when they
    exist; the version, the last question and the reply counts as scalar subqueries."""
    r, c, o = _RESIDENTS.c, _CONVERSATIONS.c, _OUTBOX.c
    anchor = select(literal(1).label("one")).subquery("turn")
    who = r.phone if by_phone else r.telegram_chat_id
    latest = (
        select(o.enrolment_id, o.sent_at)
        .where(
            o.resident_id == r.id,
            o.enrolment_id.is_not(None),
            one_of(o.kind, ASKING_KINDS),
            one_of(o.status, (MessageStatus.sent, MessageStatus.delivered)),
            o.sent_at >= bindparam("since"),
        )
        .order_by(o.sent_at.desc(), o.id.desc())
        .limit(1)
        .correlate(_RESIDENTS)
    )
    replies = and_(
        o.to_address == bindparam("address"),
        o.channel == bindparam("channel"),
        o.due_at >= bindparam("replies_since"),
        o.kind == MessageKind.reply,
        o.status != MessageStatus.cancelled,
    )
    marked = o.idempotency_key.endswith(bindparam("marker", type_=o.idempotency_key.type))
    return (
        select(
            select(WorldVersion.version).where(WorldVersion.id == ROW_ID).scalar_subquery(),
            r.id,
            r.phone,
            r.name,
            r.commune_insee,
            r.level,
            r.interests,
            r.opted_out_sms,
            r.opted_out_telegram,
            r.telegram_contact_offered,
            c.step,
            c.data,
            c.updated_at,
            latest.with_only_columns(o.enrolment_id).scalar_subquery(),
            latest.with_only_columns(o.sent_at).scalar_subquery(),
            select(func.count()).select_from(_OUTBOX).where(replies).scalar_subquery(),
            select(func.count()).select_from(_OUTBOX).where(replies, marked).scalar_subquery(),
        )
        .select_from(anchor)
        .outerjoin(_RESIDENTS, and_(who == bindparam("who"), r.erased.is_(False)))
        .outerjoin(_CONVERSATIONS, and_(c.channel == bindparam("channel"), c.address == bindparam("address")))
    )


# --- closing --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Closing:
    """What a message leaves behind. ``conversed``: the dialogue ran (otherwise — a message over the limit, a
    number we do not serve — the conversation and the resident are left as they were); ``resident_id``: whom it
    came from (None: nobody known, or erased by it); ``step``: where the conversation now is (None: forgotten);
    ``erased``: it erased its resident."""

    channel: str
    address: str
    inbound_id: int
    now: datetime
    conversed: bool
    resident_id: int | None
    step: str | None
    data: dict[str, Any]
    erased: bool
    replies: tuple[NewMessage, ...]


def close_turn(connection: Connection, closing: Closing) -> list[int]:
    """Store the conversation (upsert by address, or delete), note the resident's activity on the message's
    channel and make the inbound row theirs, blank what an erased resident wrote, queue the replies; returns the
    replies' outbox ids (those whose idempotency key was new)."""
    where = {"channel": closing.channel, "address": closing.address}
    if closing.erased:
        execute(connection, _blank_statement(), {"row": closing.inbound_id})
    if closing.conversed:
        if closing.step is None:
            execute(connection, _forget_statement(), where)
        else:
            values = where | {"resident_id": closing.resident_id, "step": closing.step, "data": closing.data}
            execute(connection, _upsert_statement(connection.dialect.name), values | {"updated_at": closing.now})
        if closing.resident_id is not None:
            activity = {"row": closing.resident_id, "at": closing.now, "channel": closing.channel}
            execute(connection, _activity_statement(), activity)
            attribution = {"row": closing.inbound_id, "resident": closing.resident_id}
            execute(connection, _attribution_statement(), attribution)
    queue = insert_or_skip_statement(connection.dialect.name, _OUTBOX, ("idempotency_key",))
    ids: list[int] = []
    for message in closing.replies:
        queued = execute(connection, queue, message_values(message))
        if queued:
            ids.append(int(queued[0][0]))
    return ids


@cache
def _upsert_statement(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (channel, address) DO UPDATE``, built once per dialect."""
    insert = postgresql.insert(_CONVERSATIONS) if dialect == "postgresql" else sqlite.insert(_CONVERSATIONS)
    changed = ("resident_id", "step", "data", "updated_at")
    return insert.on_conflict_do_update(
        index_elements=["channel", "address"], set_={name: insert.excluded[name] for name in changed}
    )


@cache
def _forget_statement() -> Any:
    c = _CONVERSATIONS.c
    return delete(_CONVERSATIONS).where(c.channel == bindparam("channel"), c.address == bindparam("address"))


@cache
def _activity_statement() -> Any:
    return (
        update(_RESIDENTS)
        .where(_RESIDENTS.c.id == bindparam("row"))
        .values(last_activity_at=bindparam("at"), preferred_channel=bindparam("channel"))
    )


@cache
def _attribution_statement() -> Any:
    return update(_INBOUND).where(_INBOUND.c.id == bindparam("row")).values(resident_id=bindparam("resident"))


@cache
def _blank_statement() -> Any:
    """What an erased resident wrote is personal data too."""
    return update(_INBOUND).where(_INBOUND.c.id == bindparam("row")).values(body=None)
