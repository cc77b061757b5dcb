"""Workshop operations on both databases: counts, import, demo (``bot.service.workshops``), and the plans of a
cancellation and a move (``bot.service.changes``: the rows; its notices are tested in test_changes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from bot.config import Settings
from bot.context import Context
from bot.service.changes import (
    MoveRequest,
    WorkshopCancelled,
    WorkshopMoved,
    cancel_workshop_and_notify,
    cancel_workshop_plan,
    move_workshop_plan,
)
from bot.service.demo_planning import ADVISERS, demo_planning
from bot.service.planning_csv import WorkshopFields
from bot.service.team import add_adviser
from bot.service.workshops import (
    WorkshopError,
    add_workshop,
    import_planning,
    list_workshops,
    load_demo,
    roster,
)
from bot.territory import Territory
from storage.database import Database
from storage.models import Adviser, Level, Resident, Workshop, WorkshopStatus
from storage.seats import seat_resident
from tests.helpers.world import JULIE

# On both databases: listings counted in one query, imports in one transaction, moves and cancellations.
pytestmark = pytest.mark.both_dialects

PARIS = ZoneInfo("Europe/Paris")
FR = "date;debut;fin;commune;lieu;adresse;niveau;theme;places"


@pytest.fixture
def ctx(settings: Settings, db: Database, territory: Territory, now: datetime) -> Context:
    return Context(settings=settings, db=db, territory=territory, clock=lambda: now)


async def cancel_workshop(*, ctx: Context, workshop_id: int, reason: str) -> WorkshopCancelled:
    """The cancellation's plan alone, committed: the rows, without the notices."""
    async with ctx.db.write() as session:
        return await cancel_workshop_plan(session=session, workshop_id=workshop_id, reason=reason, now=ctx.now())


async def move_workshop(*, ctx: Context, workshop_id: int, change: MoveRequest) -> WorkshopMoved:
    """The move's plan alone, committed: the rows, without the notices."""
    async with ctx.db.write() as session:
        return await move_workshop_plan(
            session=session, territory=ctx.territory, tz=ctx.tz, now=ctx.now(), workshop_id=workshop_id, change=change
        )


def fields(**changes: str) -> WorkshopFields:
    values = {
        "date": "14/04/2026",
        "start": "14:00",
        "end": "16:00",
        "commune": "Saint-Victor",
        "level": "débutant",
        "topic": "Premiers pas sur la tablette",
        "capacity": "2",
    }
    return WorkshopFields(**{**values, **changes})


async def people(ctx: Context, workshop_id: int, count: int, confirmed: int = 0) -> None:
    """``count`` residents signed up in order (seated up to capacity, then waiting); the first ``confirmed`` OUI."""
    async with ctx.db.write() as session:
        for number in range(count):
            resident = Resident(phone=f"+3361100{workshop_id:02d}{number:02d}", name=f"Résident {number}")
            session.add(resident)
            await session.flush()
            outcome = await seat_resident(
                session=session, resident_id=resident.id, workshop_id=workshop_id, now=ctx.now()
            )
            assert outcome is not None
            outcome.enrolment.confirmed = True if number < confirmed else None


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_list_counts_seated_waiting_confirmed_in_one_query(ctx: Context, statements: list[str]) -> None:
    first = await add_workshop(ctx=ctx, actor=JULIE, fields=fields())
    second = await add_workshop(ctx=ctx, actor=JULIE, fields=fields(commune="Quinssaines", level="2"))
    await people(ctx, first.id, 3, confirmed=1)
    statements.clear()
    listed = await list_workshops(ctx=ctx)
    assert len(statements) == 1
    counts = {w.id: (w.seated, w.waiting, w.confirmed) for w in listed}
    assert counts == {first.id: (2, 1, 1), second.id: (0, 0, 0)}
    found = await roster(ctx=ctx, workshop_id=first.id)
    assert [(e.status.value, e.position, e.channel) for e in found.enrolments] == [
        ("seated", None, "sms"),
        ("seated", None, "sms"),
        ("waiting", 1, "sms"),
    ]


async def test_add_refuses_a_duplicate_and_an_unknown_venue_without_address(ctx: Context) -> None:
    added = await add_workshop(ctx=ctx, actor=JULIE, fields=fields())
    assert (added.venue, added.capacity, added.level) == ("Mairie de Saint-Victor", 2, Level.beginner)
    with pytest.raises(WorkshopError, match=f"atelier n°{added.id}"):
        await add_workshop(ctx=ctx, actor=JULIE, fields=fields())
    with pytest.raises(WorkshopError, match="indiquez son adresse"):
        await add_workshop(ctx=ctx, actor=JULIE, fields=fields(venue="Salle des fêtes"))
    hall = await add_workshop(ctx=ctx, actor=JULIE, fields=fields(venue="Salle des fêtes", address="1 rue du Stade"))
    again = await add_workshop(ctx=ctx, actor=JULIE, fields=fields(venue="salle des fetes", start="9h30", end="11h30"))
    assert hall.venue_id == again.venue_id and again.address == "1 rue du Stade"
    assert len(await list_workshops(ctx=ctx)) == 3


