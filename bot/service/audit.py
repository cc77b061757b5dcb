"""The audit trail: who changed what, when, and from where (web console, command line, Telegram).

Every operation that changes something on an adviser's behalf takes their ``Actor`` and calls ``record`` inside its
own transaction: the change and its trace commit together or not at all (a preview, rolled back, leaves neither).
Summaries are French, for the advisers who read them on a workshop's or a person's page, and name people by number
only: an erasure must leave no name or phone number behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.service.actors import Actor
from storage.models import AuditEvent

INTERFACE_FR: dict[str, str] = {"console": "console", "cli": "ligne de commande", "telegram": "Telegram"}
MAX_SUMMARY = 1000


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    interface: str
    actor: str
    action: str
    summary: str
    workshop_id: int | None
    resident_id: int | None

    @property
    def interface_fr(self) -> str:
        return INTERFACE_FR.get(self.interface, self.interface)


async def record(
    *,
    session: AsyncSession,
    actor: Actor,
    action: str,
    summary: str,
    at: datetime,
    workshop_id: int | None = None,
    resident_id: int | None = None,
) -> None:
    """Write one event in the caller's transaction (so the change and its trace commit together)."""
    session.add(
        AuditEvent(
            at=at,
            interface=actor.interface,
            adviser_id=actor.adviser_id,
            actor=actor.label,
            action=action[:50],
            summary=" ".join(summary.split())[:MAX_SUMMARY],
            workshop_id=workshop_id,
            resident_id=resident_id,
        )
    )


def _entry(event: AuditEvent) -> AuditEntry:
    return AuditEntry(
        event.id,
        event.at,
        event.interface,
        event.actor,
        event.action,
        event.summary,
        event.workshop_id,
        event.resident_id,
    )


async def history(
    *, ctx: Context, workshop_id: int | None = None, resident_id: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """The latest events about a workshop and/or a person, newest first (everything when neither is given)."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    about = []
    if workshop_id is not None:
        about.append(AuditEvent.workshop_id == workshop_id)
    if resident_id is not None:
        about.append(AuditEvent.resident_id == resident_id)
    if about:
        query = query.where(or_(*about))
    async with ctx.db.read() as session:
        return [_entry(e) for e in (await session.execute(query)).scalars()]
