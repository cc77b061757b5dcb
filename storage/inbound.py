"""Inbound messages: one row per provider id, so a message delivered twice changes state once."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from storage.database import insert_or_skip
from storage.models import InboundMessage

_TABLE = cast(Table, InboundMessage.__table__)


async def record_inbound(
    *, session: AsyncSession, channel: str, provider_id: str, body: str, now: datetime
) -> tuple[InboundMessage, bool]:
    """Insert the message unless its provider id is known; returns (row, True when new).

    ``INSERT … ON CONFLICT DO NOTHING``: a concurrent retry of the same id waits on the unique index, then finds
    the first one's row.
    """
    values = {"channel": channel, "provider_id": provider_id, "body": body, "received_at": now}
    statement = insert_or_skip(session, _TABLE, unique=("channel", "provider_id"))
    new_id = (await session.execute(statement, values)).scalar_one_or_none()
    if new_id is not None:
        # The row was just inserted with these values: attach an instance for it instead of reading it back.
        row = InboundMessage(id=new_id, resident_id=None, **values)
        make_transient_to_detached(row)
        session.add(row)
        return row, True
    row = (
        await session.execute(
            select(InboundMessage).where(InboundMessage.channel == channel, InboundMessage.provider_id == provider_id)
        )
    ).scalar_one()
    return row, False


async def scrub_inbound(*, session: AsyncSession, resident_id: int) -> None:
    """Erasure: keep the provider ids (de-duplication) but drop what the resident wrote."""
    await session.execute(
        update(InboundMessage).where(InboundMessage.resident_id == resident_id).values(body=None, resident_id=None)
    )
