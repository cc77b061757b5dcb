"""The hot path's statements run straight on pysqlite give what SQLAlchemy gives (issue 16, ``storage/prepared.py``).

Every statement of a resident's message (``storage/turns.py``) is run both ways on SQLite's writer connection, in
the same transaction, on a database where a resident signed up, was seated and talks: through SQLAlchemy's
``Connection.execute`` and prepared once for pysqlite. A read must give the same rows, value for value and type for
type (aware datetimes, enums, JSON); a write must leave the same table behind (each is rolled back after it is
looked at), the Python-side defaults included (``created_at``, ``updated_at``: the wall clock's, so compared as
aware and recent). SQLite only: elsewhere the statements go through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Connection, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.context import Context
from bot.territory import Territory
from storage import delivery, residents, seats, turns
from storage.catalogue import household_statement, open_workshops_statement
from storage.database import Database, insert_or_skip_statement
from storage.enums import Channel, EnrolmentStatus, Level
from storage.models import (
    Conversation,
    Enrolment,
    InboundMessage,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
)
from storage.outbox import queueing
from storage.outbox.queueing import NewMessage, message_values
from storage.prepared import execute
from storage.sqlite_writer import InlineConnection
from tests.helpers.clock import Clock
from tests.helpers.world import Town, in_2026

MARTINE = "+33622000031"
ODETTE = "+33622000032"  # nobody talks from this number yet
NOW = in_2026(2, 9)
WALL_CLOCK = frozenset({"created_at", "updated_at"})  # defaults that read the wall clock, not the injected one


@dataclass(frozen=True)
class Known:
    resident: int
    inbound: int
    reply: int  # a reply answered in TwiML: no provider id yet
    workshop: int  # where the resident is seated
    enrolment: int  # their seat there
    later: int  # another workshop, where nobody is enrolled


@dataclass(frozen=True)
class Case:
    label: str
    statement: Callable[[], Any]
    parameters: Callable[[Known], dict[str, Any]]
    table: Table | None = None  # a write: the table compared after it (None: a read, its rows compared)
    changes: bool = True  # a write: it changes its table (else it must leave it as it was)


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _start(by_phone: bool) -> Callable[[Known], dict[str, Any]]:
    def parameters(known: Known) -> dict[str, Any]:
        return {
            "channel": Channel.sms,
            "address": MARTINE,
            "who": MARTINE if by_phone else 5551,
            "since": NOW - timedelta(days=2),
            "replies_since": NOW - timedelta(hours=1),
            "marker": "#notice",
        }

    return parameters


def _reply(key: str) -> Callable[[Known], dict[str, Any]]:
    def parameters(known: Known) -> dict[str, Any]:
        message = NewMessage(
            channel=Channel.sms,
            to_address=MARTINE,
            body="Merci, à bientôt !",
            kind=MessageKind.reply,
            due_at=NOW,
            idempotency_key=key,
            choices=("Oui", "Non"),
            resident_id=known.resident,
            inbound_id=known.inbound,
            change={"was": "mardi"},
            status=MessageStatus.sent,
            sent_at=NOW,
            unconfirmed_until=NOW + timedelta(minutes=5),
        )
        return message_values(message)

    return parameters


def _conversation(step: str, address: str = MARTINE) -> Callable[[Known], dict[str, Any]]:
    def parameters(known: Known) -> dict[str, Any]:
        where = {"channel": Channel.sms, "address": address}
        return where | {"resident_id": known.resident, "step": step, "data": {"é": [1, "deux"]}, "updated_at": NOW}

    return parameters


def _report(known: Known, status: MessageStatus, *, oid: int | None, error: str | None) -> dict[str, Any]:
    """``record_status``'s parameters: the reply named by ``oid`` (no provider id yet), else the one sent as SM-sent."""
    return {"pid": "SM-sent" if oid is None else "SM-reply", "oid": oid, "status": status} | {
        "rank": delivery._RANK[status],
        "now": NOW + timedelta(seconds=5),
        "error": error,
    }


INBOUND, OUTBOX, CONVERSATIONS, RESIDENTS, ENROLMENTS = (
    _table(InboundMessage),
    _table(OutboundMessage),
    _table(Conversation),
    _table(Resident),
    _table(Enrolment),
)


def _seat(known: Known, status: EnrolmentStatus, position: int | None) -> dict[str, Any]:
    return {"to_status": status, "to_position": position, "adviser": None, "at": NOW + timedelta(minutes=5)}


