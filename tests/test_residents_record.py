"""A person's record, and what an adviser does when someone phones (issue 14, item 8), through the service on
both databases: finding them by name or number however it is typed, their workshops past and upcoming, their
messages with what became of them, their calls; unenrolling them and moving them to another workshop in one step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.config import Settings
from bot.context import Context
from bot.service.actors import Actor
from bot.service.calls import list_calls
from bot.service.reminders import Promoted
from bot.service.residents import PersonMoved, Unenrolled, find_residents, move_person, resident_record, unenrol
from bot.service.team import TeamError
from bot.territory import Territory
from storage.database import Database
from storage.models import (
    AuditEvent,
    CallKind,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
)
from tests.helpers.clock import Clock
from tests.helpers.world import Town, in_2026

pytestmark = pytest.mark.both_dialects  # the service's own SQL: calls, records, seats

JULIE = Actor("Julie Martin", interface="cli")
MARTINE, PAUL, JEAN = "+33612345678", "+33698765432", "+33470051234"


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


@pytest.fixture
async def people(town: Town) -> dict[str, int]:
    ids = {
        "martine": await town.resident("Marie-Thérèse Dupont", phone=MARTINE),
        "paul": await town.resident("Paul Dupont", phone=PAUL, commune="Domérat"),
        "jean": await town.resident("Jean Roux", phone=JEAN, sms_unreachable=True),
        "zoe": await town.resident("Zoé Lefèvre", telegram=777001),
    }
    erased = await town.resident("Martine Effacée", phone="+33611111111")
    async with town.ctx.db.write() as session:
        await session.execute(update(Resident).where(Resident.id == erased).values(erased=True))
    return ids


FINDS = [
    ("a last name", "dupont", ["martine", "paul"]),
    ("any case, words in any order", "DUPONT paul", ["paul"]),
    ("the start of a first name", "marie-th", ["martine"]),
    ("without accents", "therese", ["martine"]),
    ("with an accent the name has not", "zoé lefevre", ["zoe"]),
    ("the exact name first", "paul dupont", ["paul"]),
    ("a number as written in France", "06 12 34 56 78", ["martine"]),
    ("a number without spaces", "0612345678", ["martine"]),
    ("a number in E.164", "+33 6 12 34 56 78", ["martine"]),
    ("the end of a number", "56 78", ["martine"]),
    ("a landline", "04.70.05.12.34", ["jean"]),
    ("a Telegram id", "777001", ["zoe"]),
    ("nobody", "dupond", []),
    ("an erased person is never found", "effacée", []),
    ("an erased number neither", "06 11 11 11 11", []),
]


@pytest.mark.parametrize(("label", "typed", "expected"), FINDS, ids=[row[0] for row in FINDS])
async def test_find_by_name_or_number(
    town: Town, people: dict[str, int], label: str, typed: str, expected: list[str]
) -> None:
    found = await find_residents(ctx=town.ctx, text=typed)
    assert [r.id for r in found] == [people[name] for name in expected], label


async def test_find_refuses_nothing_to_look_for(town: Town) -> None:
    with pytest.raises(TeamError, match="indiquez un nom ou un numéro"):
        await find_residents(ctx=town.ctx, text=" - ")


async def test_the_record_has_workshops_messages_and_calls(town: Town, people: dict[str, int]) -> None:
    past = await town.workshop("Saint-Victor", in_2026(2, 8) - timedelta(days=7))
    soon = await town.workshop("Saint-Victor", in_2026(5, 14))
    later = await town.workshop("Domérat", in_2026(12, 14), capacity=1)
    martine = people["martine"]
    today, town.clock.now = town.clock.now, in_2026(2, 8) - timedelta(days=10)  # she signed up before it took place
    await town.seat(martine, past)
    town.clock.now = today
    await town.seat(martine, soon)
    await town.seat(people["paul"], later)
    await town.seat(martine, later)  # waiting: one seat
    async with town.ctx.db.write() as session:
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.resident_id == martine, OutboundMessage.workshop_id == soon)
            .values(status=MessageStatus.failed, error="30008")
        )
    await town.say(MARTINE, "CONSEILLER")
    record = await resident_record(ctx=town.ctx, resident_id=martine)
    assert (record.resident.name, record.resident.phone) == ("Marie-Thérèse Dupont", MARTINE)
    assert [(b.workshop_id, b.status, b.position) for b in record.upcoming] == [
        (soon, EnrolmentStatus.seated, None),
        (later, EnrolmentStatus.waiting, 1),
    ]
    assert [b.workshop_id for b in record.past] == [past]
    assert record.upcoming[0].place == "Mairie de Saint-Victor"
    failed = [m for m in record.messages if m.workshop_id == soon]
    assert failed and all((m.status, m.error) == (MessageStatus.failed, "30008") for m in failed)
    assert any(m.kind == MessageKind.reply for m in record.messages)  # the answer to CONSEILLER
    assert [c.kind for c in record.calls] == [CallKind.callback]


async def test_no_record_for_someone_erased_or_unknown(town: Town, people: dict[str, int]) -> None:
    with pytest.raises(TeamError, match="n'existe pas"):
        await resident_record(ctx=town.ctx, resident_id=9999)


# --- Someone phones to cancel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    label: str
    name: str
    phone: str | None
    unreachable: bool


WAITING = [
    Waiting("the first waiting is told by SMS", "Paul Dupont", PAUL, False),
    Waiting("the first waiting has a landline: a call", "Jean Roux", JEAN, True),
]


@pytest.mark.parametrize("case", WAITING, ids=[c.label for c in WAITING])
async def test_unenrol_gives_the_seat_to_the_first_waiting_and_tells_everyone(
    town: Town, people: dict[str, int], case: Waiting
) -> None:
    workshop = await town.workshop("Saint-Victor", in_2026(5, 14), capacity=1)
    martine = people["martine"]
    waiting = people["jean" if case.unreachable else "paul"]
    seat = await town.seat(martine, workshop)
    await town.seat(waiting, workshop)
    done = await unenrol(ctx=town.ctx, resident_id=martine, workshop_id=workshop, actor=JULIE)
    assert (done.was, done.told) == (EnrolmentStatus.seated, True)
    assert done.promoted == (Promoted(waiting, case.name, told=not case.unreachable),)
    assert (await town.enrolment(seat)).status == EnrolmentStatus.cancelled
    [told] = await town.messages(resident_id=martine, kind=MessageKind.confirmation)
    assert "comme convenu avec le conseiller : vous ne venez pas à l'atelier du jeudi 5 mars à 14 h" in told.body
    reminders = await town.messages(resident_id=martine, kind=MessageKind.reminder)
    assert reminders and all(r.status == MessageStatus.cancelled for r in reminders)
    calls = await list_calls(ctx=town.ctx)
    assert [(c.resident_id, c.kind) for c in calls] == ([(waiting, CallKind.promotion)] if case.unreachable else [])
    assert sum(group.count for group in done.departures) == (1 if case.unreachable else 2)


# --- A seat given up goes to a pair (two people, one phone): both are named, each one's notice counted ---------


@dataclass(frozen=True)
class PairCase:
    label: str
    operation: str  # unenrol, or move (to another workshop)
    landline: bool  # the pair's phone cannot receive SMS (calls off): neither can be messaged, both are to call


PAIR_CASES = [
    PairCase("unenrol: the pair waiting is told, each by a message", "unenrol", landline=False),
    PairCase("unenrol: the pair's phone is a landline, both are to call", "unenrol", landline=True),
    PairCase("move: the pair waiting is told, each by a message", "move", landline=False),
    PairCase("move: the pair's phone is a landline, both are to call", "move", landline=True),
]


@pytest.mark.parametrize("case", PAIR_CASES, ids=[c.label for c in PAIR_CASES])
async def test_a_seat_given_to_a_pair_names_both(town: Town, people: dict[str, int], case: PairCase) -> None:
    """One seat was free already (a pair needs two): Martine's goes with it to the pair at the head of the list."""
    workshop = await town.workshop("Saint-Victor", in_2026(5, 14), capacity=2)
    other = await town.workshop("Domérat", in_2026(10, 9, 30))
    martine, paul = people["martine"], people["paul"]
    colette = await town.resident("Colette Martin", phone="+33612349001", sms_unreachable=case.landline)
    bernard = await town.resident("Bernard Martin", companion_of_id=colette)
    for person in (martine, paul, colette, bernard):
        await town.seat(person, workshop)  # the pair waits, 1st and 2nd
    alone = await unenrol(ctx=town.ctx, resident_id=paul, workshop_id=workshop, actor=JULIE)
    assert alone.promoted == ()  # one seat free: not enough for the pair, who keep their place
    if case.operation == "unenrol":
        done: Unenrolled | PersonMoved = await unenrol(
            ctx=town.ctx, resident_id=martine, workshop_id=workshop, actor=JULIE
        )
    else:
        done = await move_person(
            ctx=town.ctx, resident_id=martine, from_workshop_id=workshop, to_workshop_id=other, actor=JULIE
        )
    calls = [(c.resident_id, c.reason) for c in await list_calls(ctx=town.ctx) if c.kind == CallKind.promotion]
    assert calls == ([(colette, "sms_unreachable"), (bernard, "sms_unreachable")] if case.landline else [])
    notices = await town.messages(kind=MessageKind.promotion)
    assert [m.resident_id for m in notices] == ([] if case.landline else [colette, bernard])
    # Martine's own message, and each notice of the pair: the companion's is not lost from the report.
    assert sum(group.count for group in done.departures) == 1 + len(notices)
    [event] = (await audit_events(town))[-1:]
    assert event.summary.endswith(f"sa place est donnée aux personnes n°{colette} et n°{bernard}"), event.summary
    told = not case.landline
    assert done.promoted == (Promoted(colette, "Colette Martin", told), Promoted(bernard, "Bernard Martin", told))


