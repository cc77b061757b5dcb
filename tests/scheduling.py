"""Helpers for the outbox, reminder and dispatch tests: a movable clock, in-memory senders, a few rows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.channels import SMS, Outgoing, SendError
from bot.config import load_settings
from bot.context import Context
from bot.territory import Territory
from storage.database import Database
from storage.models import Enrolment, EnrolmentStatus, Level, OutboundMessage, Resident, Venue, Workshop

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class RecordingSender:
    """A sender that keeps what it sends; ``failures`` are raised, in order, by the next sends."""

    channel: str = SMS
    max_length: int = 1600
    supports_buttons: bool = False
    recipient_interval: timedelta | None = None
    sent: list[Outgoing] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: Outgoing) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        self._changed.set()
        return f"SM{len(self.sent):04d}"

    async def wait_for(self, count: int) -> None:
        """Until ``count`` messages were sent (the caller bounds the wait with a timeout)."""
        while len(self.sent) < count:
            self._changed.clear()
            await self._changed.wait()


@dataclass
class LookupSender(RecordingSender):
    """Also a ``SentLookup``: ``accepted`` is what the provider already has (to, body, provider id)."""

    accepted: list[tuple[str, str, str]] = field(default_factory=list)
    lookups: int = 0

    async def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:
        self.lookups += 1
        for address, text, provider_id in self.accepted:
            if address == to and text == body:
                return provider_id
        return None


def transient(code: str = "20503", retry_after: float | None = None) -> SendError:
    return SendError("unavailable", transient=True, code=code, retry_after=retry_after)


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
