"""Two people, one phone (issue 13, item 15), through the service on both databases.

Colette signs up "Colette et Bernard Renaud" by SMS: Bernard is a resident of his own (his seat, his attendance,
his cancellation) with no phone, reached through Colette's (``Resident.companion_of``). The invariants: both seats
are taken by the seating transaction or none; one reminder per moment, naming both; a cancelled workshop or a
broadcast reaches the phone once; either one can cancel, and the reminder then names who still comes; erasing
Colette erases Bernard too.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.context import Context
from bot.service.broadcasts import Audience, send_broadcast
from bot.service.changes import cancel_workshop_and_notify
from bot.territory import Territory
from storage.database import Database
from storage.models import Enrolment, EnrolmentStatus, MessageKind, MessageStatus, OutboundMessage, Resident
from tests.helpers.clock import Clock
from tests.helpers.world import JULIE, Town, in_2026

# The companions' joins and the seating transaction are the service's own queries: on both databases.
pytestmark = pytest.mark.both_dialects

COLETTE = "+33622000001"
SIGN_UP = ("Bonjour", "Colette et Bernard Renaud", "st victor", "1", "rien", "oui")


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


async def signed_up(town: Town, capacity: int = 6) -> int:
    workshop = await town.workshop("Saint-Victor", in_2026(9, 14), capacity=capacity)
    for text in SIGN_UP:
        replies = await town.say(COLETTE, text)
    assert any("Colette et Bernard" in r for r in replies), replies
    return workshop


async def household(town: Town) -> tuple[Resident, Resident]:
    async with town.ctx.db.read() as session:
        colette = (await session.execute(select(Resident).where(Resident.phone == COLETTE))).unique().scalar_one()
        bernard = (
            (await session.execute(select(Resident).where(Resident.companion_of_id == colette.id)))
            .unique()
            .scalar_one()
        )
    return colette, bernard


async def pending(town: Town, kind: MessageKind) -> list[OutboundMessage]:
    return [m for m in await town.messages(kind=kind) if m.status == MessageStatus.pending]


async def test_both_seated_and_one_reminder_per_moment_names_both(town: Town) -> None:
    workshop = await signed_up(town)
    colette, bernard = await household(town)
    assert (bernard.name, bernard.phone, bernard.commune_insee, bernard.level) == (
        "Bernard Renaud",
        None,
        colette.commune_insee,
        colette.level,
    )
    reminders = await pending(town, MessageKind.reminder)
    assert reminders and all(m.workshop_id == workshop for m in reminders)
    assert all(m.to_address == COLETTE and "Colette et Bernard" in m.body for m in reminders)
    assert len({m.due_at for m in reminders}) == len(reminders)  # one per moment, not one per person


async def test_two_people_for_one_seat_are_offered_the_waiting_list_together(town: Town) -> None:
    await town.workshop("Saint-Victor", in_2026(9, 14), capacity=1)
    for text in SIGN_UP[:-1]:
        replies = await town.say(COLETTE, text)
    assert any("complet" in r.lower() or "Attendre" in r for r in replies), replies
    replies = await town.say(COLETTE, "oui")
    assert any("tous les deux" in r for r in replies), replies
    async with town.ctx.db.read() as session:
        rows = (await session.execute(select(Enrolment.status, Enrolment.position).order_by(Enrolment.id))).all()
    assert [tuple(row) for row in rows] == [(EnrolmentStatus.waiting, 1), (EnrolmentStatus.waiting, 2)]


async def test_a_cancelled_workshop_tells_the_phone_once(town: Town) -> None:
    workshop = await signed_up(town)
    await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=workshop, reason="conseiller malade", actor=JULIE)
    notices = await pending(town, MessageKind.change_notice)
    assert [m.to_address for m in notices] == [COLETTE]


async def test_a_broadcast_reaches_the_phone_once(town: Town) -> None:
    workshop = await signed_up(town)
    await send_broadcast(ctx=town.ctx, audience=Audience(workshop_id=workshop), body="Salle changée.", actor=JULIE)
    assert [m.to_address for m in await town.messages(kind=MessageKind.broadcast)] == [COLETTE]


async def test_either_can_cancel_and_the_reminder_then_names_who_comes(town: Town) -> None:
    await signed_up(town)
    replies = await town.say(COLETTE, "ANNULER")
    assert any("Qui ne viendra pas" in r for r in replies), replies
    await town.say(COLETTE, "Bernard")
    replies = await town.say(COLETTE, "oui")
    assert any("Bernard ne vient pas" in r for r in replies), replies
    reminders = await pending(town, MessageKind.reminder)
    assert reminders and all("Bernard" not in m.body and m.to_address == COLETTE for m in reminders)
    # Now Colette cancels hers too: no reminder left.
    await town.say(COLETTE, "ANNULER")
    await town.say(COLETTE, "oui")
    assert await pending(town, MessageKind.reminder) == []


async def test_when_only_the_companion_comes_the_reminder_is_for_him(town: Town) -> None:
    await signed_up(town)
    await town.say(COLETTE, "ANNULER")
    await town.say(COLETTE, "Colette")
    await town.say(COLETTE, "oui")
    reminders = await pending(town, MessageKind.reminder)
    assert reminders and all(m.body.startswith("Rappel pour Bernard") for m in reminders)


async def test_erasing_the_phone_owner_erases_the_companion(town: Town) -> None:
    await signed_up(town)
    await town.say(COLETTE, "OUBLIER")
    await town.say(COLETTE, "oui")
    async with town.ctx.db.read() as session:
        people = (await session.scalars(select(Resident).where(Resident.name.is_not(None)))).unique().all()
        erased = (await session.scalars(select(Resident.erased))).all()
    assert people == [] and erased.count(True) == 2
