"""The outbox and residents' storage operations, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.channels import SMS, TELEGRAM
from bot.cli import app as cli
from bot.config import Settings
from bot.context import Context
from bot.service.outbox_views import list_messages
from bot.territory import Territory
from storage.database import Database
from storage.enums import Channel
from storage.inbound import record_inbound
from storage.models import (
    EnrolmentStatus,
    ErasedIdentity,
    MessageKind,
    MessageStatus,
    OutboundMessage,
)
from storage.outbox.claiming import Outcome, lock_due, mark_claimed, record_outcomes
from storage.outbox.queueing import (
    PRIORITY_ANSWER,
    PRIORITY_NORMAL,
    PRIORITY_URGENT,
    NewMessage,
    cancel_pending,
    enqueue,
    enqueue_many,
    replies_for_inbound,
)
from storage.residents import erase_resident, inactive_residents, mark_sms_unreachable, set_opt_out
from tests.helpers.scheduling import make_enrolment, make_resident, make_workshop, message, outbox, resident

# On both databases: claims (SKIP LOCKED vs BEGIN IMMEDIATE), leases, idempotency keys (ON CONFLICT), the pace row.
pytestmark = pytest.mark.both_dialects


async def queue(
    db: Database,
    key: str,
    now: datetime,
    *,
    kind: MessageKind = MessageKind.broadcast,
    channel: Channel = SMS,
    resident_id: int | None = None,
    enrolment_id: int | None = None,
    due: timedelta = timedelta(0),
    urgent: bool = False,
) -> int | None:
    async with db.write() as session:
        return await enqueue(
            session=session,
            message=NewMessage(
                channel=channel,
                to_address="+33612340000",
                body=f"message {key}",
                kind=kind,
                due_at=now + due,
                idempotency_key=key,
                resident_id=resident_id,
                enrolment_id=enrolment_id,
                urgent=urgent,
            ),
        )


async def test_enqueue_twice_with_one_key_queues_once(db: Database, now: datetime) -> None:
    first = await queue(db, "reminder:1:x:-1d", now)
    second = await queue(db, "reminder:1:x:-1d", now)
    assert first is not None and second is None
    assert len(await outbox(db)) == 1


async def test_enqueue_fills_the_defaults(db: Database, now: datetime) -> None:
    async with db.write() as session:
        queued = await enqueue(
            session=session,
            message=NewMessage(
                channel=TELEGRAM,
                to_address="123",
                body="Rappel",
                kind=MessageKind.reminder,
                due_at=now,
                idempotency_key="k",
                choices=("OUI", "NON"),
            ),
        )
        row = await session.get(OutboundMessage, queued) if queued is not None else None
    assert row is not None
    assert (row.status, row.attempts, row.choices, row.priority) == (MessageStatus.pending, 0, ["OUI", "NON"], 2)


@pytest.mark.parametrize(
    ("kind", "urgent", "inbound", "priority"),
    [
        (MessageKind.reply, False, False, PRIORITY_ANSWER),
        (MessageKind.confirmation, False, True, PRIORITY_ANSWER),
        (MessageKind.change_notice, True, False, PRIORITY_URGENT),
        (MessageKind.broadcast, False, False, PRIORITY_NORMAL),
    ],
    ids=["reply", "answer to an inbound", "urgent notice", "broadcast"],
)
async def test_priority(
    db: Database, now: datetime, kind: MessageKind, urgent: bool, inbound: bool, priority: int
) -> None:
    async with db.write() as session:
        inbound_id = None
        if inbound:
            record, _ = await record_inbound(session=session, channel=SMS, provider_id="SM1", body="oui", now=now)
            inbound_id = record.id
        queued = await enqueue(
            session=session,
            message=NewMessage(
                channel=SMS,
                to_address="+33612340000",
                body="x",
                kind=kind,
                due_at=now,
                idempotency_key="k",
                urgent=urgent,
                inbound_id=inbound_id,
            ),
        )
        row = await session.get(OutboundMessage, queued) if queued is not None else None
    assert row is not None and row.priority == priority


# (label, filters on the first resident or the workshop, which of a b c d e end cancelled). a: the first resident's
# SMS reminder, b: their reply, c: another resident's reminder, d: the first resident's Telegram reminder, e: their
# promotion notice, already sent.
CANCEL_CASES = [
    ("one kind, one channel", {"kinds": [MessageKind.reminder], "channel": SMS}, "a"),
    ("several kinds", {"kinds": [MessageKind.reminder, MessageKind.reply]}, "abd"),
    ("no kind at all: nothing", {"kinds": []}, ""),
    ("every kind (no kinds given)", {}, "abd"),
    ("a channel alone", {"channel": TELEGRAM}, "d"),
]


@pytest.mark.parametrize(("filters", "cancelled"), [c[1:] for c in CANCEL_CASES], ids=[c[0] for c in CANCEL_CASES])
async def test_cancel_pending_only_touches_pending_rows_matching_every_filter(
    db: Database, now: datetime, filters: dict[str, Any], cancelled: str
) -> None:
    resident_id = await make_resident(db, 1)
    other = await make_resident(db, 2)
    queued = {
        "a": await queue(db, "a", now, resident_id=resident_id, kind=MessageKind.reminder),
        "b": await queue(db, "b", now, resident_id=resident_id, kind=MessageKind.reply),
        "c": await queue(db, "c", now, resident_id=other, kind=MessageKind.reminder),
        "d": await queue(db, "d", now, resident_id=resident_id, kind=MessageKind.reminder, channel=TELEGRAM),
        "e": await queue(db, "e", now, resident_id=resident_id, kind=MessageKind.promotion),
    }
    rows = {name: row for name, row in queued.items() if row is not None}
    assert len(rows) == 5
    async with db.write() as session:
        sent = await session.get(OutboundMessage, rows["e"])
        assert sent is not None
        sent.status = MessageStatus.sent
    async with db.write() as session:
        count = await cancel_pending(session=session, resident_id=resident_id, **filters)
    assert count == len(cancelled)
    statuses = {m.id: m.status for m in await outbox(db)}
    gone = "".join(name for name, row in rows.items() if statuses[row] == MessageStatus.cancelled)
    assert gone == cancelled
    async with db.write() as session:
        with pytest.raises(ValueError, match="needs"):
            await cancel_pending(session=session)


async def test_replies_for_inbound_in_order(db: Database, now: datetime) -> None:
    async with db.write() as session:
        record, _ = await record_inbound(session=session, channel=SMS, provider_id="SM9", body="bjr", now=now)
        for index in (0, 1):
            await enqueue(
                session=session,
                message=NewMessage(
                    channel=SMS,
                    to_address="+33612340000",
                    body=f"réponse {index}",
                    kind=MessageKind.reply,
                    due_at=now,
                    idempotency_key=f"reply:{record.id}:{index}",
                    inbound_id=record.id,
                    status=MessageStatus.sent,
                    sent_at=now,
                ),
            )
        replies = await replies_for_inbound(session=session, inbound_id=record.id)
    assert [r.body for r in replies] == ["réponse 0", "réponse 1"]
    assert all(r.status == MessageStatus.sent and r.attempts == 1 for r in replies)


async def test_lock_due_orders_answers_first_and_skips_what_is_not_due(db: Database, now: datetime) -> None:
    late = await queue(db, "late", now, due=timedelta(minutes=5))
    old = await queue(db, "old", now, due=-timedelta(hours=1))
    urgent = await queue(db, "urgent", now, urgent=True, kind=MessageKind.change_notice)
    reply = await queue(db, "reply", now, kind=MessageKind.reply)
    telegram = await queue(db, "tg", now, channel=TELEGRAM)
    async with db.write() as session:
        due = await lock_due(session=session, channel=SMS, now=now, limit=10)
    assert [m.id for m in due] == [reply, urgent, old]
    assert late not in [m.id for m in due] and telegram not in [m.id for m in due]


async def test_a_claimed_row_comes_back_in_doubt_when_its_lease_runs_out(db: Database, now: datetime) -> None:
    row = await queue(db, "k", now)
    assert row is not None
    lease = now + timedelta(seconds=20)
    async with db.write() as session:
        [due] = await lock_due(session=session, channel=SMS, now=now, limit=10)
        await mark_claimed(session=session, ids=[due.id], now=now, lease_until=lease)
    async with db.write() as session:
        assert await lock_due(session=session, channel=SMS, now=now + timedelta(seconds=19), limit=10) == []
    later = now + timedelta(seconds=21)
    async with db.write() as session:
        [again] = await lock_due(session=session, channel=SMS, now=later, limit=10)
        await mark_claimed(
            session=session, ids=[row], now=later, lease_until=later + timedelta(seconds=20), in_doubt=True
        )
    assert again.in_doubt_since == now
    stored = await message(db, row)
    assert stored.claimed_at == now  # the first claim is kept: a lookup searches from there
    # the first worker's late result does not overwrite the second claim
    async with db.write() as session:
        await record_outcomes(
            session=session, outcomes=[Outcome(row, MessageStatus.failed, claim=lease, error="late")], now=later
        )
    assert (await message(db, row)).status == MessageStatus.sending
    async with db.write() as session:
        outcome = Outcome(
            row, MessageStatus.sent, claim=later + timedelta(seconds=20), provider_id="SM1", sent_at=later
        )
        await record_outcomes(session=session, outcomes=[outcome], now=later)
    stored = await message(db, row)
    assert (stored.status, stored.provider_id, stored.lease_until) == (MessageStatus.sent, "SM1", None)


async def test_concurrent_claims_never_share_a_row(db_url: str, db: Database, now: datetime) -> None:
    async with db.write() as session:
        for index in range(60):
            await enqueue(
                session=session,
                message=NewMessage(
                    channel=SMS,
                    to_address="+33612340000",
                    body="x",
                    kind=MessageKind.broadcast,
                    due_at=now,
                    idempotency_key=f"k{index}",
                ),
            )
    others = [Database.from_url(db_url) for _ in range(3)]

    async def claim(database: Database) -> list[int]:
        got: list[int] = []
        while True:
            async with database.write() as session:
                due = await lock_due(session=session, channel=SMS, now=now, limit=7)
                await mark_claimed(
                    session=session, ids=[m.id for m in due], now=now, lease_until=now + timedelta(minutes=1)
                )
            if not due:
                return got
            got += [m.id for m in due]
            await asyncio.sleep(0)

    try:
        claimed = await asyncio.gather(*(claim(d) for d in others))
    finally:
        for database in others:
            await database.dispose()
    every = [i for ids in claimed for i in ids]
    assert len(every) == 60 and len(set(every)) == 60


async def test_erase_resident_forgets_them_and_gives_their_seat_away(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now + timedelta(days=3), capacity=1)
    leaving = await make_resident(db, 1, interests=["email"], telegram_chat_id=42)
    waiting = await make_resident(db, 2)
    seat = await make_enrolment(db, leaving, workshop)
    await make_enrolment(db, waiting, workshop, EnrolmentStatus.waiting, position=1)
    pending = await queue(db, "reminder", now, resident_id=leaving, kind=MessageKind.reminder, enrolment_id=seat)
    async with db.write() as session:
        promoted = await erase_resident(session=session, resident_id=leaving, identity_hash="h" * 64, now=now)
    assert [e.resident_id for e in promoted] == [waiting]
    gone = await resident(db, leaving)
    assert (gone.erased, gone.name, gone.phone, gone.telegram_chat_id, gone.interests) == (True, None, None, None, [])
    row = await message(db, pending or 0)
    assert (row.status, row.to_address, row.body) == (MessageStatus.cancelled, "", "")
    async with db.read() as session:
        assert await session.get(ErasedIdentity, "h" * 64) is not None
    async with db.write() as session:
        assert await erase_resident(session=session, resident_id=leaving, identity_hash="h" * 64, now=now) == []


async def test_erase_close_to_the_start_promotes_nobody(db: Database, now: datetime) -> None:
    workshop = await make_workshop(db, now + timedelta(hours=2), capacity=1)
    leaving, waiting = await make_resident(db, 1), await make_resident(db, 2)
    await make_enrolment(db, leaving, workshop)
    await make_enrolment(db, waiting, workshop, EnrolmentStatus.waiting, position=1)
    async with db.write() as session:
        promoted = await erase_resident(
            session=session, resident_id=leaving, identity_hash=None, now=now, promotion_cutoff=timedelta(hours=3)
        )
    assert promoted == []


async def test_opt_out_cancels_pending_messages_on_that_channel_except_answers(db: Database, now: datetime) -> None:
    resident_id = await make_resident(db, 1)
    reminder = await queue(db, "r", now, resident_id=resident_id, kind=MessageKind.reminder)
    reply = await queue(db, "a", now, resident_id=resident_id, kind=MessageKind.reply)
    telegram = await queue(db, "t", now, resident_id=resident_id, kind=MessageKind.reminder, channel=TELEGRAM)
    async with db.write() as session:
        assert await set_opt_out(session=session, resident_id=resident_id, channel=SMS, opted_out=True) == 1
    statuses = {m.id: m.status for m in await outbox(db)}
    assert statuses[reminder or 0] == MessageStatus.cancelled
    assert statuses[reply or 0] == statuses[telegram or 0] == MessageStatus.pending
    assert (await resident(db, resident_id)).opted_out_sms
    async with db.write() as session:
        assert await set_opt_out(session=session, resident_id=resident_id, channel=SMS, opted_out=False) == 0
    assert not (await resident(db, resident_id)).opted_out_sms


async def test_unreachable_number_cancels_every_pending_sms(db: Database, now: datetime) -> None:
    resident_id = await make_resident(db, 1)
    await queue(db, "r", now, resident_id=resident_id, kind=MessageKind.reminder)
    await queue(db, "a", now, resident_id=resident_id, kind=MessageKind.reply)
    async with db.write() as session:
        assert await mark_sms_unreachable(session=session, resident_id=resident_id) == 2
    assert (await resident(db, resident_id)).sms_unreachable


async def test_inactive_residents(db: Database, now: datetime) -> None:
    before = now - timedelta(days=720)
    old = await make_resident(db, 1, last_activity_at=before - timedelta(days=1))
    await make_resident(db, 2, last_activity_at=now)
    busy = await make_resident(db, 3, last_activity_at=before - timedelta(days=1))
    await make_resident(db, 4, last_activity_at=before - timedelta(days=1), erased=True)
    await make_enrolment(db, busy, await make_workshop(db, now + timedelta(days=2)))
    async with db.read() as session:
        assert await inactive_residents(session=session, before=before) == [old]


async def test_list_messages_filters(db: Database, now: datetime, settings: Settings, territory: Territory) -> None:
    await queue(db, "a", now, kind=MessageKind.reminder)
    await queue(db, "b", now, kind=MessageKind.broadcast, due=timedelta(hours=1))
    ctx = Context(settings=settings, db=db, territory=territory)
    everything = await list_messages(ctx=ctx)
    reminders = await list_messages(ctx=ctx, kind=MessageKind.reminder)
    sent = await list_messages(ctx=ctx, status=MessageStatus.sent)
    assert [m.body for m in everything] == ["message b", "message a"]  # the body names the key (``queue``)
    assert [m.body for m in reminders] == ["message a"] and sent == []


async def test_outbox_rows_are_plain_rows(db: Database, now: datetime) -> None:
    await queue(db, "a", now)
    async with db.read() as session:
        assert (await session.scalars(select(OutboundMessage.idempotency_key))).all() == ["a"]


@pytest.mark.parametrize(
    ("args", "expect_exit", "expect_keys"),
    [
        (["--json"], 0, ["reminder", "reply"]),
        (["--json", "--kind", "reminder"], 0, ["reminder"]),
        (["--json", "--status", "sent"], 0, ["reply"]),
        (["--status", "bogus"], 1, []),
        ([], 0, []),
    ],
    ids=["everything", "by kind", "by status", "an unknown status is refused kindly", "table"],
)
def test_messages_list_command(db_url: str, args: list[str], expect_exit: int, expect_keys: list[str]) -> None:
    now = datetime.now(UTC)

    async def seed() -> None:
        database = Database.from_url(db_url)
        try:
            async with database.write() as session:
                for key, kind, status in (
                    ("reply", MessageKind.reply, MessageStatus.sent),
                    ("reminder", MessageKind.reminder, MessageStatus.pending),
                ):
                    await enqueue(
                        session=session,
                        message=NewMessage(
                            channel=SMS,
                            to_address="+33612345678",
                            body=f"texte {key}",
                            kind=kind,
                            due_at=now if key == "reply" else now + timedelta(hours=1),
                            idempotency_key=key,
                            status=status,
                            sent_at=now if status == MessageStatus.sent else None,
                        ),
                    )
        finally:
            await database.dispose()

    asyncio.run(seed())
    result = CliRunner().invoke(
        cli, ["messages", "list", *args], env={"ATELIER_DATABASE_URL": db_url, "COLUMNS": "200"}
    )
    assert result.exit_code == expect_exit, (result.stdout, result.stderr)
    if expect_exit:
        assert "statut inconnu" in result.stderr and "Traceback" not in result.stderr
    elif "--json" in args:
        rows = json.loads(result.stdout)
        assert [r["body"].removeprefix("texte ") for r in rows] == expect_keys
        assert set(rows[0]) == {"id", "resident_id", "channel", "to", "kind", "body", "choices", "due_at", "status",
                                "attempts", "provider_id", "error"}  # fmt: skip
        assert rows[0]["to"] == "+33612345678"  # advisers see full numbers
        assert datetime.fromisoformat(rows[0]["due_at"]).utcoffset() is not None
    else:
        assert "06 12 34 56 78" in result.stdout and "rappel" in result.stdout  # the number as advisers dial it


async def test_enqueue_many_skips_keys_already_queued(db: Database, now: datetime) -> None:
    await queue(db, "b:2", now)
    messages = [
        NewMessage(channel=SMS, to_address=f"+3361234000{i}", body="Info", kind=MessageKind.broadcast, due_at=now,
                   idempotency_key=f"b:{i}", urgent=i == 3)
        for i in range(1, 4)
    ]  # fmt: skip
    async with db.write() as session:
        added = await enqueue_many(session=session, messages=messages)
    assert len(added) == 2
    rows = {m.idempotency_key: m for m in await outbox(db)}
    assert set(rows) == {"b:1", "b:2", "b:3"}
    assert (rows["b:3"].priority, rows["b:1"].priority, rows["b:1"].status) == (1, 2, MessageStatus.pending)
