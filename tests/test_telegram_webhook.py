"""The Telegram webhook end to end (on SQLite; replays and linked identities on PostgreSQL too): who may post, what is
ignored, what a resident's taps and commands do, what happens when Telegram refuses a message, and one resident across
SMS and Telegram.

Rows are posted to ``POST /telegram/webhook`` as Telegram posts them; answers leave through dispatcher ticks and
``TelegramSender`` to the fake Bot API (tests/helpers/telegram_rig.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.channels import SMS, Inbound
from bot.service import inbound as service
from bot.territory import Territory
from storage.database import Database
from storage.models import (
    Broadcast,
    CallbackRequest,
    Conversation,
    Enrolment,
    EnrolmentStatus,
    InboundMessage,
    MessageStatus,
    OutboundMessage,
    Resident,
    Workshop,
    WorkshopStatus,
)
from tests.helpers.fake_telegram import (
    BAD_GATEWAY,
    TOO_MANY_REQUESTS,
    FakeTelegram,
    SentMessage,
    callback_update,
    contact_update,
    group_update,
    text_update,
)
from tests.helpers.harness import seed
from tests.helpers.telegram_rig import SECRET, Rig, rig
from tests.helpers.transcripts import SIGNUP, fold

CHAT = 7_770_001
PHONE = "+33612345678"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bench(
    db: Database, db_url: str, territory: Territory, now: datetime, fake: FakeTelegram
) -> AsyncIterator[Rig]:
    await seed(db, "default", now)
    async with rig(db=db, db_url=db_url, territory=territory, now=now, fake=fake) as built:
        yield built


async def count(db: Database, model: type) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


def texts(messages: list[SentMessage]) -> str:
    return fold("\n".join(m.text + "\n" + " ".join(b for row in m.buttons for b in row) for m in messages))


async def sign_up(bench: Rig, chat: int = CHAT) -> None:
    for say in SIGNUP:
        await bench.say(chat, say.text)


# --- Who may post ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    label: str
    secret: str | None
    status: int


GATES = [
    Gate("no secret header", None, 403),
    Gate("wrong secret", "not-the-secret", 403),
    Gate("secret with a different case", SECRET.upper(), 403),
    Gate("secret plus one character", SECRET + "x", 403),
    Gate("empty secret", "", 403),
    Gate("right secret", SECRET, 200),
]


@pytest.mark.parametrize("gate", GATES, ids=[g.label for g in GATES])
async def test_the_secret_token_is_checked_before_anything_is_stored(gate: Gate, bench: Rig, db: Database) -> None:
    status = await bench.post(text_update(bench.next_update_id(), CHAT, "Bonjour"), secret=gate.secret)
    assert status == gate.status
    stored = await count(db, InboundMessage)
    assert stored == (1 if gate.status == 200 else 0)
    await bench.deliver()
    assert bool(bench.fake.sent(CHAT)) is (gate.status == 200)


async def test_without_a_configured_secret_every_update_is_refused(
    db: Database, db_url: str, territory: Territory, now: datetime, fake: FakeTelegram
) -> None:
    async with rig(db=db, db_url=db_url, territory=territory, now=now, fake=fake, ATELIER_TELEGRAM_SECRET="") as bench:
        assert bench.ctx.settings.telegram_secret is None
        for secret in (None, "", SECRET):
            assert await bench.post(text_update(bench.next_update_id(), CHAT, "Bonjour"), secret=secret) == 403
    assert await count(db, InboundMessage) == 0


# --- What is ignored ------------------------------------------------------------------------------------------


IGNORED = [
    ("not JSON", b"{{{ not json"),
    ("a JSON list", b"[1, 2, 3]"),
    ("no update_id", b'{"message": {"text": "Bonjour"}}'),
    ("a text update_id", b'{"update_id": "12", "message": {}}'),
    ("a broken message", b'{"update_id": 12, "message": "Bonjour"}'),
    ("not UTF-8", b'{"update_id": 12, "message": "\xff\xfe"}'),
    (
        "an edited message",
        b'{"update_id": 13, "edited_message": {"message_id": 1, "date": 0, '
        b'"chat": {"id": 1, "type": "private"}, "text": "x"}}',
    ),
    ("empty body", b""),
]


@pytest.mark.parametrize(("label", "body"), IGNORED, ids=[label for label, _ in IGNORED])
async def test_what_is_not_an_update_is_answered_200_and_ignored(
    label: str, body: bytes, bench: Rig, db: Database
) -> None:
    assert await bench.post({}, body=body) == 200
    await bench.deliver()
    assert await count(db, InboundMessage) == 0
    assert await count(db, Resident) == 0
    assert bench.fake.sent() == []


def chat_of(kind: str, chat_id: int, text: str = "Bonjour", *, user_id: int = CHAT) -> dict[str, object]:
    """A message from a chat of this kind; "private" with another id than the sender's is a forged private chat."""
    update = text_update(0, chat_id, text, user_id=user_id)
    update["message"]["chat"] = {"id": chat_id, "type": kind, "title": "Club du village", "first_name": "Martine"}
    return update