async def audit_events(town: Town) -> list[AuditEvent]:
    async with town.ctx.db.read() as session:
        return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


async def test_unenrol_refuses_what_cannot_be_undone(town: Town, people: dict[str, int]) -> None:
    workshop = await town.workshop("Saint-Victor", in_2026(5, 14))
    with pytest.raises(TeamError, match="n'est pas inscrite à l'atelier"):
        await unenrol(ctx=town.ctx, resident_id=people["martine"], workshop_id=workshop, actor=JULIE)
    await town.seat(people["martine"], workshop)
    town.clock.now = in_2026(5, 14, 5)
    with pytest.raises(TeamError, match="a déjà commencé"):
        await unenrol(ctx=town.ctx, resident_id=people["martine"], workshop_id=workshop, actor=JULIE)
    assert await town.messages(kind=MessageKind.confirmation) == []


# --- Someone phones to change workshop ------------------------------------------------------------------------


async def test_move_a_person_in_one_step(town: Town, people: dict[str, int]) -> None:
    first = await town.workshop("Saint-Victor", in_2026(5, 14), capacity=1)
    second = await town.workshop("Domérat", in_2026(10, 9, 30))
    martine, paul = people["martine"], people["paul"]
    old_seat = await town.seat(martine, first)
    await town.seat(paul, first)  # waiting for Martine's seat
    moved = await move_person(
        ctx=town.ctx, resident_id=martine, from_workshop_id=first, to_workshop_id=second, actor=JULIE
    )
    assert (moved.seated, moved.position, moved.told) == (True, None, True)
    assert [p.resident_id for p in moved.promoted] == [paul]
    assert (await town.enrolment(old_seat)).status == EnrolmentStatus.cancelled
    [told] = await town.messages(resident_id=martine, kind=MessageKind.confirmation)
    assert "au lieu de l'atelier du jeudi 5 mars à 14 h, vous êtes inscrit(e) à celui du mardi 10 mars" in told.body
    reminders = await town.messages(resident_id=martine, kind=MessageKind.reminder)
    assert {(r.workshop_id, r.status) for r in reminders} == {
        (first, MessageStatus.cancelled),
        (second, MessageStatus.pending),
    }
    record = await resident_record(ctx=town.ctx, resident_id=martine)
    assert [(b.workshop_id, b.status) for b in record.upcoming] == [
        (first, EnrolmentStatus.cancelled),
        (second, EnrolmentStatus.seated),
    ]


