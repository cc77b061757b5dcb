"""Read-side queries for the conversation: workshops open for sign-up, a resident's bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
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
    WorldVersion,
)
from storage.world import ROW_ID


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
            Enrolment.status.in_((EnrolmentStatus.seated, EnrolmentStatus.waiting)),
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
