"""The voice webhooks (``/voice/twilio/…``) as tables: signed like the SMS webhook, bounded bodies, odd input
answered kindly; the territory's number's menu as call transcripts; and what the voice channel adds around it —
SMS that find a landline said by a call instead, broadcast previews and statistics counting calls apart, no number
in the logs. Over real HTTP on loopback (``tests/helpers/voice_rig.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.config import load_settings
from bot.handlers.voice import CALL_PATH, INCOMING_PATH, KEYS_PATH, MAX_FORM_BYTES, MENU_PATH, STATUS_PATH
from bot.service.broadcasts import Audience, preview_broadcast, send_broadcast
from bot.service.costs import usage
from bot.service.enrolments import cancel
from bot.service.voice import settle_unreported, take_over_from_sms
from storage.enums import Channel
from storage.models import CallbackRequest, Enrolment, EnrolmentStatus, MessageKind, MessageStatus, Resident
from tests.helpers.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, LANDLINE
from tests.helpers.fake_twilio_voice import Twiml, parse_twiml
from tests.helpers.transcripts import fold
from tests.helpers.voice_rig import OUR_NUMBER, PARIS, VoiceSite, voice_site
from tests.helpers.world import JULIE, in_2026

HENRI, MARTINE = "+33470051234", "+33612345678"
MONDAY_10H, W_START = in_2026(2, 10), in_2026(10, 14)
CALL_SID = "CA" + "ab" * 16


def sign(url: str, form: dict[str, str]) -> str:
    return str(RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(url, form))


def call_form(**extra: str) -> dict[str, str]:
    return {"AccountSid": DEFAULT_ACCOUNT_SID, "CallSid": CALL_SID, "From": OUR_NUMBER, "To": HENRI,
            "CallStatus": "in-progress", "Direction": "outbound-api", **extra}  # fmt: skip


# --- Signatures, bodies, odd input ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HookCase:
    label: str
    path: str
    form: dict[str, str] = field(default_factory=call_form)
    signature: str | None = "valid"  # "valid", None (missing), "other-url" (signed for another URL), or a literal
    content: bytes | None = None  # a raw body instead of the form
    status: int = 200
    says: tuple[str, ...] = ()  # heard in the TwiML answer


ROW = f"{CALL_PATH}?outbox=1"
HOOK_CASES = [
    HookCase("the call's TwiML, signed", ROW, says=("Nous vous rappelons",)),
    HookCase("forged signature", ROW, signature="bm90IGEgc2lnbmF0dXJl", status=403),
    HookCase("missing signature", ROW, signature=None, status=403),
    HookCase("signed for another URL", ROW, signature="other-url", status=403),
    HookCase("another row than the one signed", f"{CALL_PATH}?outbox=2", signature="for-row-1", status=403),
    HookCase("keys, signed", f"{KEYS_PATH}?outbox=1", form=call_form(Digits="3"), says=("Je répète",)),
    HookCase("keys, forged", f"{KEYS_PATH}?outbox=1", form=call_form(Digits="2"), signature="x", status=403),
    HookCase("status, forged", f"{STATUS_PATH}?outbox=1", form=call_form(CallStatus="completed"), signature="x",
             status=403),
    HookCase("the territory's number, forged", INCOMING_PATH, signature=None, status=403),
    HookCase("its menu, forged", f"{MENU_PATH}?step=welcome", form=call_form(Digits="3"), signature=None, status=403),
    HookCase("a body over the limit", ROW, content=b"CallSid=" + b"A" * (MAX_FORM_BYTES + 1), status=413),
    HookCase("an unknown row", f"{CALL_PATH}?outbox=999", says=("Au revoir",)),
    HookCase("a row number out of range", f"{CALL_PATH}?outbox={'9' * 40}", says=("Au revoir",)),
    HookCase("a row number that is not one", f"{CALL_PATH}?outbox=%C2%B2", says=("Au revoir",)),
    HookCase("no CallSid", ROW, form=call_form(CallSid="nonsense"), says=("Au revoir",)),
    HookCase("keys that are text", f"{KEYS_PATH}?outbox=1", form=call_form(Digits="<script>" * 50),
             says=("Ce n'est pas une touche prévue",)),
    HookCase("a status callback that is not one", f"{STATUS_PATH}?outbox=1", form={"Hello": "world"}, status=204),
    HookCase("a menu step we never gave", f"{MENU_PATH}?step=admin", form=call_form(Digits="9"),
             says=("Ce n'est pas une touche prévue", "tapez 1")),
]  # fmt: skip


async def post(site: VoiceSite, case: HookCase) -> httpx.Response:
    url = site.url(case.path)
    headers: dict[str, str] = {}
    if case.signature == "valid":
        headers["X-Twilio-Signature"] = sign(url, case.form)
    elif case.signature == "other-url":
        headers["X-Twilio-Signature"] = sign("https://evil.example.org" + case.path, case.form)
    elif case.signature == "for-row-1":
        headers["X-Twilio-Signature"] = sign(site.url(ROW), case.form)
    elif case.signature is not None:
        headers["X-Twilio-Signature"] = case.signature
    async with httpx.AsyncClient() as client:
        if case.content is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return await client.post(url, content=case.content, headers=headers)
        return await client.post(url, content=urlencode(case.form), headers={
            **headers, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip


async def henri_with_a_reminder_call(site: VoiceSite) -> int:
    """Henri, a landline, seated: his reminders are calls (row 1: the one the day before)."""
    town = site.town
    workshop = await town.workshop("Saint-Victor", W_START, capacity=1)
    henri = await town.resident("Henri Bouchet", phone=HENRI, sms_unreachable=True)
    await town.seat(henri, workshop)
    [first, *_] = await town.messages(channel=Channel.voice)
    assert first.id == 1 and first.kind == MessageKind.reminder
    return workshop


# What a signed request may carry that a database cannot take: on PostgreSQL, a NUL in text, or an id past 32 bits
# compared with an INTEGER column, is refused by the driver (SQLite stores or misses them quietly).
UNSTORABLE_CASES = [
    HookCase("a status with a NUL", f"{STATUS_PATH}?outbox=1", form=call_form(CallStatus="completed\x00"),
             status=204),
    HookCase("an answering machine's verdict with a NUL", ROW, form=call_form(AnsweredBy="human\x00"),
             says=("Nous vous rappelons",)),
    HookCase("a report's verdict with a NUL", f"{STATUS_PATH}?outbox=1",
             form=call_form(CallStatus="in-progress", AnsweredBy="\x00"), status=204),
    HookCase("a row past 32 bits", f"{CALL_PATH}?outbox=3000000000", says=("Au revoir",)),
    HookCase("keys for a row past 32 bits", f"{KEYS_PATH}?outbox=3000000000", form=call_form(Digits="2"),
             says=("Au revoir",)),
    HookCase("a report on a row past 32 bits", f"{STATUS_PATH}?outbox=3000000000",
             form=call_form(CallStatus="completed"), status=204),
    HookCase("a duration past 32 bits", f"{STATUS_PATH}?outbox=1",
             form=call_form(CallStatus="completed", CallDuration="9" * 12), status=204),
    HookCase("a menu's subject past 32 bits", f"{MENU_PATH}?step=cancel_next&subject=3000000000",
             form=call_form(Digits="1", From=HENRI), says=("a changé entre-temps",)),
]  # fmt: skip


@pytest.mark.parametrize("case", HOOK_CASES, ids=lambda c: c.label)
async def test_voice_webhooks(db_url: str, case: HookCase) -> None:
    await check_hook(db_url, case)


@pytest.mark.both_dialects  # what PostgreSQL refuses to store or compare
@pytest.mark.parametrize("case", UNSTORABLE_CASES, ids=lambda c: c.label)
async def test_voice_webhooks_keep_to_what_a_database_holds(db_url: str, case: HookCase) -> None:
    await check_hook(db_url, case)


async def check_hook(db_url: str, case: HookCase) -> None:
    async with voice_site(db_url, MONDAY_10H) as site:
        await henri_with_a_reminder_call(site)
        response = await post(site, case)
        assert response.status_code == case.status, f"{case.label}: {response.text[:200]}"
        if case.status == 200:
            heard = parse_twiml(200, response.text)
            said = fold(" ".join(heard.says))
            for fragment in case.says:
                assert fold(fragment) in said, f"{case.label}: {fragment!r} not in {heard.says}"
            assert heard.hangup, case.label  # every answer ends the call or waits for keys, then hangs up
        if case.status in (403, 413):
            async with site.ctx.db.read() as session:
                enrolments = (await session.execute(select(Enrolment))).unique().scalars().all()
            assert [e.status for e in enrolments] == [EnrolmentStatus.seated], case.label  # nothing changed


# --- The territory's number ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dial:
    """One key pressed in the menu ("" for the call itself), and what must then be heard."""

    key: str
    hear: tuple[str, ...] = ()
    refuse: tuple[str, ...] = ()


@dataclass(frozen=True)
class MenuCase:
    label: str
    caller: str  # "henri" (known, seated), "stranger" (unknown number), "hidden"
    dials: tuple[Dial, ...]
    henri: str | None = None  # Henri's enrolment at the end
    martine: str | None = None
    callbacks: int | None = None  # call-back requests of the caller


MENU = "Pour être rappelé par un conseiller, tapez 1. Pour connaître votre prochain atelier, tapez 2."
MENU_CASES = [
    MenuCase("2: the next workshop, said twice, then the menu again", "henri",
             (Dial("", ("Bonjour. Ici les ateliers numériques", MENU)),
              Dial("2", ("Votre prochain atelier : le mardi 10 mars, à 14 heures, à la mairie de Saint-Victor.",
                         "Je répète", MENU)))),
    MenuCase("3 then 1: cancelled, the seat goes to Martine", "henri",
             (Dial(""), Dial("3", ("Vous voulez annuler votre atelier du mardi 10 mars", "Pour confirmer l'annulation, "
                                   "tapez 1. Pour ne rien changer, tapez 2.")),
              Dial("1", ("vous ne venez pas", "Votre place est donnée à une personne qui attendait"))),
             henri="cancelled", martine="seated"),
    MenuCase("3 then 2: nothing changes", "henri", (Dial(""), Dial("3"), Dial("2", ("votre inscription est gardée",))),
             henri="seated", martine="waiting"),
    MenuCase("1: a call-back request with the caller's number", "henri",
             (Dial(""), Dial("1", ("un conseiller va vous rappeler à ce numéro",))), callbacks=1),
    MenuCase("a stranger's 1: known from now on, and called back", "stranger",
             (Dial(""), Dial("1", ("un conseiller va vous rappeler",))), callbacks=1),
    MenuCase("a stranger's 2 and 3: nothing for this number", "stranger",
             (Dial(""), Dial("2", ("Nous n'avons pas d'atelier prévu pour ce numéro", MENU)),
              Dial("3", ("Nous n'avons pas d'atelier prévu pour ce numéro",))), callbacks=0),
    MenuCase("a hidden number: the advisers' number instead", "hidden",
             (Dial(""), Dial("1", ("Votre numéro est masqué", "04, 65, 71, 00, 00"), refuse=("tapez",)))),
    MenuCase("a key not offered: the menu again", "henri",
             (Dial(""), Dial("8", ("Ce n'est pas une touche prévue", MENU))), henri="seated"),
]  # fmt: skip
CALLERS = {"henri": HENRI, "stranger": "+33470099999", "hidden": "anonymous"}


@pytest.mark.parametrize("case", MENU_CASES, ids=lambda c: c.label)
async def test_the_territorys_number(db_url: str, case: MenuCase) -> None:
    async with voice_site(db_url, MONDAY_10H) as site:
        workshop = await henri_with_a_reminder_call(site)
        martine = await site.town.resident("Martine Dupont", phone=MARTINE)
        await site.town.seat(martine, workshop)  # waits behind Henri
        voice, caller = site.fake.voice, CALLERS[case.caller]
        call: object = None
        for index, dial in enumerate(case.dials):
            if dial.key == "":
                call, heard = await site.phone(voice.dial_in, site.url(INCOMING_PATH), caller, to=OUR_NUMBER)
            else:
                heard = await site.phone(voice.press, call.sid, dial.key)  # type: ignore[attr-defined]
            check_heard(f"{case.label}, key {index} ({dial.key or 'call'})", heard, dial.hear, dial.refuse)
        await site.dispatch()
        async with site.ctx.db.read() as session:
            people = {r.phone: r for r in (await session.execute(select(Resident))).unique().scalars()}
            seats = {
                e.resident_id: e.status.value for e in (await session.execute(select(Enrolment))).unique().scalars()
            }
            requests = (await session.execute(select(CallbackRequest))).unique().scalars().all()
        henri = people[HENRI]
        for name, expected, actual in [
            ("henri", case.henri, seats.get(henri.id)),
            ("martine", case.martine, seats.get(martine)),
            ("callbacks", case.callbacks,
             sum(1 for r in requests if caller in people and r.resident_id == people[caller].id)),
        ]:  # fmt: skip
            if expected is not None:
                assert actual == expected, f"{case.label}: {name} is {actual}"
        if case.martine == "seated":
            assert any("place s'est lib" in text for text in site.fake.sent_to(MARTINE)), case.label


def check_heard(where: str, heard: Twiml, hear: tuple[str, ...], refuse: tuple[str, ...]) -> None:
    assert heard.status == 200, f"{where}: HTTP {heard.status}"
    said = fold(" ".join(heard.says))
    for fragment in hear:
        assert fold(fragment) in said, f"{where}: {fragment!r} not in {heard.says}"
    for fragment in refuse:
        assert fold(fragment) not in said, f"{where}: {fragment!r} in {heard.says}"


# --- Around the channel --------------------------------------------------------------------------------------------


@pytest.mark.both_dialects  # the query of SMS lost to landlines, the calls queued instead
async def test_an_sms_that_finds_a_landline_is_said_by_a_call(db_url: str) -> None:
    """Twilio refuses the SMS as sent to a landline (30006): the number is marked, and the freed seat it announced
    is said by a call — once, however often the job runs — while the reminders come back as calls."""
    mobile_looking = "+33612000111"  # a number the carrier says is a landline after all
    async with voice_site(db_url, MONDAY_10H) as site:
        town = site.town
        workshop = await town.workshop("Saint-Victor", W_START, capacity=1)
        martine = await town.resident("Martine Dupont", phone=MARTINE)
        louis = await town.resident("Louis Marchand", phone=mobile_looking)
        martine_seat = await town.seat(martine, workshop)
        await town.seat(louis, workshop)  # waits
        site.fake.refuse(mobile_looking, LANDLINE)
        async with site.ctx.db.write() as session:
            await cancel(session=session, ctx=site.ctx, enrolment_id=martine_seat, now=site.clock.now)
        await site.dispatch()  # the promotion SMS is refused: 30006
        async with site.ctx.db.read() as session:
            assert (await session.get(Resident, louis)).sms_unreachable  # type: ignore[union-attr]
        assert await take_over_from_sms(ctx=site.ctx) >= 2  # the freed seat, and his reminders again
        assert await take_over_from_sms(ctx=site.ctx) == 0  # once
        calls = await town.messages(resident_id=louis, channel=Channel.voice)
        kinds = sorted(m.kind.value for m in calls)
        assert kinds == ["promotion", "reminder", "reminder"], kinds
        said = next(m for m in calls if m.kind == MessageKind.promotion)
        assert said.body.startswith("Bonne nouvelle : une place s'est libérée pour vous") and said.choices == ["coming"]
        await site.dispatch()
        assert [call.to for call in site.fake.voice.calls] == [mobile_looking]  # the freed seat, now


@pytest.mark.both_dialects  # the counts of SMS and calls over a period
async def test_previews_and_statistics_count_calls_apart_from_sms(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with voice_site(db_url, MONDAY_10H) as site:
        workshop = await henri_with_a_reminder_call(site)
        martine = await site.town.resident("Martine Dupont", phone=MARTINE)
        await site.town.seat(martine, workshop)
        preview = await preview_broadcast(
            ctx=site.ctx, audience=Audience(workshop_id=workshop), body="N'oubliez pas votre tablette chargée."
        )
        assert dict(preview.by_channel) == {Channel.sms: 1, Channel.telegram: 0, Channel.voice: 1}
        assert (preview.calls, preview.call_minutes) == (1, 1)
        assert preview.sms_cost == 0.08 and preview.call_cost == 0.03 and preview.estimated_cost == 0.11
        # Sent: an SMS to Martine, a call to Henri answered for 75 seconds (two billed minutes); and someone calls
        # the territory's number for 20 seconds (one minute).
        text = "N'oubliez pas votre tablette chargée."
        await send_broadcast(ctx=site.ctx, audience=Audience(workshop_id=workshop), body=text, actor=JULIE)
        await site.dispatch()
        [call] = site.fake.voice.calls
        heard = await site.phone(site.fake.voice.answer, call.sid)
        assert "Voici un message des conseillers numériques. N'oubliez pas votre tablette chargée." in heard.says
        await site.phone(site.fake.voice.hang_up, call.sid, seconds=75)
        received, _ = await site.phone(site.fake.voice.dial_in, site.url(INCOMING_PATH), "+33470099999")
        ended = {"AccountSid": DEFAULT_ACCOUNT_SID, "CallSid": received.sid, "CallStatus": "completed",
                 "CallDuration": "20", "Direction": "inbound", "From": "+33470099999", "To": OUR_NUMBER}  # fmt: skip
        assert (await site.phone(site.fake.voice.post, site.url(STATUS_PATH), ended))[0] == 204
        spent = await usage(ctx=site.ctx)
        calls = spent.calls
        assert (calls.placed, calls.answered, calls.received, calls.minutes, spent.call_cost) == (1, 1, 1, 3, 0.09)
        assert (spent.sms, spent.sms_segments, spent.sms_cost, spent.total_cost) == (1, 1, 0.08, 0.17)
    logged = caplog.text
    assert HENRI not in logged and "0470051234" not in logged and "470051234" not in logged  # no number in logs
    assert "Nous vous rappelons" not in logged  # nor what is said


async def test_two_calls_due_at_once_to_one_number_ring_ten_minutes_apart(db_url: str) -> None:
    """A freed seat and a broadcast due together for Henri: one call, the other after the line's rest."""
    async with voice_site(db_url, MONDAY_10H) as site:
        workshop = await henri_with_a_reminder_call(site)
        text = "N'oubliez pas votre tablette chargée."
        await send_broadcast(ctx=site.ctx, audience=Audience(workshop_id=workshop), body=text, actor=JULIE)
        await send_broadcast(ctx=site.ctx, audience=Audience(workshop_id=workshop), body="Et un casque.", actor=JULIE)
        await site.dispatch()
        assert len(site.fake.voice.calls) == 1
        site.clock.advance(timedelta(minutes=5))
        await site.dispatch()
        assert len(site.fake.voice.calls) == 1  # the line rests
        site.clock.advance(timedelta(minutes=6))
        await site.dispatch()
        assert len(site.fake.voice.calls) == 2