async def test_import_is_one_transaction_and_never_duplicates(ctx: Context) -> None:
    good = "\n".join(
        [
            FR,
            "14/04/2026;14:00;16:00;Saint-Victor;;;1;Tablette;",
            "15/04/2026;09:30;11:30;Quinssaines;Salle polyvalente;3 rue Haute;2;Ameli;",
            "15/04/2026;09:30;11:30;Quinssaines;salle polyvalente;;2;Ameli;",  # the same workshop twice
        ]
    ).encode()
    dry = await import_planning(ctx=ctx, actor=JULIE, data=good, dry_run=True)
    assert (dry.ok, dry.created, dry.already, dry.created_ids) == (True, 2, 1, ())
    assert await list_workshops(ctx=ctx) == []
    first = await import_planning(ctx=ctx, actor=JULIE, data=good)
    assert (first.created, first.already, len(first.created_ids)) == (2, 1, 2)
    again = await import_planning(ctx=ctx, actor=JULIE, data=good)
    assert (again.created, again.already) == (0, 3)
    # A row whose new venue has no address is refused after the database is asked: still nothing imported.
    unknown_venue = (
        f"{FR}\n16/04/2026;14:00;16:00;Domérat;;;1;T;\n16/04/2026;14:00;16:00;Domérat;Gymnase;;1;T;".encode()
    )
    refused = await import_planning(ctx=ctx, actor=JULIE, data=unknown_venue)
    assert [(e.line, "adresse" in e.message) for e in refused.errors] == [(3, True)]
    assert len(await list_workshops(ctx=ctx)) == 2


async def test_import_sets_the_adviser_in_charge_and_refuses_an_unknown_one(ctx: Context) -> None:
    await add_adviser(actor=JULIE, ctx=ctx, name="Julie Martin")
    await add_adviser(actor=JULIE, ctx=ctx, name="Marc Petit")
    header = f"{FR};conseiller"
    unknown = f"{header}\n14/04/2026;14:00;16:00;Saint-Victor;;;1;Tablette;;Zoé\n".encode()
    refused = await import_planning(actor=JULIE, ctx=ctx, data=unknown)
    assert [(e.line, e.message) for e in refused.errors] == [
        (2, "conseiller inconnu « Zoé » (conseillers enregistrés : Julie Martin, Marc Petit)")
    ]
    rows = [header, "14/04/2026;14:00;16:00;Saint-Victor;;;1;Tablette;;julie", "15/04/2026;9h;11h;Domérat;;;1;T;;"]
    imported = await import_planning(actor=JULIE, ctx=ctx, data="\n".join(rows).encode())
    assert imported.ok and imported.ignored_columns == ()
    found = {w.id: w for w in await list_workshops(ctx=ctx)}
    assert sorted(found) == sorted(imported.created_ids)
    assert [found[i].adviser for i in imported.created_ids] == ["Julie Martin", None]


DEMO_NOW = datetime(2026, 3, 25, 10, 0, tzinfo=UTC)  # a Wednesday: the demo starts Monday 30 March


def test_demo_planning_is_deterministic_and_realistic(territory: Territory) -> None:
    planning = demo_planning(territory=territory, tz=PARIS, now=DEMO_NOW)
    assert planning == demo_planning(territory=territory, tz=PARIS, now=DEMO_NOW + timedelta(hours=5))
    local = [(w.starts_at.astimezone(PARIS), w.ends_at.astimezone(PARIS)) for w in planning]
    assert min(s.date() for s, _ in local) == date(2026, 3, 30)
    assert max(s.date() for s, _ in local) < date(2026, 4, 27)
    assert {(s.time(), e.time()) for s, e in local} == {(time(9, 30), time(11, 30)), (time(14), time(16))}
    assert all(s.weekday() < 5 for s, _ in local)
    assert date(2026, 4, 6) not in {s.date() for s, _ in local}  # Easter Monday
    names = {territory.commune(w.commune_insee).name for w in planning}  # type: ignore[union-attr]  # known codes
    assert {"Saint-Victor", "Teillet-Argenty", "Quinssaines", "Saint-Genest", "Marcillat-en-Combraille"} <= names
    assert {w.level for w in planning} == set(Level)
    assert {w.adviser for w in planning} == set(ADVISERS)
    assert {w.capacity for w in planning} == {6}
    topics = {w.topic for w in planning}
    assert {"Premiers pas sur la tablette", "Ameli et Doctolib", "Déclarer ses impôts en ligne"} <= topics
    by_adviser = [(w.adviser, w.starts_at) for w in planning]
    assert len(by_adviser) == len(set(by_adviser))  # nobody is in two places at once


