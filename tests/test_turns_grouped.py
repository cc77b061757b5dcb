"""Residents' messages that arrive together are answered in one transaction (issue 16, SQLite's group commit).

``handle_inbound`` runs each message through ``Database.grouped_transaction``: on SQLite, the messages that arrive
while the writer is busy form one group, one BEGIN and one COMMIT. What must hold, case by case: each message is
answered as it would be alone and what it changed is committed before its caller hears back; a message that fails
gets its own error while the others of its group stand; and nothing a message read in a transaction rolled back
is kept between turns (the workshops a process keeps are those of committed transactions only). SQLite only:
PostgreSQL runs each message in its own transaction (``grouped_transaction`` is ``transaction`` there).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, select

from bot.channels import SMS, Inbound
from bot.config import Settings
from bot.context import Context
from bot.conversation.gsm7 import render_sms
from bot.service import inbound as inbound_service
from bot.service.inbound import Handled, handle_inbound
from bot.territory import Territory
from storage.database import Database
from storage.models import Conversation, InboundMessage
from storage.turns import Closing, close_turn
from tests.helpers.clock import Clock
from tests.helpers.groups import counted_groups
from tests.helpers.world import Town, in_2026

PHONES = ("+33622000021", "+33622000022", "+33622000023", "+33622000024")


class RefusedError(RuntimeError):
    """What a message made to fail raises."""


@dataclass(frozen=True)
class Case:
    label: str
    failing: frozenset[int]  # the messages (by position) whose transaction raises, in the group and alone


CASES = [
    Case("four messages together: one group, each answered as alone", frozenset()),
    Case("the one that fails gets its error, the others stand", frozenset({1})),
    Case("the first and the last fail", frozenset({0, 3})),
]


def town_of(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


def failing_for(addresses: set[str]) -> Callable[[Connection, Closing], list[int]]:
    """``close_turn`` that raises for these addresses (after the turn's other statements: a late failure)."""

    def close(connection: Connection, closing: Closing) -> list[int]:
        if closing.address in addresses:
            raise RefusedError(closing.address)
        return close_turn(connection, closing)

    return close


async def together(ctx: Context, texts: Sequence[tuple[str, str]]) -> list[Handled | BaseException]:
    """The messages sent while the writer is busy: they all wait, and go as one group."""
    async with ctx.db.write():
        calls = [
            asyncio.ensure_future(
                handle_inbound(ctx=ctx, inbound=Inbound(channel=SMS, address=phone, text=text), inline=True)
            )
            for phone, text in texts
        ]
        await asyncio.sleep(0.05)
    return list(await asyncio.gather(*calls, return_exceptions=True))


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_messages_that_come_together(
    case: Case, settings: Settings, db: Database, territory: Territory, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = town_of(settings, db, territory)
    expected = await alone.say("+33622000029", "Bonjour")  # the answer to a first message, given alone
    groups = counted_groups(monkeypatch)
    failing = {PHONES[index] for index in case.failing}
    monkeypatch.setattr(inbound_service, "close_turn", failing_for(failing))

    outcomes = await together(alone.ctx, [(phone, "Bonjour") for phone in PHONES])

    assert groups[0] == len(PHONES)  # one group for all
    for index, outcome in enumerate(outcomes):
        if index in case.failing:
            assert isinstance(outcome, RefusedError), outcome
        else:
            assert isinstance(outcome, Handled), outcome
            assert [render_sms(reply.text, reply.choices) for reply in outcome.replies] == expected
    async with db.read() as session:
        received = set((await session.execute(select(InboundMessage.id))).scalars())
        talking = set((await session.execute(select(Conversation.address))).scalars())
    answered = {phone for index, phone in enumerate(PHONES) if index not in case.failing}
    assert talking == answered | {"+33622000029"}  # what failed left no conversation, the others theirs
    assert len(received) == 1 + len(answered)  # nor its message: it may come again and be answered then


async def test_a_message_rolled_back_keeps_nothing_it_read(
    settings: Settings, db: Database, territory: Territory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workshops a message read are kept for the next messages only once its transaction is committed: a
    group's members may read what the members before them wrote, which a rollback takes back."""
    town = town_of(settings, db, territory)
    await town.say(PHONES[0], "Bonjour")
    kept = town.ctx.kept_workshops
    await town.workshop("Saint-Victor", in_2026(9, 14))  # the world's version moves: the next message reads
    monkeypatch.setattr(inbound_service, "close_turn", failing_for({PHONES[1]}))

    (outcome,) = await together(town.ctx, [(PHONES[1], "Bonjour")])

    assert isinstance(outcome, RefusedError)
    assert town.ctx.kept_workshops is kept  # read, then rolled back: not kept
    await town.say(PHONES[2], "Bonjour")
    assert town.ctx.kept_workshops is not kept  # read and committed: kept
    assert [w.starts_at for w in town.ctx.kept_workshops.workshops] == [in_2026(9, 14)]