async def test_move_to_a_full_workshop_needs_the_waiting_list(town: Town, people: dict[str, int]) -> None:
    first = await town.workshop("Saint-Victor", in_2026(5, 14))
    full = await town.workshop("Domérat", in_2026(10, 9, 30), capacity=1)
    martine = people["martine"]
    await town.seat(martine, first)
    await town.seat(people["paul"], full)
    with pytest.raises(TeamError, match="est complet : pour mettre la personne sur sa liste d'attente"):
        await move_person(ctx=town.ctx, resident_id=martine, from_workshop_id=first, to_workshop_id=full, actor=JULIE)
    assert [b.status for b in (await resident_record(ctx=town.ctx, resident_id=martine)).upcoming] == [
        EnrolmentStatus.seated  # nothing changed
    ]
    moved = await move_person(
        ctx=town.ctx, resident_id=martine, from_workshop_id=first, to_workshop_id=full, actor=JULIE,
        allow_waiting=True,
    )  # fmt: skip
    assert (moved.seated, moved.position) == (False, 1)
    [told] = await town.messages(resident_id=martine, kind=MessageKind.confirmation)
    assert "vous êtes en position 1 sur la liste d'attente de celui du mardi 10 mars" in told.body


@pytest.mark.parametrize(
    ("label", "target", "says"),
    [
        ("the same workshop", "first", "c'est le même atelier"),
        ("one they are already in", "other", "déjà inscrite à l'atelier"),
        ("an unknown workshop", "unknown", "n'existe pas, est annulé ou a déjà commencé"),
    ],
)
async def test_move_refuses_kindly_and_changes_nothing(
    town: Town, people: dict[str, int], label: str, target: str, says: str
) -> None:
    first = await town.workshop("Saint-Victor", in_2026(5, 14))
    other = await town.workshop("Domérat", in_2026(10, 9, 30))
    martine = people["martine"]
    for workshop in (first, other):
        await town.seat(martine, workshop)
    to = {"first": first, "other": other, "unknown": 9999}[target]
    before = await town.messages()
    with pytest.raises(TeamError, match=says):
        await move_person(ctx=town.ctx, resident_id=martine, from_workshop_id=first, to_workshop_id=to, actor=JULIE)
    assert len(await town.messages()) == len(before), label


