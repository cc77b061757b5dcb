"""The advisers' "to call" list (issue 14, item 7 and defect 1), through the service on both databases: every
message that cannot reach its person becomes a call, the adviser in charge of the workshop is told, call-back
requests are calls, unanswered reminders are calls when the territory asks for confirmation, and marking a call
done records who, when and what came of it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.config import Settings
from bot.context import Context
from bot.service.actors import Actor
from bot.service.broadcasts import Audience, send_broadcast
from bot.service.callbacks import list_callbacks, mark_callback_done, request_callback
from bot.service.calls import CallError, FollowUp, list_calls, mark_call_done, note_call, sweep_now
from bot.service.changes import cancel_workshop_and_notify, move_workshop_and_notify
from bot.service.enrolments import cancel
from bot.service.residents import erase_resident_for, resident_record
from bot.service.team import add_adviser
from bot.territory import Confirmation, Territory
from storage.database import Database
from storage.models import CallKind, MessageKind, MessageStatus, OutboundMessage, Resident, Workshop
from tests.helpers.clock import Clock
from tests.helpers.world import JULIE, Town, in_2026

pytestmark = pytest.mark.both_dialects  # the to-call list runs its own SQL (the sweep, the list)

MOBILE, OTHER, LANDLINE = "+33612345678", "+33698765432", "+33470051234"
JULIE_TELEGRAM = 9001


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    confirming = dataclasses.replace(territory, confirmation=Confirmation(required=True))
    return Town(Context(settings=settings, db=db, territory=confirming, clock=clock), clock)


async def workshop_of_julie(town: Town, *, capacity: int = 1, day: int = 5) -> int:
    """A workshop in Saint-Victor in charge of Julie (Telegram), and Marc who covers Domérat."""
    julie = await add_adviser(
        actor=JULIE, ctx=town.ctx, name="Julie Martin", telegram_id=JULIE_TELEGRAM, communes=("Saint-Victor",)
    )
    await add_adviser(actor=JULIE, ctx=town.ctx, name="Marc", phone="06 11 00 00 02", communes=("Domérat",))
    workshop_id = await town.workshop("Saint-Victor", in_2026(day, 14), capacity=capacity)
    async with town.ctx.db.write() as session:
        await session.execute(update(Workshop).where(Workshop.id == workshop_id).values(adviser_id=julie.id))
    return workshop_id


async def julie_told(town: Town) -> list[str]:
    notices = await town.messages(kind=MessageKind.adviser_notice)
    return [m.body for m in notices if m.to_address == str(JULIE_TELEGRAM)]


async def fail_messages(town: Town, kind: MessageKind, status: MessageStatus = MessageStatus.failed) -> None:
    async with town.ctx.db.write() as session:
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.kind == kind, OutboundMessage.status == MessageStatus.pending)
            .values(status=status, error="30008: unknown error", updated_at=town.clock.now)
        )


async def opt_out(town: Town, resident_id: int) -> None:
    async with town.ctx.db.write() as session:
        await session.execute(update(Resident).where(Resident.id == resident_id).values(opted_out_sms=True))


# --- Every message that cannot reach its person becomes a call ------------------------------------------------


@dataclass(frozen=True)
class Unreachable:
    label: str
    waiting: dict[str, Any]  # how the person promoted can (not) be reached
    reason: str


UNREACHABLE = [
    Unreachable("a landline", {"phone": LANDLINE, "sms_unreachable": True}, "sms_unreachable"),
    Unreachable("no number and no Telegram", {}, "no_channel"),
    Unreachable("STOP on their only channel", {"phone": OTHER, "opted_out_sms": True}, "opted_out"),
]


@pytest.mark.parametrize("case", UNREACHABLE, ids=[c.label for c in UNREACHABLE])
async def test_a_seat_given_to_someone_unreachable_is_a_call_and_the_adviser_is_told(
    town: Town, case: Unreachable
) -> None:
    workshop_id = await workshop_of_julie(town)
    first = await town.resident("Martine Dupont", phone=MOBILE)
    second = await town.resident("Jean Roux", **case.waiting)
    seat = await town.seat(first, workshop_id)
    await town.seat(second, workshop_id)  # waiting: the workshop has one seat
    async with town.ctx.db.write() as session:
        cancelled = await cancel(session=session, ctx=town.ctx, enrolment_id=seat, now=town.clock.now)
    assert cancelled is not None and len(cancelled.promoted) == 1
    [call] = await list_calls(ctx=town.ctx)
    assert (call.kind, call.reason, call.resident_id, call.name) == (
        CallKind.promotion,
        case.reason,
        second,
        "Jean Roux",
    )
    assert call.workshop_id == workshop_id and call.adviser == "Julie Martin"
    assert "Une place s'est libérée pour vous" in call.what_to_say and "jeudi 5 mars à 14 h" in call.what_to_say
    [told] = await julie_told(town)
    assert "Jean Roux" in told and "place libérée" in told and f"atelier n°{workshop_id}" in told
    assert await town.messages(kind=MessageKind.promotion) == []  # nothing sent to someone unreachable


async def test_cancelling_and_moving_put_the_unreachable_on_the_list(town: Town) -> None:
    workshop_id = await workshop_of_julie(town, capacity=6)
    reachable = await town.resident("Martine Dupont", phone=MOBILE)
    landline = await town.resident("Jean Roux", phone=LANDLINE, sms_unreachable=True)
    await town.seat(reachable, workshop_id)
    await town.seat(landline, workshop_id)
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=workshop_id, new_start="15:00", actor=JULIE)
    [moved] = await list_calls(ctx=town.ctx)
    assert (moved.kind, moved.resident_id, moved.reason) == (CallKind.change_notice, landline, "sms_unreachable")
    assert "est déplacé au jeudi 5 mars à 15 h" in moved.what_to_say
    await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=workshop_id, reason="salle fermée", actor=JULIE)
    [cancelled] = await list_calls(ctx=town.ctx)  # the call about the move is replaced by the cancellation's
    assert cancelled.kind == CallKind.change_notice and "n'aura pas lieu (salle fermée)" in cancelled.what_to_say
    everything = await list_calls(ctx=town.ctx, include_done=True)
    assert [(c.id, c.outcome) for c in everything if c.done] == [(moved.id, "remplacé par un changement plus récent")]
    told = await julie_told(town)
    assert len(told) == 2 and all("Jean Roux" in body and "atelier changé" in body for body in told)


@dataclass(frozen=True)
class Lost:
    label: str
    lose: Callable[[Town, int], Awaitable[None]]
    reason: str


async def _failed(town: Town, resident_id: int) -> None:
    await fail_messages(town, MessageKind.change_notice)


async def _expired(town: Town, resident_id: int) -> None:
    await fail_messages(town, MessageKind.change_notice, MessageStatus.expired)


async def _stop(town: Town, resident_id: int) -> None:
    await town.say(MOBILE, "STOP")  # withdraws the notice not sent yet


LOST = [
    Lost("the provider reported a failure", _failed, "failed"),
    Lost("it could not leave in time", _expired, "expired"),
    Lost("the person sent STOP before it left", _stop, "opted_out"),
]


@pytest.mark.parametrize("case", LOST, ids=[c.label for c in LOST])
async def test_a_notice_that_does_not_arrive_becomes_a_call(town: Town, case: Lost) -> None:
    workshop_id = await workshop_of_julie(town, capacity=6)
    resident = await town.resident("Martine Dupont", phone=MOBILE)
    await town.seat(resident, workshop_id)
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=workshop_id, new_date="06/03/2026", actor=JULIE)
    assert await list_calls(ctx=town.ctx) == []
    await case.lose(town, resident)
    assert await sweep_now(town.ctx) == 1
    [call] = await list_calls(ctx=town.ctx)
    assert (call.kind, call.reason, call.resident_id) == (CallKind.change_notice, case.reason, resident)
    assert "vendredi 6 mars" in call.what_to_say  # the notice they did not get
    [told] = await julie_told(town)
    assert "Martine Dupont" in told and "06 12 34 56 78" in told
    assert await sweep_now(town.ctx) == 0  # found once


async def test_a_notice_replaced_by_a_later_change_is_no_call(town: Town) -> None:
    workshop_id = await workshop_of_julie(town, capacity=6)
    resident = await town.resident("Martine Dupont", phone=MOBILE)
    await town.seat(resident, workshop_id)
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=workshop_id, new_date="06/03/2026", actor=JULIE)
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=workshop_id, new_date="09/03/2026", actor=JULIE)
    assert await list_calls(ctx=town.ctx) == []  # withdrawn, but she can be reached: the newer notice tells her


async def test_broadcast_failures_are_calls(town: Town) -> None:
    workshop_id = await workshop_of_julie(town, capacity=6)
    reachable = await town.resident("Martine Dupont", phone=MOBILE)
    landline = await town.resident("Jean Roux", phone=LANDLINE, sms_unreachable=True)
    for resident in (reachable, landline):
        await town.seat(resident, workshop_id)
    await send_broadcast(
        ctx=town.ctx,
        audience=Audience(workshop_id=workshop_id),
        body="Apportez votre tablette.",
        actor=JULIE,
    )
    [unreached] = await list_calls(ctx=town.ctx)
    assert (unreached.kind, unreached.resident_id, unreached.reason) == (
        CallKind.broadcast,
        landline,
        "sms_unreachable",
    )
    assert unreached.what_to_say == "Message des conseillers : « Apportez votre tablette. »"
    await fail_messages(town, MessageKind.broadcast)
    calls = await list_calls(ctx=town.ctx)
    assert sorted((c.resident_id, c.reason) for c in calls) == sorted(
        [(landline, "sms_unreachable"), (reachable, "failed")]
    )


# --- Call-back requests are calls ---------------------------------------------------------------------------


async def test_conseiller_is_a_call_and_either_list_closes_both(town: Town) -> None:
    await workshop_of_julie(town)
    await town.resident("Martine Dupont", phone=MOBILE)
    await town.resident("Jean Roux", phone=OTHER)
    await town.say(MOBILE, "CONSEILLER")
    await town.say(OTHER, "CONSEILLER")
    first, second = await list_calls(ctx=town.ctx)
    assert (first.kind, first.name, first.phone) == (CallKind.callback, "Martine Dupont", MOBILE)
    assert first.what_to_say == "A demandé à être rappelé(e) (CONSEILLER)." and first.created_at == town.clock.now
    done = await mark_call_done(
        ctx=town.ctx, call_id=first.id, outcome="inscrite mardi", actor=Actor("Julie", 1, interface="cli")
    )
    assert (done.done_by, done.outcome, done.done_at) == ("Julie", "inscrite mardi", town.clock.now)
    [still_open] = await list_callbacks(ctx=town.ctx)
    assert still_open.name == "Jean Roux"  # Martine's request was handled with her call
    assert await mark_callback_done(ctx=town.ctx, callback_id=still_open.id, actor=Actor("Marc", interface="cli"))
    assert await list_calls(ctx=town.ctx) == []  # and Jean's call with his request
    assert second.id not in [c.id for c in await list_calls(ctx=town.ctx)]


async def test_what_may_follow_a_call_is_data_and_what_to_say_names_no_command(town: Town) -> None:
    workshop_id = await workshop_of_julie(town, capacity=6)
    landline = await town.resident("Jean Roux", phone=LANDLINE, sms_unreachable=True)
    await town.seat(landline, workshop_id)
    asking = await town.resident("Martine Dupont", phone=MOBILE)
    async with town.ctx.db.write() as session:
        resident = await session.get(Resident, asking)
        assert resident is not None
        await request_callback(session=session, resident=resident, now=town.clock.now, reason="ma carte vitale")
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=workshop_id, new_start="15:00", actor=JULIE)
    moved, callback = await list_calls(ctx=town.ctx)
    assert (moved.follow_up, moved.workshop_cancelled, moved.said) == (FollowUp.unenrol, False, None)
    assert (callback.kind, callback.follow_up, callback.said) == (CallKind.callback, None, "ma carte vitale")
    await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=workshop_id, reason="salle fermée", actor=JULIE)
    cancelled, _ = await list_calls(ctx=town.ctx)
    assert (cancelled.follow_up, cancelled.workshop_cancelled) == (FollowUp.enrol_elsewhere, True)
    everything = await list_calls(ctx=town.ctx, include_done=True)
    commands = [c.what_to_say for c in everything if re.search(r"\batelier (residents|workshops|enrol)", c.what_to_say)]
    assert len(everything) == 3 and commands == []  # what to say suits any interface: no command line in it
    done = await mark_call_done(ctx=town.ctx, call_id=cancelled.id, outcome="inscrite jeudi", actor=JULIE)
    assert done.follow_up is None  # done: nothing more to offer


async def test_a_call_outside_the_list_is_noted_on_the_record(town: Town) -> None:
    resident = await town.resident("Martine Dupont", phone=MOBILE)
    with pytest.raises(CallError, match="indiquez ce qui a été dit"):
        await note_call(ctx=town.ctx, resident_id=resident, outcome=" \n ", actor=JULIE)
    with pytest.raises(CallError, match="n'existe pas"):
        await note_call(ctx=town.ctx, resident_id=resident + 100, outcome="ok", actor=JULIE)
    noted = await note_call(
        ctx=town.ctx,
        resident_id=resident,
        outcome="  a demandé  le niveau ",
        actor=Actor("Marc", interface="console"),
    )
    assert (noted.kind, noted.kind_label, noted.resident_id, noted.name) == (
        CallKind.noted, "appel noté", resident, "Martine Dupont"
    )  # fmt: skip
    assert (noted.done_by, noted.done_at, noted.outcome) == ("Marc", town.clock.now, "a demandé le niveau")
    assert await list_calls(ctx=town.ctx) == []  # done as it is written: never on the open list
    record = await resident_record(ctx=town.ctx, resident_id=resident)
    assert [c.id for c in record.calls] == [noted.id]
    await erase_resident_for(actor=JULIE, ctx=town.ctx, resident_id=resident)
    [kept] = await list_calls(ctx=town.ctx, include_done=True)
    assert (kept.name, kept.outcome) == (None, "")  # what was said about them goes with their data


# --- Unanswered reminders --------------------------------------------------------------------------------------


async def remind(town: Town, workshop_id: int) -> int:
    """Martine seated on Monday; the reminder asking OUI / NON was sent the day before at 10:00."""
    resident = await town.resident("Martine Dupont", phone=MOBILE)
    await town.seat(resident, workshop_id)
    town.clock.now = in_2026(4, 10)
    async with town.ctx.db.write() as session:
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.kind == MessageKind.reminder, OutboundMessage.due_at <= town.clock.now)
            .values(status=MessageStatus.sent, sent_at=town.clock.now)
        )
    return resident


async def test_no_answer_to_the_reminder_is_a_call_once_it_had_time(town: Town) -> None:
    workshop_id = await workshop_of_julie(town)
    resident = await remind(town, workshop_id)
    town.clock.advance(timedelta(hours=1))
    assert await list_calls(ctx=town.ctx) == []  # given two hours to answer
    town.clock.advance(timedelta(hours=2))
    [call] = await list_calls(ctx=town.ctx)
    assert (call.kind, call.resident_id, call.reason) == (CallKind.unanswered_reminder, resident, None)
    assert "Demandez si elle vient à l'atelier du jeudi 5 mars à 14 h" in call.what_to_say
    assert await julie_told(town) == []  # a list to go through, not a page for each
    await town.say(MOBILE, "OUI")
    assert await list_calls(ctx=town.ctx) == []
    [closed] = await list_calls(ctx=town.ctx, include_done=True)
    assert (closed.done_by, closed.outcome) == ("Atelier", "a répondu au rappel : vient")


async def test_unanswered_reminders_are_not_calls_when_the_territory_does_not_ask(town: Town) -> None:
    town.ctx.territory = dataclasses.replace(town.ctx.territory, confirmation=Confirmation(required=False))
    workshop_id = await workshop_of_julie(town)
    await remind(town, workshop_id)
    town.clock.advance(timedelta(hours=5))
    assert await list_calls(ctx=town.ctx) == []


async def test_calls_about_a_workshop_that_started_close_themselves(town: Town) -> None:
    workshop_id = await workshop_of_julie(town)
    await remind(town, workshop_id)
    town.clock.advance(timedelta(hours=3))
    [call] = await list_calls(ctx=town.ctx)
    town.clock.now = in_2026(5, 14, 1)
    assert await list_calls(ctx=town.ctx) == []
    [closed] = await list_calls(ctx=town.ctx, include_done=True)
    assert (closed.id, closed.outcome) == (call.id, "l'atelier a commencé")


# --- Marking done ---------------------------------------------------------------------------------------------


async def test_marking_done_records_who_when_and_what_and_refuses_twice(town: Town) -> None:
    await workshop_of_julie(town)
    await town.resident("Martine Dupont", phone=MOBILE)
    await town.say(MOBILE, "CONSEILLER")
    [call] = await list_calls(ctx=town.ctx)
    with pytest.raises(CallError, match="indiquez ce qui a été convenu"):
        await mark_call_done(ctx=town.ctx, call_id=call.id, outcome="  ", actor=JULIE)
    with pytest.raises(CallError, match="n'existe pas"):
        await mark_call_done(ctx=town.ctx, call_id=call.id + 100, outcome="ok", actor=JULIE)
    town.clock.advance(timedelta(minutes=30))
    await mark_call_done(
        ctx=town.ctx, call_id=call.id, outcome="pas de réponse, rappeler jeudi", actor=Actor("Marc", interface="cli")
    )
    with pytest.raises(CallError, match="déjà noté, par Marc le lundi 2 mars à 9 h 30"):
        await mark_call_done(ctx=town.ctx, call_id=call.id, outcome="ok", actor=JULIE)
    [done] = await list_calls(ctx=town.ctx, include_done=True)
    assert (done.done_by, done.done_at, done.outcome) == ("Marc", town.clock.now, "pas de réponse, rappeler jeudi")


async def test_erasing_someone_closes_their_calls_and_keeps_nothing_about_them(town: Town) -> None:
    await workshop_of_julie(town)
    resident = await town.resident("Martine Dupont", phone=MOBILE)
    await town.say(MOBILE, "CONSEILLER")
    await erase_resident_for(actor=JULIE, ctx=town.ctx, resident_id=resident)
    assert await list_calls(ctx=town.ctx) == []
    [closed] = await list_calls(ctx=town.ctx, include_done=True)
    assert (closed.name, closed.phone, closed.what_to_say, closed.done_by) == (
        None,
        None,
        "",
        "effacement des données",
    )


async def test_the_list_puts_the_soonest_workshop_first(town: Town) -> None:
    soon = await workshop_of_julie(town, capacity=6, day=4)
    later = await town.workshop("Domérat", in_2026(6, 9), capacity=6)
    await town.resident("Paul Petit", phone=OTHER)
    await town.say(OTHER, "CONSEILLER")  # no workshop: after the ones about a workshop
    for workshop_id, name in ((later, "Jean Roux"), (soon, "Luc Blanc")):
        resident = await town.resident(name, sms_unreachable=True, phone=None)
        await town.seat(resident, workshop_id)
        await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=workshop_id, reason="neige", actor=JULIE)
    calls = await list_calls(ctx=town.ctx)
    assert [c.name for c in calls] == ["Luc Blanc", "Jean Roux", "Paul Petit"]


async def test_calls_about_a_workshop_cancelled_since_close_themselves(town: Town) -> None:
    """Asking whether she comes to a workshop that will not take place is moot: the cancellation's notice tells
    her (or, if nothing reaches her, the call about the cancellation asks the adviser to)."""
    workshop_id = await workshop_of_julie(town)
    await remind(town, workshop_id)
    town.clock.advance(timedelta(hours=3))
    [call] = await list_calls(ctx=town.ctx)
    assert call.kind == CallKind.unanswered_reminder
    await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=workshop_id, reason="salle fermée", actor=JULIE)
    assert await list_calls(ctx=town.ctx) == []
    [closed] = await list_calls(ctx=town.ctx, include_done=True)
    assert (closed.id, closed.done_by, closed.outcome) == (call.id, "Atelier", "l'atelier est annulé")
