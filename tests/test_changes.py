"""Cancelling and moving a workshop (``bot.service.changes``), on both databases: who is told, what the text says, the
reminders cancelled or planned again, the urgent flag and the due time — each rule a row of one table.

The world of every row: workshop W at the town hall of Saint-Victor, capacity 4, with Anne (SMS), Bruno (SMS),
Fanny (Telegram) and Eve (who sent STOP) seated, Chantal waiting, and Denis, who cancelled. Two other beginner
workshops have seats (Saint-Victor on Friday 13, Domérat on Thursday 12); an intermediate one does not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.context import Context
from bot.conversation.gsm7 import count_segments, is_gsm7, render_sms
from bot.conversation.texts import workshop_cancelled_notice, workshop_line, workshop_moved_notice
from bot.service.broadcasts import Audience, send_broadcast
from bot.service.changes import ChangeReport, cancel_workshop_and_notify, move_workshop_and_notify, report_lines
from bot.service.enrolments import cancel
from bot.service.workshops import WorkshopError
from bot.territory import Territory
from storage.conversations import load_conversation
from storage.database import Database
from storage.models import EnrolmentStatus, Level, MessageKind, MessageStatus, Resident
from tests.helpers.clock import PARIS, Clock
from tests.helpers.world import JULIE, Town, in_2026

# On both databases: cancel, move and edit lock the workshop, re-plan reminders and queue notices in one transaction.
pytestmark = pytest.mark.both_dialects

SETUP_TIME = in_2026(2, 9)  # Monday 2 March 2026, 09:00
PHONES = {"Anne": "+33611000001", "Bruno": "+33611000002", "Chantal": "+33611000003", "Denis": "+33611000004"}
PHONES |= {"Eve": "+33611000005"}
FANNY_CHAT = 777001


@dataclass
class World:
    town: Town
    w: int
    friday: int  # Saint-Victor, Friday 13 March 10:00
    thursday: int  # Domérat, Thursday 12 March 14:00
    people: dict[str, int]  # name → resident id
    seats: dict[str, int]  # name → enrolment id in W


@pytest.fixture
def clock() -> Clock:
    return Clock(SETUP_TIME)


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory, clock: Clock) -> Town:
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


async def build(town: Town, start: datetime) -> World:
    w = await town.workshop("Saint-Victor", start, capacity=4)
    friday = await town.workshop("Saint-Victor", in_2026(13, 10))
    thursday = await town.workshop("Domérat", in_2026(12, 14))
    await town.workshop("Saint-Victor", in_2026(11, 14), level=Level.intermediate)
    people = {name: await town.resident(name, phone=phone) for name, phone in PHONES.items() if name != "Eve"}
    people["Fanny"] = await town.resident("Fanny", telegram=FANNY_CHAT)
    people["Eve"] = await town.resident("Eve", phone=PHONES["Eve"], opted_out_sms=True)
    seats = {name: await town.seat(people[name], w) for name in ("Anne", "Bruno", "Fanny", "Eve", "Denis", "Chantal")}
    async with town.ctx.db.write() as session:
        await cancel(session=session, ctx=town.ctx, enrolment_id=seats["Denis"], now=town.clock.now)
    return World(town, w, friday, thursday, people, seats)


# ---------------------------------------------------------------------------------------------------------------
# The table


CANCEL_TEXT = (
    "Désolé : l'atelier du {when} à Saint-Victor n'aura pas lieu, il est annulé (conseiller malade). "
    "Pour aller à un autre atelier, répondez par son numéro :"
)
OFFERS = ("vendredi 13 mars à 10 h, Saint-Victor", "jeudi 12 mars à 14 h, Domérat")
SEATED_MOVE_TAIL = "Votre place est gardée. Si ce n'est plus possible pour vous, répondez NON."


@dataclass(frozen=True)
class Case:
    label: str
    now: datetime  # when the adviser makes the change
    start: datetime  # W's start
    change: dict[str, Any]  # {"reason": …} cancels; otherwise the arguments of move_workshop_and_notify
    urgent: bool
    due: datetime
    anne: str  # the exact text Anne (seated) gets
    chantal: str  # a fragment of what Chantal (waiting) gets
    choices: tuple[str, ...] = ()
    new_start: datetime | None = None  # a move: reminders planned again for this start
    refuse: tuple[str, ...] = field(default=("votre inscription est annulée", "vous êtes désinscrit"))


CASES = [
    Case(
        "cancel next week, office hours: leaves now",
        now=in_2026(2, 9, 30),
        start=in_2026(10, 14),
        change={"reason": "conseiller malade"},
        urgent=False,
        due=in_2026(2, 9, 30),
        anne=CANCEL_TEXT.format(when="mardi 10 mars à 14 h"),
        chantal="n'aura pas lieu",
        choices=OFFERS,
    ),
    Case(
        "cancel next week, in the evening: waits for the window",
        now=in_2026(2, 21),
        start=in_2026(10, 14),
        change={"reason": "conseiller malade"},
        urgent=False,
        due=in_2026(3, 8, 30),
        anne=CANCEL_TEXT.format(when="mardi 10 mars à 14 h"),
        chantal="n'aura pas lieu",
        choices=OFFERS,
    ),
    Case(
        "cancel tomorrow, in the evening: urgent, leaves now",
        now=in_2026(2, 21),
        start=in_2026(3, 14),
        change={"reason": "conseiller malade"},
        urgent=True,
        due=in_2026(2, 21),
        anne=CANCEL_TEXT.format(when="mardi 3 mars à 14 h"),
        chantal="n'aura pas lieu",
        choices=OFFERS,
    ),
    Case(
        "cancel tomorrow morning, late at night: urgent, but never before 07:00",
        now=in_2026(2, 23),
        start=in_2026(3, 10),
        change={"reason": "conseiller malade"},
        urgent=True,
        due=in_2026(3, 7),
        anne=CANCEL_TEXT.format(when="mardi 3 mars à 10 h"),
        chantal="n'aura pas lieu",
        choices=OFFERS,
    ),
    Case(
        "cancel on Saturday evening for Monday morning: urgent from Sunday 10:00, not Monday 08:30",
        now=in_2026(7, 21),
        start=in_2026(9, 10),
        change={"reason": "conseiller malade"},
        urgent=True,
        due=in_2026(8, 10),
        anne=CANCEL_TEXT.format(when="lundi 9 mars à 10 h"),
        chantal="n'aura pas lieu",
        choices=OFFERS,
    ),
    Case(
        "move to another day, same place",
        now=in_2026(2, 9, 30),
        start=in_2026(10, 14),
        change={"new_date": date(2026, 3, 12)},
        urgent=False,
        due=in_2026(2, 9, 30),
        anne=(
            "L'atelier du mardi 10 mars à 14 h à Saint-Victor est déplacé au jeudi 12 mars à 14 h, même lieu. "
            + SEATED_MOVE_TAIL
        ),
        chantal="est déplacé au jeudi 12 mars à 14 h, même lieu. Vous restez sur la liste d'attente.",
        new_start=in_2026(12, 14),
    ),
    Case(
        "move to another place, same time",
        now=in_2026(2, 9, 30),
        start=in_2026(10, 14),
        change={"venue": "Domérat"},
        urgent=False,
        due=in_2026(2, 9, 30),
        anne=(
            "L'atelier du mardi 10 mars à 14 h à Saint-Victor change de lieu : Mairie de Domérat, 7 rue du "
            "Treignat, 03410 Domérat. Même jour, même heure. " + SEATED_MOVE_TAIL
        ),
        chantal="change de lieu : Mairie de Domérat",
        new_start=in_2026(10, 14),
    ),
    Case(
        "move next week's workshop to tomorrow, in the evening: urgent",
        now=in_2026(2, 21),
        start=in_2026(10, 14),
        change={"new_date": "03/03/2026", "new_start": time(15, 0)},
        urgent=True,
        due=in_2026(2, 21),
        anne=(
            "L'atelier du mardi 10 mars à 14 h à Saint-Victor est déplacé au mardi 3 mars à 15 h, même lieu. "
            + SEATED_MOVE_TAIL
        ),
        chantal="est déplacé au mardi 3 mars à 15 h",
        new_start=in_2026(3, 15),
    ),
    Case(
        "move tomorrow's workshop later, late at night: urgent at 07:00",
        now=in_2026(2, 23),
        start=in_2026(3, 10),
        change={"new_start": "15:30"},
        urgent=True,
        due=in_2026(3, 7),
        anne=(
            "L'atelier du mardi 3 mars à 10 h à Saint-Victor est déplacé au mardi 3 mars à 15 h 30, même lieu. "
            + SEATED_MOVE_TAIL
        ),
        chantal="Vous restez sur la liste d'attente",
        new_start=in_2026(3, 15, 30),
    ),
]


async def apply(world: World, change: dict[str, Any]) -> ChangeReport:
    ctx, w = world.town.ctx, world.w
    if "reason" in change:
        return await cancel_workshop_and_notify(ctx=ctx, workshop_id=w, reason=change["reason"], actor=JULIE)
    arguments = dict(change)
    if "venue" in arguments:
        arguments["venue_id"] = await world.town.venue(arguments.pop("venue"))
    return await move_workshop_and_notify(ctx=ctx, workshop_id=w, actor=JULIE, **arguments)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_change_rules(town: Town, clock: Clock, case: Case) -> None:
    world = await build(town, case.start)
    reminders_before = [m for m in await town.messages(kind=MessageKind.reminder) if m.status == MessageStatus.pending]
    assert reminders_before, "seating planned reminders"
    clock.now = case.now
    report = await apply(world, case.change)

    # Who is told, through which channel; who must be phoned; the one who cancelled hears nothing.
    assert report.told == {"sms": 3, "telegram": 1}
    assert [(p.name, p.phone, p.reason, p.status) for p in report.to_phone] == [
        ("Eve", PHONES["Eve"], "opted_out", "seated")
    ]
    assert await town.notices(world.people["Denis"]) == []
    assert await town.notices(world.people["Eve"]) == []
    [fanny] = await town.notices(world.people["Fanny"])
    assert (fanny.channel, fanny.to_address) == ("telegram", str(FANNY_CHAT))

    # What the text says, the urgent flag and the due time.
    [anne] = await town.notices(world.people["Anne"])
    [chantal] = await town.notices(world.people["Chantal"])
    assert anne.body == case.anne
    assert tuple(anne.choices) == case.choices
    assert case.chantal in chantal.body
    for notice in (anne, chantal, fanny):
        assert (notice.urgent, notice.due_at) == (case.urgent, case.due), case.label
        assert not any(phrase in notice.body.lower() for phrase in case.refuse)
        sms = render_sms(notice.body, notice.choices)
        assert is_gsm7(sms) and count_segments(sms) <= 3, sms
    assert (report.urgent, report.due_at) == (case.urgent, case.due)

    # Reminders: all cancelled by a cancellation; planned again for the new time by a move.
    reminders = await town.messages(kind=MessageKind.reminder)
    old = [m for m in reminders if m.expires_at == case.start]
    assert old and all(m.status == MessageStatus.cancelled for m in old if case.new_start != case.start)
    pending = [m for m in reminders if m.status == MessageStatus.pending]
    if case.new_start is None:
        assert pending == [] and report.reminders_cancelled == len(reminders_before)
        assert report.new is None and report.reason == "conseiller malade"
    else:
        assert pending and {m.expires_at for m in pending} == {case.new_start}
        assert {m.resident_id for m in pending} == {world.people[n] for n in ("Anne", "Bruno", "Fanny")}
        assert all(m.due_at >= case.now for m in pending)
        assert report.reminders_planned == len(pending)
        assert report.new is not None and report.new.starts_at == case.new_start


async def test_cancellation_leaves_the_offers_where_a_digit_answers_them(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    clock.now = in_2026(2, 9, 30)
    await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, reason="salle indisponible", actor=JULIE)
    async with town.ctx.db.read() as session:
        stored = await load_conversation(session=session, channel="sms", address=PHONES["Anne"])
        on_telegram = await load_conversation(session=session, channel="telegram", address=str(FANNY_CHAT))
    assert stored is not None and stored.step == "workshop"
    assert stored.data == {"offered": [world.friday, world.thursday], "direct": True}
    assert on_telegram is not None and on_telegram.data == stored.data

    clock.now = in_2026(2, 10)
    [done] = await town.say(PHONES["Anne"], "2")  # one digit re-enrols, as the notice said
    assert "C'est noté, Anne" in done and "jeudi 12 mars à 14 h" in done
    async with town.ctx.db.read() as session:
        resident = await session.get(Resident, world.people["Anne"])
        assert resident is not None
    enrolments = await town.messages(
        resident_id=world.people["Anne"], kind=MessageKind.reminder, workshop_id=world.thursday
    )
    assert enrolments, "the new seat has its reminders"


async def test_no_other_workshop_means_no_choices_and_no_stored_offer(town: Town, clock: Clock) -> None:
    w = await town.workshop("Saint-Victor", in_2026(10, 14), level=Level.advanced)
    anne = await town.resident("Anne", phone=PHONES["Anne"], level=Level.advanced)
    await town.seat(anne, w)
    await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=w, reason="travaux", actor=JULIE)
    [notice] = await town.notices(anne)
    assert notice.choices == []
    assert "Pour un autre atelier plus tard, écrivez INSCRIPTION" in notice.body
    async with town.ctx.db.read() as session:
        assert await load_conversation(session=session, channel="sms", address=PHONES["Anne"]) is None


async def test_an_unsent_message_to_the_participants_is_dropped_when_the_workshop_is_cancelled(
    town: Town, clock: Clock
) -> None:
    world = await build(town, in_2026(10, 14))
    clock.now = in_2026(2, 21)  # the adviser's message waits for 08:30 tomorrow
    broadcast_id = await send_broadcast(
        ctx=town.ctx, audience=Audience(workshop_id=world.w), body="Apportez votre tablette chargée.", actor=JULIE
    )
    assert {r.status for r in await town.messages(broadcast_id=broadcast_id)} == {MessageStatus.pending}
    await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, reason="salle inondée", actor=JULIE)
    assert {r.status for r in await town.messages(broadcast_id=broadcast_id)} == {MessageStatus.cancelled}


async def test_a_promotion_not_sent_yet_is_rewritten_for_the_new_time_and_place(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    clock.now = in_2026(2, 21)  # the promotion waits for 08:30 tomorrow
    async with town.ctx.db.write() as session:
        await cancel(session=session, ctx=town.ctx, enrolment_id=world.seats["Anne"], now=clock.now)
    [before] = await town.messages(resident_id=world.people["Chantal"], kind=MessageKind.promotion)
    assert "mardi 10 mars à 14 h, Mairie de Saint-Victor" in before.body
    await move_workshop_and_notify(
        ctx=town.ctx,
        workshop_id=world.w,
        new_date="12/03/2026",
        venue_id=await town.venue("Quinssaines"),
        actor=JULIE,
    )
    [after] = await town.messages(resident_id=world.people["Chantal"], kind=MessageKind.promotion)
    assert after.status == MessageStatus.pending and after.expires_at == in_2026(12, 14)
    assert "jeudi 12 mars à 14 h, Mairie de Quinssaines" in after.body and "10 mars" not in after.body
    [notice] = await town.notices(world.people["Chantal"])  # "déplacé" comes after "une place s'est libérée"
    assert notice.due_at > after.due_at


@pytest.mark.parametrize(
    ("reason", "shortened"),
    [("conseiller malade", False), ("la salle est fermée pour des travaux imprévus de plomberie " * 4, True)],
)
async def test_the_adviser_is_told_when_the_reason_did_not_fit(
    town: Town, clock: Clock, reason: str, shortened: bool
) -> None:
    world = await build(town, in_2026(10, 14))
    report = await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, reason=reason, actor=JULIE)
    assert report.reason_shortened is shortened
    assert any("trop longue" in line for line in report_lines(report, PARIS)) is shortened


async def test_a_new_place_alone_plans_reminders_naming_it(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    [before, *_] = await town.messages(resident_id=world.people["Anne"], kind=MessageKind.reminder)
    assert "Mairie de Saint-Victor" in before.body
    await move_workshop_and_notify(
        ctx=town.ctx, workshop_id=world.w, venue_id=await town.venue("Quinssaines"), actor=JULIE
    )
    pending = [
        r
        for r in await town.messages(resident_id=world.people["Anne"], kind=MessageKind.reminder)
        if r.status == MessageStatus.pending
    ]
    assert pending and all("Mairie de Quinssaines" in r.body for r in pending), [r.body for r in pending]


async def test_non_after_a_move_gives_up_this_seat_and_promotes(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    clock.now = in_2026(2, 9, 30)
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, new_date="12/03/2026", actor=JULIE)
    await town.deliver(MessageKind.change_notice)  # the notice asks "NON if the new time does not suit you"
    clock.now = in_2026(2, 11)
    [reply] = await town.say(PHONES["Anne"], "NON")
    assert "jeudi 12 mars" in reply
    assert (await town.enrolment(world.seats["Anne"])).status == EnrolmentStatus.cancelled
    assert (await town.enrolment(world.seats["Chantal"])).status == EnrolmentStatus.seated
    promotions = await town.messages(resident_id=world.people["Chantal"], kind=MessageKind.promotion)
    assert len(promotions) == 1 and "jeudi 12 mars" in promotions[0].body


async def test_someone_with_a_sooner_seat_is_told_to_write_annuler(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    sooner = await town.workshop("Domérat", in_2026(5, 14))
    bruno_sooner = await town.seat(world.people["Bruno"], sooner)
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, new_start="16:00", actor=JULIE)
    [notice] = await town.notices(world.people["Bruno"])
    assert notice.body.endswith("Votre place est gardée. Si vous ne pouvez plus venir, écrivez ANNULER.")
    [anne] = await town.notices(world.people["Anne"])
    assert anne.body.endswith("répondez NON.")
    await town.say(PHONES["Bruno"], "ANNULER")  # asks which one: nothing cancelled by a stray NON
    assert (await town.enrolment(bruno_sooner)).status == EnrolmentStatus.seated


async def test_moved_back_before_the_notices_left_tells_nobody(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    clock.now = in_2026(2, 21)  # notices wait for 08:30 tomorrow
    first = await move_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, new_date="12/03/2026", actor=JULIE)
    assert first.told_total == 4
    back = await move_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, new_date="10/03/2026", actor=JULIE)
    assert back.told == {} and back.unchanged_for == 4
    for name in ("Anne", "Bruno", "Fanny", "Chantal"):
        assert await town.notices(world.people[name]) == []


async def test_a_second_move_before_the_first_notice_left_tells_the_whole_change_once(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    clock.now = in_2026(2, 21)
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, new_date="12/03/2026", actor=JULIE)
    await move_workshop_and_notify(
        ctx=town.ctx, workshop_id=world.w, venue_id=await town.venue("Quinssaines"), actor=JULIE
    )
    [notice] = await town.notices(world.people["Anne"])
    assert notice.body.startswith(
        "L'atelier du mardi 10 mars à 14 h à Saint-Victor est déplacé au jeudi 12 mars à 14 h, Mairie de Quinssaines"
    )


async def test_cancelled_after_an_unsent_move_names_the_date_they_know(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    clock.now = in_2026(2, 21)
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, new_date="12/03/2026", actor=JULIE)
    await cancel_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, reason="conseiller malade", actor=JULIE)
    [notice] = await town.notices(world.people["Anne"])
    assert notice.body.startswith("Désolé : l'atelier du mardi 10 mars à 14 h à Saint-Victor n'aura pas lieu")
    moves = [m for m in await town.messages(resident_id=world.people["Anne"]) if m.idempotency_key.startswith("move")]
    assert [m.status for m in moves] == [MessageStatus.cancelled]


async def test_a_retried_change_notifies_once_and_bad_input_changes_nothing(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    ctx = town.ctx
    await move_workshop_and_notify(ctx=ctx, workshop_id=world.w, new_date="12/03/2026", actor=JULIE)
    refusals: list[tuple[str, Any]] = [
        ("same move again", move_workshop_and_notify(ctx=ctx, workshop_id=world.w, new_date="12/03/2026", actor=JULIE)),
        ("nothing to change", move_workshop_and_notify(ctx=ctx, workshop_id=world.w, actor=JULIE)),
        ("unknown venue", move_workshop_and_notify(ctx=ctx, workshop_id=world.w, venue_id=99999, actor=JULIE)),
        ("bad date", move_workshop_and_notify(ctx=ctx, workshop_id=world.w, new_date="31/02/2026", actor=JULIE)),
        ("unknown workshop", cancel_workshop_and_notify(ctx=ctx, workshop_id=99999, reason="x", actor=JULIE)),
        ("no reason", cancel_workshop_and_notify(ctx=ctx, workshop_id=world.w, reason="  ", actor=JULIE)),
    ]
    for label, attempt in refusals:
        with pytest.raises(WorkshopError):
            await attempt
        assert len(await town.notices(world.people["Anne"])) == 1, label
    await cancel_workshop_and_notify(ctx=ctx, workshop_id=world.w, reason="conseiller malade", actor=JULIE)
    with pytest.raises(WorkshopError, match="déjà annulé"):
        await cancel_workshop_and_notify(ctx=ctx, workshop_id=world.w, reason="conseiller malade", actor=JULIE)
    kinds = [m.idempotency_key.split(":")[0] for m in await town.notices(world.people["Anne"])]
    assert kinds == ["cancel"]  # the move notice had not left: the cancellation replaces it


async def test_a_moved_workshop_asks_for_confirmation_again(town: Town, clock: Clock) -> None:
    world = await build(town, in_2026(10, 14))
    async with town.ctx.db.write() as session:
        from storage.models import Enrolment

        enrolment = (await session.execute(select(Enrolment).where(Enrolment.id == world.seats["Anne"]))).scalar_one()
        enrolment.confirmed = True
    await move_workshop_and_notify(ctx=town.ctx, workshop_id=world.w, new_start="16:00", actor=JULIE)
    assert (await town.enrolment(world.seats["Anne"])).confirmed is None


# ---------------------------------------------------------------------------------------------------------------
# The wording with the longest real values: GSM-7, within three segments (pure)

LONG_COMMUNE = "Saint-Marcel-en-Marcillat"
LONG_VENUE, LONG_ADDRESS = (
    "Salle polyvalente de Marcillat-en-Combraille",
    "7 A route du Pont-de-Rameau, 03420 Marcillat",
)
START = datetime(2026, 9, 30, 12, 30, tzinfo=PARIS).astimezone()
THREE = tuple(workshop_line(START, PARIS, LONG_COMMUNE) for _ in range(3))

PHONE = "04 65 71 00 00"
WORDING = [
    (
        "cancel, long reason, three offers",
        workshop_cancelled_notice(START, PARIS, LONG_COMMUNE, "x" * 300, offers=THREE, phone=PHONE),
        THREE,
    ),
    ("cancel, no offer", workshop_cancelled_notice(START, PARIS, LONG_COMMUNE, "travaux", offers=(), phone=PHONE), ()),
    *[
        (
            f"move, place {place}, seated {seated}, NON {non}",
            workshop_moved_notice(
                old_start=START, old_end=START, old_commune=LONG_COMMUNE, new_start=START.replace(day=29),
                new_end=START, tz=PARIS, new_venue=LONG_VENUE, new_address=LONG_ADDRESS, place_changed=place,
                seated=seated, answer_non=non,
            ),
            (),
        )
        for place in (True, False)
        for seated, non in ((True, True), (True, False), (False, False))
    ],
]  # fmt: skip


@pytest.mark.parametrize(("label", "body", "choices"), WORDING, ids=[w[0] for w in WORDING])
def test_notices_fit_in_three_sms(label: str, body: str, choices: tuple[str, ...]) -> None:
    sms = render_sms(body, choices)
    assert is_gsm7(sms)
    assert count_segments(sms) <= 3, f"{label}: {count_segments(sms)} segments\n{sms}"
    assert "annulé" not in body or "n'aura pas lieu" in body
