"""Residents as advisers see them: the list, one person's record, erasure at their request.

Advisers see full numbers: they phone people. Refusals are ``TeamError``, raised before anything is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.context import Context
from bot.service.erasure import erase
from bot.service.team import TeamError
from storage.enums import Level
from storage.models import Resident

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResidentSummary:
    """One person, as the advisers' interfaces show them."""

    id: int
    name: str | None
    phone: str | None
    telegram_chat_id: int | None
    commune_insee: str | None
    commune: str | None  # its name
    level: Level | None
    interests: tuple[str, ...]
    opted_out_sms: bool
    opted_out_telegram: bool
    sms_unreachable: bool  # a landline, or a number the carrier refuses: phone them
    consent_at: datetime | None
    consent_channel: str | None
    created_at: datetime


def _summary(resident: Resident) -> ResidentSummary:
    return ResidentSummary(
        id=resident.id,
        name=resident.name,
        phone=resident.phone,
        telegram_chat_id=resident.telegram_chat_id,
        commune_insee=resident.commune_insee,
        commune=resident.commune.name if resident.commune else None,
        level=resident.level,
        interests=tuple(resident.interests or ()),
        opted_out_sms=resident.opted_out_sms,
        opted_out_telegram=resident.opted_out_telegram,
        sms_unreachable=resident.sms_unreachable,
        consent_at=resident.consent_at,
        consent_channel=resident.consent_channel,
        created_at=resident.created_at,
    )


async def list_residents(*, ctx: Context) -> list[ResidentSummary]:
    """Residents who were not erased, oldest first."""
    async with ctx.db.read() as session:
        query = select(Resident).where(Resident.erased.is_(False)).order_by(Resident.id)
        return [_summary(r) for r in (await session.execute(query)).unique().scalars()]


async def get_resident(*, ctx: Context, resident_id: int) -> ResidentSummary:
    async with ctx.db.read() as session:
        resident = await session.get(Resident, resident_id)
        found = _summary(resident) if resident is not None and not resident.erased else None
    if resident is None:
        raise TeamError(f"la personne n°{resident_id} n'existe pas (voir « atelier residents list »)")
    if found is None:
        raise TeamError(f"les données de la personne n°{resident_id} sont déjà effacées")
    return found


@dataclass(frozen=True)
class Erased:
    resident_id: int
    promoted: int  # people on a waiting list who got the freed seats (and were told)


async def erase_resident_for(*, ctx: Context, resident_id: int) -> Erased:
    """Erase a resident on their request made to an adviser, exactly as OUBLIER does: personal data deleted, a
    keyed hash of the number kept (never contacted again by mistake), seats given to the people waiting."""
    now = ctx.now()
    async with ctx.db.write() as session:
        resident = await session.get(Resident, resident_id)
        if resident is None:
            raise TeamError(f"la personne n°{resident_id} n'existe pas (voir « atelier residents list »)")
        if resident.erased:
            raise TeamError(f"les données de la personne n°{resident_id} sont déjà effacées")
        promoted = await erase(session=session, ctx=ctx, resident=resident, now=now, keep_hash=True)
    ctx.wake_dispatcher()
    log.info("resident %s erased by an adviser", resident_id)
    return Erased(resident_id, promoted)
