"""Which advisers hear of a resident's need, and how a message reaches an adviser."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Channel
from storage.models import Adviser


async def advisers_for(*, session: AsyncSession, commune_insee: str | None) -> list[Adviser]:
    """Advisers covering the commune; everyone when nobody covers it (a request never falls on the floor)."""
    advisers = list((await session.execute(select(Adviser).order_by(Adviser.id))).scalars())
    covering = [a for a in advisers if commune_insee and commune_insee in (a.communes or [])]
    return covering or [a for a in advisers if not a.communes] or advisers


def adviser_address(adviser: Adviser) -> tuple[Channel, str] | None:
    """(channel, address) that reaches the adviser: Telegram first, else their phone; None when neither."""
    if adviser.telegram_user_id is not None:
        return Channel.telegram, str(adviser.telegram_user_id)  # a private chat's id is the user's id
    if adviser.phone:
        return Channel.sms, adviser.phone
    return None
