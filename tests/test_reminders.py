"""Reminders and promotion notices as outbox rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.channels import SMS, TELEGRAM
from bot.context import Context
from bot.conversation.gsm7 import count_segments, to_gsm7
from bot.service.enrolments import cancel, enrol
from bot.service.reminders import cancel_reminders, notify_promotion, plan_reminders, replan_workshop
from bot.territory import Territory
from storage.database import Database
from storage.models import (
    Call,
    CallKind,
    Enrolment,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Workshop,
)
from storage.outbox.queueing import NewMessage, enqueue
from storage.seats import seat_resident
from tests.helpers.clock import Clock, paris
from tests.helpers.scheduling import make_context, make_enrolment, make_resident, make_workshop, outbox

# On both databases: reminder rows upserted by idempotency key, re-planned and cancelled with the seats.
pytestmark = pytest.mark.both_dialects

MONDAY_9H = paris(2026, 3, 2, 9)
TUESDAY_14H = paris(2026, 3, 10, 14)


def context(db: Database, db_url: str, territory: Territory, now: datetime = MONDAY_9H) -> Context:
    return make_context(db, db_url, territory, Clock(now))


async def plan(ctx: Context, enrolment_id: int) -> int:
    async with ctx.db.write() as session:
        return await plan_reminders(session=session, ctx=ctx, enrolment_id=enrolment_id, now=ctx.now())


def reminders(rows: list[OutboundMessage], status: MessageStatus = MessageStatus.pending) -> list[OutboundMessage]:
    return [r for r in rows if r.kind == MessageKind.reminder and r.status == status]


async def test_a_seat_gets_its_reminders_once(db: Database, db_url: str, territory: Territory) -> None:
    ctx = context(db, db_url, territory)
    workshop = await make_workshop(db, TUESDAY_14H)
    enrolment = await make_enrolment(db, await make_resident(db, 1), workshop)
    assert await plan(ctx, enrolment) == 2
    assert await plan(ctx, enrolment) == 0  # planning twice plans once
    first, second = reminders(await outbox(db))
    assert (first.due_at, second.due_at) == (paris(2026, 3, 9, 10), paris(2026, 3, 10, 11))
    assert first.body.startswith("Rappel : atelier numérique mardi 10 mars à 14 h, Mairie de Saint-Victor.")
    assert first.choices == ["OUI", "NON"] and second.choices == []
    assert all(count_segments(to_gsm7(r.body)) == 1 for r in (first, second))
    assert first.expires_at == second.expires_at == TUESDAY_14H
    assert (first.channel, first.to_address, first.enrolment_id, first.workshop_id) == (
        SMS,
        "+33612340001",
        enrolment,
        workshop,
    )
    assert first.idempotency_key == f"reminder:{enrolment}:{TUESDAY_14H.astimezone(UTC).isoformat()}:-1d@10:00"


async def test_reminders_go_through_the_residents_own_channel(db: Database, db_url: str, territory: Territory) -> None:
    ctx = context(db, db_url, territory)
    workshop = await make_workshop(db, TUESDAY_14H)
    telegram_only = await make_resident(db, 1, opted_out_sms=True, telegram_chat_id=4242)
    nobody = await make_resident(db, 2, opted_out_sms=True)
    assert await plan(ctx, await make_enrolment(db, telegram_only, workshop)) == 2
    assert await plan(ctx, await make_enrolment(db, nobody, workshop)) == 0
    assert {(r.channel, r.to_address) for r in await outbox(db)} == {(TELEGRAM, "4242")}


async def test_cancelling_then_taking_the_seat_again_brings_the_reminders_back(
    db: Database, db_url: str, territory: Territory
) -> None:
    ctx = context(db, db_url, territory)
    workshop = await make_workshop(db, TUESDAY_14H)
    resident_id = await make_resident(db, 1)
    enrolment = await make_enrolment(db, resident_id, workshop)
    await plan(ctx, enrolment)
    async with db.write() as session:
        assert await cancel_reminders(session=session, enrolment_id=enrolment) == 2
    assert len(reminders(await outbox(db), MessageStatus.cancelled)) == 2
    async with db.write() as session:
        await session.execute(update(Enrolment).values(status=EnrolmentStatus.cancelled))
        outcome = await seat_resident(session=session, resident_id=resident_id, workshop_id=workshop, now=ctx.now())
        assert outcome is not None and outcome.seated
    assert await plan(ctx, enrolment) == 2
    assert len(reminders(await outbox(db))) == 2


async def test_a_moved_workshop_gets_new_reminders(db: Database, db_url: str, territory: Territory) -> None:
    ctx = context(db, db_url, territory)
    workshop = await make_workshop(db, TUESDAY_14H)
    enrolments = [await make_enrolment(db, await make_resident(db, n), workshop) for n in (1, 2)]
    waiting = await make_enrolment(db, await make_resident(db, 3), workshop, EnrolmentStatus.waiting, position=1)
    for enrolment in enrolments:
        await plan(ctx, enrolment)
    moved = paris(2026, 3, 12, 10)  # Thursday 10 h
    async with db.write() as session:
        await session.execute(update(Workshop).values(starts_at=moved, ends_at=moved + timedelta(hours=2)))
        assert await replan_workshop(session=session, ctx=ctx, workshop_id=workshop, now=ctx.now()) == 4
    rows = await outbox(db)
    assert len(reminders(rows, MessageStatus.cancelled)) == 4
    fresh = reminders(rows)
    assert sorted({r.due_at for r in fresh}) == [paris(2026, 3, 11, 10), paris(2026, 3, 11, 19, 59)]
    assert all("jeudi 12 mars à 10 h" in r.body and r.expires_at == moved for r in fresh)
    assert waiting not in {r.enrolment_id for r in fresh}


async def promote(ctx: Context, enrolment_id: int) -> OutboundMessage | None:
    async with ctx.db.write() as session:
        notice = await notify_promotion(session=session, ctx=ctx, enrolment_id=enrolment_id, now=ctx.now())
        return None if notice is None else await session.get(OutboundMessage, notice)


async def test_a_promotion_notice_is_sent_once_and_plans_reminders(
    db: Database, db_url: str, territory: Territory
) -> None:
    ctx = context(db, db_url, territory)
    workshop = await make_workshop(db, TUESDAY_14H)
    enrolment = await make_enrolment(db, await make_resident(db, 1), workshop)
    notice = await promote(ctx, enrolment)
    assert notice is not None
    assert (notice.kind, notice.urgent, notice.due_at, notice.expires_at) == (
        MessageKind.promotion,
        False,
        MONDAY_9H,
        TUESDAY_14H,
    )
    assert "place s'est libérée" in notice.body and notice.choices == ["OUI", "NON"]
    assert count_segments(to_gsm7(notice.body)) == 1
    assert await promote(ctx, enrolment) is None  # never two promotion notices for one workshop
    assert len(reminders(await outbox(db))) == 2


@pytest.mark.parametrize("reachable", [True, False], ids=["told by SMS", "no channel: a call for an adviser"])
async def test_a_second_promotion_of_the_same_row_is_told_again(
    db: Database, db_url: str, territory: Territory, reachable: bool
) -> None:
    """Promoted, then gone from the seat, back on the waiting list (the same row) and promoted again a day later:
    a notice of its own, or a call of its own when no message reaches them (the first one's key must not swallow
    it)."""
    clock = Clock(MONDAY_9H)
    ctx = make_context(db, db_url, territory, clock)
    workshop = await make_workshop(db, TUESDAY_14H + timedelta(days=7), capacity=1)
    first, second = await make_resident(db, 1), await make_resident(db, 2, opted_out_sms=not reachable)

    async def take(resident_id: int) -> int:
        async with db.write() as session:
            outcome = await enrol(
                session=session, ctx=ctx, resident_id=resident_id, workshop_id=workshop, now=clock.now,
                allow_waiting=True,
            )  # fmt: skip
            assert outcome is not None
            return outcome.enrolment.id

    async def leave(enrolment_id: int) -> None:
        async with db.write() as session:
            assert await cancel(session=session, ctx=ctx, enrolment_id=enrolment_id, now=clock.now) is not None
        clock.advance(timedelta(days=1))

    seat_of_first, seat_of_second = await take(first), await take(second)  # the second waits
    await leave(seat_of_first)  # the second is promoted (a notice)
    await leave(seat_of_second)  # and gives the seat up
    assert await take(first) == seat_of_first and await take(second) == seat_of_second  # the same rows again
    await leave(seat_of_first)  # the second is promoted again
    twice = [(seat_of_second, MONDAY_9H), (seat_of_second, MONDAY_9H + timedelta(days=2))]
    notices = [m for m in await outbox(db) if m.kind == MessageKind.promotion]
    async with db.read() as session:
        calls = list((await session.execute(select(Call).where(Call.kind == CallKind.promotion))).unique().scalars())
    if reachable:
        assert [(m.enrolment_id, m.due_at) for m in notices] == twice and not calls
        assert notices[-1].status == MessageStatus.pending
    else:
        assert [(c.enrolment_id, c.created_at) for c in calls] == twice and not notices


async def test_a_promotion_replaces_the_waiting_list_confirmation_not_sent_yet(
    db: Database, db_url: str, territory: Territory
) -> None:
    ctx = context(db, db_url, territory)
    enrolment = await make_enrolment(db, await make_resident(db, 1), await make_workshop(db, TUESDAY_14H))
    async with db.write() as session:
        waiting_notice = await enqueue(
            session=session,
            message=NewMessage(
                channel=SMS,
                to_address="+33612340001",
                body="C'est noté, vous êtes en tête de la liste d'attente.",
                kind=MessageKind.confirmation,
                due_at=MONDAY_9H,
                idempotency_key="phone-enrol:waiting",
                enrolment_id=enrolment,
            ),
        )
    assert waiting_notice is not None
    assert await promote(ctx, enrolment) is not None
    statuses = {row.id: row.status for row in await outbox(db)}
    assert statuses[waiting_notice] == MessageStatus.cancelled


async def test_a_late_evening_promotion_waits_for_the_window_unless_urgent(
    db: Database, db_url: str, territory: Territory
) -> None:
    evening = paris(2026, 3, 2, 21, 30)
    ctx = context(db, db_url, territory, evening)
    later = await make_enrolment(db, await make_resident(db, 1), await make_workshop(db, TUESDAY_14H))
    tomorrow = await make_enrolment(db, await make_resident(db, 2), await make_workshop(db, paris(2026, 3, 3, 14)))
    far, near = await promote(ctx, later), await promote(ctx, tomorrow)
    assert far is not None and (far.urgent, far.due_at) == (False, paris(2026, 3, 3, 8, 30))
    assert near is not None and (near.urgent, near.due_at) == (True, evening)


async def test_no_notice_for_someone_no_longer_seated(db: Database, db_url: str, territory: Territory) -> None:
    ctx = context(db, db_url, territory)
    workshop = await make_workshop(db, TUESDAY_14H)
    enrolment = await make_enrolment(db, await make_resident(db, 1), workshop, EnrolmentStatus.cancelled)
    assert await promote(ctx, enrolment) is None
    assert await plan(ctx, enrolment) == 0


async def test_no_saying_no_gives_the_seat_to_the_first_waiting(
    db: Database, db_url: str, territory: Territory
) -> None:
    """The seam with ``bot.service.enrolments.cancel`` (what NON to a reminder does)."""
    ctx = context(db, db_url, territory)
    workshop = await make_workshop(db, TUESDAY_14H, capacity=1)
    leaving = await make_enrolment(db, await make_resident(db, 1), workshop)
    first = await make_enrolment(db, await make_resident(db, 2), workshop, EnrolmentStatus.waiting, position=1)
    await make_enrolment(db, await make_resident(db, 3), workshop, EnrolmentStatus.waiting, position=2)
    await plan(ctx, leaving)
    async with db.write() as session:
        outcome = await cancel(session=session, ctx=ctx, enrolment_id=leaving, now=ctx.now())
    assert outcome is not None and [e.id for e in outcome.promoted] == [first]
    rows = await outbox(db)
    assert {r.enrolment_id for r in reminders(rows)} == {first}
    assert {r.enrolment_id for r in reminders(rows, MessageStatus.cancelled)} == {leaving}
    assert [r.enrolment_id for r in rows if r.kind == MessageKind.promotion] == [first]
