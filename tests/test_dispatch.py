"""The dispatcher's rules on both databases, with an injected clock and in-memory senders."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.channels import SMS, TELEGRAM, Outgoing, SendError
from bot.context import system_clock
from bot.scheduler.dispatch import Dispatcher
from bot.scheduler.jobs import start_jobs, stop_jobs
from bot.service.erasure import purge_inactive
from bot.territory import Territory
from storage.database import Database
from storage.enums import Channel
from storage.models import (
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Workshop,
    WorkshopStatus,
)
from storage.outbox.queueing import NewMessage, enqueue
from tests.helpers.clock import Clock, paris
from tests.helpers.pacing import Pacers, busiest_second
from tests.helpers.scheduling import (
    make_context,
    make_enrolment,
    make_resident,
    make_workshop,
    message,
    outbox,
    resident,
)
from tests.helpers.senders import LookupSender, RecordingSender, transient

# On both databases: the dispatcher's claims, leases and shared pace, several dispatchers on one database.
pytestmark = pytest.mark.both_dialects

MONDAY_10H = paris(2026, 3, 2, 10)
SEAT_KINDS = (MessageKind.reminder, MessageKind.promotion, MessageKind.confirmation)  # expire at the start


@dataclass(frozen=True)
class Case:
    label: str
    expect: MessageStatus
    sends: int = 0
    now: datetime = MONDAY_10H
    kind: MessageKind = MessageKind.reminder
    channel: Channel = SMS
    due: timedelta = -timedelta(minutes=1)
    expires: timedelta | None = timedelta(days=1)  # for kinds not tied to a seat (a seat's expiry is its start)
    starts_in: timedelta = timedelta(days=2)
    urgent: bool = False
    enrolment: EnrolmentStatus = EnrolmentStatus.seated
    workshop: str = "planned"  # or "cancelled", "moved"
    resident: dict[str, Any] = field(default_factory=dict)
    failure: SendError | None = None
    quiet: str = "20:00-08:30"
    sent_today: int = 0
    due_after: datetime | tuple[float, float] | None = None  # absolute, or seconds after now (low, high)
    error: str | None = None
    resident_after: dict[str, Any] = field(default_factory=dict)
    to: str | None = None  # the row's address, when not the resident's own


CASES = [
    Case("a due reminder is sent", MessageStatus.sent, sends=1),
    Case("not due yet", MessageStatus.pending, due=timedelta(minutes=5)),
    Case(
        "an expired broadcast is never sent late",
        MessageStatus.expired,
        kind=MessageKind.broadcast,
        expires=-timedelta(minutes=1),
    ),
    Case("a reminder once the workshop started", MessageStatus.expired, starts_in=-timedelta(minutes=1)),
    Case("the enrolment was cancelled", MessageStatus.cancelled, enrolment=EnrolmentStatus.cancelled, error="seated"),
    Case("waiting, not seated", MessageStatus.cancelled, enrolment=EnrolmentStatus.waiting),
    Case(
        "a promotion after the seat was given up",
        MessageStatus.cancelled,
        kind=MessageKind.promotion,
        enrolment=EnrolmentStatus.cancelled,
    ),
    Case(
        "a phone enrolment's confirmation to someone waiting is sent",
        MessageStatus.sent,
        sends=1,
        kind=MessageKind.confirmation,
        enrolment=EnrolmentStatus.waiting,
    ),
    Case(
        "a phone enrolment's confirmation after they cancelled",
        MessageStatus.cancelled,
        kind=MessageKind.confirmation,
        enrolment=EnrolmentStatus.cancelled,
        error="no longer enrolled",
    ),
    Case("the workshop was cancelled", MessageStatus.cancelled, workshop="cancelled"),
    Case("a reply to a number erased since", MessageStatus.cancelled, kind=MessageKind.reply, to="", error="erased"),
    Case("the workshop was moved", MessageStatus.cancelled, workshop="moved", error="moved"),
    Case("opted out of SMS", MessageStatus.cancelled, resident={"opted_out_sms": True}, error="opted out"),
    Case("erased", MessageStatus.cancelled, resident={"erased": True}),
    Case("a number that cannot receive SMS", MessageStatus.cancelled, resident={"sms_unreachable": True}),
    Case(
        "the STOP confirmation still leaves",
        MessageStatus.sent,
        sends=1,
        kind=MessageKind.reply,
        resident={"opted_out_sms": True},
    ),
    Case(
        "opted out of Telegram only: the SMS leaves", MessageStatus.sent, sends=1, resident={"opted_out_telegram": True}
    ),
    Case(
        "transient error: first retry within 30 s",
        MessageStatus.pending,
        failure=transient(),
        due_after=(15, 30),
        error="20503",
    ),
    Case(
        "Retry-After is honoured",
        MessageStatus.pending,
        failure=transient("20429", retry_after=120),
        due_after=(120, 120),
    ),
    Case(
        "transient error too close to the deadline",
        MessageStatus.expired,
        kind=MessageKind.broadcast,
        expires=timedelta(seconds=10),
        failure=transient(),
    ),
    Case(
        "permanent error: failed with its code",
        MessageStatus.failed,
        failure=SendError("refused", transient=False, code="21211"),
        error="21211",
    ),
    Case(
        "21610: the resident opted out at Twilio",
        MessageStatus.failed,
        failure=SendError("stop", transient=False, code="21610", opted_out=True),
        resident_after={"opted_out_sms": True},
    ),
    Case(
        "30006: a landline",
        MessageStatus.failed,
        failure=SendError("landline", transient=False, code="30006", unreachable=True),
        resident_after={"sms_unreachable": True},
    ),
    Case(
        "21:00 is quiet: waits for 08:30",
        MessageStatus.pending,
        now=paris(2026, 3, 2, 21),
        due_after=paris(2026, 3, 3, 8, 30),
    ),
    Case(
        "an urgent notice at 21:00 leaves",
        MessageStatus.sent,
        sends=1,
        now=paris(2026, 3, 2, 21),
        kind=MessageKind.change_notice,
        urgent=True,
    ),
    Case(
        "an urgent notice at 23:00 waits for 07:00",
        MessageStatus.pending,
        now=paris(2026, 3, 2, 23),
        kind=MessageKind.change_notice,
        urgent=True,
        due_after=paris(2026, 3, 3, 7),
    ),
    Case(
        "Sunday: a broadcast waits for Monday 08:30",
        MessageStatus.pending,
        now=paris(2026, 3, 8, 12),
        kind=MessageKind.broadcast,
        expires=None,
        due_after=paris(2026, 3, 9, 8, 30),
    ),
    Case(
        "14 July: waits for the 15th",
        MessageStatus.pending,
        now=paris(2026, 7, 14, 11),
        due_after=paris(2026, 7, 15, 8, 30),
    ),
    Case("an answer at 23:00 leaves", MessageStatus.sent, sends=1, now=paris(2026, 3, 2, 23), kind=MessageKind.reply),
    Case(
        "an adviser's notice at 23:00 leaves",
        MessageStatus.sent,
        sends=1,
        now=paris(2026, 3, 2, 23),
        kind=MessageKind.adviser_notice,
    ),
    Case(
        "the window opens after the workshop: expired",
        MessageStatus.expired,
        now=paris(2026, 3, 2, 21),
        starts_in=timedelta(hours=11),
    ),
    Case(
        "daily cap reached: tomorrow 08:30",
        MessageStatus.pending,
        sent_today=4,
        due_after=paris(2026, 3, 3, 8, 30),
        error=None,
    ),
    Case(
        "the daily cap does not hold an urgent notice",
        MessageStatus.sent,
        sends=1,
        sent_today=4,
        kind=MessageKind.change_notice,
        urgent=True,
    ),
    Case("quiet hours none: Sunday 23:00 leaves", MessageStatus.sent, sends=1, now=paris(2026, 3, 8, 23), quiet="none"),
    Case(
        "no sender for the channel: stays pending",
        MessageStatus.pending,
        channel=TELEGRAM,
        resident={"telegram_chat_id": 77},
    ),
]


async def prepare(db: Database, case: Case) -> tuple[int, int]:
    """The case's workshop, resident, enrolment and message; returns (message id, resident id)."""
    now = case.now
    starts = now + case.starts_in
    workshop_id = await make_workshop(db, starts)
    resident_id = await make_resident(db, 1, **case.resident)
    enrolment_id = await make_enrolment(db, resident_id, workshop_id, case.enrolment)
    async with db.write() as session:
        if case.workshop == "cancelled":
            await session.execute(update(Workshop).values(status=WorkshopStatus.cancelled))
        elif case.workshop == "moved":
            await session.execute(update(Workshop).values(starts_at=starts + timedelta(hours=1)))
        for index in range(case.sent_today):
            await enqueue(
                session=session,
                message=NewMessage(
                    channel=SMS,
                    to_address="+33612340001",
                    body=f"déjà {index}",
                    kind=MessageKind.broadcast,
                    due_at=now - timedelta(hours=1),
                    idempotency_key=f"earlier:{index}",
                    resident_id=resident_id,
                    status=MessageStatus.sent,
                    sent_at=now - timedelta(minutes=30),
                ),
            )
        seat = case.kind in SEAT_KINDS
        queued = await enqueue(
            session=session,
            message=NewMessage(
                channel=case.channel,
                to_address=case.to if case.to is not None else ("77" if case.channel == TELEGRAM else "+33612340001"),
                body="Rappel : atelier mercredi 4 mars à 10 h. Vous venez ? Répondez OUI ou NON.",
                choices=("OUI", "NON"),
                kind=case.kind,
                due_at=now + case.due,
                expires_at=starts if seat else (now + case.expires if case.expires is not None else None),
                idempotency_key="the-message",
                urgent=case.urgent,
                resident_id=resident_id,
                workshop_id=workshop_id,
                enrolment_id=enrolment_id,
            ),
        )
        assert queued is not None
        return queued, resident_id


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_dispatch_rules(db: Database, db_url: str, territory: Territory, case: Case) -> None:
    message_id, resident_id = await prepare(db, case)
    sender = RecordingSender(failures=[case.failure] if case.failure else [])
    clock = Clock(case.now)
    ctx = make_context(db, db_url, territory, clock, {SMS: sender}, ATELIER_QUIET_HOURS=case.quiet)
    await Dispatcher(ctx).tick()
    row = await message(db, message_id)
    assert row.status == case.expect, row.error
    assert len(sender.sent) == case.sends
    if case.sends:
        assert (row.provider_id, row.sent_at, row.attempts) == ("SM0001", case.now, 1)
        assert sender.sent[0] == Outgoing(row.to_address, row.body, ("OUI", "NON"))
    if isinstance(case.due_after, datetime):
        assert row.due_at == case.due_after
    elif case.due_after is not None:
        low, high = case.due_after
        assert low <= (row.due_at - case.now).total_seconds() <= high
    if case.error is not None:
        assert row.error is not None and case.error in row.error
    if case.failure is not None:
        assert row.attempts == 1
    if case.resident_after:
        after = await resident(db, resident_id)
        assert {name: getattr(after, name) for name in case.resident_after} == case.resident_after


