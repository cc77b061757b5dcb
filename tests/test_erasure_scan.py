"""Erasure leaves nothing: after OUBLIER (then OUI) or ``atelier residents erase``, no column of any table holds the
person's name, their number in any format, the number they typed for a call-back, or their Telegram chat id — only
the keyed hash of their number remains. On SQLite the database files themselves are read too (the WAL is
checkpointed and deleted content zeroed), so that the old values do not linger on disk.

Each row is a life: a sign-up on one channel, a call-back request that pages the advisers (by SMS and Telegram), a
number typed in free text, the replies actually sent (Telegram's provider ids hold the chat id); then the erasure.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from bot.channels import Inbound
from bot.config import Settings
from bot.context import Context
from bot.conversation.gsm7 import render_sms
from bot.handlers.console import ConsoleSender
from bot.handlers.telegram import TelegramSender, build_application
from bot.scheduler.dispatch import Dispatcher
from bot.service.inbound import handle_inbound
from bot.service.residents import erase_resident_for
from bot.territory import Territory
from storage.database import Database
from storage.enums import Channel
from storage.models import Adviser, ErasedIdentity, Resident
from tests.helpers.clock import Clock
from tests.helpers.fake_telegram import FakeTelegram
from tests.helpers.harness import seed
from tests.helpers.telegram_rig import telegram_settings
from tests.helpers.world import JULIE

# On both databases: erasure blanks and deletes across every table, and keeps the hash (ON CONFLICT).
pytestmark = pytest.mark.both_dialects

NAME = "Gisèle Vandenbroucke"
PHONE = "+33647291853"  # hers (SMS), or the one she shares on Telegram
CALLBACK = "06 58 13 72 94"  # the number she types for a call-back
CHAT = 5_123_456_789
TELEGRAM_ADVISER = 777_001


def fold(value: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c)).casefold()


# What must be gone, found however it is written: names folded (accents, case), numbers by their digits.
NAME_PARTS = ("gisele", "vandenbroucke")
DIGITS = ("647291853", "658137294", str(CHAT))


def found_in(value: object) -> list[str]:
    written = fold(str(value))
    digits = re.sub(r"\D", "", written)
    return [part for part in NAME_PARTS if part in written] + [d for d in DIGITS if d in digits]


@dataclass(frozen=True)
class Life:
    label: str
    channel: Channel
    erase_by: str  # "OUBLIER" or "adviser" (what `atelier residents erase` runs)

    @property
    def address(self) -> str:
        return PHONE if self.channel == Channel.sms else str(CHAT)


LIVES = [
    Life("SMS, OUBLIER", Channel.sms, "OUBLIER"),
    Life("SMS, atelier residents erase", Channel.sms, "adviser"),
    Life("Telegram, OUBLIER", Channel.telegram, "OUBLIER"),
    Life("Telegram, atelier residents erase", Channel.telegram, "adviser"),
]


class Person:
    def __init__(self, ctx: Context, clock: Clock, life: Life) -> None:
        self.ctx, self.clock, self.life, self.dispatcher, self.sent = ctx, clock, life, Dispatcher(ctx), 0

    async def say(self, text: str) -> None:
        self.sent += 1
        inbound = Inbound(
            channel=self.life.channel, address=self.life.address, text=text, provider_id=f"in-{self.sent}"
        )
        await handle_inbound(ctx=self.ctx, inbound=inbound, inline=self.life.channel == Channel.sms)
        await self.deliver()

    async def deliver(self) -> None:
        """What the dispatcher sends now: Telegram replies, the advisers' notices (so provider ids are recorded)."""
        for _ in range(10):
            self.clock.advance(timedelta(seconds=2))  # past Telegram's one message a second per chat
            if not (await self.dispatcher.tick()).claimed:
                return


