"""Read-side queries for the conversation: workshops open for sign-up, a resident's bookings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Commune,
    Enrolment,
    EnrolmentStatus,
    Level,
    Resident,
    Venue,
    Workshop,
    WorkshopStatus,
)
from storage.prepared import one_of
from storage.seats import ACTIVE


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


# An ``OpenWorkshop``'s columns, on both sides of its count of seats (which a booking's workshop does not count).
_WORKSHOP = (Workshop.id, Workshop.starts_at, Workshop.level, Workshop.topic, Workshop.capacity)
_PLACE = (
    Venue.name, Venue.address, Venue.commune_insee, Commune.name, Venue.latitude, Venue.longitude, Workshop.ends_at,
)  # fmt: skip


@cache
def open_workshops_statement() -> Select[int, datetime, Level, str, int, Any, str, str, str, str, *tuple[Any, ...]]:
    """Built once: the statement is the same for every message, only ``starting_after`` changes. (SQLAlchemy
    types the columns past the tenth as Any.)"""
    # Counted per workshop through ix_enrolments_workshop_status: the seats of the workshops read, not of every
    # workshop there ever was.
    seated = (
        select(func.count())
        .where(Enrolment.workshop_id == Workshop.id, Enrolment.status == EnrolmentStatus.seated)
        .correlate(Workshop)
        .scalar_subquery()
    )
    return (
        select(*_WORKSHOP, seated, *_PLACE)
        .join(Venue, Venue.id == Workshop.venue_id)
        .join(Commune, Commune.insee == Venue.commune_insee)
        .where(Workshop.status == WorkshopStatus.planned, Workshop.starts_at > bindparam("starting_after"))
        .order_by(Workshop.starts_at)
    )


async def open_workshops(*, session: AsyncSession, starting_after: datetime) -> list[OpenWorkshop]:
    """Planned workshops starting after the given moment, each with its number of seated people (one query)."""
    result = await session.execute(open_workshops_statement(), {"starting_after": starting_after})
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

    @classmethod
    def of(cls, row: Sequence[Any]) -> HouseholdBooking:
        """From a row of ``household_statement``."""
        enrolment, owner, name, position, confirmed, workshop, starts_at, level, topic, capacity, *place = row
        venue, address, insee, commune, latitude, longitude, ends_at = place
        where = OpenWorkshop(
            workshop, starts_at, level, topic, capacity, 0, venue, address, insee, commune, latitude, longitude, ends_at
        )
        return cls(enrolment, owner, name, position, confirmed, where)


async def household_bookings(*, session: AsyncSession, resident_id: int, now: datetime) -> list[HouseholdBooking]:
    """The active bookings (``active_bookings``) of the resident and of the people who share their phone (not
    erased), in one statement: soonest first; at the same start the resident's own, then the others' by id."""
    rows = await session.execute(household_statement(), {"resident_id": resident_id, "now": now})
    return [HouseholdBooking.of(row) for row in rows]


@cache
def household_statement() -> Select[*tuple[Any, ...]]:
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
            *_WORKSHOP,
            *_PLACE,
        )
        .join(Resident, Resident.id == Enrolment.resident_id)
        .join(Workshop, Workshop.id == Enrolment.workshop_id)
        .join(Venue, Venue.id == Workshop.venue_id)
        .join(Commune, Commune.insee == Venue.commune_insee)
        .where(
            household,
            one_of(Enrolment.status, ACTIVE),
            Workshop.status == WorkshopStatus.planned,
            Workshop.starts_at > bindparam("now"),
        )
        .order_by(Workshop.starts_at, Enrolment.resident_id != resident_id, Resident.id)
    )


@cache
def _active_bookings_statement() -> Select[Enrolment]:
    """Built once: it runs for every message of a known resident."""
    return (
        select(Enrolment)
        .join(Workshop, Workshop.id == Enrolment.workshop_id)
        .where(
            Enrolment.resident_id == bindparam("resident_id"),
            one_of(Enrolment.status, ACTIVE),
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