async def queue_many(
    db: Database, now: datetime, count: int, *, resident_id: int | None = None, channel: Channel = SMS, to: str = ""
) -> list[int]:
    ids = []
    async with db.write() as session:
        for index in range(count):
            queued = await enqueue(
                session=session,
                message=NewMessage(
                    channel=channel,
                    to_address=to or f"+3361111{index:04d}",
                    body=f"Message {index}",
                    kind=MessageKind.broadcast,
                    due_at=now,
                    idempotency_key=f"many:{channel}:{to}:{index}",
                    resident_id=resident_id,
                ),
            )
            assert queued is not None
            ids.append(queued)
    return ids


async def test_backoff_schedule_until_success(db: Database, db_url: str, territory: Territory) -> None:
    clock = Clock(MONDAY_10H)
    sender = RecordingSender(failures=[transient() for _ in range(6)])
    ctx = make_context(db, db_url, territory, clock, {SMS: sender})
    [message_id] = await queue_many(db, clock.now, 1)
    dispatcher = Dispatcher(ctx)
    delays = []
    for _ in range(6):
        await dispatcher.tick()
        row = await message(db, message_id)
        delays.append((row.due_at - clock.now).total_seconds())
        clock.now = row.due_at
    await dispatcher.tick()
    row = await message(db, message_id)
    assert (row.status, row.attempts, len(sender.sent)) == (MessageStatus.sent, 7, 1)
    bounds = [(15, 30), (30, 60), (60, 120), (120, 240), (240, 480), (300, 600)]
    assert all(low <= delay <= high for delay, (low, high) in zip(delays, bounds, strict=True)), delays


