"""Erasing a resident, whoever asks (OUBLIER, an adviser, the retention purge): one way, inside the caller's
transaction.

Personal data is deleted everywhere it was written — the resident row, their conversations, what they wrote, our
messages to their number or chat (including the first sign-up turns, stored before the resident row existed) —
and their seats go to the people waiting, who are told. A keyed hash of the number is kept when ``keep_hash``, so
that no later broadcast or import contacts them by mistake.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import SMS, TELEGRAM
from bot.context import Context
from bot.service.identity import identity_hash
from bot.service.reminders import notify_promotion
from storage.calls import scrub_resident_calls
from storage.conversations import forget_conversations
from storage.inbound import scrub_inbound
from storage.models import Resident
from storage.residents import erase_resident, scrub_address


async def erase(*, session: AsyncSession, ctx: Context, resident: Resident, now: datetime, keep_hash: bool) -> int:
    """Erase the resident; returns how many people waiting got their seats."""
    addresses = [(SMS, resident.phone)] if resident.phone else []
    if resident.telegram_chat_id is not None:
        addresses.append((TELEGRAM, str(resident.telegram_chat_id)))
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
    for channel, address in addresses:
        await scrub_address(session=session, channel=channel, address=address)
    for enrolment in promoted:
        await notify_promotion(session=session, ctx=ctx, enrolment_id=enrolment.id, now=now)
    return len(promoted)
