"""A warning when no adviser can be reached (issue 14, item 14): CONSEILLER requests and the people to call would
then only be listed. Said at start-up (the log) and by ``atelier advisers list``; per commune too, when a commune's
own advisers cannot be reached."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.app import _warn_if_no_adviser_reachable
from bot.config import Settings
from bot.context import Context
from bot.service.team import add_adviser, team_reach
from bot.territory import Territory
from storage.database import Database
from tests.helpers.world import JULIE
from tests.test_advisers_cli import ok


@pytest.fixture
def ctx(settings: Settings, db: Database, territory: Territory) -> Context:
    return Context(settings=settings, db=db, territory=territory)


async def _nobody(ctx: Context) -> None:
    return None


async def _without_contact(ctx: Context) -> None:
    await add_adviser(actor=JULIE, ctx=ctx, name="Zoé")


async def _with_a_phone(ctx: Context) -> None:
    await add_adviser(actor=JULIE, ctx=ctx, name="Zoé")
    await add_adviser(actor=JULIE, ctx=ctx, name="Julie", phone="06 11 22 33 44")


async def _telegram_only(ctx: Context) -> None:
    await add_adviser(actor=JULIE, ctx=ctx, name="Paul", telegram_id=4242)


async def _a_commune_left_out(ctx: Context) -> None:
    await add_adviser(actor=JULIE, ctx=ctx, name="Julie", phone="06 11 22 33 44")  # the whole territory
    await add_adviser(actor=JULIE, ctx=ctx, name="Zoé", communes=("Domérat",))  # Domérat's own, no contact


@dataclass(frozen=True)
class Case:
    label: str
    team: Callable[[Context], Awaitable[None]]
    nobody: bool
    unreached: tuple[str, ...] = ()


CASES = [
    Case("no adviser at all", _nobody, True),
    Case("an adviser with neither phone nor Telegram", _without_contact, True),
    Case("one adviser with a phone", _with_a_phone, False),
    Case("one adviser on Telegram only", _telegram_only, False),
    Case("a commune whose only adviser has no contact", _a_commune_left_out, False, ("Domérat",)),
]


@pytest.mark.both_dialects
@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_team_reach(ctx: Context, case: Case, caplog: pytest.LogCaptureFixture) -> None:
    await case.team(ctx)
    reach = await team_reach(ctx=ctx)
    assert (reach.nobody, reach.unreached_communes) == (case.nobody, case.unreached)
    with caplog.at_level(logging.WARNING, logger="atelier"):
        await _warn_if_no_adviser_reachable(ctx)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if case.nobody:
        assert warned and "no adviser can be reached" in warned[0]
    elif case.unreached:
        assert warned == [f"no adviser can be reached for {len(case.unreached)} commune(s) of the territory"]
    else:
        assert warned == []


def test_advisers_list_warns(db_url: str) -> None:
    empty = ok(db_url, "advisers", "list").stdout
    assert "Aucun conseiller." in empty and "aucun conseiller n'a de téléphone ni de compte Telegram" in empty
    ok(db_url, "advisers", "add", "--name", "Zoé")
    assert "seront seulement listées" in " ".join(ok(db_url, "advisers", "list").stdout.split())
    ok(db_url, "advisers", "add", "--name", "Julie", "--phone", "06 11 22 33 44")
    assert "Attention" not in ok(db_url, "advisers", "list").stdout