# --- Previews: what confirming would do, nothing written ------------------------------------------------------


async def test_an_unenrol_preview_says_what_confirming_does_and_writes_nothing(
    town: Town, people: dict[str, int]
) -> None:
    workshop = await town.workshop("Saint-Victor", in_2026(5, 14), capacity=1)
    martine, paul = people["martine"], people["paul"]
    await town.seat(martine, workshop)
    await town.seat(paul, workshop)
    before = await town.fingerprint()
    seen = await unenrol(ctx=town.ctx, resident_id=martine, workshop_id=workshop, actor=JULIE, preview=True)
    assert await town.fingerprint() == before
    done = await unenrol(ctx=town.ctx, resident_id=martine, workshop_id=workshop, actor=JULIE)
    assert seen == done  # the same seat given, the same message, leaving at the same time
    assert [p.resident_id for p in seen.promoted] == [paul] and seen.channel == "sms"
    assert seen.message is not None and "vous ne venez pas à l'atelier du jeudi 5 mars à 14 h" in seen.message


async def test_a_move_preview_says_what_confirming_does_and_writes_nothing(town: Town, people: dict[str, int]) -> None:
    first = await town.workshop("Saint-Victor", in_2026(5, 14))
    full = await town.workshop("Domérat", in_2026(10, 9, 30), capacity=1)
    martine = people["martine"]
    await town.seat(martine, first)
    await town.seat(people["paul"], full)
    before = await town.fingerprint()
    seen = await move_person(
        ctx=town.ctx, resident_id=martine, from_workshop_id=first, to_workshop_id=full, actor=JULIE,
        allow_waiting=True, preview=True,
    )  # fmt: skip
    assert await town.fingerprint() == before
    assert (seen.seated, seen.position, seen.told, seen.channel) == (False, 1, True, "sms")
    assert seen.message is not None and "en position 1 sur la liste d'attente" in seen.message
    with pytest.raises(TeamError, match="est complet"):  # a preview refuses what confirming would refuse
        await move_person(
            ctx=town.ctx, resident_id=martine, from_workshop_id=first, to_workshop_id=full, actor=JULIE, preview=True
        )
    done = await move_person(
        ctx=town.ctx, resident_id=martine, from_workshop_id=first, to_workshop_id=full, actor=JULIE,
        allow_waiting=True,
    )  # fmt: skip
    assert done == seen