CASES = [
    Case("a turn's start, by phone", lambda: turns._start_statement(by_phone=True), _start(True)),
    Case("a turn's start, by Telegram chat", lambda: turns._start_statement(by_phone=False), _start(False)),
    Case("the household's bookings", household_statement, lambda k: {"resident_id": k.resident, "now": NOW}),
    Case("the workshops open for sign-up", open_workshops_statement, lambda k: {"starting_after": NOW}),
    Case(
        "a message delivered again: its row",
        turns._inbound_id_statement,
        lambda k: {"channel": Channel.sms, "provider_id": "SM-known"},
    ),
    Case(
        "a new message recorded",
        lambda: insert_or_skip_statement("sqlite", INBOUND, ("channel", "provider_id")),
        lambda k: {"channel": Channel.sms, "provider_id": "SM-new", "body": "Bonjour ça va ?", "received_at": NOW},
        INBOUND,
    ),
    Case(
        "a message delivered again is not recorded twice",
        lambda: insert_or_skip_statement("sqlite", INBOUND, ("channel", "provider_id")),
        lambda k: {"channel": Channel.sms, "provider_id": "SM-known", "body": "encore", "received_at": NOW},
        INBOUND,
        changes=False,
    ),
    Case(
        "a reply queued, defaults filled",
        lambda: insert_or_skip_statement("sqlite", OUTBOX, ("idempotency_key",)),
        _reply("reply:new"),
        OUTBOX,
    ),
    Case(
        "a conversation started (the upsert's insert)",
        lambda: turns._upsert_statement("sqlite"),
        _conversation("gathering", address=ODETTE),
        CONVERSATIONS,
    ),
    Case(
        "a conversation moved on (the upsert's update)",
        lambda: turns._upsert_statement("sqlite"),
        _conversation("offering"),
        CONVERSATIONS,
    ),
    Case(
        "a conversation forgotten",
        turns._forget_statement,
        lambda k: {"channel": Channel.sms, "address": MARTINE},
        CONVERSATIONS,
    ),
    Case(
        "the resident's activity",
        turns._activity_statement,
        lambda k: {"row": k.resident, "at": NOW + timedelta(minutes=3), "channel": Channel.telegram},
        RESIDENTS,
    ),
    Case(
        "the message made theirs",
        turns._attribution_statement,
        lambda k: {"row": k.inbound, "resident": k.resident},
        INBOUND,
    ),
    Case("what an erased resident wrote blanked", turns._blank_statement, lambda k: {"row": k.inbound}, INBOUND),
    Case(
        "a delivery report on a reply answered in TwiML",
        delivery._report_statement,
        lambda k: _report(k, MessageStatus.delivered, oid=k.reply, error=None),
        OUTBOX,
    ),
    Case(
        "a failure report on a message it names",
        delivery._report_statement,
        lambda k: _report(k, MessageStatus.failed, oid=None, error="30006"),
        OUTBOX,
    ),
    Case("a seating's workshop locked", seats._lock_row_statement, lambda k: {"workshop_id": k.workshop}),
    Case(
        "what a seating reads, for two people",
        lambda: seats._seating_statement(2),
        lambda k: {"workshop_id": k.workshop, "resident_0": k.resident, "resident_1": k.resident + 1},
    ),
    Case(
        "the rows people already have in a workshop",
        lambda: seats._theirs_statement(1),
        lambda k: {"workshop_id": k.workshop, "resident_0": k.resident},
    ),
    Case(
        "a seat taken, defaults filled",
        seats._insert_statement,
        lambda k: _seat(k, EnrolmentStatus.seated, None) | {"resident": k.resident, "workshop_id": k.later},
        ENROLMENTS,
    ),
    Case(
        "a row taken again, on the waiting list",
        seats._rewrite_statement,
        lambda k: _seat(k, EnrolmentStatus.waiting, 3) | {"row": k.enrolment},
        ENROLMENTS,
    ),
    Case("the people on a phone", residents._household_statement, lambda k: {"holder": k.resident}),
    Case(
        "a resident added, defaults filled",
        residents._add_statement,
        lambda k: {
            "phone": ODETTE,
            "telegram_chat_id": None,
            "preferred_channel": Channel.sms,
            "interests": [],
            "created_at": NOW,
            "last_activity_at": NOW,
        },
        RESIDENTS,
    ),
    Case(
        "a profile saved, the first consent kept",
        residents._profile_statement,
        lambda k: {
            "row": k.resident,
            "to_name": "Martine Dupont-Léger",
            "to_commune": "03101",
            "to_level": Level.intermediate,
            "to_interests": ["Impôts", "E-mail"],
            "at": NOW + timedelta(days=1),
            "channel": Channel.telegram,
        },
        RESIDENTS,
    ),
    Case(
        "a seat's pending reminders cancelled",
        lambda: queueing._cancel_statement(frozenset({"enrolment"}), (MessageKind.reminder,)),
        lambda k: {"enrolment": k.enrolment},
        OUTBOX,
    ),
    Case(
        "pending messages cancelled by resident and channel",
        lambda: queueing._cancel_statement(frozenset({"resident", "on_channel"}), None),
        lambda k: {"resident": k.resident, "on_channel": Channel.sms},
        OUTBOX,
    ),
    Case(
        "a report on no message we know",
        delivery._report_statement,
        lambda k: {**_report(k, MessageStatus.sent, oid=None, error=None), "pid": "SM-unknown"},
        OUTBOX,
        changes=False,
    ),
]


