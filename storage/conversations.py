"""Conversation state per (channel, address), kept in the database so any server instance can answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


async def load_conversation(*, session: AsyncSession, channel: str, address: str) -> Conversation | None:
    result = await session.execute(
        select(Conversation).where(Conversation.channel == channel, Conversation.address == address)
    )
    return result.scalar_one_or_none()


async def save_conversation(
    *,
    session: AsyncSession,
    existing: Conversation | None,
    channel: str,
    address: str,
    resident_id: int | None,
    step: str | None,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Store the new step, or forget the conversation when ``step`` is None."""
    if step is None:
        if existing is not None:
            await session.delete(existing)
        return
    if existing is None:
        existing = Conversation(channel=channel, address=address)
        session.add(existing)
    existing.resident_id, existing.step, existing.data, existing.updated_at = resident_id, step, data, now


async def forget_conversations(*, session: AsyncSession, resident_id: int) -> None:
    await session.execute(delete(Conversation).where(Conversation.resident_id == resident_id))


async def forget_conversation(*, session: AsyncSession, channel: str, address: str) -> None:
    await session.execute(delete(Conversation).where(Conversation.channel == channel, Conversation.address == address))
