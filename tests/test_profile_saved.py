"""A resident added by their first message that changes something, and their profile saved, in Core statements
(``storage.residents.add_resident``, ``save_profile``): what the ORM used to write, the same on both databases.

The consent is recorded once, with the channel it was given through: saving the profile again (a second sign-up, on
Telegram this time) changes the profile and keeps the first consent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.context import Context
from bot.territory import Territory
from storage.database import Database
from storage.enums import Channel, Level
from storage.models import Resident
from storage.residents import add_resident, save_profile
from tests.helpers.clock import Clock
from tests.helpers.world import Town

pytestmark = pytest.mark.both_dialects

PHONE = "+33622000041"
CHAT = 7001


@dataclass(frozen=True)
class Seen:
    """What the residents' table holds of the one resident, after the case."""

    phone: str | None
    telegram_chat_id: int | None
    name: str | None
    commune_insee: str | None
    level: Level | None
    interests: list[str]
    consent_at: datetime | None
    consent_channel: str | None
    preferred_channel: str | None
    flags: tuple[bool, ...]  # opted out (SMS, Telegram), unreachable, contact offered, erased: all False


@dataclass(frozen=True)
class Case:
    label: str
    play: Callable[[Town], Awaitable[None]]
    expected: Callable[[datetime], Seen]


def _consented(resident: Resident) -> tuple[str | None, str | None]:
    return resident.name, resident.consent_channel


async def _sign_up_by_sms(town: Town) -> None:
    for text in ("Bonjour", "Martine Dupont", "Saint-Victor", "1", "1 3"):
        await town.say(PHONE, text)


async def _added_then_saved_twice(town: Town) -> None:
    now = town.clock.now
    async with town.ctx.db.write() as session:
        resident = await add_resident(
            session=session, phone=PHONE, telegram_chat_id=CHAT, channel=Channel.telegram, now=now
        )
        held = await session.get(Resident, resident)  # an ORM copy the session holds: read again after each save
        assert held is not None and _consented(held) == (None, None)
        await save_profile(
            session=session, resident_id=resident, name="Martine", commune_insee="03262", level=Level.beginner,
            interests=("Photos",), channel=Channel.telegram, now=now,
        )  # fmt: skip
        assert _consented(held) == ("Martine", Channel.telegram)
    async with town.ctx.db.write() as session:
        await save_profile(
            session=session, resident_id=resident, name="Martine Dupont", commune_insee="03101",
            level=Level.intermediate, interests=("E-mail", "Démarches"), channel=Channel.sms,
            now=now + timedelta(days=2),
        )  # fmt: skip


CASES = [
    Case(
        "a new number signs up by SMS: added with its first effect, the consent given then",
        _sign_up_by_sms,
        lambda now: Seen(
            PHONE,
            None,
            "Martine Dupont",
            "03262",
            Level.beginner,
            ["Premiers pas", "Impôts"],
            now,
            Channel.sms,
            Channel.sms,
            (False,) * 5,
        ),
    ),
    Case(
        "a profile saved again keeps the first consent and its channel",
        _added_then_saved_twice,
        lambda now: Seen(
            PHONE,
            CHAT,
            "Martine Dupont",
            "03101",
            Level.intermediate,
            ["E-mail", "Démarches"],
            now,
            Channel.telegram,
            Channel.telegram,
            (False,) * 5,
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
async def test_a_resident_added_and_their_profile_saved(
    case: Case, settings: Settings, db: Database, territory: Territory, now: datetime
) -> None:
    clock = Clock(now)
    town = Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)
    await case.play(town)
    async with db.read() as session:
        (resident,) = (await session.execute(select(Resident))).unique().scalars()
        seen = Seen(
            resident.phone, resident.telegram_chat_id, resident.name, resident.commune_insee, resident.level,
            list(resident.interests), resident.consent_at, resident.consent_channel, resident.preferred_channel,
            (resident.opted_out_sms, resident.opted_out_telegram, resident.sms_unreachable,
             resident.telegram_contact_offered, resident.erased),
        )  # fmt: skip
    assert seen == case.expected(now)
    assert resident.created_at == now and resident.last_activity_at == now
