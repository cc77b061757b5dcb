"""SMS pumping: what costs the territory money or pages an adviser for nothing, on both databases.

- CONSEILLER from people we do not know yet pages no adviser one by one: the requests are listed, and each adviser
  gets a digest — at most one SMS every 30 minutes, none in quiet hours — unless the resident is known and holds a
  workshop within 24 hours (then at once);
- premium-rate and special numbers are refused kindly, as residents, callback numbers or phone enrolments;
- numbers outside the served countries get the advisers' contact (once a day at most) and nothing else;
- replies per number are capped, counted in the database (several processes share the count).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import ColumnElement, func, select

from bot.channels import Inbound
from bot.config import load_settings
from bot.context import Context
from bot.scheduler.dispatch import Dispatcher
from bot.scheduler.screening import Action, screen
from bot.service.callbacks import list_callbacks
from bot.service.inbound import handle_inbound
from bot.service.phone_enrolment import enrol_by_phone
from bot.service.team import TeamError, add_adviser
from bot.territory import Territory
from storage.database import Database
from storage.enums import Channel
from storage.models import CallbackRequest, Conversation, MessageKind, MessageStatus, OutboundMessage, Resident
from storage.outbox.claiming import DueMessage, Facts, ResidentFacts
from tests.helpers.clock import PARIS, Clock
from tests.helpers.senders import RecordingSender
from tests.helpers.world import JULIE, Town, in_2026

# The cap on replies is counted in SQL under a per-number lock (an advisory lock on PostgreSQL), the digests are
# read and rewritten in SQL: the outcome can depend on the engine.
pytestmark = pytest.mark.both_dialects

ADVISER_PHONE = "+33611000001"
ADVISER_TELEGRAM = 9001
CONTACT = "04 65 71 00 00"  # the advisers' number in the bundled territory file


@dataclass
class Site:
    town: Town
    sms: RecordingSender
    telegram: RecordingSender
    dispatcher: Dispatcher

    @property
    def ctx(self) -> Context:
        return self.town.ctx

    async def say(self, number: str, text: str, *, channel: Channel = Channel.sms) -> list[str]:
        inbound = Inbound(channel=channel, address=number, text=text)
        handled = await handle_inbound(ctx=self.ctx, inbound=inbound, inline=channel == Channel.sms)
        return [reply.text for reply in handled.replies]

    async def deliver(self) -> None:
        """Dispatcher ticks until nothing more is due now (the clock moves a second per tick)."""
        for _ in range(50):
            self.town.clock.advance(timedelta(seconds=1))
            if not (await self.dispatcher.tick()).claimed:
                return
        raise AssertionError("the dispatcher kept claiming")

    def to_advisers(self) -> list[str]:
        return [m.body for m in self.sms.sent if m.to == ADVISER_PHONE] + [
            m.body for m in self.telegram.sent if m.to == str(ADVISER_TELEGRAM)
        ]


def build(db: Database, db_url: str, territory: Territory, clock: Clock, **env: str) -> Site:
    settings = load_settings({"ATELIER_DATABASE_URL": db_url, "ATELIER_SMS_RATE": "1000/s", **env})
    sms, telegram = RecordingSender(), RecordingSender(channel=Channel.telegram)
    ctx = Context(
        settings=settings,
        db=db,
        territory=territory,
        clock=clock,
        senders={Channel.sms: sms, Channel.telegram: telegram},
    )
    return Site(Town(ctx, clock), sms, telegram, Dispatcher(ctx))


@pytest.fixture
async def site(db: Database, db_url: str, territory: Territory) -> Site:
    built = build(db, db_url, territory, Clock(in_2026(2, 14)))  # Monday 2 March 2026, 14:00 in Paris
    await add_adviser(ctx=built.ctx, actor=JULIE, name="Julie", phone="06 11 00 00 01")
    await add_adviser(ctx=built.ctx, actor=JULIE, name="Paul", telegram_id=ADVISER_TELEGRAM)
    return built


def stranger(index: int) -> str:
    return f"+3363{index:07d}"


async def count(db: Database, model: type, *where: ColumnElement[bool]) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


# --- CONSEILLER from strangers: a digest, not a page each ----------------------------------------------------------


async def test_a_hundred_strangers_writing_conseiller_page_each_adviser_once_per_half_hour(site: Site) -> None:
    for index in range(100):
        [reply] = await site.say(stranger(index), "CONSEILLER")
        assert "rappeler" in reply  # each is answered, and listed
    assert len(await list_callbacks(ctx=site.ctx)) == 100
    await site.deliver()
    first = site.to_advisers()
    assert len(first) == 2, first  # one SMS to Julie, one Telegram message to Paul
    assert all(body.startswith("100 ") and "+3363" not in body for body in first), first  # a count, no number
    site.town.clock.advance(timedelta(minutes=10))
    for index in range(100, 105):
        await site.say(stranger(index), "CONSEILLER")
    await site.deliver()
    assert len(site.to_advisers()) == 2  # not before 30 minutes after the first digest
    site.town.clock.advance(timedelta(minutes=20))
    await site.deliver()
    second = [body for body in site.to_advisers() if body not in first]
    assert len(second) == 2 and all(body.startswith("105 ") for body in second), second
    site.town.clock.advance(timedelta(hours=2))
    await site.deliver()
    assert len(site.to_advisers()) == 4  # nothing new, nothing sent


async def test_no_digest_leaves_in_quiet_hours(site: Site) -> None:
    site.town.clock.now = in_2026(2, 21)
    await site.say(stranger(1), "CONSEILLER")
    await site.deliver()
    assert site.to_advisers() == []
    site.town.clock.now = in_2026(3, 8, 31)
    await site.deliver()
    assert len(site.to_advisers()) == 2


@dataclass(frozen=True)
class Known:
    label: str
    workshop_in: timedelta | None  # the resident's seat, from now; None: no seat
    at_once: bool


KNOWN = [
    Known("known, a workshop tomorrow morning: the advisers are told at once, by name", timedelta(hours=20), True),
    Known("known, a workshop in three days: in the digest", timedelta(days=3), False),
    Known("known, no workshop: in the digest", None, False),
]


@pytest.mark.parametrize("known", KNOWN, ids=[k.label for k in KNOWN])
async def test_a_known_resident_about_a_workshop_within_24_hours_is_passed_on_at_once(site: Site, known: Known) -> None:
    resident = await site.town.resident("Martine Dupont", phone="+33612345678")
    if known.workshop_in is not None:
        await site.town.seat(
            resident, await site.town.workshop("Saint-Victor", site.town.clock.now + known.workshop_in)
        )
    await site.say("+33612345678", "CONSEILLER")
    await site.deliver()
    told = site.to_advisers()
    assert len(told) == 2
    assert all(("Martine Dupont" in body) is known.at_once for body in told), told


# --- Premium-rate and special numbers ----------------------------------------------------------------------------

SPECIAL = [
    ("premium rate, 08 99", "+33899234567"),
    ("premium rate, 08 36", "+33836123456"),
    ("shared cost, 08 10", "+33810234567"),
    ("toll free, 08 00", "+33800234567"),
    ("universal access, 08 06", "+33806123456"),
    ("international premium rate, +979", "+979123456789"),
    ("premium rate abroad, Switzerland 0900", "+41900123456"),
]


@pytest.mark.parametrize(("label", "number"), SPECIAL, ids=[label for label, _ in SPECIAL])
async def test_a_special_number_is_refused_kindly_once_and_never_signed_up(site: Site, label: str, number: str) -> None:
    [reply] = await site.say(number, "Bonjour")
    assert CONTACT in reply and "prénom" not in reply, reply
    assert await site.say(number, "Martine Dupont") == []  # once a day at most: then silence
    assert await site.say(number, "CONSEILLER") == []
    assert await count(site.ctx.db, Resident) == 0
    assert await count(site.ctx.db, Conversation) == 0
    assert await count(site.ctx.db, CallbackRequest) == 0


@pytest.mark.parametrize(("label", "number"), SPECIAL[:3], ids=[label for label, _ in SPECIAL[:3]])
async def test_a_special_number_typed_for_a_callback_is_refused_kindly(site: Site, label: str, number: str) -> None:
    chat = "424242"
    await site.say(chat, "CONSEILLER", channel=Channel.telegram)
    [refused] = await site.say(chat, number.replace("+33", "0"), channel=Channel.telegram)
    assert "portable" in refused or "fixe" in refused, refused
    [noted] = await site.say(chat, "06 12 34 56 78", channel=Channel.telegram)
    assert "rappeler" in noted
    async with site.ctx.db.read() as session:
        phones = list((await session.execute(select(CallbackRequest.phone))).scalars())
    assert phones == ["+33612345678"]


@pytest.mark.parametrize(("label", "number"), [*SPECIAL[:2], ("abroad", "+4915112345678")])
async def test_an_adviser_cannot_enrol_a_special_or_foreign_number(site: Site, label: str, number: str) -> None:
    workshop = await site.town.workshop("Saint-Victor", in_2026(10, 14))
    with pytest.raises(TeamError, match="numéro"):
        await enrol_by_phone(
            ctx=site.ctx,
            actor=JULIE,
            workshop_id=workshop,
            name="Martine Dupont",
            phone=number,
            commune="Saint-Victor",
        )
    assert await count(site.ctx.db, Resident) == 0


@pytest.mark.parametrize("number", ["+33899234567", "+447400123456"], ids=["premium rate", "abroad"])
async def test_a_number_shared_on_telegram_that_we_do_not_serve_is_not_kept(site: Site, number: str) -> None:
    """Someone known on Telegram, without a number yet, presses « Partager mon numéro »."""
    resident = await site.town.resident("Martine Dupont", telegram=424243, preferred_channel=Channel.telegram)
    inbound = Inbound(channel=Channel.telegram, address="424243", text="", shared_phone=number, user_id=424243)
    await handle_inbound(ctx=site.ctx, inbound=inbound, inline=False)
    async with site.ctx.db.read() as session:
        found = await session.get(Resident, resident)
    assert found is not None and found.phone is None


# --- Numbers outside the served countries -----------------------------------------------------------------------

FOREIGN = [
    ("a British mobile", "+447400123456"),
    ("a German mobile", "+4915112345678"),
    ("a satellite phone", "+881612345678"),
]


@pytest.mark.parametrize(("label", "number"), FOREIGN, ids=[label for label, _ in FOREIGN])
async def test_a_number_outside_the_served_countries_gets_the_advisers_contact_once(
    site: Site, label: str, number: str
) -> None:
    [reply] = await site.say(number, "Bonjour je voudrais m'inscrire")
    assert CONTACT in reply and "prénom" not in reply, reply
    assert await site.say(number, "Martine Dupont") == []
    assert await count(site.ctx.db, Resident) == 0
    site.town.clock.advance(timedelta(days=1, minutes=1))
    assert len(await site.say(number, "Bonjour")) == 1  # a day later, once again


@pytest.mark.parametrize(
    ("label", "number", "countries"),
    [
        ("La Réunion, served by default", "+262692123456", None),
        ("Guadeloupe, served by default", "+590690123456", None),
        ("a British mobile, with GB served", "+447400123456", "FR,GB"),
    ],
)
async def test_a_number_of_a_served_country_signs_up(
    db: Database, db_url: str, territory: Territory, label: str, number: str, countries: str | None
) -> None:
    env = {"ATELIER_SERVED_COUNTRIES": countries} if countries else {}
    site = build(db, db_url, territory, Clock(in_2026(2, 14)), **env)
    [reply] = await site.say(number, "Bonjour")
    assert "prénom" in reply


async def test_a_reminder_never_goes_to_a_number_outside_the_served_countries(site: Site) -> None:
    """A resident enrolled before the territory's countries changed (say): their reminders are not sent."""
    resident = await site.town.resident("John Smith", phone="+447400123456")
    await site.town.seat(resident, await site.town.workshop("Saint-Victor", in_2026(4, 14)))
    site.town.clock.now = in_2026(3, 10)  # the day before, at 10:00: the first reminder is due
    await site.deliver()
    assert [m for m in site.sms.sent if m.to == "+447400123456"] == []
    reminders = await site.town.messages(resident_id=resident, kind=MessageKind.reminder)
    assert reminders and all(m.status in (MessageStatus.cancelled, MessageStatus.pending) for m in reminders)
    assert any(m.status == MessageStatus.cancelled for m in reminders)


