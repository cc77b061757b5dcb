"""Service rules that are not conversations: identity, opting back in, which seat an OUI/NON is about."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.channels import SMS, TELEGRAM, Inbound
from bot.config import Settings
from bot.context import Context
from bot.service.enrolments import enrol
from bot.service.inbound import handle_inbound
from bot.territory import Territory
from storage.database import Database
from storage.models import (
    CallbackRequest,
    Enrolment,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
)
from tests.helpers.clock import Clock
from tests.helpers.harness import PHONES, seed
from tests.helpers.transcripts import SIGNUP, Say

# On both databases: identity, opting back in and reminder answers, through the service's own queries.
pytestmark = pytest.mark.both_dialects


async def test_a_number_typed_for_a_callback_is_not_taken_as_an_identity(
    db: Database, settings: Settings, territory: Territory, now: datetime
) -> None:
    ctx = Context(settings=settings, db=db, territory=territory, clock=Clock(now))
    for index, text in enumerate(("conseiller", "06 12 34 56 78")):
        inbound = Inbound(channel=TELEGRAM, address="4242", text=text, provider_id=str(index))
        await handle_inbound(ctx=ctx, inbound=inbound, inline=False)
    async with db.read() as session:
        resident = (await session.execute(select(Resident))).unique().scalar_one()
        request = (await session.execute(select(CallbackRequest))).unique().scalar_one()
    assert resident.phone is None  # anyone can type anyone's number: it must not let them in as that person
    assert request.phone == "+33612345678"


async def test_start_after_stop_brings_the_reminders_back(
    db: Database, settings: Settings, territory: Territory, now: datetime
) -> None:
    ctx = Context(settings=settings, db=db, territory=territory, clock=Clock(now))
    await seed(db, "default", now)
    script = [say.text for say in SIGNUP] + ["STOP", "START"]
    for index, text in enumerate(script):
        inbound = Inbound(channel=SMS, address=PHONES["resident"], text=text, provider_id=f"SM{index}")
        await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
    async with db.read() as session:
        statuses = list(
            (
                await session.execute(
                    select(OutboundMessage.status).where(OutboundMessage.kind == MessageKind.reminder)
                )
            ).scalars()
        )
    assert statuses, "the seat had reminders"
    assert all(status == MessageStatus.pending for status in statuses)


async def test_the_share_my_number_button_is_offered_once_on_telegram(
    db: Database, settings: Settings, territory: Territory, now: datetime
) -> None:
    ctx = Context(settings=settings, db=db, territory=territory, clock=Clock(now))
    for index, text in enumerate(("/start", "Non merci", "RECOMMENCER")):
        inbound = Inbound(channel=TELEGRAM, address="4243", text=text, provider_id=f"u{index}")
        await handle_inbound(ctx=ctx, inbound=inbound, inline=False)
    async with db.read() as session:
        rows = list((await session.execute(select(OutboundMessage).order_by(OutboundMessage.id))).scalars())
    assert [row.ask_contact for row in rows] == [True, False, False]
    assert "prénom" in rows[1].body  # "Non merci" to the button: the name is simply asked


async def test_asking_twice_to_be_called_back_makes_one_request(
    db: Database, settings: Settings, territory: Territory, now: datetime
) -> None:
    ctx = Context(settings=settings, db=db, territory=territory, clock=Clock(now))
    for index in range(2):
        inbound = Inbound(channel=SMS, address=PHONES["resident"], text="CONSEILLER", provider_id=f"SMc{index}")
        await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
    async with db.read() as session:
        requests = list((await session.execute(select(CallbackRequest))).unique().scalars())
    assert len(requests) == 1


async def test_non_answers_the_reminder_that_was_sent_not_the_next_workshop(
    db: Database, settings: Settings, territory: Territory, now: datetime
) -> None:
    """Seated in two workshops; the reminder of the later one went out: NON cancels that one, not the sooner."""
    ctx = Context(settings=settings, db=db, territory=territory, clock=Clock(now))
    ids = await seed(db, "default", now)
    for index, say in enumerate(SIGNUP):  # seats them at Saint-Victor, in three days
        inbound = Inbound(channel=SMS, address=PHONES["resident"], text=say.text, provider_id=f"SM{index}")
        await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
    async with db.write() as session:
        resident = (await session.execute(select(Resident).where(Resident.phone == PHONES["resident"]))).scalar_one()
        later = await enrol(
            session=session, ctx=ctx, resident_id=resident.id, workshop_id=ids["des-beg"], now=now, allow_waiting=False
        )
        assert later is not None and later.seated
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.enrolment_id == later.enrolment.id, OutboundMessage.kind == MessageKind.reminder)
            .values(status=MessageStatus.sent, sent_at=now)
        )
    inbound = Inbound(channel=SMS, address=PHONES["resident"], text="non", provider_id="SMnon")
    handled = await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
    assert "vous ne venez pas" in handled.replies[0].text
    async with db.read() as session:
        rows = await session.execute(
            select(Enrolment.workshop_id, Enrolment.status).where(Enrolment.resident_id == resident.id)
        )
        statuses = dict(rows.all())
    assert statuses == {ids["sv-beg"]: EnrolmentStatus.seated, ids["des-beg"]: EnrolmentStatus.cancelled}


async def test_a_reminder_sent_after_the_menu_gets_the_answer(
    db: Database, settings: Settings, territory: Territory, now: datetime
) -> None:
    """The menu seen this morning is still open when the reminder asks OUI/NON: the answer is the reminder's."""
    clock = Clock(now)
    ctx = Context(settings=settings, db=db, territory=territory, clock=clock)
    await seed(db, "default", now)
    for index, say in enumerate((*SIGNUP, Say("bonjour"))):  # signed up, then the menu
        inbound = Inbound(channel=SMS, address=PHONES["resident"], text=say.text, provider_id=f"SM{index}")
        await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
    clock.advance(timedelta(hours=2))
    async with db.write() as session:
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.kind == MessageKind.reminder)
            .values(status=MessageStatus.sent, sent_at=clock.now)
        )
    clock.advance(timedelta(minutes=10))
    inbound = Inbound(channel=SMS, address=PHONES["resident"], text="non je peux pas", provider_id="SMnon")
    handled = await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
    assert "vous ne venez pas" in handled.replies[0].text
    async with db.read() as session:
        statuses = list((await session.execute(select(Enrolment.status))).scalars())
    assert statuses == [EnrolmentStatus.cancelled]