async def test_a_call_whose_end_was_never_reported_is_fetched(db_url: str) -> None:
    """Twilio's status callback was lost (our service was down): after 15 minutes the call is fetched from the API,
    and its end acted on as if reported — here no answer, so one more call after lunch."""
    async with voice_site(db_url, in_2026(9, 10)) as site:
        await henri_with_a_reminder_call(site)
        await site.dispatch()
        [call] = site.fake.voice.calls
        call.status_callback = None  # nothing reaches us about this call any more
        await site.phone(site.fake.voice.ring, call.sid)
        await site.phone(site.fake.voice.no_answer, call.sid)
        assert await settle_unreported(ctx=site.ctx) == 0  # too early to ask
        site.clock.advance(timedelta(minutes=16))
        assert await settle_unreported(ctx=site.ctx) == 1
        assert await settle_unreported(ctx=site.ctx) == 0  # once
        [row] = [m for m in await site.town.messages(channel=Channel.voice) if m.id == 1]
        assert (row.status, row.provider_id, row.error) == (MessageStatus.pending, None, "no-answer")
        assert row.due_at.astimezone(PARIS) == in_2026(9, 14)


def test_calls_are_on_with_twilio_and_a_public_url_only() -> None:
    twilio = {"TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": OUR_NUMBER}
    public = {"ATELIER_PUBLIC_URL": "https://ateliers.example.fr"}
    assert load_settings(twilio | public).calls_enabled
    assert not load_settings(twilio).calls_enabled  # Twilio could not fetch what to say
    assert not load_settings(public).calls_enabled
    assert not load_settings(twilio | public | {"ATELIER_VOICE": "false"}).calls_enabled
    settings = load_settings(twilio | public | {"ATELIER_CALL_HOURS": "10:00-12:00", "ATELIER_CALL_PRICE": "0.05"})
    assert settings.call_hours.ranges[0][0].hour == 10 and settings.call_price == 0.05
    assert settings.rate_of(Channel.voice) == 1.0


