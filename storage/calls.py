"""The advisers' "to call" list: rows of ``calls``, and the queries that find who needs a call.

Functions take the caller's session and never commit. A call is added once per need (``key`` is unique: adding it
again does nothing) and closed once (the first adviser to mark it done keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import insert_or_skip
from storage.models import (
    Call,
    CallbackRequest,
    CallKind,
    Enrolment,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    Workshop,
    WorkshopStatus,
)

_TABLE = cast(Table, Call.__table__)  # the Core table, for the insert that skips a known key


@dataclass(frozen=True)
class NewCall:
    key: str
    kind: CallKind
    resident_id: int
    what_to_say: str
    created_at: datetime
    reason: str | None = None
    workshop_id: int | None = None
    enrolment_id: int | None = None
    message_id: int | None = None
    broadcast_id: int | None = None
    callback_request_id: int | None = None
    phone: str | None = None


async def add_call(*, session: AsyncSession, call: NewCall) -> int | None:
    """Add the call; its id, or None when a call with this key exists already."""
    values = {
        "key": call.key,
        "kind": call.kind,
        "reason": call.reason,
        "resident_id": call.resident_id,
        "workshop_id": call.workshop_id,
        "enrolment_id": call.enrolment_id,
        "message_id": call.message_id,
        "broadcast_id": call.broadcast_id,
        "callback_request_id": call.callback_request_id,
        "phone": call.phone,
        "what_to_say": call.what_to_say,
        "created_at": call.created_at,
    }
    new_id = (await session.execute(insert_or_skip(session, _TABLE, unique=("key",)), values)).scalar_one_or_none()
    return int(new_id) if new_id is not None else None


async def load_calls(*, session: AsyncSession, ids: Sequence[int] = (), include_done: bool = False) -> list[Call]:
    """Calls (with their resident and workshop), oldest first; only those ``ids`` when given."""
    query = select(Call).order_by(Call.created_at, Call.id)
    if ids:
        query = query.where(Call.id.in_(list(ids)))
    elif not include_done:
        query = query.where(Call.done_at.is_(None))
    return list((await session.execute(query)).unique().scalars())


async def close_call(
    *, session: AsyncSession, call_id: int, by: str, adviser_id: int | None, outcome: str, now: datetime
) -> bool:
    """Mark an open call done; False when unknown or already done."""
    result = await session.execute(
        update(Call)
        .where(Call.id == call_id, Call.done_at.is_(None))
        .values(done_at=now, done_by=by, done_by_adviser_id=adviser_id, outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def close_superseded(
    *, session: AsyncSession, workshop_id: int, kind: CallKind, resident_ids: Sequence[int], now: datetime
) -> None:
    """Open calls of this kind about the workshop for these people: a newer change replaces what they said."""
    if not resident_ids:
        return
    await session.execute(
        update(Call)
        .where(
            Call.workshop_id == workshop_id,
            Call.kind == kind,
            Call.resident_id.in_(list(resident_ids)),
            Call.done_at.is_(None),
        )
        .values(done_at=now, done_by="Atelier", outcome="remplacé par un changement plus récent")
        .execution_options(synchronize_session=False)
    )


async def close_callback_calls(*, session: AsyncSession, callback_request_id: int, by: str, now: datetime) -> None:
    """A call-back request handled from its own list: its call is done too."""
    await session.execute(
        update(Call)
        .where(Call.callback_request_id == callback_request_id, Call.done_at.is_(None))
        .values(done_at=now, done_by=by, outcome="rappel fait (liste des demandes de rappel)")
        .execution_options(synchronize_session=False)
    )


async def handle_callback_request(*, session: AsyncSession, callback_request_id: int, by: str, now: datetime) -> None:
    """A callback call marked done: its request is handled too (the first to mark it keeps the credit)."""
    await session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_request_id, CallbackRequest.handled_at.is_(None))
        .values(handled_at=now, handled_by=by)
        .execution_options(synchronize_session=False)
    )


async def scrub_resident_calls(*, session: AsyncSession, resident_id: int, now: datetime) -> None:
    """Erasure: nobody is left to call; what the calls said about them is personal data."""
    await session.execute(
        update(Call)
        .where(Call.resident_id == resident_id, Call.done_at.is_(None))
        .values(done_at=now, done_by="effacement des données", outcome="")
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Call)
        .where(Call.resident_id == resident_id)
        .values(what_to_say="", phone=None, outcome="")
        .execution_options(synchronize_session=False)
    )


# --- Finding who needs a call -----------------------------------------------------------------------------------

UNDELIVERED = (MessageStatus.failed, MessageStatus.expired, MessageStatus.cancelled)


async def undelivered_messages(
    *, session: AsyncSession, kinds: Mapping[str, Sequence[MessageKind]], since: datetime
) -> list[OutboundMessage]:
    """Messages of these kinds (per channel) to a resident that did not reach them (failed, expired, or withdrawn),
    updated since ``since``, that no call speaks of yet. Whether a withdrawn one was withdrawn because the resident
    cannot be reached is for the caller to decide."""
    if not kinds:
        return []
    called = exists().where(Call.message_id == OutboundMessage.id)
    wanted = [
        and_(OutboundMessage.channel == channel, OutboundMessage.kind.in_(list(of_channel)))
        for channel, of_channel in kinds.items()
    ]
    query = (
        select(OutboundMessage)
        .where(
            or_(*wanted),
            OutboundMessage.status.in_(UNDELIVERED),
            OutboundMessage.resident_id.is_not(None),
            OutboundMessage.updated_at >= since,
            ~called,
        )
        .order_by(OutboundMessage.id)
    )
    return list(await session.scalars(query))


async def seated_without_answer(
    *, session: AsyncSession, starting_after: datetime, starting_before: datetime, asked_before: datetime
) -> list[tuple[Enrolment, datetime]]:
    """Seated enrolments in planned workshops starting in the window whose holder was sent a reminder asking
    OUI / NON before ``asked_before`` and has not answered; with when that reminder was sent."""
    asked = (
        select(OutboundMessage.enrolment_id, OutboundMessage.sent_at, OutboundMessage.choices)
        .join(Enrolment, Enrolment.id == OutboundMessage.enrolment_id)
        .join(Workshop, Workshop.id == Enrolment.workshop_id)
        .where(
            OutboundMessage.kind == MessageKind.reminder,
            OutboundMessage.status.in_((MessageStatus.sent, MessageStatus.delivered)),
            OutboundMessage.sent_at < asked_before,
            Enrolment.status == EnrolmentStatus.seated,
            Enrolment.confirmed.is_(None),
            Workshop.status == WorkshopStatus.planned,
            Workshop.starts_at > starting_after,
            Workshop.starts_at <= starting_before,
        )
        .order_by(OutboundMessage.sent_at)
    )
    first_asked: dict[int, datetime] = {}
    for enrolment_id, sent_at, choices in (await session.execute(asked)).all():
        if enrolment_id is not None and sent_at is not None and choices:  # only the reminder asking OUI / NON
            first_asked.setdefault(int(enrolment_id), sent_at)
    if not first_asked:
        return []
    enrolments = (await session.execute(select(Enrolment).where(Enrolment.id.in_(list(first_asked))))).unique()
    return [(e, first_asked[e.id]) for e in enrolments.scalars()]


# Calls about a seat that only hold while the enrolment is in one of these statuses (an unanswered call may be
# about a waiting place: the confirmation of an adviser's enrolment on the waiting list).
SEAT_HELD = {
    CallKind.promotion: (EnrolmentStatus.seated,),
    CallKind.unanswered_reminder: (EnrolmentStatus.seated,),
    CallKind.unanswered_call: (EnrolmentStatus.seated, EnrolmentStatus.waiting),
}
# Calls about a workshop that are moot once it is cancelled: the cancellation's notice (or the call about it, kind
# change_notice) tells them.
MOOT_WHEN_CANCELLED = (CallKind.promotion, CallKind.broadcast, CallKind.unanswered_reminder, CallKind.unanswered_call)


async def moot_open_calls(*, session: AsyncSession, now: datetime) -> list[tuple[int, str]]:
    """Open calls whose reason went away on its own, each with why: the resident answered the reminder or left
    the workshop, the workshop started or was cancelled, the call-back request was handled, or the resident was
    erased."""
    workshop_over = and_(Call.workshop_id.is_not(None), Workshop.starts_at <= now)
    cancelled = and_(Call.kind.in_(MOOT_WHEN_CANCELLED), Workshop.status == WorkshopStatus.cancelled)
    seat_gone = [and_(Call.kind == kind, Enrolment.status.not_in(held)) for kind, held in SEAT_HELD.items()]
    rows = await session.execute(
        select(
            Call.id,
            Call.kind,
            Enrolment.status,
            Enrolment.confirmed,
            CallbackRequest.handled_at,
            Resident.erased,
            Workshop.status,
        )
        .join(Resident, Resident.id == Call.resident_id)
        .outerjoin(Workshop, Workshop.id == Call.workshop_id)
        .outerjoin(Enrolment, Enrolment.id == Call.enrolment_id)
        .outerjoin(CallbackRequest, CallbackRequest.id == Call.callback_request_id)
        .where(
            Call.done_at.is_(None),
            or_(
                Resident.erased.is_(True),
                workshop_over,
                cancelled,
                CallbackRequest.handled_at.is_not(None),
                and_(Call.kind == CallKind.unanswered_reminder, Enrolment.confirmed.is_not(None)),
                *seat_gone,
            ),
        )
    )
    moot: list[tuple[int, str]] = []
    for call_id, kind, status, confirmed, handled_at, erased, workshop_status in rows.all():
        if erased:
            why = "données effacées"
        elif handled_at is not None:
            why = "demande de rappel traitée"
        elif kind == CallKind.unanswered_reminder and confirmed is not None:
            why = "a répondu au rappel" + (" : vient" if confirmed else " : ne vient pas")
        elif status is not None and kind in SEAT_HELD and status not in SEAT_HELD[kind]:
            why = "n'a plus de place dans cet atelier"
        elif workshop_status == WorkshopStatus.cancelled and kind in MOOT_WHEN_CANCELLED:
            why = "l'atelier est annulé"
        else:
            why = "l'atelier a commencé"
        moot.append((int(call_id), why))
    return moot