# Private chats only (https://core.telegram.org/bots/api#chat): a private chat's id is its user's id, positive.
NOT_PRIVATE = [
    ("private chat with id 0", chat_of("private", 0, user_id=0)),
    ("private chat with id 0, another sender", chat_of("private", 0)),
    ("private chat with a negative id", chat_of("private", -CHAT)),
    ("group", chat_of("group", -4_000_123)),
    ("supergroup", chat_of("supergroup", -1_001_234_567_890)),
    ("channel", chat_of("channel", -1_009_876_543_210)),
    ("a chat type Telegram does not have", chat_of("secret", CHAT)),
    ("adviser command in a group", chat_of("group", -4_000_124, "/rappels")),
    ("STOP in a supergroup", chat_of("supergroup", -1_001_234_567_891, "STOP")),
]


@pytest.mark.parametrize(("label", "update"), NOT_PRIVATE, ids=[label for label, _ in NOT_PRIVATE])
async def test_only_private_chats_are_answered(label: str, update: dict[str, object], bench: Rig, db: Database) -> None:
    update["update_id"] = bench.next_update_id()
    assert await bench.post(update) == 200
    await bench.deliver()
    assert bench.fake.sent() == []
    assert bench.fake.calls_to("answerCallbackQuery") == []
    for model in (InboundMessage, Resident, Conversation, OutboundMessage, CallbackRequest):
        assert await count(db, model) == 0, model


async def test_group_messages_and_other_people_s_contacts_are_not_a_sign_up(bench: Rig, db: Database) -> None:
    assert await bench.post(group_update(bench.next_update_id(), -100123, CHAT, "Bonjour")) == 200
    await bench.deliver()
    assert await count(db, InboundMessage) == 0
    assert bench.fake.sent() == []
    # a contact card of someone else: answered like an empty message, nobody's number stored
    update = contact_update(bench.next_update_id(), CHAT, "33699999999", contact_user_id=424242)
    assert await bench.post(update) == 200
    received = await bench.received(CHAT)
    assert "prenom" in texts(received)
    async with bench.ctx.db.read() as session:
        phones = (await session.execute(select(Resident.phone))).scalars().all()
    assert "+33699999999" not in phones


# --- Replayed updates -----------------------------------------------------------------------------------------


@pytest.mark.both_dialects  # the update_id's unique key (ON CONFLICT)
async def test_a_replayed_update_changes_state_once(bench: Rig, db: Database) -> None:
    await bench.say(CHAT, "Bonjour")
    update = text_update(bench.next_update_id(), CHAT, "Martine Dupont")
    for _ in range(3):  # Telegram redelivers when it did not get our 200 in time
        assert await bench.post(update) == 200
    received = await bench.received(CHAT)
    assert len(received) == 1 and "commune" in fold(received[0].text)
    async with db.read() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
        inbound = (await session.execute(select(func.count()).select_from(InboundMessage))).scalar_one()
    assert conversation.step == "commune" and conversation.data["name"] == "Martine Dupont"
    assert inbound == 2
    # the next answer goes on from the commune question, not from a second name
    assert "debute" in texts(await bench.say(CHAT, "st victor"))


@pytest.mark.both_dialects  # the update_id's unique key (ON CONFLICT)
async def test_updates_replayed_out_of_order_are_each_handled_once(bench: Rig, db: Database) -> None:
    first, second = bench.next_update_id(), bench.next_update_id()
    assert await bench.post(text_update(first, CHAT, "Bonjour")) == 200
    assert await bench.post(text_update(second, CHAT, "Martine Dupont")) == 200
    assert await bench.post(text_update(first, CHAT, "Bonjour")) == 200
    assert len(await bench.received(CHAT)) == 2
    assert await count(db, InboundMessage) == 2