async def live(person: Person) -> None:
    await person.say("Bonjour")
    await person.say(NAME)
    await person.say("st victor")
    await person.say("1")
    await person.say("1 3")
    await person.say("1")
    await person.say("oui")
    await person.say(f"je n'ai pas compris, mon numero c'est le {PHONE[3:5]} {PHONE[5:7]} {PHONE[7:9]} {PHONE[9:]}")
    await person.say(f"CONSEILLER c'est {NAME}, je n'ai pas de voiture")  # the reason is kept with the request
    if person.life.channel == Channel.telegram:
        await person.say(CALLBACK)  # asked for a number: Telegram gives us none


async def erase(person: Person) -> None:
    if person.life.erase_by == "OUBLIER":
        await person.say("OUBLIER")
        await person.say("OUI")
        return
    async with person.ctx.db.read() as session:
        resident = (await session.execute(select(Resident).where(Resident.name == NAME))).unique().scalar_one()
    await erase_resident_for(ctx=person.ctx, resident_id=resident.id, actor=JULIE)
    await person.deliver()


async def every_value(db: Database) -> dict[str, list[tuple[str, object]]]:
    """Every value of every column of every table in the database (not only the models': whatever is there)."""
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        values: dict[str, list[tuple[str, object]]] = {}
        for table in tables:
            result = await connection.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608 - the database's own names
            columns = list(result.keys())
            values[table] = [(column, value) for row in result for column, value in zip(columns, row, strict=True)]
        await connection.rollback()
    return values


def on_disk(content: bytes) -> list[bytes]:
    """Her data as SQLite writes it: UTF-8 text, and the chat id as a 6-byte big-endian integer."""
    needles = [b"Vandenbroucke", "Gisèle".encode(), b"647291853", b"658137294", b"58 13 72 94", str(CHAT).encode()]
    needles.append(CHAT.to_bytes(6, "big"))
    return [needle for needle in needles if needle in content]


def files_of(url: str) -> list[Path]:
    path = Path(url.removeprefix("sqlite+aiosqlite:///"))
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]


@pytest.mark.parametrize("life", LIVES, ids=[life.label for life in LIVES])
async def test_erasure_leaves_nothing_in_any_column_of_any_table(
    life: Life, db: Database, db_url: str, settings: Settings, territory: Territory, now: datetime
) -> None:
    await seed(db, "default", now)
    async with db.write() as session:
        session.add(Adviser(name="Julie Martin", phone="+33611112222"))  # paged by SMS
        session.add(Adviser(name="Paul Roche", telegram_user_id=TELEGRAM_ADVISER))  # paged on Telegram
    with FakeTelegram() as fake:
        settings = telegram_settings(db_url, fake, ATELIER_QUIET_HOURS="none")
        application = build_application(settings)
        await application.initialize()
        try:
            clock = Clock(now)
            ctx = Context(settings=settings, db=db, territory=territory, clock=clock)
            ctx.senders = {
                Channel.sms: ConsoleSender(render=render_sms, stream=io.StringIO()),
                Channel.telegram: TelegramSender(application.bot),
            }
            person = Person(ctx, clock, life)
            await live(person)
            before = await every_value(db)
            assert any(found_in(v) for rows in before.values() for _, v in rows), "the scan finds her before"
            await erase(person)
        finally:
            await application.shutdown()
    after = await every_value(db)
    leaks = [(table, column, value) for table, rows in after.items() for column, value in rows if found_in(value)]
    assert leaks == [], "\n".join(map(str, leaks))
    scanned = sum(len(rows) for rows in after.values())
    print(f"{life.label}: {len(after)} tables, {scanned} values scanned, nothing of her left")
    async with db.read() as session:
        kept = (await session.execute(select(ErasedIdentity.identity_hash))).scalars().all()
    assert len(kept) == (1 if life.channel == Channel.sms else 0)  # a hash of her number (Telegram: none given)
    if db.is_sqlite:
        for path in files_of(db_url):
            assert on_disk(path.read_bytes()) == [], f"{path.name} still holds her data on disk"
