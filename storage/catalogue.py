"""Read-side queries for the conversation: workshops open for sign-up, a resident's bookings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Commune,
    Conversation,
    Enrolment,
    EnrolmentStatus,
    Level,
    MessageStatus,
    OutboundMessage,
    Resident,
    Venue,
    Workshop,
    WorkshopStatus,
    WorldVersion,
)
from storage.outbox.queueing import ASKING_KINDS, Asked
from storage.world import ROW_ID


def _one_of(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` for the statements built once: ``in_`` binds an expanding list, rendered again at
    every execution; equalities are rendered once, with the statement."""
    return or_(*(column == value for value in values))


@dataclass(frozen=True)
class OpenWorkshop:
    """A workshop open for sign-up, flattened: read on every message, so no ORM objects are built."""

    id: int
    starts_at: datetime
    level: Level
    topic: str
    capacity: int
    seated: int
    venue: str
    address: str
    commune_insee: str
    commune: str
    latitude: float
    longitude: float
    ends_at: datetime


@cache
def _open_workshops_statement() -> Select[int, datetime, Level, str, int, Any, str, str, str, str, *tuple[Any, ...]]:
    """Built once: the statement is the same for every message, only ``starting_after`` changes. (SQLAlchemy
    types the columns past the tenth as Any.)"""
    seated = (
        select(Enrolment.workshop_id, func.count().label("seated"))
        .where(Enrolment.status == EnrolmentStatus.seated)
        .group_by(Enrolment.workshop_id)
        .subquery()
    )
    return (
        select(
            Workshop.id,
            Workshop.starts_at,
            Workshop.level,
            Workshop.topic,
            Workshop.capacity,
            func.coalesce(seated.c.seated, 0),
            Venue.name,
            Venue.address,
            Venue.commune_insee,
            Commune.name,
            Venue.latitude,
            Venue.longitude,
            Workshop.ends_at,
        )
        .join(Venue, Venue.id == Workshop.venue_id)
        .join(Commune, Commune.insee == Venue.commune_insee)
        .outerjoin(seated, seated.c.workshop_id == Workshop.id)
        .where(Workshop.status == WorkshopStatus.planned, Workshop.starts_at > bindparam("starting_after"))
        .order_by(Workshop.starts_at)
    )


async def open_workshops(*, session: AsyncSession, starting_after: datetime) -> list[OpenWorkshop]:
    """Planned workshops starting after the given moment, each with its number of seated people (one query)."""
    result = await session.execute(_open_workshops_statement(), {"starting_after": starting_after})
    return [OpenWorkshop(*row) for row in result]


@dataclass(frozen=True)
class HouseholdBooking:
    """A seated or waiting enrolment of a resident or of someone who shares their phone, with its workshop."""

    enrolment_id: int
    resident_id: int
    resident_name: str | None
    position: int | None  # in the waiting list; None when seated
    confirmed: bool | None
    workshop: OpenWorkshop  # its ``seated`` is not counted (0)


async def household_bookings(*, session: AsyncSession, resident_id: int, now: datetime) -> list[HouseholdBooking]:
    """The active bookings (``active_bookings``) of the resident and of the people who share their phone (not
    erased), in one statement: soonest first; at the same start the resident's own, then the others' by id."""
    rows = await session.execute(_household_statement(), {"resident_id": resident_id, "now": now})
    bookings = []
    for row in rows:
        values: tuple[Any, ...] = tuple(row)
        enrolment, owner, name, position, confirmed, workshop, starts_at, level, topic, capacity, *place = values
        venue, address, insee, commune, latitude, longitude, ends_at = place
        where = OpenWorkshop(
            workshop, starts_at, level, topic, capacity, 0, venue, address, insee, commune, latitude, longitude, ends_at
        )
        bookings.append(HouseholdBooking(enrolment, owner, name, position, confirmed, where))
    return bookings


@cache
def _household_statement() -> Select[*tuple[Any, ...]]:
    """Built once: it runs for every message of a known resident."""
    resident_id = bindparam("resident_id", type_=Integer)
    household = or_(
        Enrolment.resident_id == resident_id,
        and_(Resident.companion_of_id == resident_id, Resident.erased.is_(False)),
    )
    return (
        select(
            Enrolment.id,
            Enrolment.resident_id,
            Resident.name,
            Enrolment.position,
            Enrolment.confirmed,
            Workshop.id,
            Workshop.starts_at,
            Workshop.level,
            Workshop.topic,
            Workshop.capacity,
            Venue.name,
            Venue.address,
            Venue.commune_insee,
            Commune.name,
            Venue.latitude,
            Venue.longitude,
            Workshop.ends_at,
        )
        .join(Resident, Resident.id == Enrolment.resident_id)
        .join(Workshop, Workshop.id == Enrolment.workshop_id)
        .join(Venue, Venue.id == Workshop.venue_id)
        .join(Commune, Commune.insee == Venue.commune_insee)
        .where(
            household,
            _one_of(Enrolment.status, (EnrolmentStatus.seated, EnrolmentStatus.waiting)),
            Workshop.status == WorkshopStatus.planned,
            Workshop.starts_at > bindparam("now"),
        )
        .order_by(Workshop.starts_at, Enrolment.resident_id != resident_id, Resident.id)
    )


@cache
def _world_version_statement() -> Select[int]:
    return select(WorldVersion.version).where(WorldVersion.id == ROW_ID)