async def test_daily_cap_in_one_batch(db: Database, db_url: str, territory: Territory) -> None:
    clock = Clock(MONDAY_10H)
    sender = RecordingSender()
    ctx = make_context(db, db_url, territory, clock, {SMS: sender})
    resident_id = await make_resident(db, 1)
    await queue_many(db, clock.now, 6, resident_id=resident_id, to="+33612340001")
    result = await Dispatcher(ctx).tick()
    assert (result.sent, result.deferred, len(sender.sent)) == (4, 2, 4)
    later = [m for m in await outbox(db) if m.status == MessageStatus.pending]
    assert [m.due_at for m in later] == [paris(2026, 3, 3, 8, 30)] * 2


async def claim_then_crash(db: Database, now: datetime, ids: list[int]) -> None:
    """What a worker that died mid-send leaves behind: rows ``sending`` under a lease that ran out."""
    async with db.write() as session:
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(ids))
            .values(status=MessageStatus.sending, claimed_at=now, lease_until=now + timedelta(seconds=20))
        )


@pytest.mark.parametrize(
    ("accepted", "lookup_fails", "expect_sends", "expect_status"),
    [
        (True, False, 0, MessageStatus.sent),
        (False, False, 1, MessageStatus.sent),
        (False, True, 0, MessageStatus.sending),
    ],
    ids=["had reached the provider: not resent", "had not: sent once", "the lookup fails: still in doubt"],
)
async def test_in_doubt_rows_are_looked_up_before_any_resend(
    db: Database,
    db_url: str,
    territory: Territory,
    accepted: bool,
    lookup_fails: bool,
    expect_sends: int,
    expect_status: MessageStatus,
) -> None:
    clock = Clock(MONDAY_10H)
    [message_id] = await queue_many(db, clock.now, 1)
    await claim_then_crash(db, clock.now, [message_id])
    sender = LookupSender(accepted=[("+33611110000", "Message 0", "SMold")] if accepted else [])
    if lookup_fails:
        sender.find_sent = failing_lookup  # type: ignore[method-assign]  # this one sender's lookup breaks
    ctx = make_context(db, db_url, territory, clock, {SMS: sender})
    dispatcher = Dispatcher(ctx)
    assert (await dispatcher.tick()).claimed == 0  # the lease still runs
    clock.advance(timedelta(seconds=21))
    await dispatcher.tick()  # looks it up
    await dispatcher.tick()  # sends it if it had not been sent
    row = await message(db, message_id)
    assert (row.status, len(sender.sent), sender.lookups) == (expect_status, expect_sends, 0 if lookup_fails else 1)
    if accepted:
        assert row.provider_id == "SMold"
    if lookup_fails:
        assert row.lease_until is not None and row.lease_until > clock.now  # looked up again after a backoff


