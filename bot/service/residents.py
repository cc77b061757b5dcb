"""Residents as advisers see them: the list, one person's record, erasure at their request.

Advisers see full numbers: they phone people. Refusals are ``TeamError``, raised before anything is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.context import Context
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.erasure import erase
from bot.service.recipients import address_of
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
    channel: str | None  # what reaches them now: sms, telegram, voice (a call to their landline), None: nothing
    consent_at: datetime | None
    consent_channel: str | None
    created_at: datetime


def _summary(resident: Resident, *, calls: bool) -> ResidentSummary:
    reach = address_of(resident, calls=calls)
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
        channel=reach[0] if reach else None,
        consent_at=resident.consent_at,
        consent_channel=resident.consent_channel,
        created_at=resident.created_at,
    )


async def list_residents(
    *, ctx: Context, newest_first: bool = False, limit: int | None = None, offset: int = 0
) -> list[ResidentSummary]:
    """Residents who were not erased, oldest first; a page of them with ``limit``/``offset`` (the console lists
    the newest first, a hundred at a time)."""
    async with ctx.db.read() as session:
        order = Resident.id.desc() if newest_first else Resident.id
        query = select(Resident).where(Resident.erased.is_(False)).order_by(order).offset(offset).limit(limit)
        calls = ctx.settings.calls_enabled
        return [_summary(r, calls=calls) for r in (await session.execute(query)).unique().scalars()]


async def count_residents(*, ctx: Context) -> int:
    async with ctx.db.read() as session:
        query = select(func.count()).select_from(Resident).where(Resident.erased.is_(False))
        return int((await session.execute(query)).scalar_one())


async def get_resident(*, ctx: Context, resident_id: int) -> ResidentSummary:
    async with ctx.db.read() as session:
        resident = await session.get(Resident, resident_id)
        found = (
            _summary(resident, calls=ctx.settings.calls_enabled)
            if resident is not None and not resident.erased
            else None
        )
    if resident is None:
        raise TeamError(f"la personne n°{resident_id} n'existe pas (voir « atelier residents list »)")
    if found is None:
        raise TeamError(f"les données de la personne n°{resident_id} sont déjà effacées")
    return found


@dataclass(frozen=True)
class Erased:
    resident_id: int
    promoted: int  # people on a waiting list who got the freed seats (and were told)


async def erase_resident_for(*, ctx: Context, resident_id: int, actor: Actor) -> Erased:
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
        await record(
            session=session, actor=actor, action="resident_erased", at=now, resident_id=resident_id,
            summary=f"données de la personne n°{resident_id} effacées à sa demande ; {promoted} place(s) donnée(s) "
            "à des personnes en attente",
        )  # fmt: skip
    await ctx.db.checkpoint()  # SQLite: what was erased leaves the write-ahead log for good
    ctx.wake_dispatcher()
    log.info("resident %s erased by an adviser", resident_id)
    return Erased(resident_id, promoted)
