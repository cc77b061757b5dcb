"""A resident's CONSEILLER request: recorded, and the advisers of their commune told through their own channel —
at once when it is about a workshop within 24 hours, otherwise in a digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.calls import callback_call
from bot.service.reach import adviser_address, advisers_for
from storage.calls import add_call, close_callback_calls
from storage.catalogue import active_bookings
from storage.enums import Channel
from storage.models import Adviser, CallbackRequest, MessageKind, Resident
from storage.outbox.queueing import NewMessage, enqueue, last_digest, rewrite_pending

URGENT_WITHIN = timedelta(hours=24)  # a request by someone holding a workshop this soon is passed on at once
DIGEST_INTERVAL = timedelta(minutes=30)  # at most one digest per adviser this often


async def request_callback(
    *,
    session: AsyncSession,
    resident: Resident,
    now: datetime,
    phone: str | None = None,
    reason: str | None = None,
) -> CallbackRequest:
    """``phone``: a number the resident typed for this call-back; kept on the request, not on the resident.
    ``reason``: what they said they need ("je n'ai pas de voiture"), for the adviser who calls back.

    A request still open is not made again (nor are the advisers told twice): asking twice is impatience, not a
    second request. A newly given number is added to it.

    The advisers are told at once, by name, only when the resident holds a workshop within 24 hours (the call is
    about it, and cannot wait). Every other request — most from people not known yet, which anyone can send by the
    hundred — is listed, and each adviser gets a digest: how many requests wait, at most every 30 minutes, in the
    sending hours (SMS pumping must not page an adviser one by one, nor at night)."""
    open_request = (
        await session.execute(
            select(CallbackRequest)
            .where(CallbackRequest.resident_id == resident.id, CallbackRequest.handled_at.is_(None))
            .order_by(CallbackRequest.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if open_request is not None:
        open_request.phone = phone or open_request.phone
        open_request.reason = reason or open_request.reason
        return open_request
    request = CallbackRequest(resident_id=resident.id, created_at=now, phone=phone, reason=reason)
    session.add(request)
    await session.flush()
    # Today's call-backs are one kind of call on the advisers' "to call" list (listed: the advisers are told below).
    await add_call(session=session, call=callback_call(request=request, resident=resident, now=now))
    urgent = await _holds_a_workshop_soon(session=session, resident_id=resident.id, now=now)
    for adviser in await advisers_for(session=session, commune_insee=resident.commune_insee):
        address = adviser_address(adviser)  # Telegram first, else SMS to their phone; nobody without either
        if address is None:
            continue
        if urgent:
            await _notify_now(session=session, adviser=adviser, address=address, request=request, resident=resident)
        else:
            await _plan_digest(session=session, adviser=adviser, address=address, now=now)
    return request


async def _holds_a_workshop_soon(*, session: AsyncSession, resident_id: int, now: datetime) -> bool:
    bookings = await active_bookings(session=session, resident_id=resident_id, now=now)
    return any(booking.workshop.starts_at <= now + URGENT_WITHIN for booking in bookings)


async def _notify_now(
    *,
    session: AsyncSession,
    adviser: Adviser,
    address: tuple[Channel, str],
    request: CallbackRequest,
    resident: Resident,
) -> None:
    commune = resident.commune.name if resident.commune else "commune inconnue"
    phone = request.phone or resident.phone or "pas de numéro"
    body = say.callback_notice(resident.name or "(nom inconnu)", commune, phone, request.reason or "")
    await enqueue(
        session=session,
        message=NewMessage(
            channel=address[0],
            to_address=address[1],
            body=body,
            kind=MessageKind.adviser_notice,
            due_at=request.created_at,
            idempotency_key=f"callback:{request.id}:adviser:{adviser.id}",
            adviser_id=adviser.id,
            about_resident_id=resident.id,  # it names them: erased with them
            urgent=True,  # a workshop within 24 hours: a work message that leaves at once
        ),
    )


async def _plan_digest(*, session: AsyncSession, adviser: Adviser, address: tuple[Channel, str], now: datetime) -> None:
    """One digest pending per adviser, telling how many requests wait when it leaves (rewritten as more come), due
    30 minutes after the previous one at the earliest; the dispatcher holds it in the quiet hours."""
    body = say.callback_digest(await _waiting(session=session))
    last = await last_digest(session=session, adviser_id=adviser.id)
    if last is not None and last.pending and await rewrite_pending(session=session, message_id=last.id, body=body):
        return
    due = max(now, last.left_at + DIGEST_INTERVAL) if last is not None else now
    await enqueue(
        session=session,
        message=NewMessage(
            channel=address[0],
            to_address=address[1],
            body=body,
            kind=MessageKind.callback_digest,
            due_at=due,
            # after that last digest: two requests at the same moment plan one digest (the key is the same)
            idempotency_key=f"callback-digest:{adviser.id}:after:{last.id if last is not None else 0}",
            adviser_id=adviser.id,
        ),
    )


async def _waiting(*, session: AsyncSession) -> int:
    """Requests not handled yet, of people not erased: what ``callbacks list`` shows."""
    query = (
        select(func.count())
        .select_from(CallbackRequest)
        .join(Resident, Resident.id == CallbackRequest.resident_id)
        .where(CallbackRequest.handled_at.is_(None), Resident.erased.is_(False))
    )
    return int((await session.execute(query)).scalar_one())


# --- Advisers' side: the list of requests, and marking one handled ------------------------------------------


@dataclass(frozen=True)
class CallbackItem:
    """A request as advisers see it: who to call (full number: advisers phone people), since when, done or not."""

    id: int
    resident_id: int
    name: str | None
    phone: str | None
    telegram_chat_id: int | None
    commune: str | None
    created_at: datetime
    handled_at: datetime | None
    handled_by: str | None
    reason: str | None = None  # what the resident said they need


def _item(request: CallbackRequest) -> CallbackItem:
    resident = request.resident
    return CallbackItem(
        id=request.id,
        resident_id=resident.id,
        name=resident.name,
        phone=request.phone or resident.phone,
        telegram_chat_id=resident.telegram_chat_id,
        commune=resident.commune.name if resident.commune else None,
        created_at=request.created_at,
        handled_at=request.handled_at,
        handled_by=request.handled_by,
        reason=request.reason,
    )


async def list_callbacks(*, ctx: Context, include_done: bool = False) -> list[CallbackItem]:
    """Requests to handle, oldest first (with ``include_done``, the handled ones too). Requests of people who
    since asked to be forgotten are left out: there is nobody left to call."""
    query = (
        select(CallbackRequest)
        .join(Resident, Resident.id == CallbackRequest.resident_id)
        .where(Resident.erased.is_(False))
        .order_by(CallbackRequest.created_at, CallbackRequest.id)
    )
    if not include_done:
        query = query.where(CallbackRequest.handled_at.is_(None))
    async with ctx.db.read() as session:
        return [_item(request) for request in (await session.execute(query)).unique().scalars()]


async def find_callback(*, ctx: Context, callback_id: int) -> CallbackItem | None:
    async with ctx.db.read() as session:
        request = await session.get(CallbackRequest, callback_id)
        return _item(request) if request is not None else None


async def mark_callback_done(*, ctx: Context, callback_id: int, actor: Actor) -> bool:
    """Mark a request handled by ``actor``; False when unknown or already handled (the first adviser to mark it
    keeps the credit). Its call on the "to call" list is done too."""
    async with ctx.db.write() as session:
        resident_id = (
            await session.execute(
                update(CallbackRequest)
                .where(CallbackRequest.id == callback_id, CallbackRequest.handled_at.is_(None))
                .values(handled_at=ctx.now(), handled_by=actor.label)
                .returning(CallbackRequest.resident_id)
                .execution_options(synchronize_session=False)
            )
        ).first()
        if resident_id is None:
            return False
        await close_callback_calls(session=session, callback_request_id=callback_id, by=actor.label, now=ctx.now())
        await record(
            session=session, actor=actor, action="callback_done", at=ctx.now(), resident_id=resident_id[0],
            summary=f"demande de rappel n°{callback_id} marquée traitée",
        )  # fmt: skip
        return True
