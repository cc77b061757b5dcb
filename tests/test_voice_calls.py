"""The voice channel, whole: call transcripts (``tests/call_transcripts.py``) run through the service operations
that make each message, the dispatcher, the official client on the fake Twilio API, its phone fetching our TwiML
and pressing keys, and Twilio's signed status callbacks; on both databases.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.service.broadcasts import Audience, send_broadcast
from bot.service.changes import cancel_workshop_and_notify, move_workshop_and_notify
from bot.service.enrolments import cancel
from bot.service.phone_enrolment import enrol_by_phone
from storage.models import Call, Enrolment, OutboundMessage, Resident
from tests.helpers.call_transcripts import CALL_TRANSCRIPTS, CallTranscript, Step
from tests.helpers.fake_twilio_voice import RecordedCall, Twiml
from tests.helpers.transcripts import fold
from tests.helpers.voice_rig import VoiceSite, voice_site
from tests.helpers.world import JULIE, in_2026

pytestmark = pytest.mark.both_dialects  # the service's statements of calls (FOR UPDATE on PostgreSQL)

HENRI, MARTINE = "+33470051234", "+33612345678"
MONDAY_10H = in_2026(2, 10)
W_START, DOMERAT_START = in_2026(10, 14), in_2026(11, 14)
REMINDER_DAY = in_2026(9, 10)  # the day before W, at 10:00: the reminder that asks


class World:
    """Henri (a landline), Martine (a mobile), workshop W at Saint-Victor (one seat) and one at Domérat."""

    def __init__(self, site: VoiceSite) -> None:
        self.site = site
        self.town = site.town
        self.w = self.domerat = self.henri = self.martine = 0
        self.henri_in_w: int | None = None
        self.martine_in_w: int | None = None

    async def build(self) -> None:
        self.w = await self.town.workshop("Saint-Victor", W_START, capacity=1)
        self.domerat = await self.town.workshop("Domérat", DOMERAT_START)
        self.martine = await self.town.resident("Martine Dupont", phone=MARTINE)

    async def add_henri(self) -> None:
        self.henri = await self.town.resident("Henri Bouchet", phone=HENRI, sms_unreachable=True)

    async def make(self, message: str) -> None:
        """Queue the message of the row, as the service operation that makes it does."""
        ctx = self.site.ctx
        if message in ("seated", "waiting"):
            if message == "waiting":
                self.martine_in_w = await self.town.seat(self.martine, self.w)
            await enrol_by_phone(
                ctx=ctx,
                name="Henri Bouchet",
                phone="04 70 05 12 34",
                commune="Saint-Victor",
                workshop_id=self.w,
                actor=JULIE,
            )
            if message == "seated":
                self.martine_in_w = await self.town.seat(self.martine, self.w)
            return
        await self.add_henri()
        if message == "promotion":
            self.martine_in_w = await self.town.seat(self.martine, self.w)
            self.henri_in_w = await self.town.seat(self.henri, self.w)
            async with ctx.db.write() as session:  # Martine gives her seat up: it goes to Henri, told by a call
                await cancel(session=session, ctx=ctx, enrolment_id=self.martine_in_w, now=self.site.clock.now)
            return
        self.henri_in_w = await self.town.seat(self.henri, self.w)
        self.martine_in_w = await self.town.seat(self.martine, self.w)
        if message == "moved":
            await move_workshop_and_notify(ctx=ctx, workshop_id=self.w, new_date="12/03/2026", actor=JULIE)
        elif message == "cancelled":
            await cancel_workshop_and_notify(ctx=ctx, workshop_id=self.w, reason="conseillère malade", actor=JULIE)
        elif message == "broadcast":
            text = "N'oubliez pas votre tablette chargée."
            await send_broadcast(ctx=ctx, audience=Audience(workshop_id=self.w), body=text, actor=JULIE)
        else:
            assert message == "reminder", message


def outbox_id(call: RecordedCall) -> int:
    return int(call.url.rsplit("outbox=", 1)[1])


class Phone:
    """Henri's phone in one transcript: the current call, and what each step heard."""

    def __init__(self, site: VoiceSite, label: str) -> None:
        self.site, self.label = site, label
        self.voice = site.fake.voice
        self.current: RecordedCall | None = None
        self.first: RecordedCall | None = None

    def calls(self) -> list[RecordedCall]:
        return self.voice.calls_to(HENRI)

    async def placed(self) -> RecordedCall | None:
        """Run the dispatcher; the call it placed to Henri, if any."""
        before = len(self.calls())
        await self.site.dispatch()
        after = self.calls()
        assert len(after) - before <= 1, f"{self.label}: {len(after) - before} calls at once"
        if len(after) == before:
            return None
        self.current = after[-1]
        self.first = self.first or self.current
        return self.current

    async def step(self, index: int, step: Step) -> None:
        where = f"{self.label!r}, step {index + 1} ({step.act})"
        site, voice = self.site, self.voice
        heard: Twiml | None = None
        if step.act in ("later", "nothing"):
            site.clock.advance(step.after)
            call = await self.placed()
            assert (call is None) == (step.act == "nothing"), f"{where}: placed {call}"
            return
        assert self.current is not None, f"{where}: no call"
        sid = self.current.sid
        if step.act == "answer":
            heard = await site.phone(voice.answer, sid)
        elif step.act == "machine":
            heard = await site.phone(voice.answer, sid, by="machine_end_beep")
        elif step.act == "press again":
            heard = await site.phone(voice.press_again, sid)
        elif step.act.startswith("press "):
            heard = await site.phone(voice.press, sid, step.act.removeprefix("press "))
        elif step.act in ("no-answer", "busy", "fail"):
            await site.phone(voice.ring, sid)
            ending = {"no-answer": voice.no_answer, "busy": voice.busy, "fail": voice.fail}[step.act]
            await site.phone(ending, sid)
        elif step.act == "hang up":
            await site.phone(voice.hang_up, sid)
        else:
            raise AssertionError(f"{where}: unknown act")
        said = fold(" ".join(heard.says)) if heard is not None else ""
        if heard is not None:
            assert heard.status == 200, f"{where}: HTTP {heard.status}"
        for fragment in step.hear:
            assert fold(fragment) in said, f"{where}: {fragment!r} not heard in {heard.says if heard else ()}"
        for fragment in step.refuse:
            assert fold(fragment) not in said, f"{where}: {fragment!r} heard in {heard.says if heard else ()}"