# --- Buttons and commands -------------------------------------------------------------------------------------


async def test_a_resident_signs_up_with_the_buttons_only(bench: Rig, db: Database) -> None:
    await bench.say(CHAT, "/start")
    await bench.say(CHAT, "Martine Dupont")
    level = await bench.say(CHAT, "Saint-Victor")
    assert level[-1].buttons == [["Je débute"], ["Je me débrouille un peu"], ["Je suis à l'aise"]]
    interests = await bench.say(CHAT, level[-1].buttons[0][0])  # a tap sends the button's text
    labels = [row[0] for row in interests[-1].buttons]
    offer = await bench.say(CHAT, labels[0])
    assert offer[-1].buttons, "the workshops are offered as buttons"
    confirm = await bench.say(CHAT, offer[-1].buttons[0][0])
    assert confirm[-1].buttons == [["OUI"], ["NON"]]
    done = await bench.say(CHAT, "OUI")
    assert "c'est note" in texts(done)
    assert done[-1].removes_keyboard
    async with db.read() as session:
        resident = (await session.execute(select(Resident))).unique().scalar_one()
        seated = (
            await session.execute(select(func.count()).where(Enrolment.status == EnrolmentStatus.seated))
        ).scalar_one()
    assert resident.telegram_chat_id == CHAT and resident.interests == [labels[0]]
    assert seated == 1


@dataclass(frozen=True)
class CommandRow:
    label: str
    text: str
    expect: str  # folded fragment of the answer
    signed_up: bool = False


COMMAND_ROWS = [
    CommandRow("/start welcomes", "/start", "prenom"),
    CommandRow("/start with a deep-link payload", "/start atelier", "prenom"),
    CommandRow("/start@botname", "/start@atelier_test_bot", "prenom"),
    CommandRow("/aide", "/aide", "04 65 71 00 00"),
    CommandRow("/help", "/help", "04 65 71 00 00"),
    CommandRow("/stop", "/stop", "plus de messages"),
    CommandRow("/annuler with nothing to cancel", "/annuler", "pas d'inscription"),
    CommandRow("/annuler after signing up", "/annuler", "annuler votre inscription", signed_up=True),
    CommandRow("an unknown command", "/bidule", "prenom"),
]


@pytest.mark.parametrize("row", COMMAND_ROWS, ids=[r.label for r in COMMAND_ROWS])
async def test_menu_commands_are_the_dialogue_s_keywords(row: CommandRow, bench: Rig) -> None:
    if row.signed_up:
        await sign_up(bench)
    assert fold(row.expect) in texts(await bench.say(CHAT, row.text))


async def test_stop_then_start_on_telegram(bench: Rig, db: Database) -> None:
    await sign_up(bench)
    assert "plus de messages" in texts(await bench.say(CHAT, "/stop"))
    assert await bench.say(CHAT, "bonjour") == []
    assert "de nouveau" in texts(await bench.say(CHAT, "/start"))
    async with db.read() as session:
        resident = (await session.execute(select(Resident))).unique().scalar_one()
    assert resident.opted_out_telegram is False and resident.opted_out_sms is False


# --- When Telegram refuses ------------------------------------------------------------------------------------


async def test_a_resident_who_blocked_the_bot_is_opted_out_of_telegram(bench: Rig, db: Database) -> None:
    await bench.say(CHAT, "Bonjour")
    bench.fake.block(CHAT)
    assert await bench.say(CHAT, "Martine Dupont") == []
    async with db.read() as session:
        resident = (await session.execute(select(Resident))).unique().scalar_one()
        last = (await session.execute(select(OutboundMessage).order_by(OutboundMessage.id.desc()))).scalars().first()
    assert resident.opted_out_telegram is True and resident.opted_out_sms is False
    assert last is not None and last.status == MessageStatus.failed and (last.error or "").startswith("403")