async def test_a_reminder_sms_refused_as_a_landline_is_said_by_a_call_at_once(db_url: str) -> None:
    mobile_looking = "+33612000222"
    async with voice_site(db_url, in_2026(9, 10)) as site:
        town = site.town
        workshop = await town.workshop("Saint-Victor", W_START)
        louise = await town.resident("Louise Martin", phone=mobile_looking)
        site.clock.now = MONDAY_10H
        await town.seat(louise, workshop)  # her reminders are SMS: nothing says yet her number is a landline
        site.clock.now = in_2026(9, 10)
        site.fake.refuse(mobile_looking, LANDLINE)
        await site.dispatch()  # the reminder of the day before: refused, 30006
        assert await take_over_from_sms(ctx=site.ctx) == 2  # the reminder now, and the one of the day itself
        assert await take_over_from_sms(ctx=site.ctx) == 0
        await site.dispatch()
        [call] = site.fake.voice.calls
        heard = await site.phone(site.fake.voice.answer, call.sid)
        assert "Nous vous rappelons votre atelier numérique : le mardi 10 mars, à 14 heures" in " ".join(heard.says)
        due = sorted(m.due_at.astimezone(PARIS) for m in await town.messages(resident_id=louise, channel=Channel.voice))
        assert due == [in_2026(9, 10), in_2026(10, 11)]
