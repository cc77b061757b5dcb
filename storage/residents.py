"""Residents: added by their first message, their profile, and their choices that change what may be sent to them
(opting out, unreachable numbers, erasure, retention).

Each runs inside the caller's write transaction; a choice that stops messages cancels the resident's pending ones in
the same transaction as the change (SPEC §7: no reminder to someone who opted out or was erased).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import cast

from sqlalchemy import Insert, Select, Table, Update, bindparam, case, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conversations import forget_conversation
from storage.database import dialect_insert
from storage.enums import Channel, EnrolmentStatus, Level
from storage.models import (
    CallbackRequest,
    Enrolment,
    ErasedIdentity,
    InboundMessage,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    Workshop,
)
from storage.outbox.queueing import SCRUBBED, cancel_pending, scrub_resident_messages
from storage.prepared import execute_in, reread_held
from storage.seats import ACTIVE, cancel_enrolment

NOT_ANSWERS = tuple(kind for kind in MessageKind if kind != MessageKind.reply)
_RESIDENTS = cast(Table, Resident.__table__)


async def erase_resident(
    *,
    session: AsyncSession,
    resident_id: int,
    identity_hash: str | None,
    now: datetime,
    promotion_cutoff: timedelta | None = None,
) -> list[Enrolment]:
    """Delete the resident's personal data and give their seats away; returns the enrolments promoted into the
    freed seats (the people the caller must tell). Empty for an unknown or already erased resident.

    Kept: the row (commune, level, dates) for anonymous counts, and ``identity_hash`` (a keyed hash of the number)
    so that no later import or broadcast contacts them by mistake. Their pending messages are cancelled, and the
    address and text of every message to them are blanked. A seat freed less than ``promotion_cutoff`` before the
    start is left free (nobody is promoted that late); None promotes whatever the time.
    """
    resident = await session.get(Resident, resident_id)
    if resident is None or resident.erased:
        return []
    promoted: list[Enrolment] = []
    rows = (
        await session.execute(
            select(Enrolment.id, Workshop.starts_at)
            .join(Workshop, Workshop.id == Enrolment.workshop_id)
            # past workshops keep their enrolments as they were: they are the anonymous history
            .where(Enrolment.resident_id == resident_id, Enrolment.status.in_(ACTIVE), Workshop.starts_at > now)
            .order_by(Enrolment.id)
        )
    ).all()
    for enrolment_id, starts_at in rows:
        promote = promotion_cutoff is None or now < starts_at - promotion_cutoff
        outcome = await cancel_enrolment(session=session, enrolment_id=enrolment_id, now=now, promote=promote)
        if outcome is not None:
            promoted.extend(outcome.promoted)
    await cancel_pending(session=session, resident_id=resident_id)
    await scrub_resident_messages(session=session, resident_id=resident_id)
    # a number typed for a call-back is theirs too (the request itself stays, anonymous, for the counts)
    # the number typed for a call-back, and what they said they needed ("je n'ai pas de voiture"): theirs too
    await session.execute(
        update(CallbackRequest).where(CallbackRequest.resident_id == resident_id).values(phone=None, reason=None)
    )
    if identity_hash is not None:
        await session.execute(
            dialect_insert(session)(ErasedIdentity)
            .values(identity_hash=identity_hash, erased_at=now)
            .on_conflict_do_nothing(index_elements=["identity_hash"])
        )
    resident.name = None
    resident.phone = None
    resident.telegram_chat_id = None
    resident.interests = []
    resident.erased = True
    resident.preferred_channel = None
    await session.flush()
    return promoted


async def companions_of(*, session: AsyncSession, resident_id: int) -> list[Resident]:
    """The people who share this resident's phone (``Resident.companion_of``), not erased."""
    result = await session.scalars(
        select(Resident)
        .where(Resident.companion_of_id == resident_id, Resident.erased.is_(False))
        .order_by(Resident.id)
    )
    return list(result.unique())


async def household_ids(*, session: AsyncSession, resident: Resident) -> list[int]:
    """The resident whose phone it is, then the companions who share it (two people, one phone)."""
    holder = resident.companion_of_id or resident.id
    rows = await execute_in(session, _household_statement(), {"holder": holder})
    return sorted((row[0] for row in rows), key=lambda rid: rid != holder)


@cache
def _household_statement() -> Select[int]:
    """Built once: it runs for every seat taken (the reminders name whoever comes)."""
    holder = bindparam("holder", type_=Resident.id.type)
    members = or_(Resident.id == holder, Resident.companion_of_id == holder)
    return select(Resident.id).where(members).order_by(Resident.id)


async def add_resident(
    *, session: AsyncSession, phone: str | None, telegram_chat_id: int | None, channel: str, now: datetime
) -> int:
    """A resident for a number (or a Telegram chat) we did not know, added by their first message that changes
    something (their profile, with their consent; a call-back asked); returns their id. One Core statement."""
    values: dict[str, object] = {
        "phone": phone,
        "telegram_chat_id": telegram_chat_id,
        "preferred_channel": channel,
        "interests": [],
        "created_at": now,
        "last_activity_at": now,
    }
    ((resident_id,),) = await execute_in(session, _add_statement(), values)
    return int(resident_id)


@cache
def _add_statement() -> Insert:
    return insert(_RESIDENTS).returning(_RESIDENTS.c.id)