def due(channel: Channel, to: str, kind: MessageKind = MessageKind.reminder, resident_id: int | None = 1) -> DueMessage:
    return DueMessage(
        id=7, channel=channel, to_address=to, body="Rappel", choices=(), kind=kind, urgent=False,
        due_at=in_2026(3, 10), expires_at=None, attempts=0, resident_id=resident_id, adviser_id=None,
        enrolment_id=None, workshop_id=None, broadcast_id=None, inbound_id=None, ask_contact=False,
    )  # fmt: skip


SCREENED = [
    ("a reminder by SMS to a French mobile", due(Channel.sms, "+33612345678"), Action.send),
    ("a reminder by SMS abroad", due(Channel.sms, "+447400123456"), Action.cancel),
    ("a reminder by SMS to a premium-rate number", due(Channel.sms, "+33899234567"), Action.cancel),
    ("a reminder call to a landline", due(Channel.voice, "+33470051234"), Action.send),
    ("a reminder call abroad", due(Channel.voice, "+4930123456"), Action.cancel),
    ("a reminder call to a shared-cost number", due(Channel.voice, "+33810234567"), Action.cancel),
    (
        "an answer to whoever wrote (the refusal itself)",
        due(Channel.sms, "+447400123456", MessageKind.reply),
        Action.send,
    ),
    (
        "a digest to an adviser's phone",
        due(Channel.sms, "+4915112345678", MessageKind.callback_digest, None),
        Action.send,
    ),
]