async def test_load_demo_creates_advisers_once_and_respects_if_empty(
    settings: Settings, db: Database, territory: Territory
) -> None:
    ctx = Context(settings=settings, db=db, territory=territory, clock=lambda: DEMO_NOW)
    first = await load_demo(ctx=ctx, actor=JULIE, if_empty=True)
    assert first.created == len(demo_planning(territory=territory, tz=PARIS, now=DEMO_NOW)) and not first.skipped
    assert (await load_demo(ctx=ctx, actor=JULIE, if_empty=True)).skipped
    second = await load_demo(ctx=ctx, actor=JULIE, if_empty=False)
    assert (second.created, second.already) == (0, first.created)
    async with db.read() as session:
        advisers = list((await session.execute(select(Adviser.name, Adviser.phone).order_by(Adviser.name))).all())
        unassigned = await session.scalar(
            select(func.count()).select_from(Workshop).where(Workshop.adviser_id.is_(None))
        )
    assert [tuple(a) for a in advisers] == [("Claire", None), ("Karim", None), ("Sophie", None)]
    assert unassigned == 0


async def test_cancel_tells_who_is_concerned_and_dry_run_changes_nothing(ctx: Context) -> None:
    workshop = await add_workshop(ctx=ctx, actor=JULIE, fields=fields())
    await people(ctx, workshop.id, 3)
    preview = await cancel_workshop_and_notify(
        ctx=ctx, workshop_id=workshop.id, reason="Conseillère malade", actor=JULIE, preview=True
    )
    assert [e.name for e in preview.concerned] == ["Résident 0", "Résident 1", "Résident 2"]
    assert [w.status for w in await list_workshops(ctx=ctx)] == [WorkshopStatus.planned]
    with pytest.raises(WorkshopError, match="raison"):
        await cancel_workshop(ctx=ctx, workshop_id=workshop.id, reason="  ")
    done = await cancel_workshop(ctx=ctx, workshop_id=workshop.id, reason="Conseillère  malade")
    assert done.reason == "Conseillère malade"
    assert [(e.status.value, e.position) for e in done.concerned] == [
        ("seated", None),
        ("seated", None),
        ("waiting", 1),
    ]
    assert done.workshop.status == WorkshopStatus.planned  # the workshop as it was before
    assert await list_workshops(ctx=ctx) == []
    with pytest.raises(WorkshopError, match="déjà annulé"):
        await cancel_workshop(ctx=ctx, workshop_id=workshop.id, reason="encore")
    with pytest.raises(WorkshopError, match="n'existe pas"):
        await cancel_workshop(ctx=ctx, workshop_id=9999, reason="x")


@dataclass(frozen=True)
class Move:
    label: str
    change: MoveRequest
    start: str = ""  # expected new local start "2026-04-14 14:00", empty when refused
    end: str = ""
    venue: str = "Mairie de Saint-Victor"
    error: str = ""


MOVES = [
    Move("new-date-keeps-times", MoveRequest(date="16/04/2026"), "2026-04-16 14:00", "2026-04-16 16:00"),
    Move("new-start-keeps-length", MoveRequest(start="15h"), "2026-04-14 15:00", "2026-04-14 17:00"),
    Move("new-end-only", MoveRequest(end="17:30"), "2026-04-14 14:00", "2026-04-14 17:30"),
    Move(
        "date-across-dst-change",
        MoveRequest(date="2026-10-26", start="9:30", end="11:30"),
        "2026-10-26 09:30",
        "2026-10-26 11:30",
    ),
    Move(
        "other-commune-goes-to-its-town-hall",
        MoveRequest(commune="quinssaines"),
        "2026-04-14 14:00",
        "2026-04-14 16:00",
        "Mairie de Quinssaines",
    ),
    Move(
        "new-venue-with-address",
        MoveRequest(venue="Salle des fêtes", address="1 rue du Stade"),
        "2026-04-14 14:00",
        "2026-04-14 16:00",
        "Salle des fêtes",
    ),
    Move("nothing-given", MoveRequest(), error="rien à changer"),
    Move("same-everything", MoveRequest(date="14/04/2026", commune="St Victor"), error="rien ne change"),
    Move("end-before-start", MoveRequest(end="13:00"), error="doit venir après"),
    Move("into-the-past", MoveRequest(date="01/03/2026"), error="passée"),
    Move("unreadable-date", MoveRequest(date="jeudi"), error="date illisible"),
    Move("unknown-commune", MoveRequest(commune="Vichy"), error="commune inconnue"),
    Move("unknown-venue-without-address", MoveRequest(venue="Gymnase"), error="indiquez son adresse"),
    Move("address-alone", MoveRequest(address="3 rue Haute"), error="sans le nom du lieu"),
    Move(
        "a known venue at another address",
        MoveRequest(venue="Mairie de Saint-Victor", address="9 rue Inconnue", date="16/04/2026"),
        error="est connu à l'adresse",
    ),
    Move(
        "a known venue with its own address",
        MoveRequest(venue="mairie de st victor", address="7 rue André Gide", date="16/04/2026"),
        "2026-04-16 14:00",
        "2026-04-16 16:00",
    ),
]


