"""Conversation state per (channel, address), kept in the database so any server instance can answer."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


@cache
def _load_statement() -> Select[Conversation]:
    """Built once: it runs for every message."""
    return select(Conversation).where(
        Conversation.channel == bindparam("channel"), Conversation.address == bindparam("address")
    )


async def load_conversation(*, session: AsyncSession, channel: str, address: str) -> Conversation | None:
    result = await session.execute(_load_statement(), {"channel": channel, "address": address})
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
    """Store the new step, or forget the conversation when ``step`` is None.

    One Core statement by (channel, address), run for every message: an upsert or a delete, whatever ``existing``
    (the row as loaded, or None) says, so that a row loaded earlier in the transaction can never be written back
    stale. ``existing`` is left as it was loaded."""
    if step is None:
        if existing is not None:
            await forget_conversation(session=session, channel=channel, address=address)
        return
    values = {"channel": channel, "address": address, "resident_id": resident_id, "step": step, "data": data}
    await session.execute(_upsert_statement(_dialect(session)), values | {"updated_at": now})


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


@cache
def _upsert_statement(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (channel, address) DO UPDATE``, built once per dialect."""
    table = cast(Table, Conversation.__table__)
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    changed = ("resident_id", "step", "data", "updated_at")
    return insert.on_conflict_do_update(
        index_elements=["channel", "address"], set_={name: insert.excluded[name] for name in changed}
    )


async def forget_conversations(*, session: AsyncSession, resident_id: int) -> None:
    await session.execute(delete(Conversation).where(Conversation.resident_id == resident_id))


async def forget_conversation(*, session: AsyncSession, channel: str, address: str) -> None:
    await session.execute(_forget_statement(), {"channel": channel, "address": address})


@cache
def _forget_statement() -> Any:
    """Built once (it runs when a conversation ends); Core, so that no loaded row is looked for in the session."""
    table = cast(Table, Conversation.__table__)
    return delete(table).where(table.c.channel == bindparam("channel"), table.c.address == bindparam("address"))


# Drafts: something an adviser previewed and must confirm with a button, kept in the conversations table under a
# channel of its own so that any server instance can take the button press.


async def replace_draft(
    *, session: AsyncSession, channel: str, owner: str, kind: str, nonce: str, data: dict[str, Any], now: datetime
) -> None:
    """Keep a draft, dropping the owner's earlier drafts of the same kind (their buttons then do nothing)."""
    await session.execute(
        delete(Conversation).where(Conversation.channel == channel, Conversation.address.like(f"{owner}:{kind}:%"))
    )
    session.add(Conversation(channel=channel, address=f"{owner}:{kind}:{nonce}", step=kind, data=data, updated_at=now))


async def take_draft(
    *, session: AsyncSession, channel: str, owner: str, kind: str, nonce: str
) -> tuple[dict[str, Any], datetime] | None:
    """The draft and when it was kept, removed in the same statement: of two presses, only one gets it.

    ``DELETE … RETURNING``: a second press waits for the first's row lock, then deletes nothing.
    """
    result = await session.execute(
        delete(Conversation)
        .where(Conversation.channel == channel, Conversation.address == f"{owner}:{kind}:{nonce}")
        .returning(Conversation.data, Conversation.updated_at)
    )
    row = result.first()
    return None if row is None else (dict(row[0] or {}), row[1])
