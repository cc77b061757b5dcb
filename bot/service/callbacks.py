"""A resident's CONSEILLER request: recorded, and the advisers of their commune told through their own channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.calls import callback_call
from bot.service.reach import adviser_address, advisers_for
from storage.calls import add_call, close_callback_calls
from storage.models import CallbackRequest, MessageKind, Resident
from storage.outbox.queueing import NewMessage, enqueue


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
    second request. A newly given number is added to it."""
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
    # Today's call-backs are one kind of call on the advisers' "to call" list (the advisers are told just below).
    await add_call(session=session, call=callback_call(request=request, resident=resident, now=now))
    commune = resident.commune.name if resident.commune else "commune inconnue"
    body = say.callback_notice(
        resident.name or "(nom inconnu)", commune, phone or resident.phone or "pas de numéro", reason or ""
    )
    for adviser in await advisers_for(session=session, commune_insee=resident.commune_insee):
        destination = adviser_address(adviser)  # Telegram first, else SMS to their phone; nobody without either
        if destination is None:
            continue
        channel, address = destination
        await enqueue(
            session=session,
            message=NewMessage(
                channel=channel,
                to_address=address,
                body=body,
                kind=MessageKind.adviser_notice,
                due_at=now,
                idempotency_key=f"callback:{request.id}:adviser:{adviser.id}",
                adviser_id=adviser.id,
                about_resident_id=resident.id,  # it names them: erased with them
                urgent=True,  # advisers' own notices are work messages, not subject to residents' quiet hours
            ),
        )
    return request


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