async def failing_lookup(*, to: str, body: str, since: datetime) -> str | None:
    raise SendError("down", transient=True, code="20503")


async def test_in_doubt_without_lookup_is_sent_again(db: Database, db_url: str, territory: Territory) -> None:
    clock = Clock(MONDAY_10H)
    [message_id] = await queue_many(db, clock.now, 1)
    await claim_then_crash(db, clock.now, [message_id])
    sender = RecordingSender()
    ctx = make_context(db, db_url, territory, clock, {SMS: sender})
    clock.advance(timedelta(seconds=21))
    await Dispatcher(ctx).tick()
    assert ((await message(db, message_id)).status, len(sender.sent)) == (MessageStatus.sent, 1)


async def test_a_lost_answer_is_not_sent_twice(db: Database, db_url: str, territory: Territory) -> None:
    """Twilio accepted the message but its answer was lost (a transient error): the retry looks it up first."""
    clock = Clock(MONDAY_10H)
    [message_id] = await queue_many(db, clock.now, 1)
    sender = LookupSender(failures=[transient("network")], accepted=[("+33611110000", "Message 0", "SMlost")])
    ctx = make_context(db, db_url, territory, clock, {SMS: sender})
    dispatcher = Dispatcher(ctx)
    result = await dispatcher.tick()
    row = await message(db, message_id)
    assert (result.retried, row.status) == (1, MessageStatus.sending)
    assert row.lease_until is not None and 15 <= (row.lease_until - clock.now).total_seconds() <= 30
    clock.now = row.lease_until
    await dispatcher.tick()
    row = await message(db, message_id)
    assert (row.status, row.provider_id, len(sender.sent), sender.lookups) == (MessageStatus.sent, "SMlost", 0, 1)