async def test_a_429_is_retried_after_the_delay_telegram_asked_for(bench: Rig, db: Database) -> None:
    bench.fake.fail_next(TOO_MANY_REQUESTS)  # retry_after 3 s
    assert await bench.post(text_update(bench.next_update_id(), CHAT, "Bonjour")) == 200
    bench.clock.advance(timedelta(seconds=1))
    result = await bench.dispatcher.tick()
    assert result.retried == 1 and bench.fake.sent(CHAT) == []
    async with db.read() as session:
        row = (await session.execute(select(OutboundMessage))).scalar_one()
    assert row.status == MessageStatus.pending and (row.error or "").startswith("429")
    assert row.due_at >= bench.clock.now + timedelta(seconds=3)
    bench.clock.now = row.due_at - timedelta(seconds=1)
    assert (await bench.dispatcher.tick()).claimed == 0  # not before the delay Telegram asked for…
    await bench.deliver()  # …then sent
    received = bench.new_messages(CHAT)
    assert len(received) == 1 and "prenom" in fold(received[0].text)


async def test_a_bad_gateway_is_retried(bench: Rig, db: Database) -> None:
    bench.fake.fail_next(BAD_GATEWAY)
    received = await bench.say(CHAT, "Bonjour")
    assert len(received) == 1
    async with db.read() as session:
        row = (await session.execute(select(OutboundMessage))).scalar_one()
    assert row.status == MessageStatus.sent and row.attempts == 2