@pytest.mark.parametrize(("label", "message", "action"), SCREENED, ids=[row[0] for row in SCREENED])
def test_nothing_but_answers_goes_to_a_resident_s_number_we_do_not_serve(
    label: str, message: DueMessage, action: Action
) -> None:
    facts = Facts(residents={1: ResidentFacts(False, False, False, False)})
    verdict = screen(message, facts=facts, now=in_2026(3, 10), quiet_hours=None, tz=PARIS, daily_cap=4, sent_today=0)
    assert verdict.action == action, f"{label}: {verdict}"


# --- Replies per number ------------------------------------------------------------------------------------------

NOTICE = "Trop de messages"


async def test_a_hundred_messages_from_one_number_get_twenty_replies_then_one_notice(site: Site) -> None:
    number = stranger(7)
    answers = await asyncio.gather(*(site.say(number, f"bonjour {index}") for index in range(100)))
    replies = [text for answer in answers for text in answer]
    notices = [text for text in replies if NOTICE in text]
    print(f"100 messages from one number: {len(replies)} replies, {len(notices)} notice(s)")
    assert len(notices) == 1, replies
    assert len(replies) <= 21 + 2, len(replies)  # 20, the last turn's second reply at most, the notice
    async with site.ctx.db.read() as session:
        stored = await session.scalar(
            select(func.count()).where(OutboundMessage.to_address == number, OutboundMessage.kind == MessageKind.reply)
        )
    assert stored == len(replies)
    assert await site.say(number, "encore") == []  # silence after the notice
    site.town.clock.advance(timedelta(minutes=11))
    assert await site.say(number, "bonjour") != []  # the window has passed


async def test_stop_is_still_heard_when_replies_are_capped(site: Site) -> None:
    number = stranger(8)
    for index in range(25):
        await site.say(number, f"bonjour {index}")
    assert await site.say(number, "STOP") == []
    async with site.ctx.db.read() as session:
        resident = (await session.execute(select(Resident).where(Resident.phone == number))).unique().scalar_one()
    assert resident.opted_out_sms


def test_served_countries_setting() -> None:
    assert load_settings({}).served_countries == ("FR", "GP", "MQ", "GF", "RE", "YT")
    assert load_settings({"ATELIER_SERVED_COUNTRIES": " fr, be "}).served_countries == ("FR", "BE")
    with pytest.raises(ValueError, match="ATELIER_SERVED_COUNTRIES"):
        load_settings({"ATELIER_SERVED_COUNTRIES": "France"})
