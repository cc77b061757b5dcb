"""Broadcasts (``bot.service.broadcasts``) on both databases: the preview against hand-computed segments and costs,
who is in each audience, what is queued and when, the report after a mix of provider outcomes (the real dispatcher
with a scripted in-memory sender, then delivery reports as Twilio's status callback records them), and 2,000
recipients going out at the configured rate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bot.channels import SMS, TELEGRAM, Outgoing, SendError
from bot.config import load_settings
from bot.context import Context, system_clock
from bot.scheduler.dispatch import Dispatcher
from bot.service.broadcasts import Audience, BroadcastError, broadcast_report, preview_broadcast, send_broadcast
from bot.territory import Territory
from storage.database import Database
from storage.delivery import record_status
from storage.models import (
    Broadcast,
    Enrolment,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    Resident,
    Workshop,
    WorkshopStatus,
)
from tests.helpers.clock import Clock
from tests.helpers.pacing import Pacers, busiest_second
from tests.helpers.senders import RecordingSender
from tests.helpers.world import JULIE, Town, in_2026

SETUP_TIME = in_2026(2, 9)  # Monday 2 March 2026, 09:00


def context(db: Database, db_url: str, territory: Territory, clock: Callable[[], datetime], **env: str) -> Context:
    settings = load_settings({"ATELIER_DATABASE_URL": db_url, **env})
    return Context(settings=settings, db=db, territory=territory, clock=clock)


@pytest.fixture
def clock() -> Clock:
    return Clock(SETUP_TIME)


@pytest.fixture
def town(db: Database, db_url: str, territory: Territory, clock: Clock) -> Town:
    return Town(context(db, db_url, territory, clock), clock)


@dataclass
class People:
    ids: dict[str, int] = field(default_factory=dict)
    workshop: int = 0
    later: int = 0


async def populate(town: Town) -> People:
    """Saint-Victor: Anne (SMS), Bruno (Telegram), Eve (STOP), Léon (a landline), Zoé (erased).
    Domérat: Chloé (SMS), Denis (SMS, STOP by SMS but Telegram too). Workshop W (Saint-Victor) holds Anne, Bruno,
    Chloé (seated), Léon (waiting); Denis cancelled his seat; ``later`` (Domérat) holds Denis."""
    people = People()
    add = town.resident
    people.ids["Anne"] = await add("Anne", phone="+33612000001")
    people.ids["Bruno"] = await add("Bruno", telegram=555001)
    people.ids["Eve"] = await add("Eve", phone="+33612000003", opted_out_sms=True)
    people.ids["Léon"] = await add("Léon", phone="+33470000004", sms_unreachable=True)
    people.ids["Zoé"] = await add("Zoé", erased=True)
    people.ids["Chloé"] = await add("Chloé", phone="+33612000006", commune="Domérat")
    people.ids["Denis"] = await add(
        "Denis", phone="+33612000007", telegram=555007, commune="Domérat", opted_out_sms=True
    )
    people.workshop = await town.workshop("Saint-Victor", in_2026(10, 14), capacity=3)
    people.later = await town.workshop("Domérat", in_2026(12, 14))
    for name in ("Anne", "Bruno", "Chloé", "Léon", "Denis"):
        await town.seat(people.ids[name], people.workshop)
    await town.seat(people.ids["Denis"], people.later)
    async with town.ctx.db.write() as session:
        denis = (
            await session.execute(
                select(Enrolment).where(
                    Enrolment.resident_id == people.ids["Denis"], Enrolment.workshop_id == people.workshop
                )
            )
        ).scalar_one()
        denis.status, denis.position = EnrolmentStatus.cancelled, None
    return people


# ---------------------------------------------------------------------------------------------------------------
# Preview: segments and cost, hand-computed


@dataclass(frozen=True)
class SegmentCase:
    label: str
    body: str
    segments: int
    sms_text: str | None = None  # when conversion changes the text


SEGMENTS = [
    SegmentCase("160 GSM-7 characters: one SMS", "a" * 160, 1),
    SegmentCase("161 GSM-7 characters: two SMS (153 + 8)", "a" * 161, 2),
    SegmentCase("306 characters: two SMS", "a" * 306, 2),
    SegmentCase("307 characters: three SMS", "a" * 307, 3),
    SegmentCase("a ç is converted, the SMS stays GSM-7", "Leçon " + "a" * 150, 1, "Lecon " + "a" * 150),
    SegmentCase("é and à are GSM-7 already", "Réunion à " + "a" * 150, 1),
    SegmentCase(
        "ê, ’ and œ converted: 160 GSM-7", "Fête d’été, cœur " + "a" * 142, 1, "Fete d'été, coeur " + "a" * 142
    ),
    SegmentCase("œ → oe is one more: 161", "Fête d’été, cœur " + "a" * 143, 2, "Fete d'été, coeur " + "a" * 143),
    SegmentCase("€ counts two septets: 159 + € = 161 > 160", "€" + "a" * 159, 2),
    SegmentCase("an emoji vanishes instead of switching to UCS-2", "Merci 👍 " + "a" * 150, 1, "Merci " + "a" * 150),
]


@pytest.mark.parametrize("case", SEGMENTS, ids=[c.label for c in SEGMENTS])
@pytest.mark.both_dialects  # audiences counted in SQL
async def test_preview_figures(town: Town, case: SegmentCase) -> None:
    people = await populate(town)
    preview = await preview_broadcast(ctx=town.ctx, audience=Audience(workshop_id=people.workshop), body=case.body)
    assert dict(preview.by_channel) == {SMS: 2, TELEGRAM: 1}  # Anne, Chloé; Bruno
    assert (preview.skipped_opted_out, preview.unreachable) == (0, 1)  # Léon's landline
    assert preview.segments == case.segments
    assert preview.sms_text == (case.sms_text or case.body)
    assert preview.estimated_cost == round(2 * case.segments * 0.08, 2)


# ---------------------------------------------------------------------------------------------------------------
# Audiences


@dataclass(frozen=True)
class AudienceCase:
    label: str
    audience: Callable[[People], Audience]
    sms: tuple[str, ...]
    telegram: tuple[str, ...]
    skipped_opted_out: int
    unreachable: int


AUDIENCES = [
    AudienceCase(
        "a workshop: seated and waiting, not who cancelled",
        lambda p: Audience(workshop_id=p.workshop),
        ("Anne", "Chloé"),
        ("Bruno",),
        0,
        1,
    ),
    AudienceCase(
        "a commune, written as advisers write it",
        lambda p: Audience(communes=("st victor",)),
        ("Anne",),
        ("Bruno",),
        1,
        1,
    ),
    AudienceCase(
        "two communes",
        lambda p: Audience(communes=("Saint-Victor", "domerat")),
        ("Anne", "Chloé"),
        ("Bruno", "Denis"),
        1,
        1,
    ),
    AudienceCase(
        "everyone with a workshop ahead",
        lambda p: Audience(upcoming=True),
        ("Anne", "Chloé"),
        ("Bruno", "Denis"),
        0,
        1,
    ),
    AudienceCase(
        "criteria combine: a workshop's people in one commune",
        lambda p: Audience(workshop_id=p.workshop, communes=("03101",)),
        ("Chloé",),
        (),
        0,
        0,
    ),
]


@pytest.mark.parametrize("case", AUDIENCES, ids=[c.label for c in AUDIENCES])
@pytest.mark.both_dialects  # audiences selected in SQL, messages queued by key
async def test_audiences_and_what_is_queued(town: Town, clock: Clock, case: AudienceCase) -> None:
    people = await populate(town)
    names: dict[int | None, str] = {rid: name for name, rid in people.ids.items()}
    clock.now = in_2026(2, 21)  # in quiet hours: the messages wait for 08:30 tomorrow
    audience = case.audience(people)
    preview = await preview_broadcast(ctx=town.ctx, audience=audience, body="Bonjour")
    assert (preview.skipped_opted_out, preview.unreachable) == (case.skipped_opted_out, case.unreachable)
    broadcast_id = await send_broadcast(ctx=town.ctx, audience=audience, body="Bonjour", actor=JULIE)
    rows = await town.messages(broadcast_id=broadcast_id)
    assert sorted(names[r.resident_id] for r in rows if r.channel == SMS) == sorted(case.sms)
    assert sorted(names[r.resident_id] for r in rows if r.channel == TELEGRAM) == sorted(case.telegram)
    for row in rows:
        assert (row.kind, row.status, row.urgent) == (MessageKind.broadcast, MessageStatus.pending, False)
        assert row.idempotency_key == f"broadcast:{broadcast_id}:{row.resident_id}"
        assert row.due_at == in_2026(3, 8, 30)
        assert row.expires_at == in_2026(4, 21)
    async with town.ctx.db.read() as session:
        recorded = await session.get(Broadcast, broadcast_id)
    assert recorded is not None
    assert (recorded.author, recorded.body, recorded.created_at) == ("Julie", "Bonjour", in_2026(2, 21))
    assert recorded.recipients == len(rows) and recorded.skipped_opted_out == case.skipped_opted_out


@pytest.mark.both_dialects  # times stored and compared
async def test_saturday_evening_broadcast_waits_for_monday(town: Town, clock: Clock) -> None:
    people = await populate(town)
    clock.now = in_2026(7, 21)
    broadcast_id = await send_broadcast(
        ctx=town.ctx, audience=Audience(workshop_id=people.workshop), body="Bonjour", actor=JULIE
    )
    assert {r.due_at for r in await town.messages(broadcast_id=broadcast_id)} == {in_2026(9, 8, 30)}


REFUSALS: list[tuple[str, Audience, str, str]] = [
    ("no audience", Audience(), "Bonjour", "indiquez à qui écrire"),
    ("unknown workshop", Audience(workshop_id=99999), "Bonjour", "n'existe pas"),
    ("unknown commune", Audience(communes=("Paris",)), "Bonjour", "Paris"),
    ("empty text", Audience(upcoming=True), "   \n ", "vide"),
    ("over three SMS", Audience(upcoming=True), "a" * 460, "trop long"),
]


@pytest.mark.parametrize(("label", "audience", "body", "says"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_bad_input_is_refused_and_sends_nothing(
    town: Town, label: str, audience: Audience, body: str, says: str
) -> None:
    await populate(town)
    with pytest.raises(BroadcastError, match=says):
        await preview_broadcast(ctx=town.ctx, audience=audience, body=body)
    with pytest.raises(BroadcastError, match=says):
        await send_broadcast(ctx=town.ctx, audience=audience, body=body, actor=JULIE)
    assert await town.messages(kind=MessageKind.broadcast) == []
    async with town.ctx.db.read() as session:
        assert (await session.execute(select(Broadcast))).first() is None


@pytest.mark.both_dialects  # audiences selected in SQL
async def test_a_cancelled_workshop_takes_no_broadcast(town: Town) -> None:
    people = await populate(town)
    async with town.ctx.db.write() as session:
        workshop = await session.get(Workshop, people.workshop)
        assert workshop is not None
        workshop.status = WorkshopStatus.cancelled
    with pytest.raises(BroadcastError, match="est annulé"):
        await send_broadcast(ctx=town.ctx, audience=Audience(workshop_id=people.workshop), body="Bonjour", actor=JULIE)
    assert await town.messages(kind=MessageKind.broadcast) == []


# ---------------------------------------------------------------------------------------------------------------
# The report after a mix of outcomes


@dataclass
class ScriptedSender:
    """An in-memory provider that answers per address: accepted (a provider id) or the given error."""

    channel: str
    errors: dict[str, SendError] = field(default_factory=dict)
    sent: list[Outgoing] = field(default_factory=list)
    max_length: int = 1600
    supports_buttons: bool = False
    recipient_interval: timedelta | None = None

    async def send(self, message: Outgoing) -> str:
        if message.to in self.errors:
            raise self.errors[message.to]
        self.sent.append(message)
        return f"{self.channel}-{len(self.sent)}-{message.to}"


@pytest.mark.both_dialects  # the report's aggregates
async def test_report_after_a_mix_of_outcomes(db: Database, db_url: str, territory: Territory) -> None:
    clock = Clock(SETUP_TIME)
    town = Town(context(db, db_url, territory, clock), clock)
    phones = {
        "Delivered": "+33612100001",
        "Sent": "+33612100002",
        "Stopped": "+33612100003",  # answers 21610: has opted out with the carrier
        "Landline": "+33612100004",  # 21614: not a mobile
        "Failed": "+33612100005",  # a permanent error
    }
    ids = {name: await town.resident(name, phone=phone, commune="Lamaids") for name, phone in phones.items()}
    ids["Late"] = await town.resident("Late", telegram=42, commune="Lamaids")  # Telegram never sends in time
    ids["Nobody"] = await town.resident("Nobody", phone="+33470100007", commune="Lamaids", sms_unreachable=True)
    ids["Refused"] = await town.resident("Refused", phone="+33612100008", commune="Lamaids", opted_out_sms=True)
    broadcast_id = await send_broadcast(
        ctx=town.ctx, audience=Audience(communes=("Lamaids",)), body="Atelier photo demain", actor=JULIE
    )

    sms = ScriptedSender(
        SMS,
        {
            phones["Stopped"]: SendError("unsubscribed", transient=False, code="21610", opted_out=True),
            phones["Landline"]: SendError("not a mobile", transient=False, code="21614", unreachable=True),
            phones["Failed"]: SendError("unknown", transient=False, code="30008"),
        },
    )
    sms_only = context(db, db_url, territory, clock, ATELIER_SMS_RATE="1000/s")
    sms_only.senders = {SMS: sms}
    await Dispatcher(sms_only).tick()
    assert sorted(m.to for m in sms.sent) == [phones["Delivered"], phones["Sent"]]
    [delivered] = await town.messages(broadcast_id=broadcast_id, resident_id=ids["Delivered"])
    assert delivered.provider_id is not None
    async with db.write() as session:  # what Twilio's status callback records for it
        assert await record_status(session=session, provider_id=delivered.provider_id, status=MessageStatus.delivered)
    clock.now = SETUP_TIME + timedelta(days=3)  # past the two days a broadcast may wait
    both = context(db, db_url, territory, clock)
    both.senders = {SMS: sms, TELEGRAM: ScriptedSender(TELEGRAM)}
    await Dispatcher(both).tick()

    report = await broadcast_report(ctx=town.ctx, broadcast_id=broadcast_id)
    assert report.recipients == 6 and dict(report.by_channel) == {SMS: 5, TELEGRAM: 1}
    figures = {
        "sent": report.sent,
        "delivered": report.delivered,
        "failed": report.failed,
        "opted_out": report.opted_out,
        "expired": report.expired,
        "pending": report.pending,
        "cancelled": report.cancelled,
    }
    assert figures == {
        "sent": 2,  # Delivered and Sent left; one of them is known delivered
        "delivered": 1,
        "failed": 2,  # Landline, Failed
        "opted_out": 2,  # Stopped (refused by the carrier), Refused (skipped when sending)
        "expired": 1,  # Late
        "pending": 0,
        "cancelled": 0,
    }
    assert [(p.name, p.phone, p.reason) for p in report.to_phone] == [
        ("Stopped", phones["Stopped"], "opted_out"),
        ("Landline", phones["Landline"], "sms_unreachable"),
        ("Failed", phones["Failed"], "failed"),
        ("Late", None, "expired"),
        ("Nobody", "+33470100007", "sms_unreachable"),
        ("Refused", "+33612100008", "opted_out"),
    ]
    with pytest.raises(BroadcastError):
        await broadcast_report(ctx=town.ctx, broadcast_id=broadcast_id + 1)


# ---------------------------------------------------------------------------------------------------------------
# 2,000 recipients at the configured rate

RATE = 500  # per second: the real pacing, at a rate that keeps the test short (2,000 messages in four seconds)


@pytest.mark.both_dialects  # a large batch queued and claimed at the shared pace
async def test_two_thousand_recipients_go_out_at_the_configured_rate(
    db: Database, db_url: str, territory: Territory
) -> None:
    count = 2000
    sender = RecordingSender()
    ctx = context(db, db_url, territory, system_clock, ATELIER_SMS_RATE=f"{RATE}/s", ATELIER_QUIET_HOURS="none")
    ctx.senders = {SMS: sender}
    now = ctx.now()
    async with db.write() as session:
        await session.execute(
            insert(Resident),
            [
                {
                    "phone": f"+3361{index:07d}",
                    "name": f"Habitant {index}",
                    "commune_insee": "03262",
                    "interests": [],
                    "created_at": now,
                    "last_activity_at": now,
                    "preferred_channel": SMS,
                }
                for index in range(count)
            ],
        )
    broadcast_id = await send_broadcast(
        ctx=ctx, audience=Audience(communes=("Saint-Victor",)), body="Pas d'atelier lundi.", actor=JULIE
    )
    pacers = Pacers()
    dispatcher = Dispatcher(ctx, pacer=pacers.new)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        async with asyncio.timeout(60):
            await sender.wait_for(count)
    finally:
        stop.set()
        await task
        await dispatcher.drain(5)
    starts = pacers.starts  # when each send was allowed to start: the rate asked of the provider
    assert len(sender.sent) == len(starts) == count
    assert busiest_second(starts) <= RATE
    assert starts[-1] - starts[0] >= (count - RATE) / RATE  # paced, not one burst
    report = await broadcast_report(ctx=ctx, broadcast_id=broadcast_id)
    assert (report.recipients, report.sent, report.pending) == (count, count, 0)