async def check_final(site: VoiceSite, world: World, phone: Phone, transcript: CallTranscript) -> None:
    final, label = transcript.final, transcript.label
    await site.dispatch()  # what the keys queued (a freed seat's SMS) leaves
    async with site.ctx.db.read() as session:
        henri = (await session.execute(select(Resident).where(Resident.phone == HENRI))).unique().scalar_one()
        enrolments = {
            (e.resident_id, e.workshop_id): e for e in (await session.execute(select(Enrolment))).unique().scalars()
        }
        assert phone.first is not None, f"{label}: no call was placed"
        row = await session.get(OutboundMessage, outbox_id(phone.first))
        # the advisers' "to call" list: an adviser phones them, with what the calls were to say
        callbacks = (await session.execute(select(Call).where(Call.resident_id == henri.id))).unique().scalars().all()
    assert row is not None
    henri_w, martine_w = enrolments.get((henri.id, world.w)), enrolments.get((world.martine, world.w))
    checks = [
        ("henri", final.henri, henri_w.status.value if henri_w else None),
        ("confirmed", final.confirmed, henri_w.confirmed if henri_w else None),
        ("call status", final.call_status, row.status.value),
        ("calls", final.calls, sum(outbox_id(call) == row.id for call in phone.calls())),
        ("martine", final.martine, martine_w.status.value if martine_w else None),
        ("advisers told", final.advisers_told, bool(callbacks)),
        ("domerat", final.domerat, (d.status.value if (d := enrolments.get((henri.id, world.domerat))) else None)),
    ]
    for name, expected, actual in checks:
        if expected is not None:
            assert actual == expected, f"{label}: {name} is {actual!r}, expected {expected!r}"
    if final.martine_told is not None:
        sms = site.fake.sent_to(MARTINE)
        assert any(fold(final.martine_told) in fold(text) for text in sms), f"{label}: Martine got {sms}"
    assert site.fake.sent_to(HENRI) == [], f"{label}: an SMS went to a landline"


@pytest.mark.parametrize("transcript", CALL_TRANSCRIPTS, ids=lambda t: t.label)
async def test_call_transcripts(db_url: str, transcript: CallTranscript) -> None:
    async with voice_site(db_url, MONDAY_10H) as site:
        world = World(site)
        await world.build()
        await world.make(transcript.message)
        if transcript.message == "reminder":
            site.clock.now = REMINDER_DAY
        if transcript.at is not None:
            hour, minute = transcript.at
            site.clock.now = site.clock.now.replace(hour=hour, minute=minute)
        phone = Phone(site, transcript.label)
        assert await phone.placed() is not None, f"{transcript.label}: no call placed"
        for index, step in enumerate(transcript.steps):
            await phone.step(index, step)
        await check_final(site, world, phone, transcript)


def test_every_message_kind_has_a_transcript() -> None:
    kinds = {t.message for t in CALL_TRANSCRIPTS}
    assert kinds == {"reminder", "promotion", "seated", "waiting", "moved", "cancelled", "broadcast"}


def test_every_act_of_a_phone_is_played() -> None:
    acts = {step.act.split(" ")[0] for t in CALL_TRANSCRIPTS for step in t.steps}
    assert acts >= {"answer", "machine", "press", "hang", "no-answer", "busy", "fail", "later", "nothing"}