async def test_a_transient_error_then_a_lookup_that_finds_nothing_sends_once(
    db: Database, db_url: str, territory: Territory
) -> None:
    clock = Clock(MONDAY_10H)
    [message_id] = await queue_many(db, clock.now, 1)
    sender = LookupSender(failures=[transient()])
    ctx = make_context(db, db_url, territory, clock, {SMS: sender})
    dispatcher = Dispatcher(ctx)
    await dispatcher.tick()  # fails: held in doubt until the retry time
    clock.now = (await message(db, message_id)).lease_until or clock.now
    assert (await dispatcher.tick()).given_back == 1  # looked up: not at the provider
    await dispatcher.tick()
    row = await message(db, message_id)
    assert (row.status, row.attempts, len(sender.sent), sender.lookups) == (MessageStatus.sent, 2, 1, 1)


async def test_two_dispatchers_send_each_message_once(db: Database, db_url: str, territory: Territory) -> None:
    clock = Clock(MONDAY_10H)
    ids = await queue_many(db, clock.now, 150)
    senders = [RecordingSender(), RecordingSender()]
    databases = [Database.from_url(db_url) for _ in senders]
    contexts = [
        make_context(d, db_url, territory, clock, {SMS: s}, ATELIER_SMS_RATE="100000/s")
        for d, s in zip(databases, senders, strict=True)
    ]
    dispatchers = [Dispatcher(c, max_batch=20) for c in contexts]
    try:
        for _ in range(20):
            await asyncio.gather(*(d.tick() for d in dispatchers))
    finally:
        for database in databases:
            await database.dispose()
    sent = [m.to for s in senders for m in s.sent]
    assert len(sent) == 150 and len(set(sent)) == 150
    assert all(s.sent for s in senders)  # both took part
    assert {m.status for m in await outbox(db) if m.id in ids} == {MessageStatus.sent}