@pytest.mark.both_dialects  # the transaction rolled back
async def test_a_failure_while_handling_gets_an_apology_and_changes_nothing(
    bench: Rig, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(service, "handle_inbound", broken)
    assert await bench.post(text_update(bench.next_update_id(), CHAT, "Bonjour")) == 200
    assert "probleme technique" in texts(bench.new_messages(CHAT))
    assert await count(db, InboundMessage) == 0


# --- One resident, two channels -------------------------------------------------------------------------------


async def known_by_sms(bench: Rig) -> int:
    """Martine signs up by SMS; returns her resident id."""
    for say in SIGNUP:
        inbound = Inbound(channel=SMS, address=PHONE, text=say.text, provider_id=f"SM{bench.next_update_id():032d}")
        await service.handle_inbound(ctx=bench.ctx, inbound=inbound, inline=True)
    async with bench.ctx.db.read() as session:
        return int((await session.execute(select(Resident.id).where(Resident.phone == PHONE))).scalar_one())


@pytest.mark.parametrize("written", ["33612345678", "+33612345678"], ids=["number without +", "number with +"])
@pytest.mark.both_dialects  # two residents merged
async def test_a_resident_known_by_sms_who_shares_their_number_on_telegram_is_recognised(
    written: str, bench: Rig, db: Database
) -> None:
    resident_id = await known_by_sms(bench)
    await bench.say(CHAT, "Bonjour")  # a new Telegram user to us
    assert await bench.post(contact_update(bench.next_update_id(), CHAT, written)) == 200
    await bench.received(CHAT)
    async with db.read() as session:
        linked = (
            (await session.execute(select(Resident).where(Resident.telegram_chat_id == CHAT))).unique().scalar_one()
        )
        seated = (await session.execute(select(func.count()).where(Enrolment.resident_id == resident_id))).scalar_one()
    assert linked.id == resident_id and linked.phone == PHONE and linked.name == "Martine Dupont"
    assert seated == 1
    # from now on Telegram knows her bookings
    assert "saint-victor" in texts(await bench.say(CHAT, "mes ateliers"))


@pytest.mark.both_dialects  # a chat linked to a number (unique keys)
async def test_sharing_the_number_first_links_at_once(bench: Rig, db: Database) -> None:
    resident_id = await known_by_sms(bench)
    assert await bench.post(contact_update(bench.next_update_id(), CHAT, "33612345678")) == 200
    await bench.received(CHAT)
    assert "saint-victor" in texts(await bench.say(CHAT, "mes ateliers"))
    async with db.read() as session:
        linked = (
            (await session.execute(select(Resident).where(Resident.telegram_chat_id == CHAT))).unique().scalar_one()
        )
    assert linked.id == resident_id


async def test_a_telegram_resident_without_a_number_is_asked_for_one_to_be_called_back(
    bench: Rig, db: Database
) -> None:
    await sign_up(bench)
    assert "numero" in texts(await bench.say(CHAT, "CONSEILLER"))
    assert "rappeler" in texts(await bench.say(CHAT, "06 12 34 56 78"))
    async with db.read() as session:
        resident = (await session.execute(select(Resident))).unique().scalar_one()
        request = (await session.execute(select(CallbackRequest))).unique().scalar_one()
    # the number is for the adviser's call only: anyone can type anyone's number, so it never becomes an identity
    assert resident.phone is None
    assert request.phone == PHONE


# --- A resident trying adviser commands -----------------------------------------------------------------------


ADVISER_TRIES = ["/ateliers", "/inscrits 1", "/annonce 1 La salle change", "/annuler 1 salle fermée", "/rappels"]


@pytest.mark.parametrize("signed_up", [False, True], ids=["newcomer", "signed-up resident"])
async def test_a_resident_typing_adviser_commands_gets_the_resident_answer_only(
    signed_up: bool, bench: Rig, db: Database
) -> None:
    if signed_up:
        await sign_up(bench)
        await bench.say(CHAT + 1, "Bonjour")
        await bench.say(CHAT + 1, "Paul Durand")  # another resident whose name must never show
    for text in ADVISER_TRIES:
        received = await bench.say(CHAT, text)
        assert received, f"{text}: no answer"
        said = texts(received)
        assert "paul" not in said and "n°" not in said and "destinataires" not in said, f"{text}: {said}"
        assert all(not m.inline_buttons for m in received), f"{text}: adviser buttons shown to a resident"
        if text.startswith("/annuler"):
            expected = "annuler votre inscription" if signed_up else "j'arrete l'inscription"
        else:
            expected = "que voulez-vous faire" if signed_up else "prenom"
        assert fold(expected) in said, f"{text}: {said}"
        if signed_up and text.startswith("/annuler"):
            await bench.say(CHAT, "NON")  # keep the seat
    assert await count(db, Broadcast) == 0
    async with db.read() as session:
        statuses = (await session.execute(select(Workshop.status))).scalars().all()
    assert set(statuses) == {WorkshopStatus.planned}
    assert bench.fake.calls_to("editMessageText") == []


async def test_an_unregistered_telegram_user_pressing_an_adviser_button_does_nothing(bench: Rig, db: Database) -> None:
    update = callback_update(bench.next_update_id(), CHAT, "conseil:annonce-oui:deadbeef")
    assert await bench.post(update) == 200
    answers = bench.fake.calls_to("answerCallbackQuery")
    assert len(answers) == 1 and "conseillers" in fold(answers[0].params.get("text", ""))
    assert await count(db, Broadcast) == 0


async def test_a_stray_inline_button_only_stops_the_spinner(bench: Rig, db: Database) -> None:
    assert await bench.post(callback_update(bench.next_update_id(), CHAT, "something-else")) == 200
    assert len(bench.fake.calls_to("answerCallbackQuery")) == 1
    assert await count(db, InboundMessage) == 0


async def test_an_empty_message_is_answered_like_an_empty_sms(bench: Rig) -> None:
    assert "prenom" in texts(await bench.say(CHAT, ""))  # a sticker


async def test_a_photo_caption_is_read_as_text(bench: Rig) -> None:
    update = text_update(bench.next_update_id(), CHAT, "x")
    message = update["message"]
    del message["text"]
    message["caption"] = "Bonjour"
    message["photo"] = [{"file_id": "p", "file_unique_id": "u", "width": 10, "height": 10}]
    assert await bench.post(update) == 200
    assert "prenom" in texts(await bench.received(CHAT))


async def test_the_resident_s_keyboard_follows_the_question(bench: Rig) -> None:
    await bench.say(CHAT, "Bonjour")
    await bench.say(CHAT, "Martine Dupont")
    level = await bench.say(CHAT, "st victor")
    assert level[-1].buttons and not level[-1].removes_keyboard
    help_answer = await bench.say(CHAT, "AIDE")  # help, then the question again with its buttons
    assert help_answer[0].removes_keyboard and help_answer[-1].buttons == level[-1].buttons


async def test_declining_to_share_the_number_is_an_ordinary_message(bench: Rig) -> None:
    # the "share my number" keyboard offers "Non merci": a tap is an ordinary message
    await bench.say(CHAT, "Bonjour")
    assert "nom" in texts(await bench.say(CHAT, "Non merci"))
