"""Editing a workshop without cancelling it (issue 14, item 10): capacity, topic, adviser in charge — through the
service on both databases, and the command line. More seats go to the waiting list in order (each told, or put on
the "to call" list); fewer seats than people seated is refused; a preview changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.config import Settings
from bot.context import Context
from bot.interfaces.cli import common
from bot.service.actors import Actor
from bot.service.calls import list_calls
from bot.service.changes import WorkshopEdit, edit_lines, edit_workshop_and_notify
from bot.service.team import add_adviser
from bot.service.workshops import WorkshopError, get_workshop, roster
from bot.territory import Territory
from storage.database import Database
from storage.models import CallKind, EnrolmentStatus, MessageKind
from tests.helpers.clock import PARIS, Clock
from tests.helpers.world import Town, in_2026
from tests.test_advisers_cli import atelier, enrol, ok, planned_workshop

JULIE = Actor("Julie Martin", interface="cli")


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


async def full_with_three_waiting(town: Town) -> tuple[int, list[int]]:
    """A two-seat workshop on Thursday: Anne and Bruno seated; Chantal, Denis (a landline), Eve waiting."""
    workshop = await town.workshop("Saint-Victor", in_2026(5, 14), capacity=2)
    people = []
    for number, name in enumerate(("Anne", "Bruno", "Chantal", "Denis", "Eve"), start=1):
        landline = name == "Denis"
        phone = "+33470000004" if landline else f"+3361100000{number}"
        resident = await town.resident(name, phone=phone, sms_unreachable=landline)
        await town.seat(resident, workshop)
        people.append(resident)
    return workshop, people


@pytest.mark.both_dialects
async def test_more_seats_go_to_the_waiting_list_in_order(town: Town) -> None:
    workshop, people = await full_with_three_waiting(town)
    report = await edit_workshop_and_notify(
        ctx=town.ctx, workshop_id=workshop, edit=WorkshopEdit(capacity="4"), actor=JULIE
    )
    assert report.capacity == (2, 4)
    assert [(s.resident_id, s.told) for s in report.seated] == [(people[2], True), (people[3], False)]
    found = await roster(ctx=town.ctx, workshop_id=workshop)
    assert [(e.resident_id, e.status, e.position) for e in found.enrolments] == [
        (people[0], EnrolmentStatus.seated, None),
        (people[1], EnrolmentStatus.seated, None),
        (people[2], EnrolmentStatus.seated, None),
        (people[3], EnrolmentStatus.seated, None),
        (people[4], EnrolmentStatus.waiting, 1),  # Eve moves up to the front of the list
    ]
    [told] = await town.messages(resident_id=people[2], kind=MessageKind.promotion)
    assert "une place s'est libérée" in told.body.lower()
    assert await town.messages(resident_id=people[2], kind=MessageKind.reminder) != []  # her reminders planned
    [call] = await list_calls(ctx=town.ctx)
    assert (call.resident_id, call.kind) == (people[3], CallKind.promotion)
    assert edit_lines(report, PARIS)[:2] == ["Places : 2 → 4.", "Places données à la liste d'attente, dans l'ordre :"]


@pytest.mark.both_dialects
async def test_a_preview_changes_nothing(town: Town) -> None:
    workshop, people = await full_with_three_waiting(town)
    edit = WorkshopEdit(capacity=5, topic="Ameli", adviser=None)
    preview = await edit_workshop_and_notify(ctx=town.ctx, workshop_id=workshop, edit=edit, actor=JULIE, preview=True)
    assert [s.resident_id for s in preview.seated] == people[2:5]
    assert (await get_workshop(ctx=town.ctx, workshop_id=workshop)).capacity == 2
    assert await town.messages(kind=MessageKind.promotion) == [] and await list_calls(ctx=town.ctx) == []
    assert any("(si vous confirmez)" in line for line in edit_lines(preview, PARIS))


@pytest.mark.both_dialects
async def test_topic_and_adviser(town: Town) -> None:
    await add_adviser(actor=JULIE, ctx=town.ctx, name="Julie Martin")
    workshop = await town.workshop("Saint-Victor", in_2026(5, 14))
    report = await edit_workshop_and_notify(
        ctx=town.ctx,
        workshop_id=workshop,
        edit=WorkshopEdit(topic="  Ameli  et Doctolib ", adviser="julie"),
        actor=JULIE,
    )
    assert (report.topic, report.adviser, report.capacity) == (
        ("Premiers pas", "Ameli et Doctolib"),
        (None, "Julie Martin"),
        None,
    )
    summary = await get_workshop(ctx=town.ctx, workshop_id=workshop)
    assert (summary.topic, summary.adviser) == ("Ameli et Doctolib", "Julie Martin")
    cleared = await edit_workshop_and_notify(
        ctx=town.ctx, workshop_id=workshop, edit=WorkshopEdit(adviser="aucun"), actor=JULIE
    )
    assert cleared.adviser == ("Julie Martin", None)
    assert await town.messages() == []  # nothing residents read changed: nobody is told


async def test_more_seats_too_close_to_the_start_are_not_given(town: Town) -> None:
    workshop, people = await full_with_three_waiting(town)
    town.clock.now = in_2026(5, 12)  # two hours before: within ATELIER_PROMOTION_CUTOFF (3 h)
    report = await edit_workshop_and_notify(
        ctx=town.ctx, workshop_id=workshop, edit=WorkshopEdit(capacity=6), actor=JULIE
    )
    assert (report.capacity, report.seated, report.too_late) == ((2, 6), (), True)
    assert any("commence bientôt" in line for line in edit_lines(report, PARIS))
    del people


@dataclass(frozen=True)
class Refusal:
    label: str
    edit: WorkshopEdit
    says: str


REFUSALS = [
    Refusal("nothing given", WorkshopEdit(), "rien à changer"),
    Refusal("fewer seats than people seated", WorkshopEdit(capacity=1), "2 personnes ont déjà une place"),
    Refusal("no seat at all", WorkshopEdit(capacity="0"), "entre 1 et 30"),
    Refusal("not a number", WorkshopEdit(capacity="six"), "nombre de places illisible"),
    Refusal("an empty topic", WorkshopEdit(topic="  "), "le thème ne peut pas être vide"),
    Refusal("an unknown adviser", WorkshopEdit(adviser="Zoé"), "conseiller inconnu « Zoé »"),
    Refusal("the same as now", WorkshopEdit(capacity=2, topic="Premiers pas"), "rien ne change"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=[c.label for c in REFUSALS])
async def test_edits_refused_change_nothing(town: Town, case: Refusal) -> None:
    workshop, _ = await full_with_three_waiting(town)
    before = await get_workshop(ctx=town.ctx, workshop_id=workshop)
    with pytest.raises(WorkshopError, match=case.says):
        await edit_workshop_and_notify(ctx=town.ctx, workshop_id=workshop, edit=case.edit, actor=JULIE)
    assert await get_workshop(ctx=town.ctx, workshop_id=workshop) == before


# --- The command line -------------------------------------------------------------------------------------------


def test_workshops_edit_command(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    workshop = planned_workshop(db_url, hours_ahead=72, capacity=1)
    enrol(db_url, workshop, "Anne Martin", "06 12 00 00 01")
    enrol(db_url, workshop, "Bruno Petit", "06 12 00 00 02")  # waiting
    refused = atelier(db_url, "workshops", "edit", str(workshop), "--capacity", "2")
    assert refused.exit_code == 1 and "pas de terminal" in refused.stderr
    monkeypatch.setattr(common, "is_terminal", lambda: True)
    asked = atelier(db_url, "workshops", "edit", str(workshop), "--capacity", "2", stdin="non\n")
    assert "Places : 1 → 2." in asked.stdout and "Bruno Petit" in asked.stdout and "(si vous confirmez)" in asked.stdout
    assert asked.exit_code == 1 and "rien n'a été changé" in asked.stderr
    done = ok(db_url, "workshops", "edit", str(workshop), "--capacity", "2", "--topic", "Ameli", "--yes").stdout
    assert "Places : 1 → 2." in done and "Thème : « Tablette » → « Ameli »." in done
    assert "Bruno Petit (personne n°" in done and "prévenue par message" in done and "1 part dès maintenant." in done
    lower = atelier(db_url, "workshops", "edit", str(workshop), "--capacity", "1", "--yes")
    assert lower.exit_code == 1 and "ne peut pas descendre sous 2" in lower.stderr
