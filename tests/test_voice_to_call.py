"""Where the voice channel meets the advisers' "to call" list (issues 14 and 17), as tables over real HTTP on
loopback (``tests/helpers/voice_rig.py``), on both databases:

- an SMS that finds a landline is said by a call when calls are on — then no adviser is asked to phone as well;
  when no call can say it (calls off, STOP), an adviser is;
- a call Twilio refuses outright (an invalid or unreachable number) reaches nobody: an adviser phones instead, and
  the adviser in charge is told, as for every message we cannot send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import update

from bot.service.broadcasts import Audience, send_broadcast
from bot.service.calls import list_calls, sweep_now
from bot.service.changes import cancel_workshop_and_notify, move_workshop_and_notify
from bot.service.enrolments import cancel
from bot.service.phone_enrolment import enrol_by_phone
from bot.service.residents import unenrol
from bot.service.team import add_adviser
from bot.service.voice import take_over_from_sms
from storage.enums import Channel
from storage.models import CallKind, MessageKind, MessageStatus, Workshop
from tests.helpers.fake_twilio import LANDLINE, Fault
from tests.helpers.voice_rig import VoiceSite, voice_site
from tests.helpers.world import JULIE, in_2026

pytestmark = pytest.mark.both_dialects  # the sweep's and the take-over's own SQL

MONDAY_10H, W_START = in_2026(2, 10), in_2026(10, 14)
MARTINE, LOUIS = "+33612345678", "+33612000111"  # Louis's number looks mobile: the carrier says it is a landline
HENRI = "+33470051234"  # a landline: everything he is told is a call
JULIE_TELEGRAM = 9001


async def _nothing(site: VoiceSite) -> None:
    return None


async def _stop(site: VoiceSite) -> None:
    await site.town.say(LOUIS, "STOP")


@dataclass(frozen=True)
class LostSms:
    label: str
    environ: dict[str, str] = field(default_factory=dict)
    then: Callable[[VoiceSite], Awaitable[None]] = _nothing  # after the SMS was refused
    call_reason: str | None = None  # the to-call item about the freed seat; None: no item, a call says it
    voice_rows: int = 0  # calls queued for Louis


LOST_SMS = [
    LostSms("calls on: the call says it, no adviser phones as well", voice_rows=3),  # the seat, two reminders
    LostSms("calls off: an adviser phones", {"ATELIER_VOICE": "false"}, call_reason="sms_unreachable"),
    LostSms("STOP after the refusal: no call may, an adviser phones", then=_stop, call_reason="opted_out"),
]


@pytest.mark.parametrize("case", LOST_SMS, ids=lambda c: c.label)
async def test_a_freed_seat_whose_sms_finds_a_landline(db_url: str, case: LostSms) -> None:
    async with voice_site(db_url, MONDAY_10H, **case.environ) as site:
        town = site.town
        workshop = await town.workshop("Saint-Victor", W_START, capacity=1)
        martine = await town.resident("Martine Dupont", phone=MARTINE)
        louis = await town.resident("Louis Marchand", phone=LOUIS)
        martine_seat = await town.seat(martine, workshop)
        await town.seat(louis, workshop)  # waits
        site.fake.refuse(LOUIS, LANDLINE)
        async with site.ctx.db.write() as session:
            await cancel(session=session, ctx=site.ctx, enrolment_id=martine_seat, now=site.clock.now)
        await site.dispatch()  # the freed seat's SMS is refused: 30006, a landline
        await case.then(site)
        # the minutely jobs, in either order: the sweep before the take-over is the case that went wrong
        await sweep_now(site.ctx)
        await take_over_from_sms(ctx=site.ctx)
        await sweep_now(site.ctx)
        calls = [(c.kind, c.reason) for c in await list_calls(ctx=site.ctx) if c.resident_id == louis]
        expected = [(CallKind.promotion, case.call_reason)] if case.call_reason else []
        assert calls == expected, case.label
        assert len(await town.messages(resident_id=louis, channel=Channel.voice)) == case.voice_rows, case.label


# --- A call Twilio refuses outright ----------------------------------------------------------------------------
# https://www.twilio.com/docs/api/errors/21214, /21217, /13224: the call is never placed; the number is wrong, or no
# carrier can reach it. Nothing else will tell Henri: an adviser must phone him.

UNREACHABLE = Fault(status=400, code=21214, message="'To' phone number cannot be reached")
INVALID = Fault(status=400, code=21217, message="Phone number does not appear to be valid")
NOT_SUPPORTED = Fault(status=400, code=13224, message="Twilio does not support calling this number")


class Henri:
    """Workshop W at Saint-Victor, one seat, in charge of Julie; Henri (a landline) and Martine (a mobile)."""

    def __init__(self, site: VoiceSite) -> None:
        self.site, self.town = site, site.town
        self.w = self.henri = self.martine = 0

    async def build(self) -> None:
        julie = await add_adviser(actor=JULIE, ctx=self.site.ctx, name="Julie Martin", telegram_id=JULIE_TELEGRAM)
        self.w = await self.town.workshop("Saint-Victor", W_START, capacity=1)
        async with self.site.ctx.db.write() as session:
            await session.execute(update(Workshop).where(Workshop.id == self.w).values(adviser_id=julie.id))
        self.martine = await self.town.resident("Martine Dupont", phone=MARTINE)

    async def seated(self) -> None:
        self.henri = await self.town.resident("Henri Bouchet", phone=HENRI, sms_unreachable=True)
        await self.town.seat(self.henri, self.w)


async def _reminder(world: Henri) -> None:
    await world.seated()
    world.site.clock.now = in_2026(9, 10)  # the day before, 10:00: the reminder is due


async def _promotion(world: Henri) -> None:
    world.henri = await world.town.resident("Henri Bouchet", phone=HENRI, sms_unreachable=True)
    martine_seat = await world.town.seat(world.martine, world.w)
    await world.town.seat(world.henri, world.w)  # waits
    ctx = world.site.ctx
    async with ctx.db.write() as session:
        await cancel(session=session, ctx=ctx, enrolment_id=martine_seat, now=ctx.now())


async def _enrolled_by_phone(world: Henri) -> None:
    await enrol_by_phone(ctx=world.site.ctx, name="Henri Bouchet", phone="04 70 05 12 34", commune="Saint-Victor",
                         workshop_id=world.w, actor=JULIE)  # fmt: skip


async def _moved(world: Henri) -> None:
    await world.seated()
    await move_workshop_and_notify(ctx=world.site.ctx, workshop_id=world.w, new_date="12/03/2026", actor=JULIE)


async def _cancelled(world: Henri) -> None:
    await world.seated()
    await cancel_workshop_and_notify(ctx=world.site.ctx, workshop_id=world.w, reason="salle fermée", actor=JULIE)


async def _broadcast(world: Henri) -> None:
    await world.seated()
    text = "Apportez votre tablette."
    await send_broadcast(ctx=world.site.ctx, audience=Audience(workshop_id=world.w), body=text, actor=JULIE)


@dataclass(frozen=True)
class Refused:
    label: str
    make: Callable[[Henri], Awaitable[None]]  # the service operation that queues the call
    kind: MessageKind  # the call's outbox row
    fault: Fault
    call: CallKind  # the to-call item it becomes
    says: str  # in what the adviser is to say


REFUSED = [
    Refused("a reminder", _reminder, MessageKind.reminder, UNREACHABLE, CallKind.unanswered_call,
            "Nous vous rappelons votre atelier numérique"),
    Refused("a freed seat", _promotion, MessageKind.promotion, INVALID, CallKind.promotion, "une place s'est libérée"),
    Refused("an adviser's enrolment", _enrolled_by_phone, MessageKind.confirmation, NOT_SUPPORTED,
            CallKind.unanswered_call, "mardi 10 mars"),
    Refused("a move", _moved, MessageKind.change_notice, UNREACHABLE, CallKind.change_notice, "jeudi 12 mars"),
    Refused("a cancellation", _cancelled, MessageKind.change_notice, INVALID, CallKind.change_notice, "salle fermée"),
    Refused("a broadcast", _broadcast, MessageKind.broadcast, NOT_SUPPORTED, CallKind.broadcast,
            "Apportez votre tablette."),
]  # fmt: skip


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.label)
async def test_a_call_twilio_refuses_goes_to_the_advisers(db_url: str, case: Refused) -> None:
    async with voice_site(db_url, MONDAY_10H) as site:
        world = Henri(site)
        await world.build()
        await case.make(world)
        site.fake.fail_next(case.fault)
        await site.dispatch()
        assert site.fake.voice.calls == [], case.label  # never placed
        [row] = await site.town.messages(channel=Channel.voice, status=MessageStatus.failed)
        assert (row.kind, row.error[:5] if row.error else None) == (case.kind, str(case.fault.code)), case.label
        assert await sweep_now(site.ctx) == 1, case.label
        [call] = await list_calls(ctx=site.ctx)
        assert (call.kind, call.reason, call.name, call.phone) == (case.call, "failed", "Henri Bouchet", HENRI)
        assert case.says in call.what_to_say and call.adviser == "Julie Martin", case.label
        notices = await site.town.messages(kind=MessageKind.adviser_notice, to_address=str(JULIE_TELEGRAM))
        assert [n for n in notices if "Henri Bouchet" in n.body and "04 70 05 12 34" in n.body], case.label
        assert await sweep_now(site.ctx) == 0, case.label  # found once


async def test_a_refused_reminders_call_closes_when_he_leaves_the_workshop(db_url: str) -> None:
    async with voice_site(db_url, MONDAY_10H) as site:
        world = Henri(site)
        await world.build()
        await _reminder(world)
        site.fake.fail_next(UNREACHABLE)
        await site.dispatch()
        [call] = await list_calls(ctx=site.ctx)
        assert call.kind == CallKind.unanswered_call
        await unenrol(ctx=site.ctx, resident_id=world.henri, workshop_id=world.w, actor=JULIE)  # he phoned Julie
        assert await list_calls(ctx=site.ctx) == []
        [closed] = await list_calls(ctx=site.ctx, include_done=True)
        assert (closed.id, closed.outcome) == (call.id, "n'a plus de place dans cet atelier")


async def test_a_call_withdrawn_by_a_stop_goes_to_the_advisers(db_url: str) -> None:
    """A STOP stops calls too (SPEC §7): the freed seat's call queued for Henri is withdrawn, and an adviser
    phones him about the seat instead, as for an SMS withdrawn by a STOP."""
    async with voice_site(db_url, MONDAY_10H) as site:
        world = Henri(site)
        await world.build()
        await _promotion(world)
        await site.town.say(HENRI, "STOP")
        [row] = await site.town.messages(channel=Channel.voice, kind=MessageKind.promotion)
        assert row.status == MessageStatus.cancelled  # at once, as his SMS would be: not when it falls due
        [call] = await list_calls(ctx=site.ctx)  # about the seat; his reminders were withdrawn: no call for those
        assert (call.kind, call.reason, call.resident_id) == (CallKind.promotion, "opted_out", world.henri)
        await site.dispatch()
        assert site.fake.voice.calls == []