async def test_the_residents_who_lose_the_race_for_the_last_seat_are_told_so(
    db: Database, settings: Settings, territory: Territory, now: datetime
) -> None:
    """Twelve people at the confirmation of the one seat left answer OUI at the same moment: one is seated, and
    each of the others reads that the seat was just taken and is offered its waiting list — never that the
    workshop was cancelled."""
    ctx = Context(settings=settings, db=db, territory=territory, clock=Clock(now))
    await seed(db, "single", now)
    numbers = [f"+3367000{index:04d}" for index in range(12)]

    async def say(number: str, text: str, index: int) -> list[str]:
        inbound = Inbound(channel=SMS, address=number, text=text, provider_id=f"SM{number}-{index}")
        handled = await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
        return [reply.text for reply in handled.replies]

    for number in numbers:
        for index, step in enumerate(SIGNUP[:-1]):
            await say(number, step.text, index)
    answers = await asyncio.gather(*(say(number, "oui", len(SIGNUP)) for number in numbers))
    seated = [replies for replies in answers if "C'est noté" in replies[0]]
    lost = [replies for replies in answers if "dernière place vient d'être prise" in replies[0]]
    assert (len(seated), len(lost)) == (1, len(numbers) - 1), answers
    assert all("Attendre une place" in replies[-1] for replies in lost), lost
    assert not any("plus proposé" in text for replies in answers for text in replies)
    async with db.read() as session:
        statuses = list((await session.execute(select(Enrolment.status))).scalars())
    assert statuses == [EnrolmentStatus.seated]