class _Looked(Exception):  # noqa: N818 - not an error: carries what was seen out of a transaction rolled back
    def __init__(self, seen: Any) -> None:
        super().__init__()
        self.seen = seen


async def _seen(db: Database, look: Callable[[Connection], Any]) -> Any:
    """What ``look`` sees on the writer's connection, in a transaction then rolled back."""

    async def work(session: AsyncSession) -> None:
        def on_writer(sync: Any) -> Any:
            connection = sync.connection()
            assert isinstance(connection.connection.driver_connection, InlineConnection)  # the prepared way runs
            return look(connection)

        raise _Looked(await session.run_sync(on_writer))

    with pytest.raises(_Looked) as looked:
        await db.transaction(work)
    return looked.value.seen


def _comparable(rows: list[tuple[Any, ...]], table: Table) -> list[tuple[Any, ...]]:
    """The rows with the wall clock's defaults checked (aware, recent) and left out of the comparison."""
    names = [column.name for column in table.columns]
    kept = []
    for row in rows:
        for name, value in zip(names, row, strict=True):
            if name in WALL_CLOCK:
                assert value is not None and value.tzinfo is not None, (name, value)
                recent = abs(datetime.now(UTC) - value) < timedelta(minutes=5)
                assert recent or abs(value - NOW) < timedelta(days=1), (name, value)  # the clock's or the tests'
        kept.append(tuple(v for n, v in zip(names, row, strict=True) if n not in WALL_CLOCK))
    return kept


@pytest.fixture
async def known(settings: Settings, db: Database, territory: Territory) -> Known:
    clock = Clock(NOW)
    town = Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)
    workshop = await town.workshop("Saint-Victor", in_2026(9, 14))
    later = await town.workshop("Saint-Victor", in_2026(9, 21))
    resident = await town.resident("Martine Dupont", phone=MARTINE)
    enrolment = await town.seat(resident, workshop)
    for text in ("Bonjour", "2"):
        await town.say(MARTINE, text)  # replies, inbound rows
    replies = await town.messages(kind=MessageKind.reply)
    async with db.write() as session:
        inbound = InboundMessage(channel=Channel.sms, provider_id="SM-known", body="Bonjour", received_at=NOW)
        session.add(inbound)
        # A conversation under way (what the upsert updates and the forgetting deletes).
        talk = {"channel": Channel.sms, "address": MARTINE, "resident_id": resident, "step": "gathering"}
        session.add(Conversation(**talk, data={"name": "Martine"}, updated_at=NOW - timedelta(minutes=1)))
        reply = await session.get(OutboundMessage, replies[-1].id)
        sent = await session.get(OutboundMessage, replies[0].id)
        assert reply is not None and sent is not None
        reply.provider_id, reply.status, reply.claimed_at = None, MessageStatus.sending, NOW
        sent.provider_id, sent.status = "SM-sent", MessageStatus.sent
        await session.flush()
        return Known(resident, inbound.id, reply.id, workshop, enrolment, later)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_a_statement_prepared_for_pysqlite_gives_what_sqlalchemy_gives(
    case: Case, db: Database, known: Known
) -> None:
    statement, parameters = case.statement(), case.parameters(known)

    def by_sqlalchemy(connection: Connection) -> list[tuple[Any, ...]]:
        result = connection.execute(statement, parameters)
        return [tuple(row) for row in result] if result.returns_rows else []

    def by_pysqlite(connection: Connection) -> list[tuple[Any, ...]]:
        return execute(connection, statement, parameters)

    def table_after(run: Callable[[Connection], list[tuple[Any, ...]]]) -> Callable[[Connection], Any]:
        def look(connection: Connection) -> Any:
            assert case.table is not None
            returned = run(connection)
            rows = [tuple(row) for row in connection.execute(select(case.table).order_by(case.table.c.id))]
            return returned, _comparable(rows, case.table)

        return look

    if case.table is None:
        expected = await _seen(db, by_sqlalchemy)
        assert expected, "a read that finds nothing compares nothing"
        got = await _seen(db, by_pysqlite)
        assert got == expected
        assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]
    else:
        before = await _seen(db, table_after(lambda connection: []))
        expected = await _seen(db, table_after(by_sqlalchemy))
        got = await _seen(db, table_after(by_pysqlite))
        assert (expected[1] != before[1]) is case.changes, "the write changes its table, or leaves it, as meant"
        assert got == expected
        assert [[type(v) for v in row] for row in got[1]] == [[type(v) for v in row] for row in expected[1]]
