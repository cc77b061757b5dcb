"""A small world for the advisers' tests (changes, broadcasts, callbacks, enrolment by phone, stats): workshops at
the town halls of the territory, residents, seats taken through ``bot.service.enrolments`` (so reminders are planned),
and
an injectable clock."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update

from bot.channels import SMS, Inbound
from bot.context import Context
from bot.conversation.gsm7 import render_sms
from bot.service.actors import Actor
from bot.service.enrolments import enrol
from bot.service.inbound import handle_inbound
from storage.models import (
    Base,
    Commune,
    Enrolment,
    Level,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    Venue,
    Workshop,
)
from tests.helpers.clock import PARIS, Clock

JULIE = Actor("Julie", interface="cli")  # who acts in the advisers' tests (the audit trail records her)


def in_2026(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A local time in Paris in 2026, in March unless told (Monday 2 March is the tests' "now")."""
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


@dataclass
class Town:
    """Builds and inspects the world through one context."""

    ctx: Context
    clock: Clock

    async def venue(self, commune: str) -> int:
        async with self.ctx.db.read() as session:
            query = select(Venue.id).join(Commune, Commune.insee == Venue.commune_insee).where(Commune.name == commune)
            return int((await session.execute(query.order_by(Venue.id).limit(1))).scalar_one())

    async def workshop(
        self, commune: str, start: datetime, *, level: Level = Level.beginner, capacity: int = 6, hours: int = 2
    ) -> int:
        venue_id = await self.venue(commune)
        async with self.ctx.db.write() as session:
            workshop = Workshop(
                venue_id=venue_id,
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
                level=level,
                topic="Premiers pas",
                capacity=capacity,
                created_at=self.clock.now,
                updated_at=self.clock.now,
            )
            session.add(workshop)
            await session.flush()
            return workshop.id

    async def resident(
        self,
        name: str,
        *,
        phone: str | None = None,
        telegram: int | None = None,
        commune: str = "Saint-Victor",
        level: Level = Level.beginner,
        **fields: Any,
    ) -> int:
        async with self.ctx.db.write() as session:
            insee = (await session.execute(select(Commune.insee).where(Commune.name == commune))).scalar_one()
            resident = Resident(
                name=name,
                phone=phone,
                telegram_chat_id=telegram,
                commune_insee=insee,
                level=level,
                interests=[],
                consent_at=self.clock.now,
                consent_channel=SMS,
                preferred_channel=fields.pop("preferred_channel", SMS if phone else "telegram"),
                created_at=self.clock.now,
                last_activity_at=self.clock.now,
                **fields,
            )
            session.add(resident)
            await session.flush()
            return resident.id

    async def seat(self, resident_id: int, workshop_id: int) -> int:
        """Seat (or queue) like the dialogue does: reminders are planned. Returns the enrolment id."""
        async with self.ctx.db.write() as session:
            outcome = await enrol(
                session=session,
                ctx=self.ctx,
                resident_id=resident_id,
                workshop_id=workshop_id,
                now=self.clock.now,
                allow_waiting=True,
            )
            assert outcome is not None
            return outcome.enrolment.id

    async def messages(self, **where: Any) -> list[OutboundMessage]:
        async with self.ctx.db.read() as session:
            query = select(OutboundMessage).order_by(OutboundMessage.id)
            for name, value in where.items():
                query = query.where(getattr(OutboundMessage, name) == value)
            return list((await session.execute(query)).scalars())

    async def deliver(self, kind: MessageKind) -> None:
        """As if the dispatcher had just sent every pending message of this kind."""
        async with self.ctx.db.write() as session:
            await session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.kind == kind, OutboundMessage.status == MessageStatus.pending)
                .values(status=MessageStatus.sent, sent_at=self.clock.now)
            )

    async def notices(self, resident_id: int) -> list[OutboundMessage]:
        found = await self.messages(resident_id=resident_id, kind=MessageKind.change_notice)
        return [m for m in found if m.status == MessageStatus.pending]

    async def enrolments(self, workshop_id: int) -> list[Enrolment]:
        async with self.ctx.db.read() as session:
            query = select(Enrolment).where(Enrolment.workshop_id == workshop_id).order_by(Enrolment.id)
            return list((await session.execute(query)).unique().scalars())

    async def enrolment(self, enrolment_id: int) -> Enrolment:
        async with self.ctx.db.read() as session:
            found = await session.get(Enrolment, enrolment_id)
            assert found is not None
            return found

    async def fingerprint(self, *, ignore: Collection[str] = ()) -> str:
        """A digest of every row of every table (but ``ignore``): equal means nothing changed."""
        digest = hashlib.sha256()
        async with self.ctx.db.read() as session:
            for table in Base.metadata.sorted_tables:
                if table.name in ignore:
                    continue
                order = ", ".join(c.name for c in table.primary_key.columns)
                rows = await session.execute(text(f"SELECT * FROM {table.name} ORDER BY {order}"))  # noqa: S608
                digest.update(f"{table.name}:{rows.all()!r}".encode())
        return digest.hexdigest()

    async def say(self, phone: str, text: str) -> list[str]:
        """A resident's SMS, answered as the webhook would; returns the SMS texts of the replies."""
        handled = await handle_inbound(
            ctx=self.ctx, inbound=Inbound(channel=SMS, address=phone, text=text), inline=True
        )
        return [render_sms(reply.text, reply.choices) for reply in handled.replies]
