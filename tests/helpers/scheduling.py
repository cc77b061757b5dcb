"""Rows built directly for the outbox, reminder and dispatch tests, and a context around them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.channels import SMS
from bot.config import load_settings
from bot.context import Context
from bot.territory import Territory
from storage.database import Database
from storage.models import Enrolment, EnrolmentStatus, Level, OutboundMessage, Resident, Venue, Workshop
from tests.helpers.clock import Clock
from tests.helpers.senders import RecordingSender


def make_context(
    db: Database,
    db_url: str,
    territory: Territory,
    clock: Clock,
    senders: dict[str, RecordingSender] | None = None,
    **env: str,
) -> Context:
    settings = load_settings({"ATELIER_DATABASE_URL": db_url, "ATELIER_SMS_RATE": "1000/s", **env})
    return Context(
        settings=settings,
        db=db,
        territory=territory,
        senders=dict(senders if senders is not None else {SMS: RecordingSender()}),
        clock=clock,
    )


async def make_workshop(db: Database, starts_at: datetime, capacity: int = 6) -> int:
    async with db.write() as session:
        venue = (
            (await session.execute(select(Venue).where(Venue.name == "Mairie de Saint-Victor"))).unique().scalar_one()
        )
        workshop = Workshop(
            venue_id=venue.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
            level=Level.beginner,
            topic="Premiers pas",
            capacity=capacity,
        )
        session.add(workshop)
        await session.flush()
        return workshop.id


async def make_resident(db: Database, number: int, **values: object) -> int:
    async with db.write() as session:
        resident = Resident(phone=f"+3361234{number:04d}", name=f"Résident {number}", **values)
        session.add(resident)
        await session.flush()
        return resident.id


async def make_enrolment(
    db: Database,
    resident_id: int,
    workshop_id: int,
    status: EnrolmentStatus = EnrolmentStatus.seated,
    position: int | None = None,
) -> int:
    async with db.write() as session:
        enrolment = Enrolment(resident_id=resident_id, workshop_id=workshop_id, status=status, position=position)
        session.add(enrolment)
        await session.flush()
        return enrolment.id


async def outbox(db: Database) -> list[OutboundMessage]:
    async with db.read() as session:
        return list(await session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


async def message(db: Database, message_id: int) -> OutboundMessage:
    async with db.read() as session:
        row = await session.get(OutboundMessage, message_id)
        assert row is not None
        return row


async def resident(db: Database, resident_id: int) -> Resident:
    async with db.read() as session:
        row = await session.get(Resident, resident_id)
        assert row is not None
        return row
