"""The audit trail: every change an adviser makes records who, through which interface, and what — in the same
transaction as the change, so that a change is never kept without its trace.

Service operations on both databases: a database that refuses the trace (a trigger standing for a crash at commit)
keeps nothing of the change either (transactions rolled back: both dialects); one that accepts it holds exactly one
entry by the actor. Then every changing command of the command line (SQLite: it reaches the database only through
those operations): the adviser named by ``--as`` (or its older names), else the system's user.
The console's routes and the Telegram commands are checked in their own tests (test_console_http,
test_telegram_advisers)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings, load_settings
from bot.context import Context
from bot.service.accounts import set_password
from bot.service.actors import Actor
from bot.service.broadcasts import Audience, send_broadcast
from bot.service.callbacks import mark_callback_done, request_callback
from bot.service.calls import mark_call_done, note_call
from bot.service.changes import (
    WorkshopEdit,
    cancel_workshop_and_notify,
    edit_workshop_and_notify,
    move_workshop_and_notify,
)
from bot.service.phone_enrolment import enrol_by_phone, enrol_resident
from bot.service.planning_csv import WorkshopFields
from bot.service.residents import erase_resident_for, move_person, unenrol
from bot.service.stats import add_walk_in, mark_attendance
from bot.service.team import add_adviser
from bot.service.workshops import add_workshop, import_planning, load_demo
from bot.territory import Territory
from storage.database import Database
from storage.models import AuditEvent, Call, Resident
from tests.helpers.clock import Clock
from tests.helpers.world import JULIE, Town, in_2026

CLAIRE = "claire@example.fr"


@dataclass(frozen=True)
class World:
    workshop: int  # planned, Anne seated
    started: int  # started an hour ago, Rose seated
    anne: int
    rose: int
    callback: int  # Anne asked to be called
    claire: int  # an adviser with a console login
    julie: int  # a registered adviser, "Julie Martin"
    call: int  # Anne's call-back, on the "to call" list
    later: int  # planned after ``workshop``, with free seats


async def build(town: Town, now: datetime) -> World:
    town.clock.now = now - timedelta(days=1)
    workshop = await town.workshop("Saint-Victor", now + timedelta(days=3), capacity=4)
    started = await town.workshop("Domérat", now - timedelta(hours=1))
    anne = await town.resident("Anne Morel", phone="+33612000001")
    rose = await town.resident("Rose Blanc", phone="+33612000002", commune="Domérat")
    await town.seat(anne, workshop)
    await town.seat(rose, started)
    later = await town.workshop("Saint-Victor", now + timedelta(days=5), capacity=4)
    town.clock.now = now
    async with town.ctx.db.write() as session:
        resident = await session.get(Resident, anne)
        assert resident is not None
        callback = (await request_callback(session=session, resident=resident, now=now)).id
    setup = Actor("préparation du test", interface="cli")
    claire = await add_adviser(ctx=town.ctx, name="Claire Martin", email=CLAIRE, actor=setup)
    julie = await add_adviser(ctx=town.ctx, name="Julie Martin", actor=setup)
    async with town.ctx.db.read() as session:
        call = (await session.execute(select(Call.id).where(Call.callback_request_id == callback))).scalar_one()
    return World(workshop, started, anne, rose, callback, claire.id, julie.id, call, later)


def planning_csv(day: datetime) -> bytes:
    header = "date;debut;fin;commune;lieu;adresse;niveau;theme;places"
    return f"{header}\n{day:%d/%m/%Y};14:00;16:00;Désertines;;;1;Tablette;6\n".encode()


# ---------------------------------------------------------------------------------------------------------------
# Service operations: the change and its trace, together or not at all


Run = Callable[[Context, World], Awaitable[Any]]


@dataclass(frozen=True)
class Operation:
    label: str
    run: Run
    action: str
    about: Callable[[World], tuple[int | None, int | None]] = lambda w: (None, None)  # (workshop, resident)


FIELDS = WorkshopFields(
    date="20/03/2026", start="14:00", end="16:00", commune="Domérat", level="débutant", topic="Tablette", venue="",
    address="", capacity="6",
)  # fmt: skip

OPERATIONS = [
    Operation("add a workshop", lambda c, w: add_workshop(ctx=c, fields=FIELDS, actor=JULIE), "workshop_added",
              lambda w: (ANY, None)),  # the new workshop's number
    Operation("import a planning", lambda c, w: import_planning(ctx=c, data=planning_csv(in_2026(16, 0)), actor=JULIE),
              "planning_imported"),
    Operation("cancel a workshop", lambda c, w: cancel_workshop_and_notify(
        ctx=c, workshop_id=w.workshop, reason="salle prise", actor=JULIE), "workshop_cancelled",
        lambda w: (w.workshop, None)),
    Operation("move a workshop", lambda c, w: move_workshop_and_notify(
        ctx=c, workshop_id=w.workshop, new_start="15:00", actor=JULIE), "workshop_moved",
        lambda w: (w.workshop, None)),
    Operation("broadcast", lambda c, w: send_broadcast(
        ctx=c, audience=Audience(workshop_id=w.workshop), body="Bonjour", actor=JULIE), "broadcast_sent",
        lambda w: (w.workshop, None)),
    Operation("take attendance", lambda c, w: mark_attendance(
        ctx=c, workshop_id=w.started, present=[w.rose], actor=JULIE), "attendance", lambda w: (w.started, None)),
    Operation("enrol someone who phoned", lambda c, w: enrol_by_phone(
        ctx=c, name="Lucie Roy", phone="06 11 22 33 44", commune="Saint-Victor", workshop_id=w.workshop, actor=JULIE),
        "enrolled_by_phone", lambda w: (w.workshop, ANY)),  # the new resident's number
    Operation("erase a resident", lambda c, w: erase_resident_for(ctx=c, resident_id=w.anne, actor=JULIE),
              "resident_erased", lambda w: (None, w.anne)),
    Operation("mark a call-back done", lambda c, w: mark_callback_done(ctx=c, callback_id=w.callback, actor=JULIE),
              "callback_done", lambda w: (None, w.anne)),
    Operation("note a call made", lambda c, w: mark_call_done(ctx=c, call_id=w.call, outcome="vient", actor=JULIE),
              "call_done", lambda w: (None, w.anne)),
    Operation("note a call outside the list", lambda c, w: note_call(
        ctx=c, resident_id=w.anne, outcome="a demandé le niveau", actor=JULIE), "call_noted", lambda w: (None, w.anne)),
    Operation("enrol a known person", lambda c, w: enrol_resident(
        ctx=c, resident_id=w.rose, workshop_id=w.workshop, actor=JULIE), "enrolled_by_adviser",
        lambda w: (w.workshop, w.rose)),
    Operation("unenrol someone who phoned", lambda c, w: unenrol(
        ctx=c, resident_id=w.anne, workshop_id=w.workshop, actor=JULIE), "resident_unenrolled",
        lambda w: (w.workshop, w.anne)),
    Operation("move someone who phoned", lambda c, w: move_person(
        ctx=c, resident_id=w.anne, from_workshop_id=w.workshop, to_workshop_id=w.later, actor=JULIE),
        "resident_moved", lambda w: (w.later, w.anne)),
    Operation("note a walk-in", lambda c, w: add_walk_in(
        ctx=c, workshop_id=w.started, name="Lucie Roy", phone="06 11 22 33 44", actor=JULIE), "walk_in",
        lambda w: (w.started, ANY)),  # the new resident's number
    Operation("edit a workshop", lambda c, w: edit_workshop_and_notify(
        ctx=c, workshop_id=w.workshop, edit=WorkshopEdit(capacity=6, topic="Smartphone"), actor=JULIE),
        "workshop_edited", lambda w: (w.workshop, None)),
    Operation("add an adviser", lambda c, w: add_adviser(ctx=c, name="Marc Petit", email="marc@example.fr",
              actor=JULIE), "adviser_added"),
    Operation("set a password", lambda c, w: set_password(
        ctx=c, adviser_id=w.claire, password="un mot de passe assez long", actor=JULIE), "password_set"),
    Operation("load the demo", lambda c, w: load_demo(ctx=c, if_empty=False, actor=JULIE), "demo_loaded"),
]  # fmt: skip


async def refuse_traces(db: Database, *, refuse: bool) -> None:
    """A trigger that makes writing any audit entry fail, as a crash at that moment would."""
    statements = {
        ("sqlite", True): [
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ],
        ("sqlite", False): ["DROP TRIGGER IF EXISTS refuse_audit"],
        ("postgresql", True): [
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
            "LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        ],
        ("postgresql", False): [
            "DROP TRIGGER IF EXISTS refuse_audit ON audit_events",
            "DROP FUNCTION IF EXISTS refuse_audit()",
        ],
    }[(db.engine.dialect.name, refuse)]
    async with db.write() as session:
        for statement in statements:
            await session.execute(text(statement))


async def trail(ctx: Context, *, after: int = 0) -> list[AuditEvent]:
    async with ctx.db.read() as session:
        query = select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id)
        return list((await session.execute(query)).scalars())


@pytest.mark.both_dialects
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: o.label)
async def test_a_change_and_its_trace_commit_together(
    operation: Operation, settings: Settings, db: Database, territory: Territory
) -> None:
    now = in_2026(2, 9)
    clock = Clock(now)
    town = Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)
    world = await build(town, now)
    last = max((e.id for e in await trail(town.ctx)), default=0)
    before = await town.fingerprint()

    await refuse_traces(db, refuse=True)
    try:
        with pytest.raises(DBAPIError, match="refused"):
            await operation.run(town.ctx, world)
    finally:
        await refuse_traces(db, refuse=False)  # the PostgreSQL database is the run's: leave no trigger behind
    assert await town.fingerprint() == before, "the change was kept without its trace"

    await operation.run(town.ctx, world)
    [event] = await trail(town.ctx, after=last)
    assert (event.interface, event.actor, event.adviser_id, event.action, event.at) == (
        "cli", "Julie", None, operation.action, now
    )  # fmt: skip
    assert (event.workshop_id, event.resident_id) == operation.about(world)
    assert "Anne" not in event.summary and "+336" not in event.summary, "people by number only"


@pytest.mark.both_dialects
async def test_a_preview_leaves_no_trace(settings: Settings, db: Database, territory: Territory) -> None:
    clock = Clock(in_2026(2, 9))
    town = Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)
    world = await build(town, clock.now)
    before = await town.fingerprint()
    for preview in (
        cancel_workshop_and_notify(ctx=town.ctx, workshop_id=world.workshop, reason="x", actor=JULIE, preview=True),
        move_workshop_and_notify(
            ctx=town.ctx, workshop_id=world.workshop, new_start="15:00", actor=JULIE, preview=True
        ),
        import_planning(ctx=town.ctx, data=planning_csv(in_2026(16, 0)), actor=JULIE, dry_run=True),
        edit_workshop_and_notify(
            ctx=town.ctx, workshop_id=world.workshop, edit=WorkshopEdit(capacity=6), actor=JULIE, preview=True
        ),
    ):
        await preview
    assert await town.fingerprint() == before


# ---------------------------------------------------------------------------------------------------------------
# The command line: who is recorded


runner = CliRunner()
SYSTEM_USER = "marie"  # the operating system's login name in these tests


@dataclass(frozen=True)
class Command:
    label: str
    args: Callable[[World], list[str]]
    actions: tuple[str, ...]
    actor: str = SYSTEM_USER
    registered: bool = False  # recorded with the adviser's number
    stdin: str | None = None


def _in_days(days: int) -> str:
    return f"{datetime.now(UTC) + timedelta(days=days):%d/%m/%Y}"


COMMANDS = [
    Command("workshops add", lambda w: ["workshops", "add", "--date", _in_days(10), "--start", "14:00", "--end",
            "16:00", "--commune", "Domérat", "--level", "1", "--topic", "Tablette"], ("workshop_added",)),
    Command("workshops import", lambda w: ["workshops", "import", "-"], ("planning_imported",),
            stdin=planning_csv(datetime.now(UTC) + timedelta(days=12)).decode()),
    Command("workshops cancel --as", lambda w: ["workshops", "cancel", str(w.workshop), "--reason", "salle prise",
            "--yes", "--as", "julie"], ("workshop_cancelled",), "Julie Martin", registered=True),
    Command("workshops move --author", lambda w: ["workshops", "move", str(w.workshop), "--start", "15:00", "--yes",
            "--author", "Julie Martin"], ("workshop_moved",), "Julie Martin", registered=True),
    Command("workshops attendance", lambda w: ["workshops", "attendance", str(w.started), "--present", str(w.rose)],
            ("attendance",)),
    Command("enrol --adviser", lambda w: ["enrol", "--name", "Lucie Roy", "--phone", "06 11 22 33 44", "--commune",
            "st victor", "--workshop", str(w.workshop), "--adviser", "Julie"], ("enrolled_by_phone",),
            "Julie Martin", registered=True),
    Command("broadcast --as someone unregistered", lambda w: ["broadcast", "--workshop", str(w.workshop), "Bonjour",
            "--yes", "--as", "Bénévole du jeudi"], ("broadcast_sent",), "Bénévole du jeudi"),
    Command("callbacks done --by", lambda w: ["callbacks", "done", str(w.callback), "--by", "Julie"],
            ("callback_done",), "Julie Martin", registered=True),
    Command("calls done --as", lambda w: ["calls", "done", str(w.call), "--outcome", "vient", "--as", "julie"],
            ("call_done",), "Julie Martin", registered=True),
    Command("residents unenrol", lambda w: ["residents", "unenrol", str(w.anne), "--workshop", str(w.workshop),
            "--yes"], ("resident_unenrolled",)),
    Command("residents move", lambda w: ["residents", "move", str(w.anne), "--to", str(w.later), "--yes", "--as",
            "Julie"], ("resident_moved",), "Julie Martin", registered=True),
    Command("workshops walk-in", lambda w: ["workshops", "walk-in", str(w.started), "--name", "Lucie Roy"],
            ("walk_in",)),
    Command("workshops edit", lambda w: ["workshops", "edit", str(w.workshop), "--capacity", "6", "--yes"],
            ("workshop_edited",)),
    Command("residents erase", lambda w: ["residents", "erase", str(w.anne), "--yes"], ("resident_erased",)),
    Command("advisers add", lambda w: ["advisers", "add", "--name", "Marc Petit", "--email", "marc@example.fr"],
            ("adviser_added",)),
    Command("advisers password", lambda w: ["advisers", "password", CLAIRE], ("password_set",),
            stdin="un mot de passe assez long\n"),
    Command("demo", lambda w: ["demo"], ("demo_loaded", "adviser_added")),
]  # fmt: skip


def _cli_world(db_url: str, territory: Territory) -> World:
    async def main() -> World:
        db = Database.from_url(db_url)
        clock = Clock(datetime.now(UTC))
        ctx = Context(settings=load_settings({"ATELIER_DATABASE_URL": db_url}), db=db, territory=territory, clock=clock)
        try:
            return await build(Town(ctx, clock), clock.now)
        finally:
            await db.dispose()

    return asyncio.run(main())


def _trail(db_url: str) -> list[tuple[str, str, bool, str]]:
    async def main() -> list[tuple[str, str, bool, str]]:
        db = Database.from_url(db_url)
        try:
            async with db.read() as session:
                events = (await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars()
                return [(e.interface, e.actor, e.adviser_id is not None, e.action) for e in events]
        finally:
            await db.dispose()

    return asyncio.run(main())


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.label)
def test_every_changing_command_records_who(command: Command, db_url: str, territory: Territory) -> None:
    world = _cli_world(db_url, territory)
    before = _trail(db_url)
    env = {"ATELIER_DATABASE_URL": db_url, "ATELIER_QUIET_HOURS": "none", "COLUMNS": "200"}
    env |= {"LOGNAME": SYSTEM_USER, "USER": SYSTEM_USER, "LNAME": SYSTEM_USER, "USERNAME": SYSTEM_USER}
    result = runner.invoke(app, command.args(world), env=env, input=command.stdin)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert _trail(db_url)[len(before) :] == [
        ("cli", command.actor, command.registered, action) for action in command.actions
    ]
