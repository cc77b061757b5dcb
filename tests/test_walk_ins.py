"""People who came without signing up (issue 14, item 9), through the service on both databases and the command
line: marked present, counted in the figures, a resident when they give a number (consent by voice recorded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import Settings
from bot.context import Context
from bot.interfaces.cli import common
from bot.service.actors import Actor
from bot.service.identity import identity_hash
from bot.service.phone_enrolment import NumberOfSomeoneElseError
from bot.service.residents import resident_record
from bot.service.stats import add_walk_in, workshop_stats
from bot.service.team import TeamError
from bot.service.workshops import WorkshopError
from bot.territory import Territory
from storage.database import Database
from storage.models import EnrolmentStatus, ErasedIdentity, Workshop
from tests.helpers.cli import as_json
from tests.helpers.clock import Clock
from tests.helpers.world import Town, in_2026
from tests.test_advisers_cli import atelier, enrol, in_db, ok, planned_workshop

JULIE = Actor("Julie Martin", interface="cli")


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


async def held(town: Town) -> int:
    """A workshop that started at 9:00 today; the clock is at 10:30."""
    workshop = await town.workshop("Saint-Victor", in_2026(2, 9, 30))
    town.clock.now = in_2026(2, 10, 30)
    return workshop


@pytest.mark.both_dialects
async def test_a_walk_in_without_a_number_counts_but_is_not_signed_up(town: Town) -> None:
    workshop = await held(town)
    before = (await workshop_stats(ctx=town.ctx)).total
    added = await add_walk_in(
        ctx=town.ctx, workshop_id=workshop, name="Lucien  Petit", commune="st victor", actor=JULIE
    )
    assert (added.name, added.new_resident, added.already) == ("Lucien Petit", True, False)
    after = (await workshop_stats(ctx=town.ctx)).total
    assert (after.came, after.signed_up) == (before.came + 1, before.signed_up)  # no number: no consent to write
    record = await resident_record(ctx=town.ctx, resident_id=added.resident_id)
    assert (record.resident.phone, record.resident.commune, record.resident.consent_at) == (None, "Saint-Victor", None)
    assert [(b.workshop_id, b.status) for b in record.past] == [(workshop, EnrolmentStatus.attended)]
    again = await add_walk_in(ctx=town.ctx, workshop_id=workshop, name="lucien petit", actor=JULIE)
    assert (again.resident_id, again.already) == (added.resident_id, True)  # typed twice: once


@pytest.mark.both_dialects
async def test_a_walk_in_with_a_number_becomes_a_resident_with_consent_by_voice(town: Town) -> None:
    workshop = await held(town)
    added = await add_walk_in(
        ctx=town.ctx, workshop_id=workshop, name="Lucien Petit", phone="06 55 44 33 22", actor=JULIE
    )
    record = await resident_record(ctx=town.ctx, resident_id=added.resident_id)
    assert (record.resident.phone, record.resident.consent_channel) == ("+33655443322", "oral")
    assert record.resident.consent_at == town.clock.now and record.resident.level is not None
    assert (await workshop_stats(ctx=town.ctx)).total.signed_up == 1


@pytest.mark.both_dialects
async def test_a_known_number_marks_that_person_and_asks_when_the_name_differs(town: Town) -> None:
    workshop = await held(town)
    paul = await town.resident("Paul Durand", phone="+33698765432")
    with pytest.raises(NumberOfSomeoneElseError, match="celui de « Paul Durand »"):
        await add_walk_in(ctx=town.ctx, workshop_id=workshop, name="Pauline Durand", phone="0698765432", actor=JULIE)
    same = await add_walk_in(ctx=town.ctx, workshop_id=workshop, name="paul durand", phone="0698765432", actor=JULIE)
    assert (same.resident_id, same.new_resident) == (paul, False)
    confirmed = await add_walk_in(
        ctx=town.ctx, workshop_id=workshop, name="Pauline Durand", phone="0698765432", actor=JULIE, owner_confirmed=True
    )
    assert (confirmed.resident_id, confirmed.already) == (paul, True)


@pytest.mark.both_dialects
async def test_walk_ins_are_refused_kindly(town: Town) -> None:
    soon = await town.workshop("Saint-Victor", in_2026(3, 9, 30))
    with pytest.raises(WorkshopError, match="n'a pas encore commencé"):
        await add_walk_in(ctx=town.ctx, workshop_id=soon, name="Lucien Petit", actor=JULIE)
    workshop = await held(town)
    with pytest.raises(TeamError, match="le nom manque"):
        await add_walk_in(ctx=town.ctx, workshop_id=workshop, name="  ", actor=JULIE)
    with pytest.raises(TeamError, match="numéro de téléphone invalide"):
        await add_walk_in(ctx=town.ctx, workshop_id=workshop, name="Lucien Petit", phone="12", actor=JULIE)
    async with town.ctx.db.write() as session:
        digest = await identity_hash(session=session, settings=town.ctx.settings, identity="+33655443322")
        session.add(ErasedIdentity(identity_hash=digest, erased_at=town.clock.now))
    with pytest.raises(TeamError, match="demandé l'effacement"):
        await add_walk_in(ctx=town.ctx, workshop_id=workshop, name="Lucien Petit", phone="0655443322", actor=JULIE)
    assert (await workshop_stats(ctx=town.ctx)).total.came == 0


# --- The command line -------------------------------------------------------------------------------------------


def started(db_url: str) -> int:
    workshop = planned_workshop(db_url, hours_ahead=72)
    enrol(db_url, workshop, "Anne Martin", "06 12 00 00 01")

    async def start_it(session: Any) -> None:
        found = await session.get(Workshop, workshop)
        found.starts_at = datetime.now(UTC) - timedelta(minutes=30)

    in_db(db_url, start_it)
    return workshop


def test_walk_in_command(db_url: str) -> None:
    workshop = started(db_url)
    done = ok(db_url, "workshops", "walk-in", str(workshop), "--name", "Lucien Petit", "--commune", "domerat").stdout
    assert "Lucien Petit" in done and f"est notée présente à l'atelier n°{workshop}" in done
    roster = as_json(ok(db_url, "workshops", "roster", str(workshop), "--json"))
    assert ("Lucien Petit", "attended") in [(e["name"], e["status"]) for e in roster["enrolments"]]
    other = atelier(db_url, "workshops", "walk-in", str(workshop), "--name", "Bob", "--phone", "06 12 00 00 01")
    assert other.exit_code == 1 and "pas de terminal" in other.stderr  # Anne's number: asked first, no terminal


def test_attendance_on_a_terminal_takes_walk_ins(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    workshop = started(db_url)
    monkeypatch.setattr(common, "is_terminal", lambda: True)
    answers = "o\nLucien Petit\n06 55\n06 55 44 33 22\ndomerat\nMarie Roux\n\n\n\n"
    done = ok(db_url, "workshops", "attendance", str(workshop), stdin=answers).stdout
    assert "1 présent(s), 0 absent(s)" in done
    assert "numéro de téléphone invalide « 06 55 »" in done  # asked again
    assert done.count("présent (sans inscription)") == 2
    stats = as_json(ok(db_url, "stats", "--json"))
    assert stats["total"]["came"] == 3
