"""Erasing a resident, whoever asks (OUBLIER, an adviser, the retention purge): one way, inside the caller's
transaction; and the nightly retention purge itself (run by the scheduler, which the wiring hands it to).

Personal data is deleted everywhere it was written — the resident row, their conversations, what they wrote, our
messages to their number or chat (including the first sign-up turns, stored before the resident row existed) —
and their seats go to the people waiting, who are told. A keyed hash of the number is kept when ``keep_hash``, so
that no later broadcast or import contacts them by mistake.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.logs import log_failure
from bot.service.identity import identity_hash
from bot.service.reminders import notify_promotion
from storage.calls import scrub_resident_calls
from storage.conversations import forget_conversations
from storage.enums import Channel
from storage.inbound import scrub_inbound
from storage.models import Resident
from storage.residents import companions_of, erase_resident, inactive_residents, scrub_address

log = logging.getLogger(__name__)


async def erase(*, session: AsyncSession, ctx: Context, resident: Resident, now: datetime, keep_hash: bool) -> int:
    """Erase the resident, and the people who share their phone (they have no other way to be reached); returns
    how many people waiting got their seats."""
    freed = 0
    for companion in await companions_of(session=session, resident_id=resident.id):
        freed += await erase(session=session, ctx=ctx, resident=companion, now=now, keep_hash=False)
    addresses = [(Channel.sms, resident.phone)] if resident.phone else []
    if resident.telegram_chat_id is not None:
        addresses.append((Channel.telegram, str(resident.telegram_chat_id)))
    digest = None
    if keep_hash and resident.phone:
        digest = await identity_hash(session=session, settings=ctx.settings, identity=resident.phone)
    promoted = await erase_resident(
        session=session,
        resident_id=resident.id,
        identity_hash=digest,
        now=now,
        promotion_cutoff=ctx.settings.promotion_cutoff,
    )
    await forget_conversations(session=session, resident_id=resident.id)
    await scrub_resident_calls(session=session, resident_id=resident.id, now=now)
    await scrub_inbound(session=session, resident_id=resident.id)
    for channel, address in addresses:  # also what was said before the resident row existed, and conversations
        await scrub_address(session=session, channel=channel, address=address)
    for enrolment in promoted:
        await notify_promotion(session=session, ctx=ctx, enrolment_id=enrolment.id, now=now)
    return freed + len(promoted)


async def purge_inactive(ctx: Context) -> int:
    """Erase the residents inactive for longer than ``ATELIER_RETENTION`` (anonymous counts are kept).

    One transaction per resident, so that a failure leaves the others done. No keyed hash is kept: they did not
    ask never to be contacted, they were only gone for long. Returns how many were erased."""
    now = ctx.now()
    async with ctx.db.read() as session:
        ids = await inactive_residents(session=session, before=now - ctx.settings.retention)
    erased = 0
    for resident_id in ids:
        try:
            await _erase_inactive(ctx, resident_id, now)
        except Exception as exc:  # the others are still erased; this one is tried again tomorrow night
            log_failure(log, f"retention: erasing inactive resident {resident_id}", exc)
        else:
            erased += 1
    if ids:
        await ctx.db.checkpoint()  # SQLite: what was erased leaves the write-ahead log for good
        log.info("retention: %d of %d inactive resident(s) erased", erased, len(ids))
    return erased


async def _erase_inactive(ctx: Context, resident_id: int, now: datetime) -> None:
    async with ctx.db.write() as session:
        resident = await session.get(Resident, resident_id)
        if resident is not None and not resident.erased:
            # they did not ask to be forgotten: no hash kept, they may be written to again if they come back
            await erase(session=session, ctx=ctx, resident=resident, now=now, keep_hash=False)
