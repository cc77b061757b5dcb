"""Enrolment by phone (``bot.service.phone_enrolment``), on both databases: seated or waiting, recorded as done
by an adviser with consent given by phone, the same confirmation SMS as a self-enrolment, and every refusal
changing nothing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.context import Context
from bot.conversation import texts as say
from bot.service.actors import Actor
from bot.service.identity import identity_hash
from bot.service.phone_enrolment import NumberOfSomeoneElseError, PhoneEnrolment, enrol_by_phone, enrol_resident
from bot.service.team import TeamError, add_adviser
from bot.territory import Territory
from storage.database import Database
from storage.models import (
    Enrolment,
    EnrolmentStatus,
    ErasedIdentity,
    Level,
    MessageKind,
    Resident,
    Workshop,
    WorkshopStatus,
)
from tests.helpers.clock import PARIS, Clock
from tests.helpers.world import JULIE, Town, in_2026

# On both databases: seating or queueing from the advisers' side, and finding a resident by number.
pytestmark = pytest.mark.both_dialects

PHONE = "+33612345678"
NEXT_TUESDAY, MONDAY_9H = in_2026(10, 14), in_2026(2, 9)
INTRO = say.phone_enrolment_intro("Montluçon Communauté")


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


@dataclass(frozen=True)
class Case:
    label: str
    phone: str = "06 12 34 56 78"
    capacity: int = 6
    start: datetime = NEXT_TUESDAY
    now: datetime = MONDAY_9H
    known: dict[str, Any] | None = None  # a resident already known with this number (their fields)
    erased_before: bool = False
    force: bool = False
    seated: bool = True
    new_resident: bool = True
    sms: str | None = "seated"  # the confirmation: "seated", "waiting", or None (no SMS)
    due: datetime | None = None  # None: now
    urgent: bool = False
    notes: tuple[str, ...] = ()
    consent_channel: str = "phone"


CASES = [
    Case("someone new, a seat is free"),
    Case("the workshop is full: waiting list", capacity=0, seated=False, sms="waiting"),
    Case(
        "already signed up by SMS: no introduction, their own consent kept",
        known={"name": "Martine Dupont"},
        new_resident=False,
        consent_channel="sms",
    ),
    Case(
        "a landline: no SMS, the adviser is told",
        phone="04 70 12 34 56",
        sms=None,
        notes=("numéro fixe",),
    ),
    Case(
        "they sent STOP: no SMS, the adviser is told",
        known={"name": "Martine Dupont", "opted_out_sms": True},
        new_resident=False,
        sms=None,
        notes=("STOP",),
        consent_channel="sms",
    ),
    Case("an erased number, confirmed with --force", erased_before=True, force=True, notes=("effacé autrefois",)),
    Case("in the evening: the SMS waits for 08:30", now=in_2026(2, 21), due=in_2026(3, 8, 30)),
    Case("in the evening for tomorrow: urgent, leaves now", now=in_2026(2, 21), start=in_2026(3, 14), urgent=True),
]


async def prepare(town: Town, case: Case) -> tuple[int, int]:
    workshop = await town.workshop("Saint-Victor", case.start, capacity=case.capacity)
    adviser = await add_adviser(ctx=town.ctx, actor=JULIE, name="Julie Martin")
    if case.known is not None:
        await town.resident(phone=PHONE, **case.known)
    if case.erased_before:
        async with town.ctx.db.write() as session:
            digest = await identity_hash(session=session, settings=town.ctx.settings, identity=PHONE)
            session.add(ErasedIdentity(identity_hash=digest, erased_at=town.clock.now))
    return workshop, adviser.id


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_enrolment_by_phone(town: Town, case: Case) -> None:
    workshop, adviser = await prepare(town, case)
    town.clock.now = case.now
    done = await enrol_by_phone(
        ctx=town.ctx,
        name="Martine  Dupont",
        phone=case.phone,
        commune="st victor",
        workshop_id=workshop,
        actor=Actor("Julie Martin", adviser, interface="cli"),
        force=case.force,
    )
    assert (done.seated, done.new_resident, done.already) == (case.seated, case.new_resident, False)
    for fragment in case.notes:
        assert any(fragment in note for note in done.notes), done.notes
    async with town.ctx.db.read() as session:
        resident = await session.get(Resident, done.resident_id)
        enrolment = await session.get(Enrolment, done.enrolment_id)
        erased_marks = (await session.execute(select(func.count()).select_from(ErasedIdentity))).scalar_one()
    assert resident is not None and enrolment is not None
    assert (resident.name, resident.commune.name if resident.commune else None) == ("Martine Dupont", "Saint-Victor")
    assert (resident.consent_channel, resident.level) == (case.consent_channel, Level.beginner)
    assert enrolment.enrolled_by_adviser_id == adviser
    assert enrolment.status == (EnrolmentStatus.seated if case.seated else EnrolmentStatus.waiting)
    assert erased_marks == 0  # a forced re-enrolment lifts the mark

    confirmations = await town.messages(kind=MessageKind.confirmation)
    if case.sms is None:
        assert confirmations == [] and done.confirmation_channel is None
        return
    [sms] = confirmations
    when = case.start
    expected = (
        say.seated("Martine", when, PARIS, "Mairie de Saint-Victor", "7 rue André-Gide, 03410 Saint-Victor")
        if case.seated
        else say.waiting("Martine", 1, when, PARIS, "Mairie de Saint-Victor") + " Pour annuler, écrivez ANNULER."
    )
    assert sms.body == (f"{INTRO} {expected}" if case.new_resident else expected)
    assert "ANNULER" in sms.body
    assert (sms.channel, sms.to_address, sms.resident_id) == ("sms", PHONE, done.resident_id)
    assert (sms.due_at, sms.urgent, sms.expires_at) == (case.due or case.now, case.urgent, case.start)
    reminders = await town.messages(kind=MessageKind.reminder)
    assert bool(reminders) is case.seated


async def test_a_number_known_under_another_name_asks_first_then_enrols_that_person(town: Town) -> None:
    workshop = await town.workshop("Saint-Victor", MONDAY_9H + timedelta(days=2))
    paul = await town.resident(phone=PHONE, name="Paul Durand")
    arguments: dict[str, Any] = {"phone": PHONE, "commune": "st victor", "workshop_id": workshop, "actor": JULIE}
    with pytest.raises(NumberOfSomeoneElseError) as refused:
        await enrol_by_phone(ctx=town.ctx, name="Martine Dupont", **arguments)
    assert (refused.value.owner_id, refused.value.owner_name) == (paul, "Paul Durand")
    assert "le numéro 06 12 34 56 78 est celui de « Paul Durand »" in str(refused.value)
    assert await town.messages() == [] and await town.enrolments(workshop) == []  # nothing done before asking
    done = await enrol_by_phone(ctx=town.ctx, name="Martine Dupont", owner_confirmed=True, **arguments)
    assert done.resident_id == paul and not done.new_resident
    assert any("Paul Durand" in note and f"n°{paul}" in note for note in done.notes), done.notes
    same = await enrol_by_phone(ctx=town.ctx, name="paul  DURAND", **arguments)  # his own name: nothing to ask
    assert same.already and not any("celui de" in note for note in same.notes), same.notes


async def test_the_same_call_twice_enrols_and_texts_once(town: Town) -> None:
    workshop = await town.workshop("Saint-Victor", in_2026(10, 14))
    arguments: dict[str, Any] = {"name": "Martine Dupont", "phone": PHONE, "commune": "Saint-Victor"}
    first = await enrol_by_phone(ctx=town.ctx, workshop_id=workshop, actor=JULIE, **arguments)
    again = await enrol_by_phone(ctx=town.ctx, workshop_id=workshop, actor=JULIE, **arguments)
    assert (again.already, again.enrolment_id, again.confirmation_channel) == (True, first.enrolment_id, None)
    assert len(await town.messages(kind=MessageKind.confirmation)) == 1


async def test_the_resident_can_cancel_by_sms_as_the_confirmation_says(town: Town) -> None:
    workshop = await town.workshop("Saint-Victor", in_2026(10, 14))
    done = await enrol_by_phone(
        ctx=town.ctx, name="Martine Dupont", phone=PHONE, commune="Saint-Victor", workshop_id=workshop, actor=JULIE
    )
    [question] = await town.say(PHONE, "annuler")
    assert "mardi 10 mars" in question
    await town.say(PHONE, "oui")
    assert (await town.enrolment(done.enrolment_id)).status == EnrolmentStatus.cancelled


@dataclass(frozen=True)
class Refusal:
    label: str
    says: str
    arguments: dict[str, Any] = field(default_factory=dict)
    workshop: str = "planned"  # planned, cancelled, started, unknown
    erased: bool = False


REFUSALS = [
    Refusal("a bad phone number", "numéro de téléphone invalide", {"phone": "12 34"}),
    Refusal("no name", "le nom manque", {"name": "   "}),
    Refusal("a commune outside the territory", "Paris", {"commune": "Paris"}),
    Refusal("an unknown level", "niveau inconnu", {"level": "expert"}),
    Refusal("several problems at once, all said", "invalide.*commune inconnue", {"phone": "1", "commune": "Xyz"}),
    Refusal("an unknown workshop", "n'existe pas", workshop="unknown"),
    Refusal("a cancelled workshop", "annulé", workshop="cancelled"),
    Refusal("a workshop already started", "a déjà commencé", workshop="started"),
    Refusal("an erased number without --force", "relancez avec --force", erased=True),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r.label for r in REFUSALS])
async def test_refusals_change_nothing(town: Town, refusal: Refusal) -> None:
    start = in_2026(2, 8) if refusal.workshop == "started" else in_2026(10, 14)
    workshop = await town.workshop("Saint-Victor", start)
    if refusal.workshop == "cancelled":
        async with town.ctx.db.write() as session:
            found = await session.get(Workshop, workshop)
            assert found is not None
            found.status = WorkshopStatus.cancelled
    if refusal.erased:
        async with town.ctx.db.write() as session:
            digest = await identity_hash(session=session, settings=town.ctx.settings, identity=PHONE)
            session.add(ErasedIdentity(identity_hash=digest, erased_at=town.clock.now))
    arguments: dict[str, Any] = {"name": "Martine Dupont", "phone": PHONE, "commune": "Saint-Victor"}
    arguments |= refusal.arguments
    with pytest.raises(TeamError, match=refusal.says):
        await enrol_by_phone(
            ctx=town.ctx, workshop_id=99999 if refusal.workshop == "unknown" else workshop, actor=JULIE, **arguments
        )
    async with town.ctx.db.read() as session:
        residents = (await session.execute(select(func.count()).select_from(Resident))).scalar_one()
        enrolments = (await session.execute(select(func.count()).select_from(Enrolment))).scalar_one()
    assert (residents, enrolments) == (0, 0)
    assert await town.messages() == []


def test_phone_enrolment_type_is_complete() -> None:
    """The result says everything the command line and Telegram print."""
    names = set(PhoneEnrolment.__dataclass_fields__)
    assert names == {
        "resident_id",
        "enrolment_id",
        "workshop_id",
        "seated",
        "position",
        "already",
        "new_resident",
        "confirmation_channel",
        "confirmation_leaves",
        "confirmation",
        "notes",
    }


# --- A person already known, enrolled from their record (any channel) -----------------------------------------


async def test_a_known_person_is_enrolled_from_their_record_after_a_preview(town: Town) -> None:
    workshop = await town.workshop("Saint-Victor", NEXT_TUESDAY, capacity=1, level=Level.intermediate)
    zoe = await town.resident("Zoé Lefèvre", telegram=777001)  # no number: enrol_by_phone cannot name her
    before = await town.fingerprint()
    seen = await enrol_resident(ctx=town.ctx, resident_id=zoe, workshop_id=workshop, actor=JULIE, preview=True)
    assert await town.fingerprint() == before
    assert (seen.seated, seen.already, seen.confirmation_channel) == (True, False, "telegram")
    assert seen.confirmation is not None and "mardi 10 mars" in seen.confirmation
    assert seen.notes == (
        "niveau de la personne « débutant », atelier de niveau « intermédiaire » : inscrite quand même",
    )
    done = await enrol_resident(ctx=town.ctx, resident_id=zoe, workshop_id=workshop, actor=JULIE)
    assert done == dataclasses.replace(seen, enrolment_id=done.enrolment_id)  # PostgreSQL: a sequence moves on
    [sent] = await town.messages(resident_id=zoe, kind=MessageKind.confirmation)
    assert (sent.channel, sent.body) == ("telegram", seen.confirmation)
    again = await enrol_resident(ctx=town.ctx, resident_id=zoe, workshop_id=workshop, actor=JULIE)
    assert (again.already, again.confirmation) == (True, None)  # nothing more: no second message
    other = await town.resident("Paul Roux", phone="+33698765432")
    waiting = await enrol_resident(ctx=town.ctx, resident_id=other, workshop_id=workshop, actor=JULIE)
    assert (waiting.seated, waiting.position) == (False, 1)


@pytest.mark.parametrize(
    ("label", "who", "when", "says"),
    [
        ("an unknown person", "nobody", "soon", "n'existe pas ou ses données sont effacées"),
        ("an erased person", "erased", "soon", "n'existe pas ou ses données sont effacées"),
        ("a workshop that started", "known", "started", "a déjà commencé"),
        ("a cancelled workshop", "known", "cancelled", "est annulé"),
    ],
)
async def test_enrolling_a_known_person_refuses_kindly_and_changes_nothing(
    town: Town, label: str, who: str, when: str, says: str
) -> None:
    workshop = await town.workshop("Saint-Victor", NEXT_TUESDAY)
    known = await town.resident("Zoé Lefèvre", telegram=777001)
    erased = await town.resident("Effacée", phone=PHONE, erased=True)
    if when == "started":
        town.clock.now = NEXT_TUESDAY + timedelta(minutes=5)
    if when == "cancelled":
        async with town.ctx.db.write() as session:
            found = await session.get(Workshop, workshop)
            assert found is not None
            found.status = WorkshopStatus.cancelled
    before = await town.fingerprint()
    resident_id = {"nobody": 9999, "erased": erased, "known": known}[who]
    with pytest.raises(TeamError, match=says):
        await enrol_resident(ctx=town.ctx, resident_id=resident_id, workshop_id=workshop, actor=JULIE)
    assert await town.fingerprint() == before, label


async def test_an_enrolment_by_phone_preview_says_what_confirming_does_and_writes_nothing(town: Town) -> None:
    workshop = await town.workshop("Saint-Victor", NEXT_TUESDAY)
    known = await town.resident("Martine Dupont", phone=PHONE)
    before = await town.fingerprint()
    arguments: dict[str, Any] = {"name": "Lucie Roy", "phone": "06 11 22 33 44", "commune": "st victor"}
    seen = await enrol_by_phone(ctx=town.ctx, workshop_id=workshop, actor=JULIE, preview=True, **arguments)
    assert await town.fingerprint() == before  # not even the new person's number is kept
    assert (seen.seated, seen.new_resident, seen.confirmation_channel) == (True, True, "sms")
    assert seen.confirmation is not None and seen.confirmation.startswith(INTRO)
    with pytest.raises(NumberOfSomeoneElseError):  # a preview refuses what confirming would refuse
        await enrol_by_phone(
            ctx=town.ctx, workshop_id=workshop, actor=JULIE, preview=True, name="Paul Roux", phone=PHONE,
            commune="Saint-Victor",
        )  # fmt: skip
    done = await enrol_by_phone(ctx=town.ctx, workshop_id=workshop, actor=JULIE, **arguments)
    same_ids = dataclasses.replace(seen, resident_id=done.resident_id, enrolment_id=done.enrolment_id)
    assert done == same_ids  # PostgreSQL: sequences move on in a preview
    assert done.resident_id != known