async def world_version(*, session: AsyncSession) -> int | None:
    """The world's version as this transaction sees it (``storage/world.py``): while it stays the same, so do the
    workshops ``open_workshops`` gives and their seats. None when the database has no version (then nothing read
    before can be trusted)."""
    return (await session.execute(_world_version_statement())).scalar_one_or_none()


@cache
def _active_bookings_statement() -> Select[Enrolment]:
    """Built once: it runs for every message of a known resident."""
    return (
        select(Enrolment)
        .join(Workshop, Workshop.id == Enrolment.workshop_id)
        .where(
            Enrolment.resident_id == bindparam("resident_id"),
            _one_of(Enrolment.status, (EnrolmentStatus.seated, EnrolmentStatus.waiting)),
            Workshop.status == WorkshopStatus.planned,
            Workshop.starts_at > bindparam("now"),
        )
        .order_by(Workshop.starts_at)
    )


async def active_bookings(*, session: AsyncSession, resident_id: int, now: datetime) -> list[Enrolment]:
    """Seated or waiting enrolments in planned workshops that have not started, soonest first."""
    result = await session.execute(_active_bookings_statement(), {"resident_id": resident_id, "now": now})
    return list(result.unique().scalars())


@cache
def _find_resident_statement(*, by_phone: bool, by_chat: bool) -> Select[Resident]:
    """Built once per kind of lookup (it runs for every message); the values are bound at execution."""
    conditions = []
    if by_phone:
        conditions.append(Resident.phone == bindparam("phone"))
    if by_chat:
        conditions.append(Resident.telegram_chat_id == bindparam("telegram_chat_id"))
    return select(Resident).where(and_(Resident.erased.is_(False), or_(*conditions))).order_by(Resident.id).limit(1)


async def find_resident(
    *, session: AsyncSession, phone: str | None = None, telegram_chat_id: int | None = None
) -> Resident | None:
    by_phone, by_chat = bool(phone), telegram_chat_id is not None
    if not (by_phone or by_chat):
        return None
    params: dict[str, Any] = {}
    if by_phone:
        params["phone"] = phone
    if by_chat:
        params["telegram_chat_id"] = telegram_chat_id
    result = await session.execute(_find_resident_statement(by_phone=by_phone, by_chat=by_chat), params)
    return result.unique().scalar_one_or_none()


# --- What a turn of the conversation starts from, in one query --------------------------------------------------


@dataclass(frozen=True)
class TurnStart:
    """What a resident's message is answered from: the world's version (``world_version``), the resident the
    address belongs to (``find_resident``), the conversation stored for the address, and what the latest reminder
    or notice sent to the resident asked about (``last_asked_enrolment``)."""

    version: int | None
    resident: Resident | None
    conversation: Conversation | None
    asked: Asked | None


async def start_of_turn(
    *,
    session: AsyncSession,
    channel: str,
    address: str,
    phone: str | None = None,
    telegram_chat_id: int | None = None,
    asked_since: datetime,
) -> TurnStart:
    """The four reads every message needs, in one statement (resident and conversation as the session's objects,
    like ``find_resident`` and ``load_conversation``). The resident is found by ``phone`` or else by
    ``telegram_chat_id``; by neither, there is none."""
    params: dict[str, Any] = {"channel": channel, "address": address, "since": asked_since}
    by_phone = bool(phone)
    params["who"] = phone if by_phone else telegram_chat_id
    row = (await session.execute(_start_statement(by_phone=by_phone), params)).unique().one()
    version, resident, conversation, asked_enrolment, asked_at = row
    asked = Asked(int(asked_enrolment), asked_at) if asked_enrolment is not None and asked_at is not None else None
    return TurnStart(version, resident, conversation, asked)


@cache
def _start_statement(*, by_phone: bool) -> Select[Any, Resident, Conversation, Any, Any]:
    """Built once per kind of address: from one row (a constant), the resident and the conversation joined when
    they exist, and the version and the last question as scalar subqueries."""
    anchor = select(literal(1).label("one")).subquery("turn")
    who = Resident.phone if by_phone else Resident.telegram_chat_id
    latest = (
        select(OutboundMessage.enrolment_id, OutboundMessage.sent_at)
        .where(
            OutboundMessage.resident_id == Resident.id,
            OutboundMessage.enrolment_id.is_not(None),
            _one_of(OutboundMessage.kind, ASKING_KINDS),
            _one_of(OutboundMessage.status, (MessageStatus.sent, MessageStatus.delivered)),
            OutboundMessage.sent_at >= bindparam("since"),
        )
        .order_by(OutboundMessage.sent_at.desc(), OutboundMessage.id.desc())
        .limit(1)
        .correlate(Resident)
    )
    return (
        select(
            select(WorldVersion.version).where(WorldVersion.id == ROW_ID).scalar_subquery(),
            Resident,
            Conversation,
            latest.with_only_columns(OutboundMessage.enrolment_id).scalar_subquery(),
            latest.with_only_columns(OutboundMessage.sent_at).scalar_subquery(),
        )
        .select_from(anchor)
        .outerjoin(Resident, and_(who == bindparam("who"), Resident.erased.is_(False)))
        .outerjoin(
            Conversation,
            and_(Conversation.channel == bindparam("channel"), Conversation.address == bindparam("address")),
        )
    )