async def save_profile(
    *,
    session: AsyncSession,
    resident_id: int,
    name: str,
    commune_insee: str,
    level: Level,
    interests: Sequence[str],
    channel: str,
    now: datetime,
) -> None:
    """What the resident told us of themselves at sign-up; their consent (when and through which channel) is
    recorded the first time only. One Core statement; an ORM copy the session holds is read again."""
    values = {
        "row": resident_id,
        "to_name": name,
        "to_commune": commune_insee,
        "to_level": level,
        "to_interests": list(interests),
        "at": now,
        "channel": channel,
    }
    await execute_in(session, _profile_statement(), values)
    await reread_held(session=session, model=Resident, row_id=resident_id)


@cache
def _profile_statement() -> Update:
    r = _RESIDENTS.c
    return (
        update(_RESIDENTS)
        .where(r.id == bindparam("row"))
        .values(
            name=bindparam("to_name"),
            commune_insee=bindparam("to_commune"),
            level=bindparam("to_level"),
            interests=bindparam("to_interests"),
            # Every SET reads the row as it was: the consent's channel is kept with its first date.
            consent_at=func.coalesce(r.consent_at, bindparam("at", type_=r.consent_at.type)),
            consent_channel=case(
                (r.consent_at.is_(None), bindparam("channel", type_=r.consent_channel.type)),
                else_=r.consent_channel,
            ),
        )
    )


async def seated_household(*, session: AsyncSession, enrolment: Enrolment) -> list[Enrolment]:
    """The seated enrolments, in this enrolment's workshop, of the people who share its resident's phone (the
    phone's owner first). Just the enrolment itself for someone alone."""
    members = await household_ids(session=session, resident=enrolment.resident)
    if len(members) == 1:
        return [enrolment] if enrolment.status == EnrolmentStatus.seated else []
    rows = await session.scalars(
        select(Enrolment).where(
            Enrolment.workshop_id == enrolment.workshop_id,
            Enrolment.resident_id.in_(members),
            Enrolment.status == EnrolmentStatus.seated,
        )
    )
    return sorted(rows.unique(), key=lambda e: members.index(e.resident_id))


async def set_opt_out(*, session: AsyncSession, resident_id: int, channel: str, opted_out: bool) -> int:
    """STOP / START on one channel. Opting out cancels the pending messages on that channel that are not answers
    (the STOP confirmation itself still leaves) — for SMS, the calls to the same number too: a STOP stops calls;
    returns how many were cancelled."""
    resident = await session.get(Resident, resident_id)
    if resident is None:
        return 0
    if channel == Channel.sms:
        resident.opted_out_sms = opted_out
    elif channel == Channel.telegram:
        resident.opted_out_telegram = opted_out
    else:
        raise ValueError(f"no opt-out for channel {channel!r}")
    await session.flush()
    if not opted_out:
        return 0
    cancelled = 0
    for number in (Channel.sms, Channel.voice) if channel == Channel.sms else (channel,):
        cancelled += await cancel_pending(session=session, resident_id=resident_id, channel=number, kinds=NOT_ANSWERS)
    return cancelled


async def mark_sms_unreachable(*, session: AsyncSession, resident_id: int) -> int:
    """The number cannot receive SMS (a landline, a carrier refusal): stop trying, an adviser must phone.
    Cancels every pending SMS to them; returns how many."""
    resident = await session.get(Resident, resident_id)
    if resident is None:
        return 0
    resident.sms_unreachable = True
    await session.flush()
    return await cancel_pending(session=session, resident_id=resident_id, channel=Channel.sms)


async def clear_sms_unreachable(*, session: AsyncSession, resident_id: int) -> bool:
    """The number received an SMS after all: lift the mark. True when it was set."""
    result = await session.execute(
        update(Resident)
        .where(Resident.id == resident_id, Resident.sms_unreachable.is_(True))
        .values(sms_unreachable=False)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0))


async def inactive_residents(*, session: AsyncSession, before: datetime) -> list[int]:
    """Residents not erased, with no activity since ``before`` and no workshop on or after it (retention)."""
    upcoming = exists().where(
        Enrolment.resident_id == Resident.id,
        Enrolment.workshop_id == Workshop.id,
        Workshop.starts_at >= before,
    )
    result = await session.scalars(
        select(Resident.id)
        .where(Resident.erased.is_(False), Resident.last_activity_at < before, ~upcoming)
        .order_by(Resident.id)
    )
    return list(result)


async def scrub_address(*, session: AsyncSession, channel: str, address: str) -> None:
    """Erasure, by address: what was exchanged before the resident row existed (the first sign-up turns) is
    linked to the number only. Their words and our replies to that number are blanked, and a conversation left at
    that address is forgotten; the provider ids of what they sent stay for de-duplication (a Twilio sid, a
    Telegram update id: neither names anyone)."""
    inbound_ids = select(OutboundMessage.inbound_id).where(
        OutboundMessage.channel == channel,
        OutboundMessage.to_address == address,
        OutboundMessage.inbound_id.is_not(None),
    )
    await session.execute(
        update(InboundMessage).where(InboundMessage.id.in_(inbound_ids)).values(body=None, resident_id=None)
    )
    await session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.channel == channel,
            OutboundMessage.to_address == address,
            OutboundMessage.status == MessageStatus.pending,
        )
        .values(status=MessageStatus.cancelled)
    )
    await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.channel == channel, OutboundMessage.to_address == address)
        .values(**SCRUBBED)
    )
    await forget_conversation(session=session, channel=channel, address=address)
