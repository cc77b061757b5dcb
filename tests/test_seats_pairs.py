"""Two people who share a phone on a waiting list (a resident and their companion, ``Resident.companion_of``): they
are promoted together when seats are free for both, or keep their place while a single seat goes to the first
person alone behind them — on both databases (the workshop lock and the renumbering are the engine's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.context import Context
from bot.conversation.gsm7 import count_segments, to_gsm7
from bot.service.changes import WorkshopEdit, edit_workshop_plan
from bot.service.enrolments import cancel
from bot.territory import Territory
from storage.database import Database
from storage.models import Enrolment, EnrolmentStatus, MessageKind, Resident, Workshop
from storage.seats import cancel_enrolment, move_seats
from tests.helpers.clock import Clock, paris
from tests.helpers.scheduling import make_context, make_enrolment, make_workshop, outbox

pytestmark = pytest.mark.both_dialects

MONDAY_9H = paris(2026, 3, 2, 9)
TUESDAY_14H = paris(2026, 3, 10, 14)

# Labels: x1, x2 seated; "pa" and "pb" share pa's phone (pb is pa's companion); s1, s2 alone.
PAIR = ("pa", "pb")


@dataclass(frozen=True)
class Case:
    label: str
    seated: tuple[str, ...]
    waiting: tuple[str, ...]  # in order, positions 1..N
    steps: tuple[tuple[str, ...], ...]  # ("cancel", who), ("capacity", "+n"), ("move", who, …) to another workshop
    promoted: tuple[tuple[str, ...], ...]  # by each step
    left_waiting: dict[str, int] = field(default_factory=dict)  # position of everyone still waiting at the end


CASES = [
    Case(
        "one seat frees, the pair at the head, someone alone behind: the seat is theirs, the pair keeps its place",
        seated=("x1", "x2"),
        waiting=("pa", "pb", "s1", "s2"),
        steps=(("cancel", "x1"),),
        promoted=(("s1",),),
        left_waiting={"pa": 1, "pb": 2, "s2": 3},
    ),
    Case(
        "one seat frees, the pair at the head, nobody alone behind: the seat stays free",
        seated=("x1", "x2"),
        waiting=PAIR,
        steps=(("cancel", "x1"),),
        promoted=((),),
        left_waiting={"pa": 1, "pb": 2},
    ),
    Case(
        "a second seat frees later: the pair is seated, both at once",
        seated=("x1", "x2"),
        waiting=PAIR,
        steps=(("cancel", "x1"), ("cancel", "x2")),
        promoted=((), PAIR),
    ),
    Case(
        "two seats free at once (two people move away): the pair at the head takes both",
        seated=("x1", "x2"),
        waiting=("pa", "pb", "s1"),
        steps=(("move", "x1", "x2"),),
        promoted=(PAIR,),
        left_waiting={"s1": 1},
    ),
    Case(
        "someone alone at the head is seated first, the pair moves up behind",
        seated=("x1", "x2"),
        waiting=("s1", "pa", "pb"),
        steps=(("cancel", "x1"),),
        promoted=(("s1",),),
        left_waiting={"pa": 1, "pb": 2},
    ),
    Case(
        "capacity increased by one: the first person alone behind the pair",
        seated=("x1", "x2"),
        waiting=("pa", "pb", "s1", "s2"),
        steps=(("capacity", "+1"),),
        promoted=(("s1",),),
        left_waiting={"pa": 1, "pb": 2, "s2": 3},
    ),
    Case(
        "capacity increased by one, nobody alone waiting: the seat stays free",
        seated=("x1", "x2"),
        waiting=PAIR,
        steps=(("capacity", "+1"),),
        promoted=((),),
        left_waiting={"pa": 1, "pb": 2},
    ),
    Case(
        "capacity increased by two: the pair, together",
        seated=("x1", "x2"),
        waiting=("pa", "pb", "s1"),
        steps=(("capacity", "+2"),),
        promoted=(PAIR,),
        left_waiting={"s1": 1},
    ),
    Case(
        "capacity increased by three: the pair, then the next one",
        seated=("x1", "x2"),
        waiting=("pa", "pb", "s1", "s2"),
        steps=(("capacity", "+3"),),
        promoted=(("pa", "pb", "s1"),),
        left_waiting={"s2": 1},
    ),
    Case(
        "the companion waits alone (the phone's owner already seated): one seat is enough",
        seated=("x1", "pa"),
        waiting=("pb", "s1"),
        steps=(("cancel", "x1"),),
        promoted=(("pb",),),
        left_waiting={"s1": 1},
    ),
]


async def make_people(db: Database, labels: tuple[str, ...]) -> dict[str, int]:
    async with db.write() as session:
        people = {label: Resident(phone=f"+336123{n:05d}", name=f"Résident {label}") for n, label in enumerate(labels)}
        session.add_all(people.values())
        await session.flush()
        if "pa" in people and "pb" in people:
            people["pb"].phone, people["pb"].companion_of_id = None, people["pa"].id
        return {label: r.id for label, r in people.items()}


async def enrolments_by_resident(db: Database, workshop: int) -> dict[int, Enrolment]:
    async with db.read() as session:
        rows = await session.scalars(select(Enrolment).where(Enrolment.workshop_id == workshop))
        return {e.resident_id: e for e in rows.unique()}


async def run_step(db: Database, step: tuple[str, ...], ids: dict[str, int], workshops: tuple[int, int]) -> set[int]:
    """One step of a case; the residents promoted by it."""
    workshop, elsewhere = workshops
    enrolments = await enrolments_by_resident(db, workshop)
    async with db.write() as session:
        match step:
            case ("cancel", who):
                outcome = await cancel_enrolment(session=session, enrolment_id=enrolments[ids[who]].id, now=MONDAY_9H)
                assert outcome is not None
                promoted = list(outcome.promoted)
            case ("move", *who):
                moved = await move_seats(
                    session=session,
                    enrolment_ids=[enrolments[ids[w]].id for w in who],
                    workshop_id=elsewhere,
                    now=MONDAY_9H,
                )
                assert moved is not None
                promoted = moved.promoted
            case ("capacity", more):
                capacity = len([e for e in enrolments.values() if e.status == EnrolmentStatus.seated]) + int(more)
                edited = await edit_workshop_plan(
                    session=session,
                    workshop_id=workshop,
                    edit=WorkshopEdit(capacity=capacity),
                    now=MONDAY_9H,
                    promotion_cutoff=timedelta(hours=2),
                )
                promoted = list(edited.promoted)
            case _:
                raise AssertionError(f"unknown step {step}")
        return {e.resident_id for e in promoted}


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_a_pair_on_the_waiting_list(db: Database, case: Case) -> None:
    workshop = await make_workshop(db, TUESDAY_14H, capacity=len(case.seated))
    elsewhere = await make_workshop(db, TUESDAY_14H + timedelta(days=1), capacity=10)
    ids = await make_people(db, case.seated + case.waiting)
    for label in case.seated:
        await make_enrolment(db, ids[label], workshop)
    for position, label in enumerate(case.waiting, start=1):
        await make_enrolment(db, ids[label], workshop, EnrolmentStatus.waiting, position)
    for step, expected in zip(case.steps, case.promoted, strict=True):
        assert await run_step(db, step, ids, (workshop, elsewhere)) == {ids[x] for x in expected}, step
    enrolments = await enrolments_by_resident(db, workshop)
    waiting = {e.resident_id: e.position for e in enrolments.values() if e.status == EnrolmentStatus.waiting}
    assert waiting == {ids[label]: position for label, position in case.left_waiting.items()}
    seated = [e for e in enrolments.values() if e.status == EnrolmentStatus.seated]
    assert (ids["pa"] in {e.resident_id for e in seated}) == (ids["pb"] in {e.resident_id for e in seated})
    async with db.read() as session:
        found = await session.get(Workshop, workshop)
        assert found is not None and len(seated) <= found.capacity


async def test_the_pair_promoted_together_is_told_each_by_name_on_the_one_phone(
    db: Database, db_url: str, territory: Territory
) -> None:
    """Two promotion notices to the one phone, each naming its person (a single SMS each); none before both seats
    are free."""
    ctx: Context = make_context(db, db_url, territory, Clock(MONDAY_9H))
    workshop = await make_workshop(db, TUESDAY_14H, capacity=2)
    async with db.write() as session:
        colette = Resident(phone="+33612349001", name="Colette Martin")
        session.add(colette)
        await session.flush()
        bernard = Resident(name="Bernard Martin", companion_of_id=colette.id)
        session.add(bernard)
        await session.flush()
        pair = (colette.id, bernard.id)
    others = await make_people(db, ("x1", "x2"))
    leaving = [await make_enrolment(db, r, workshop) for r in others.values()]
    for position, resident in enumerate(pair, start=1):
        await make_enrolment(db, resident, workshop, EnrolmentStatus.waiting, position)
    async with db.write() as session:
        first = await cancel(session=session, ctx=ctx, enrolment_id=leaving[0], now=MONDAY_9H)
    assert first is not None and first.promoted == ()
    assert [m for m in await outbox(db) if m.kind == MessageKind.promotion] == []
    async with db.write() as session:
        second = await cancel(session=session, ctx=ctx, enrolment_id=leaving[1], now=MONDAY_9H)
    assert second is not None and len(second.promoted) == 2
    assert {e.resident_id for e in second.promoted} == set(pair)
    notices = [m for m in await outbox(db) if m.kind == MessageKind.promotion]
    assert [(m.to_address, m.resident_id) for m in notices] == [("+33612349001", r) for r in pair]
    assert "pour Colette" in notices[0].body and "pour Bernard" in notices[1].body
    assert "Bernard" not in notices[0].body and "Colette" not in notices[1].body
    assert all(count_segments(to_gsm7(m.body)) == 1 for m in notices)
