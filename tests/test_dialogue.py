"""The transcripts through the pure dialogue, with the effects applied to a small in-memory world.

No database here: this is the dialogue's own contract (what it answers, which effects it asks for). The same
transcripts run against the real service and databases in test_service_transcripts.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from bot.config import DEFAULT_TERRITORY
from bot.context import france_index
from bot.conversation import turns
from bot.conversation.dialogue import after_enrol, after_move, respond
from bot.conversation.offers import nearest_workshops
from bot.conversation.texts import LEVEL_CHOICES
from bot.conversation.turns import Booking, ResidentView, State, Step, Turn, WorkshopOption, World
from bot.conversation.understanding.communes import CommuneIndex
from bot.conversation.understanding.names import first_name_of
from bot.territory import load_territory
from storage.models import Level
from tests.helpers.clock import PARIS, Clock
from tests.helpers.harness import Shown, play
from tests.helpers.transcripts import SETUPS, TRANSCRIPTS, Transcript

TERRITORY = load_territory(DEFAULT_TERRITORY)
INDEX = CommuneIndex.build(TERRITORY)
FRANCE = france_index()


def options_for(setup: str, now: datetime) -> dict[int, WorkshopOption]:
    options = {}
    for number, spec in enumerate(SETUPS[setup], start=1):
        venue = TERRITORY.venues_in(spec.commune_insee)[0]
        commune = TERRITORY.commune(spec.commune_insee)
        assert commune is not None
        day = (now + timedelta(days=spec.days_ahead)).astimezone(PARIS)
        options[number] = WorkshopOption(
            id=number,
            starts_at=day.replace(hour=spec.hour, minute=0, second=0, microsecond=0),
            level=Level(spec.level),
            topic=spec.topic,
            venue=venue.name,
            address=venue.address,
            commune_insee=spec.commune_insee,
            commune=commune.name,
            latitude=venue.latitude,
            longitude=venue.longitude,
            free_seats=spec.capacity - spec.taken,
        )
    return options


@dataclass
class Person:
    view: ResidentView = field(default_factory=lambda: ResidentView(has_phone=True))
    state: State | None = None


class MemoryWorld:
    """Just enough of the service to follow a transcript: seats, bookings, opt-outs."""

    def __init__(self, setup: str, clock: Clock) -> None:
        self.clock = clock
        self.options = options_for(setup, clock.now)
        self.people: dict[str, Person] = {}
        self.next_enrolment = 1

    def world(self) -> World:
        return World(
            now=self.clock.now,
            tz=PARIS,
            territory=TERRITORY,
            communes=INDEX,
            workshops=tuple(self.options.values()),
            france=FRANCE,
        )

    async def send(self, who: str, text: str) -> list[Shown]:
        person = self.people.setdefault(who, Person())
        turn = respond(state=person.state, text=text, resident=person.view, world=self.world())
        replies = [(r.text, r.choices) for r in turn.replies]
        person.state = replace(turn.state, updated_at=self.clock.now) if turn.state else None
        for effect in turn.effects:
            if isinstance(effect, turns.Enrol | turns.MoveBooking):
                after = self.enrol(person, effect) if isinstance(effect, turns.Enrol) else self.move(person, effect)
                person.state = replace(after.state, updated_at=self.clock.now) if after.state else None
                replies += [(r.text, r.choices) for r in after.replies]
            else:
                self.apply(person, effect)
        return replies

    def enrol(self, person: Person, effect: turns.Enrol) -> Turn:
        option = self.options[effect.workshop_id]
        party = 2 if effect.companion else 1
        waiting = option.free_seats < party
        if waiting and not effect.allow_waiting:
            return after_enrol(
                outcome=turns.EnrolOutcome.FULL,
                workshop_id=option.id,
                position=None,
                resident=person.view,
                world=self.world(),
                companion=effect.companion,
            )
        if not waiting:
            self.options[option.id] = replace(option, free_seats=option.free_seats - party)
        booking = Booking(self.next_enrolment, option, 1 if waiting else None)
        bookings = [booking]
        if effect.companion:
            who = first_name_of(effect.companion)
            bookings.append(Booking(self.next_enrolment + 1, option, 2 if waiting else None, who=who))
        self.next_enrolment += len(bookings)
        person.view = replace(person.view, bookings=(*person.view.bookings, *bookings))
        outcome = turns.EnrolOutcome.WAITING if waiting else turns.EnrolOutcome.SEATED
        return after_enrol(
            outcome=outcome,
            workshop_id=option.id,
            position=booking.waiting_position,
            resident=person.view,
            world=self.world(),
            companion=effect.companion,
        )

    def move(self, person: Person, effect: turns.MoveBooking) -> Turn:
        moving = [b for b in person.view.bookings if b.enrolment_id in effect.enrolment_ids]
        option = self.options[effect.workshop_id]
        if option.free_seats < len(moving):
            return after_move(moved=False, old=None, workshop_id=option.id, resident=person.view, world=self.world())
        self.options[option.id] = replace(option, free_seats=option.free_seats - len(moving))
        old = moving[0].workshop
        self.options[old.id] = replace(self.options[old.id], free_seats=self.options[old.id].free_seats + len(moving))
        kept = tuple(b for b in person.view.bookings if b not in moving)
        moved = tuple(replace(b, workshop=self.options[option.id]) for b in moving)
        person.view = replace(person.view, bookings=kept + moved)
        return after_move(moved=True, old=old, workshop_id=option.id, resident=person.view, world=self.world())

    def apply(self, person: Person, effect: object) -> None:
        view = person.view
        if isinstance(effect, turns.SaveProfile):
            person.view = replace(
                view,
                name=effect.name,
                commune_insee=effect.commune_insee,
                level=effect.level,
                interests=effect.interests,
            )
        elif isinstance(effect, turns.CancelEnrolment):
            person.view = replace(
                view, bookings=tuple(b for b in view.bookings if b.enrolment_id != effect.enrolment_id)
            )
        elif isinstance(effect, turns.OptOut | turns.OptIn):
            person.view = replace(view, opted_out=isinstance(effect, turns.OptOut))
        elif isinstance(effect, turns.Erase):
            person.view = ResidentView(has_phone=True)
        elif isinstance(effect, turns.ConfirmAttendance):
            pass


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[t.label for t in TRANSCRIPTS])
async def test_transcript_through_the_pure_dialogue(transcript: Transcript, now: datetime) -> None:
    clock = Clock(now)
    memory = MemoryWorld(transcript.setup, clock)
    await play(transcript, send=memory.send, clock=clock)


def test_nearest_workshops_are_nearest_first_then_soonest(now: datetime) -> None:
    world = World(
        now=now, tz=PARIS, territory=TERRITORY, communes=INDEX, workshops=tuple(options_for("default", now).values())
    )
    ranked = nearest_workshops(world=world, commune_insee="03262", level=Level.beginner)
    assert [w.commune for w in ranked] == ["Saint-Victor", "Désertines", "Domérat"]


STEP_ROWS = [
    ("a name moves on to the commune", Step.NAME, "Martine Dupont", Step.COMMUNE),
    ("a greeting is not a name", Step.NAME, "bonjour", Step.NAME),
    ("digits are not a name", Step.NAME, "0612345678", Step.NAME),
    ("a name and a commune move on to the level", Step.NAME, "cest josette martin de domerat", Step.LEVEL),
    ("a couple asks for nothing more than the commune", Step.NAME, "Colette et Bernard Renaud", Step.COMMUNE),
    ("two people: the second one's name", Step.NAME, "Colette Renaud, on sera deux avec mon mari", Step.COMPANION),
    ("a commune moves on to the level", Step.COMMUNE, "Quinssaines", Step.LEVEL),
    ("a commune and a level move on to the interests", Step.COMMUNE, "domerat et je debute", Step.INTERESTS),
    ("a shared postcode asks which commune", Step.COMMUNE, "03420", Step.COMMUNE_PICK),
    ("a commune elsewhere in France is named and asked again", Step.COMMUNE, "Paris", Step.COMMUNE),
    ("an unknown commune asks again", Step.COMMUNE, "zzkkq", Step.COMMUNE),
    ("a level in words moves on", Step.LEVEL, "jai un portable mais je sais pas men servir", Step.INTERESTS),
    ("a level and an interest move on to the offer", Step.LEVEL, "3 je voudrais apprendre les photos", None),
]
SIGNED_SO_FAR = {Step.NAME: {}, Step.COMMUNE: {"name": "Martine Dupont"}}
SIGNED_SO_FAR[Step.LEVEL] = {"name": "Martine Dupont", "commune": "03262"}


@pytest.mark.parametrize(("label", "step", "text", "expected_step"), STEP_ROWS, ids=[row[0] for row in STEP_ROWS])
def test_step_transitions(label: str, step: Step, text: str, expected_step: Step | None, now: datetime) -> None:
    world = World(now=now, tz=PARIS, territory=TERRITORY, communes=INDEX, workshops=(), france=FRANCE)
    state = State(step, dict(SIGNED_SO_FAR[step]), now)
    turn = respond(state=state, text=text, resident=ResidentView(), world=world)
    assert (turn.state.step if turn.state is not None else None) == expected_step, label


def test_after_stop_nothing_at_all_is_answered(now: datetime) -> None:
    world = World(now=now, tz=PARIS, territory=TERRITORY, communes=INDEX, workshops=())
    stopped = ResidentView(has_phone=True, opted_out=True)
    for text in ("bonjour", "AIDE", "ANNULER", "oui", "1", "", "STOP"):
        turn = respond(state=None, text=text, resident=stopped, world=world)
        assert turn.replies == () and turn.effects == (), text


@dataclass(frozen=True)
class AnswerRow:
    label: str
    text: str
    asked_about: int | None  # the enrolment of the latest reminder or notice sent
    effect: object | None  # what the answer does; None: nothing yet
    step: Step | None = None  # the question asked instead, when it is not certain
    seats: int = 2


# Two seated workshops, enrolments 1 (the sooner) and 2; OUI/NON answers what we last asked about.
ANSWER_ROWS = [
    AnswerRow("OUI with nothing asked confirms the sooner", "oui", None, turns.ConfirmAttendance(1)),
    AnswerRow("OUI to the later one's reminder confirms it", "oui", 2, turns.ConfirmAttendance(2)),
    AnswerRow("NON to the later one's reminder cancels it", "non je peux pas", 2, turns.CancelEnrolment(2)),
    AnswerRow("NON to the sooner one's reminder cancels it", "NON", 1, turns.CancelEnrolment(1)),
    AnswerRow("NON with nothing asked asks which", "non", None, None, Step.CANCEL_PICK),
    AnswerRow("NON about a seat no longer held asks which", "non", 9, None, Step.CANCEL_PICK),
    AnswerRow("NON, one seat, nothing asked, asks first", "non", None, None, Step.CANCEL_CONFIRM, seats=1),
    AnswerRow("NON, one seat, asked about it, cancels it", "non", 1, turns.CancelEnrolment(1), seats=1),
    AnswerRow("NON, one seat, asked about another, asks first", "non", 9, None, Step.CANCEL_CONFIRM, seats=1),
]


@pytest.mark.parametrize("row", ANSWER_ROWS, ids=[row.label for row in ANSWER_ROWS])
def test_yes_no_answers_the_last_question_asked(row: AnswerRow, now: datetime) -> None:
    options = options_for("default", now)
    soon, later = sorted(options.values(), key=lambda option: option.starts_at)[:2]
    resident = ResidentView(
        name="Martine Dupont",
        commune_insee="03262",
        level=Level.beginner,
        has_phone=True,
        bookings=(Booking(1, soon, None), Booking(2, later, None))[: row.seats],
        asked_about=row.asked_about,
    )
    world = World(now=now, tz=PARIS, territory=TERRITORY, communes=INDEX, workshops=tuple(options.values()))
    turn = respond(state=None, text=row.text, resident=resident, world=world)
    assert turn.effects == ((row.effect,) if row.effect is not None else ()), row.label
    assert (turn.state.step if turn.state else None) == row.step, row.label


# (label, text, the menu shown this long ago, the reminder sent this long ago, effect, step afterwards)
LATER_QUESTION_ROWS = [
    ("NON to a reminder sent after the menu cancels", "non je peux pas", 3, 1, turns.CancelEnrolment(1), None),
    ("OUI to a reminder sent after the menu confirms", "oui", 3, 1, turns.ConfirmAttendance(1), None),
    ("a menu choice after the reminder is still a menu choice", "2", 3, 1, None, None),
    ("OUI to the menu shown after the reminder is the menu's", "oui", 1, 3, None, Step.MENU),
]


@pytest.mark.parametrize(
    ("label", "text", "menu_hours", "reminder_hours", "effect", "step"),
    LATER_QUESTION_ROWS,
    ids=[row[0] for row in LATER_QUESTION_ROWS],
)
def test_a_reminder_asked_after_the_last_question_gets_the_yes_or_no(
    label: str, text: str, menu_hours: int, reminder_hours: int, effect: object, step: Step | None, now: datetime
) -> None:
    options = options_for("default", now)
    soon = min(options.values(), key=lambda option: option.starts_at)
    resident = ResidentView(
        name="Martine Dupont",
        commune_insee="03262",
        level=Level.beginner,
        has_phone=True,
        bookings=(Booking(1, soon, None),),
        asked_about=1,
        asked_at=now - timedelta(hours=reminder_hours),
    )
    world = World(now=now, tz=PARIS, territory=TERRITORY, communes=INDEX, workshops=tuple(options.values()))
    menu = State(Step.MENU, {}, now - timedelta(hours=menu_hours))
    turn = respond(state=menu, text=text, resident=resident, world=world)
    assert turn.effects == ((effect,) if effect is not None else ()), label
    assert (turn.state.step if turn.state else None) == step, label


@pytest.mark.parametrize(
    ("hours_after", "offered"),
    [(1, False), (-1, False), (2, True), (-2, True)],  # the held workshop runs two hours
)
def test_a_workshop_at_the_same_time_as_a_held_seat_is_not_offered(
    hours_after: int, offered: bool, now: datetime
) -> None:
    options = options_for("default", now)
    held = options[1]  # Saint-Victor, beginners
    clash = replace(
        options[2], id=99, starts_at=held.starts_at + timedelta(hours=hours_after), ends_at=None, free_seats=3
    )
    world = World(now=now, tz=PARIS, territory=TERRITORY, communes=INDEX, workshops=(*options.values(), clash))
    resident = ResidentView(
        name="Martine Dupont",
        commune_insee="03262",
        level=Level.beginner,
        has_phone=True,
        bookings=(Booking(1, replace(held, ends_at=held.starts_at + timedelta(hours=2)), None),),
    )
    turn = respond(state=State(Step.MENU, {}, now), text="1", resident=resident, world=world)
    assert turn.state is not None
    assert (99 in turn.state.data.get("offered", [])) is offered


@pytest.mark.parametrize("has_phone", [True, False], ids=["sms", "telegram-without-number"])
def test_conseiller_in_the_middle_of_a_sign_up_then_carries_on(has_phone: bool, now: datetime) -> None:
    world = World(now=now, tz=PARIS, territory=TERRITORY, communes=INDEX, workshops=())
    signing_up = State(Step.LEVEL, {"name": "Louise Girard", "commune": "03101"}, now)
    turn = respond(state=signing_up, text="CONSEILLER", resident=ResidentView(has_phone=has_phone), world=world)
    if not has_phone:  # the number first, then the sign-up resumes
        assert turn.state is not None and turn.state.step == Step.CALLBACK_PHONE and not turn.effects
        turn = respond(state=turn.state, text="06 12 34 56 78", resident=ResidentView(), world=world)
    assert turn.effects == (turns.RequestCallback(phone=None if has_phone else "+33612345678", name="Louise Girard",
                                            commune_insee="03101"),)  # fmt: skip
    assert turn.state is not None and (turn.state.step, turn.state.data) == (Step.LEVEL, signing_up.data)
    assert "rappel" in turn.replies[0].text and turn.replies[-1].choices == LEVEL_CHOICES