async def run_until(dispatcher: Dispatcher, sender: RecordingSender, count: int, limit: float = 10.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        async with asyncio.timeout(limit):
            await sender.wait_for(count)
    finally:
        stop.set()
        await task
        await dispatcher.drain(5)


async def test_run_keeps_the_rate(db: Database, db_url: str, territory: Territory, now: datetime) -> None:
    sender = RecordingSender()
    ctx = make_context(
        db, db_url, territory, Clock(now), {SMS: sender}, ATELIER_SMS_RATE="20/s", ATELIER_QUIET_HOURS="none"
    )
    ctx.clock = system_clock
    await queue_many(db, ctx.now() - timedelta(seconds=1), 40)
    pacers = Pacers()
    await run_until(Dispatcher(ctx, pacer=pacers.new), sender, 40)
    starts = pacers.starts  # each send starts once its pacer granted it a start: the rate asked of the provider
    assert len(starts) == len(sender.sent) == 40
    assert busiest_second(starts) <= 20
    assert starts[-1] - starts[0] >= 39 / 20


@dataclass
class ClockedSender(RecordingSender):
    """Also records the injected clock's time of each send."""

    clock: Clock = field(default_factory=lambda: Clock(MONDAY_10H))
    times: list[datetime] = field(default_factory=list)
    latency: float = 0.0  # seconds the provider takes to answer

    async def send(self, message: Outgoing) -> str:
        self.times.append(self.clock.now)
        provider_id = await super().send(message)
        await asyncio.sleep(self.latency)
        return provider_id


async def test_telegram_one_message_per_second_per_chat(db: Database, db_url: str, territory: Territory) -> None:
    """A tick every quarter of a second of the injected clock, for three seconds: the chat with three messages gets
    one each second, the others at once."""
    clock = Clock(MONDAY_10H)
    sender = ClockedSender(channel=TELEGRAM, recipient_interval=timedelta(seconds=1), clock=clock)
    ctx = make_context(db, db_url, territory, clock, {TELEGRAM: sender}, ATELIER_QUIET_HOURS="none")
    await queue_many(db, clock.now - timedelta(seconds=1), 3, channel=TELEGRAM, to="555")
    await queue_many(db, clock.now - timedelta(seconds=1), 3, channel=TELEGRAM)
    dispatcher = Dispatcher(ctx)
    for _ in range(12):
        await dispatcher.tick()
        clock.advance(timedelta(seconds=0.25))
    assert len(sender.sent) == 6
    same_chat = [at for at, m in zip(sender.times, sender.sent, strict=True) if m.to == "555"]
    assert len(same_chat) == 3
    assert all(b - a >= timedelta(seconds=0.95) for a, b in itertools.pairwise(same_chat))
    others = [at for at, m in zip(sender.times, sender.sent, strict=True) if m.to != "555"]
    assert max(others) - MONDAY_10H < timedelta(seconds=1)


async def test_wake_sends_at_once(db: Database, db_url: str, territory: Territory) -> None:
    sender = RecordingSender()
    ctx = make_context(
        db,
        db_url,
        territory,
        Clock(MONDAY_10H),
        {SMS: sender},
        ATELIER_DISPATCH_INTERVAL="60",
        ATELIER_QUIET_HOURS="none",
    )
    ctx.clock = system_clock
    dispatcher = Dispatcher(ctx)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        await asyncio.sleep(0.2)  # the first (empty) claim is done: the loop now waits up to 60 s
        await queue_many(db, ctx.now(), 1)
        dispatcher.wake()
        async with asyncio.timeout(2):
            await sender.wait_for(1)
    finally:
        stop.set()
        await task
        await dispatcher.drain(5)
    assert len(sender.sent) == 1


@dataclass
class HeldUp:
    """The system clock, moved ahead by a stall: as if this process had not run for that long (a busy machine)."""

    ahead: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return system_clock() + self.ahead


@dataclass
class StallingSender(RecordingSender):
    """After its ``stall_after``-th send the process is held up for ``stall``: the next send is late for its slot."""

    held_up: HeldUp = field(default_factory=HeldUp)
    stall_after: int = 2
    stall: timedelta = timedelta(milliseconds=300)

    async def send(self, message: Outgoing) -> str:
        provider_id = await super().send(message)
        if len(self.sent) == self.stall_after:
            self.held_up.ahead += self.stall
        return provider_id


async def test_a_send_given_back_for_being_late_is_claimed_again_at_once(
    db: Database, db_url: str, territory: Territory
) -> None:
    """Not at the next interval (a minute here): the row is due again as soon as it is written back."""
    sender = StallingSender()
    env = {"ATELIER_SMS_RATE": "10/s", "ATELIER_DISPATCH_INTERVAL": "60", "ATELIER_QUIET_HOURS": "none"}
    ctx = make_context(db, db_url, territory, Clock(MONDAY_10H), {SMS: sender}, **env)
    ctx.clock = sender.held_up
    await queue_many(db, ctx.now() - timedelta(seconds=1), 3)
    dispatcher = Dispatcher(ctx)
    await run_until(dispatcher, sender, 3, limit=20)  # far less than the interval
    assert dispatcher.totals.given_back >= 1  # the third send came too late for its slot, and was given back
    assert sorted(m.body for m in sender.sent) == ["Message 0", "Message 1", "Message 2"]


async def test_jobs_start_send_and_stop_cleanly(db: Database, db_url: str, territory: Territory) -> None:
    sender = RecordingSender()
    ctx = make_context(db, db_url, territory, Clock(MONDAY_10H), {SMS: sender}, ATELIER_QUIET_HOURS="none")
    ctx.clock = system_clock
    jobs = start_jobs(ctx, purge=purge_inactive)
    try:
        [job] = jobs.scheduler.get_jobs()
        next_run = job.next_run_time.astimezone(ctx.tz)
        assert (job.id, next_run.hour, next_run.minute) == ("retention-purge", 3, 30)
        await queue_many(db, ctx.now(), 1)
        ctx.wake_dispatcher()
        async with asyncio.timeout(5):
            await sender.wait_for(1)
    finally:
        await stop_jobs(jobs)
    assert not jobs.scheduler.running and jobs.loop_task.done()
    ctx.wake_dispatcher()  # a wake-up after the stop is harmless: nothing runs, nothing raises
    assert (await outbox(db))[0].status == MessageStatus.sent


async def test_retention_purge_erases_the_long_inactive(db: Database, db_url: str, territory: Territory) -> None:
    clock = Clock(MONDAY_10H)
    ctx = make_context(db, db_url, territory, clock)
    gone = await make_resident(db, 1, last_activity_at=clock.now - timedelta(days=800))
    kept = await make_resident(db, 2, last_activity_at=clock.now - timedelta(days=10))
    assert await purge_inactive(ctx) == 1
    assert ((await resident(db, gone)).erased, (await resident(db, kept)).erased) == (True, False)
    assert (await resident(db, gone)).phone is None
    assert await purge_inactive(ctx) == 0


async def test_ten_a_second_with_a_slow_provider(db: Database, db_url: str, territory: Territory) -> None:
    """At 10/s, each second of the injected clock gets ten slots, however long the provider takes to answer
    (200 ms here): ten in each of two seconds, then nine (the spacing keeps 4 % under the limit)."""
    clock = Clock(MONDAY_10H)
    sender = ClockedSender(clock=clock, latency=0.2)
    env = {"ATELIER_SMS_RATE": "10/s", "ATELIER_QUIET_HOURS": "none"}
    ctx = make_context(db, db_url, territory, clock, {SMS: sender}, **env)
    await queue_many(db, clock.now - timedelta(seconds=1), 40)
    dispatcher = Dispatcher(ctx)
    per_second = []
    for _ in range(3):
        per_second.append((await dispatcher.tick()).sent)  # one second of slots, each waited for
        clock.advance(timedelta(seconds=1))
    assert per_second == [10, 10, 9]


@dataclass
class HeldSender(RecordingSender):
    """A provider that answers nothing until ``hold`` sends wait for their answer (the first, which opens the
    connection, is answered at once): a dispatcher that waited for answers before sending more never gets there."""

    hold: int = 10
    waiting: int = 0
    most_waiting: int = 0
    answer: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: Outgoing) -> str:
        provider_id = await super().send(message)
        if len(self.sent) == 1:
            return provider_id
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        if self.waiting >= self.hold:
            self.answer.set()
        try:
            await self.answer.wait()
        finally:
            self.waiting -= 1
        return provider_id


async def test_sends_overlap_while_the_provider_is_slow(db: Database, db_url: str, territory: Territory) -> None:
    """The run loop keeps sending at the pace while earlier sends wait for the provider's answer."""
    sender = HeldSender()
    env = {"ATELIER_SMS_RATE": "10/s", "ATELIER_QUIET_HOURS": "none"}
    ctx = make_context(db, db_url, territory, Clock(MONDAY_10H), {SMS: sender}, **env)
    ctx.clock = system_clock
    await queue_many(db, ctx.now() - timedelta(seconds=1), 15)
    pacers = Pacers()
    await run_until(Dispatcher(ctx, pacer=pacers.new), sender, 15, limit=30)
    assert sender.most_waiting >= sender.hold  # a second's worth of sends in flight at once
    assert busiest_second(pacers.starts) <= 10
    assert len(pacers.starts) == 15
    assert {m.status for m in await outbox(db)} == {MessageStatus.sent}