@pytest.mark.parametrize("case", MOVES, ids=[m.label for m in MOVES])
async def test_move(case: Move, ctx: Context) -> None:
    workshop = await add_workshop(ctx=ctx, actor=JULIE, fields=fields())
    await people(ctx, workshop.id, 1)
    if case.error:
        with pytest.raises(WorkshopError, match=case.error):
            await move_workshop(ctx=ctx, workshop_id=workshop.id, change=case.change)
        [unchanged] = await list_workshops(ctx=ctx)
        assert (unchanged.starts_at, unchanged.venue_id) == (workshop.starts_at, workshop.venue_id)
        return
    moved = await move_workshop(ctx=ctx, workshop_id=workshop.id, change=case.change)
    local = f"{moved.new_start.astimezone(PARIS):%Y-%m-%d %H:%M}", f"{moved.new_end.astimezone(PARIS):%Y-%m-%d %H:%M}"
    assert local == (case.start, case.end)
    assert (moved.old_start, moved.old_place.venue) == (workshop.starts_at, "Mairie de Saint-Victor")
    assert moved.new_place.venue == case.venue
    assert [e.resident.name for e in moved.concerned] == ["Résident 0"]
    [stored] = await list_workshops(ctx=ctx)
    assert (stored.starts_at, stored.ends_at, stored.venue) == (moved.new_start, moved.new_end, case.venue)


async def test_a_move_onto_another_group_of_the_same_level_is_refused(ctx: Context) -> None:
    first = await add_workshop(ctx=ctx, actor=JULIE, fields=fields())
    second = await add_workshop(ctx=ctx, actor=JULIE, fields=fields(date="16/04/2026"))
    with pytest.raises(WorkshopError, match=f"l'atelier n°{first.id} a déjà lieu"):
        await move_workshop(ctx=ctx, workshop_id=second.id, change=MoveRequest(date="14/04/2026"))
    other_level = await add_workshop(ctx=ctx, actor=JULIE, fields=fields(date="16/04/2026", level="avancé"))
    moved = await move_workshop(ctx=ctx, workshop_id=other_level.id, change=MoveRequest(date="14/04/2026"))
    assert moved.new_start == first.starts_at  # another level may share the hall (two rooms, two groups)
    await cancel_workshop(ctx=ctx, workshop_id=first.id, reason="test")
    again = await move_workshop(ctx=ctx, workshop_id=second.id, change=MoveRequest(date="14/04/2026"))
    assert again.new_start == first.starts_at  # a cancelled workshop holds no slot


async def test_cancelled_or_started_workshops_cannot_move(ctx: Context, now: datetime) -> None:
    workshop = await add_workshop(ctx=ctx, actor=JULIE, fields=fields())
    async with ctx.db.write() as session:
        started = Workshop(
            venue_id=workshop.venue_id,
            starts_at=now - timedelta(minutes=30),
            ends_at=now + timedelta(minutes=90),
            level=Level.beginner,
            topic="En cours",
        )
        session.add(started)
        await session.flush()
        started_id = started.id
    with pytest.raises(WorkshopError, match="déjà commencé"):
        await move_workshop(ctx=ctx, workshop_id=started_id, change=MoveRequest(start="15h"))
    await cancel_workshop(ctx=ctx, workshop_id=workshop.id, reason="Salle indisponible")
    with pytest.raises(WorkshopError, match="déjà annulé"):
        await move_workshop(ctx=ctx, workshop_id=workshop.id, change=MoveRequest(start="15h"))
