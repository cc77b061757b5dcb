"""CONSEILLER → a callback request, the advisers of the resident's commune told (Telegram when they have it,
otherwise SMS to their phone); then the advisers' list and "done", on both databases."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.config import Settings
from bot.context import Context
from bot.service.callbacks import find_callback, list_callbacks, mark_callback_done
from bot.service.team import add_adviser
from bot.territory import Territory
from storage.database import Database
from storage.models import MessageKind, MessageStatus, Resident
from tests.helpers.clock import Clock
from tests.helpers.world import JULIE, Town, in_2026

# On both databases: callback requests listed, ordered and marked done.
pytestmark = pytest.mark.both_dialects

RESIDENT_PHONE = "+33612345678"


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


async def team(town: Town) -> None:
    """Julie (Telegram and phone) and Marc (phone only) cover Saint-Victor; Paul (Telegram) covers Domérat;
    Zoé has neither a phone nor Telegram; Claire covers the whole territory."""
    ctx = town.ctx
    await add_adviser(
        ctx=ctx, actor=JULIE, name="Julie", phone="06 11 00 00 01", telegram_id=9001, communes=("Saint-Victor",)
    )
    await add_adviser(ctx=ctx, actor=JULIE, name="Marc", phone="06 11 00 00 02", communes=("st victor",))
    await add_adviser(ctx=ctx, actor=JULIE, name="Paul", telegram_id=9003, communes=("Domérat",))
    await add_adviser(ctx=ctx, actor=JULIE, name="Zoé", communes=("Saint-Victor",))
    await add_adviser(ctx=ctx, actor=JULIE, name="Claire", phone="06 11 00 00 05")


@dataclass(frozen=True)
class Case:
    label: str
    commune: str
    told: tuple[tuple[str, str], ...]  # (channel, address) of the advisers told


CASES = [
    Case(
        "Saint-Victor: its advisers, Telegram first, else SMS; nobody without either",
        "Saint-Victor",
        (("telegram", "9001"), ("sms", "+33611000002")),
    ),
    Case("Domérat: its adviser on Telegram", "Domérat", (("telegram", "9003"),)),
    Case("a commune nobody covers: the advisers of the whole territory", "Lamaids", (("sms", "+33611000005"),)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_conseiller_notifies_the_advisers_of_the_commune(town: Town, case: Case) -> None:
    """About a workshop within 24 hours, the advisers are told at once, by name (otherwise: a digest, see
    test_pumping.py)."""
    await team(town)
    resident = await town.resident("Martine Dupont", phone=RESIDENT_PHONE, commune=case.commune)
    await town.seat(resident, await town.workshop("Saint-Victor", in_2026(3, 8)))
    [reply] = await town.say(RESIDENT_PHONE, "CONSEILLER")
    assert "conseiller va vous rappeler" in reply
    notices = await town.messages(kind=MessageKind.adviser_notice)
    assert sorted((m.channel, m.to_address) for m in notices) == sorted(case.told)
    for notice in notices:
        assert "Martine Dupont" in notice.body and RESIDENT_PHONE in notice.body and case.commune in notice.body
        assert (notice.status, notice.urgent, notice.resident_id) == (MessageStatus.pending, True, None)
    [request] = await list_callbacks(ctx=town.ctx)
    assert (request.resident_id, request.name, request.phone, request.commune) == (
        resident,
        "Martine Dupont",
        RESIDENT_PHONE,
        case.commune,
    )


async def test_a_request_is_marked_done_once_and_leaves_the_list(town: Town) -> None:
    await team(town)
    await town.resident("Martine Dupont", phone=RESIDENT_PHONE)
    await town.say(RESIDENT_PHONE, "conseiller")
    other = await town.resident("Jean Petit", phone="+33612345679")
    await town.say("+33612345679", "CONSEILLER")
    first, second = await list_callbacks(ctx=town.ctx)
    town.clock.advance(in_2026(2, 11) - in_2026(2, 9))

    rows = [
        ("first time: done", first.id, True),
        ("again: already done, the first adviser keeps it", first.id, False),
        ("unknown id", 99999, False),
    ]
    for label, callback_id, expected in rows:
        assert await mark_callback_done(ctx=town.ctx, callback_id=callback_id, actor=JULIE) is expected, label
    assert [c.id for c in await list_callbacks(ctx=town.ctx)] == [second.id]
    done = await find_callback(ctx=town.ctx, callback_id=first.id)
    assert done is not None and (done.handled_at, done.handled_by) == (in_2026(2, 11), "Julie")
    assert [c.id for c in await list_callbacks(ctx=town.ctx, include_done=True)] == [first.id, second.id]

    async with town.ctx.db.write() as session:  # someone who asked to be forgotten is nobody to call
        resident = await session.get(Resident, other)
        assert resident is not None
        resident.erased = True
    assert await list_callbacks(ctx=town.ctx) == []
