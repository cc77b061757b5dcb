"""The conversation table (tests/helpers/transcripts.py) through Telegram, end to end, on SQLite (the same rows run
through the service on both databases: test_service_transcripts.py).

Each message is posted to the webhook as Telegram would post it; the replies are queued in the outbox and sent by
dispatcher ticks through ``TelegramSender`` to the fake Bot API; what the chat received is checked against the same
rows as SMS, plus Telegram's rendering: choices arrive as keyboard buttons (one per row), never as numbered lines;
a message without choices removes the keyboard; the text is sent as written (no GSM-7 transliteration).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from bot.conversation import texts
from bot.territory import Territory
from storage.database import Database
from storage.models import Resident
from tests.helpers.fake_telegram import FakeTelegram, SentMessage
from tests.helpers.harness import PHONES, Shown, check_final, play, seed
from tests.helpers.telegram_rig import Rig, rig
from tests.helpers.transcripts import TRANSCRIPTS, Transcript

CHATS = {"resident": 5_550_001, "other": 5_550_002}

# Rows where the resident asks an adviser to call back: on SMS their number is known. On Telegram someone who never
# shared it is asked for it (rows in test_telegram_webhook.py); here they are someone known by number whose
# Telegram account is linked already, so that the same rows apply.
NEEDS_PHONE = {t.label for t in TRANSCRIPTS if t.final.callbacks is not None}


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def rendered(message: SentMessage) -> Shown:
    """What the harness compares: the text, and the buttons' labels (the contact buttons are no choice)."""
    labels = tuple(label for row in message.buttons for label in row)
    return message.text, tuple(label for label in labels if label not in texts.contact_buttons())


async def check_rendering(bench: Rig, messages: list[SentMessage], where: str) -> None:
    rows = await bench.outbox_rows(messages)
    for message in messages:
        row = rows.get(f"{message.chat_id}:{message.message_id}")
        if row is None:  # the goodbye after OUBLIER: its row is blanked once sent (nothing of them is kept)
            assert message.removes_keyboard and message.text == texts.forgotten(), where
            continue
        body, choices, ask_contact = row
        assert message.text == body.strip(), f"{where}: the text was changed on its way"
        if choices:
            assert message.buttons == [[choice] for choice in choices], f"{where}: {message.buttons} vs {choices}"
            assert message.reply_markup is not None
            assert message.reply_markup.get("one_time_keyboard") is True
            assert message.reply_markup.get("resize_keyboard") is True
            assert f"\n1 {choices[0]}" not in message.text, f"{where}: choices written as numbered lines"
        elif ask_contact:  # the welcome offers the "share my number" button, once
            assert message.buttons == [["Partager mon numéro"], ["Non merci"]], f"{where}: {message.buttons}"
        else:
            assert message.removes_keyboard, f"{where}: a message without choices must remove the keyboard"


async def link_phone(db: Database, now: datetime) -> None:
    async with db.write() as session:
        session.add(
            Resident(
                phone=PHONES["resident"],
                telegram_chat_id=CHATS["resident"],
                interests=[],
                created_at=now,
                last_activity_at=now,
            )
        )


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[t.label for t in TRANSCRIPTS])
async def test_transcript_through_telegram(
    transcript: Transcript, db: Database, db_url: str, territory: Territory, now: datetime, fake: FakeTelegram
) -> None:
    ids = await seed(db, transcript.setup, now)
    if transcript.label in NEEDS_PHONE:
        await link_phone(db, now)
    async with rig(db=db, db_url=db_url, territory=territory, now=now, fake=fake) as bench:

        async def send(who: str, text: str) -> list[Shown]:
            messages = await bench.say(CHATS[who], text)
            await check_rendering(bench, messages, f"{transcript.label!r} ({text[:20]!r})")
            return [rendered(message) for message in messages]

        await play(transcript, send=send, clock=bench.clock, sms=False)
    await check_final(
        db, transcript, PHONES["resident"], str(CHATS["other"]), telegram_chat_id=CHATS["resident"], ids=ids
    )
