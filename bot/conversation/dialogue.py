"""The sign-up conversation: pure, channel-agnostic, one small function per step and a table of steps.

``respond`` is given the stored state, what the resident wrote, what we know of the resident and of the world
(the clock, the communes, the upcoming workshops) and returns a ``Turn``: the new state, the replies with the
choices they offer, and the effects the service must apply. No I/O happens here, so every rule is tested as a table
(compare goflow's ``Session.Resume`` returning events, and python-telegram-bot's conversationbot example).

Effects whose outcome is only known once applied (a seat may be taken by someone else meanwhile) are followed by
``after_enrol``, which turns the outcome into the right words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.phones import MAX_RAW, to_e164
from bot.conversation.understanding.choices import INTERESTS, match_choice, parse_interests
from bot.conversation.understanding.communes import CommuneIndex, match_commune
from bot.conversation.understanding.keywords import Keyword, detect_keyword, parse_yes_no
from bot.conversation.understanding.names import clean_name, first_name_of, looks_like_name
from bot.conversation.understanding.numbers import parse_number
from bot.conversation.understanding.text import normalize
from bot.territory import Territory, distance_km
from storage.enums import Level

IDLE_RESTART = timedelta(hours=24)
MAX_OFFERED = 3
LEVELS = (Level.beginner, Level.intermediate, Level.advanced)
INTEREST_LABELS = tuple(label for label, _ in INTERESTS)


class Step(StrEnum):
    NAME = "name"
    COMMUNE = "commune"
    COMMUNE_PICK = "commune_pick"
    LEVEL = "level"
    INTERESTS = "interests"
    WORKSHOP = "workshop"
    CONFIRM_WORKSHOP = "confirm_workshop"
    WAITLIST = "waitlist"
    MENU = "menu"
    CANCEL_PICK = "cancel_pick"
    CANCEL_CONFIRM = "cancel_confirm"
    FORGET_CONFIRM = "forget_confirm"
    CALLBACK_PHONE = "callback_phone"


SIGNUP_STEPS = frozenset(
    {Step.NAME, Step.COMMUNE, Step.COMMUNE_PICK, Step.LEVEL, Step.INTERESTS, Step.WORKSHOP, Step.CONFIRM_WORKSHOP}
)


# --- What the dialogue is given -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkshopOption:
    id: int
    starts_at: datetime
    level: Level
    topic: str
    venue: str
    address: str
    commune_insee: str
    commune: str
    latitude: float
    longitude: float
    free_seats: int
    ends_at: datetime | None = None  # None: taken as two hours after the start

    @property
    def until(self) -> datetime:
        return self.ends_at or self.starts_at + timedelta(hours=2)

    def overlaps(self, other: WorkshopOption) -> bool:
        return self.starts_at < other.until and other.starts_at < self.until


@dataclass(frozen=True)
class Booking:
    """One of the resident's active enrolments in an upcoming workshop."""

    enrolment_id: int
    workshop: WorkshopOption
    waiting_position: int | None  # None: seated
    confirmed: bool | None = None


@dataclass(frozen=True)
class ResidentView:
    name: str | None = None
    commune_insee: str | None = None
    level: Level | None = None
    interests: tuple[str, ...] = ()
    has_phone: bool = False
    opted_out: bool = False  # on the channel this message came from
    contact_offered: bool = True  # the Telegram "share my number" button was offered already
    bookings: tuple[Booking, ...] = ()
    asked_about: int | None = None  # the enrolment our latest reminder or notice was about: OUI/NON answers it
    asked_at: datetime | None = None  # when that reminder or notice was sent

    @property
    def registered(self) -> bool:
        return bool(self.name and self.commune_insee and self.level)

    @property
    def first_name(self) -> str:
        return first_name_of(self.name or "")


@dataclass(frozen=True)
class World:
    now: datetime
    tz: tzinfo
    territory: Territory
    communes: CommuneIndex
    workshops: tuple[WorkshopOption, ...]  # upcoming, planned, past the sign-up cut-off

    @property
    def phone(self) -> str:
        return self.territory.contact.phone


@dataclass(frozen=True)
class State:
    step: Step
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


# --- What the dialogue returns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveProfile:
    name: str
    commune_insee: str
    level: Level
    interests: tuple[str, ...]


@dataclass(frozen=True)
class Enrol:
    workshop_id: int
    allow_waiting: bool


@dataclass(frozen=True)
class CancelEnrolment:
    enrolment_id: int


@dataclass(frozen=True)
class ConfirmAttendance:
    enrolment_id: int


@dataclass(frozen=True)
class OptOut:
    pass


@dataclass(frozen=True)
class OptIn:
    pass


@dataclass(frozen=True)
class Erase:
    pass


@dataclass(frozen=True)
class RequestCallback:
    phone: str | None = None  # a number given in the conversation (Telegram residents may have none on file)
    name: str | None = None  # given during a sign-up not finished yet: the adviser knows whom they call
    commune_insee: str | None = None  # likewise; it also says which advisers to tell


@dataclass(frozen=True)
class ContactOffered:
    pass


Effect = (
    SaveProfile
    | Enrol
    | CancelEnrolment
    | ConfirmAttendance
    | OptOut
    | OptIn
    | Erase
    | RequestCallback
    | ContactOffered
)


@dataclass(frozen=True)
class Turn:
    state: State | None  # None: no conversation in progress (the stored one is removed)
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


class EnrolOutcome(StrEnum):
    SEATED = "seated"
    WAITING = "waiting"
    FULL = "full"  # the last seat went to someone else meanwhile
    UNAVAILABLE = "unavailable"  # cancelled or started meanwhile


# --- Entry point --------------------------------------------------------------------------------------------


def respond(*, state: State | None, text: str, resident: ResidentView, world: World) -> Turn:
    text = text or ""
    keyword = detect_keyword(text)
    if resident.opted_out:
        # After STOP: nothing at all, whatever they send, until START (or INSCRIPTION).
        if keyword in (Keyword.START, Keyword.SIGNUP):
            return _add(
                _fresh(resident, world, greeting=False),
                replies=(Reply(say.started_again()),),
                first=True,
                effects=(OptIn(),),
            )
        return Turn(state=state)
    if state is not None and state.updated_at is not None and world.now - state.updated_at > IDLE_RESTART:
        if keyword is None:
            return _add(_fresh(resident, world, greeting=False), replies=(Reply(say.restart_after_idle()),), first=True)
        state = None
    if keyword is not None:
        return _on_keyword(keyword, state, resident, world)
    if state is not None and _answers_our_question(text, state, resident):
        state = None
    if state is None:
        return _idle(text, resident, world)
    return STEPS[state.step](text, state, resident, world)


def _answers_our_question(text: str, state: State, resident: ResidentView) -> bool:
    """A reminder or notice asked OUI/NON after the conversation's last question: a yes or no answers it, not the
    older question (the menu shown this morning, say)."""
    if resident.asked_at is None or state.updated_at is None or state.updated_at >= resident.asked_at:
        return False
    return parse_yes_no(text) is not None


def after_enrol(
    *,
    outcome: EnrolOutcome,
    workshop_id: int,
    position: int | None,
    resident: ResidentView,
    world: World,
    reminded: bool = True,
) -> Turn:
    """The words for an enrolment once the service knows whether a seat was taken (and a reminder planned)."""
    option = _workshop(world, workshop_id)
    if option is None or outcome == EnrolOutcome.UNAVAILABLE:  # cancelled, or too close, since it was offered
        return _add(_offer(resident, world), replies=(Reply(say.workshop_no_longer_offered()),), first=True)
    if outcome == EnrolOutcome.SEATED:
        text = say.seated(
            resident.first_name, option.starts_at, world.tz, option.venue, option.address, reminded=reminded
        )
        return Turn(state=None, replies=(Reply(text),))
    if outcome == EnrolOutcome.WAITING:
        text = say.waiting(resident.first_name, position or 1, option.starts_at, world.tz, option.venue)
        return Turn(state=None, replies=(Reply(text),))
    # FULL: someone else took the last seat a moment ago. Other workshops with a seat, or else this one's waiting
    # list (the one they chose, rather than the nearest full one).
    taken = Reply(say.workshop_just_filled())
    others = _offer(resident, world, exclude=(workshop_id,))
    if others.state is not None and others.state.step in (Step.WORKSHOP, Step.CONFIRM_WORKSHOP):
        return _add(others, replies=(taken,), first=True)
    wait = Reply(say.offer_waiting_list(option.starts_at, world.tz, option.venue), say.YES_NO)
    return Turn(state=State(Step.WAITLIST, {"workshop": workshop_id}), replies=(taken, wait))


# --- Keywords work at every step ----------------------------------------------------------------------------


def _on_keyword(keyword: Keyword, state: State | None, resident: ResidentView, world: World) -> Turn:
    if keyword == Keyword.STOP:
        return Turn(state=None, replies=(Reply(say.stopped()),), effects=(OptOut(),))
    if keyword in (Keyword.START, Keyword.SIGNUP):
        if resident.registered:
            return _offer(resident, world)
        if state is not None and state.step in SIGNUP_STEPS:
            return _reask(state, resident, world)
        return _welcome(resident, world)
    if keyword == Keyword.HELP:
        help_reply = Reply(say.help_text(world.phone))
        if state is None:
            return Turn(state=None, replies=(help_reply,))
        return _add(_reask(state, resident, world), replies=(help_reply,), first=True)
    if keyword == Keyword.RESTART:
        return Turn(state=State(Step.NAME, {}), replies=(Reply(say.restarted() + " " + say.ask_name()),))
    if keyword == Keyword.MY_WORKSHOPS:
        if state is not None and state.step in SIGNUP_STEPS:  # answer, then carry on where they were
            listed = _my_workshops(resident, world, signing_up=True)
            return _add(_reask(state, resident, world), replies=listed.replies, first=True)
        return _my_workshops(resident, world)
    if keyword == Keyword.ADVISER:
        # In the middle of a sign-up: the adviser learns what was said so far, and the sign-up carries on after.
        paused = state if state is not None and state.step in SIGNUP_STEPS else None
        if resident.has_phone:
            noted = Turn(
                state=None, replies=(Reply(say.callback_requested(has_phone=True)),), effects=(_callback(paused),)
            )
            return _resume(noted, paused, resident, world)
        resume = {"resume": {"step": paused.step.value, "data": paused.data}} if paused is not None else {}
        return Turn(state=State(Step.CALLBACK_PHONE, resume), replies=(Reply(say.callback_requested(has_phone=False)),))
    if keyword == Keyword.FORGET:
        return Turn(state=State(Step.FORGET_CONFIRM), replies=(Reply(say.ask_confirm_forget(), say.YES_NO),))
    # CANCEL
    return _start_cancel(state, resident, world)


def _start_cancel(state: State | None, resident: ResidentView, world: World) -> Turn:
    bookings = resident.bookings
    if not bookings:
        if state is not None and state.step in SIGNUP_STEPS:
            return Turn(state=None, replies=(Reply(say.signup_stopped()),))
        return Turn(state=None, replies=(Reply(say.nothing_to_cancel()),))
    if len(bookings) == 1:
        return _ask_confirm_cancel(bookings[0], world)
    choices = tuple(say.workshop_line(b.workshop.starts_at, world.tz, b.workshop.commune) for b in bookings)
    ids = [b.enrolment_id for b in bookings]
    return Turn(state=State(Step.CANCEL_PICK, {"options": ids}), replies=(Reply(say.ask_which_to_cancel(), choices),))


def _ask_confirm_cancel(booking: Booking, world: World) -> Turn:
    text = say.ask_confirm_cancel(booking.workshop.starts_at, world.tz, booking.workshop.venue)
    return Turn(
        state=State(Step.CANCEL_CONFIRM, {"enrolment": booking.enrolment_id}), replies=(Reply(text, say.YES_NO),)
    )


def _my_workshops(resident: ResidentView, world: World, *, signing_up: bool = False) -> Turn:
    if not resident.bookings:
        return Turn(state=None, replies=(Reply(say.my_workshops_none(signing_up=signing_up)),))
    lines = [
        say.my_workshop_line(b.workshop.starts_at, world.tz, b.workshop.venue, b.waiting_position)
        for b in resident.bookings
    ]
    return Turn(state=None, replies=(Reply(say.my_workshops(lines)),))


# --- No conversation in progress ----------------------------------------------------------------------------


def _welcome(resident: ResidentView, world: World) -> Turn:
    ask_contact = not resident.has_phone and not resident.contact_offered
    text = say.welcome(world.territory.name) + "\n" + say.ask_name()
    effects: tuple[Effect, ...] = (ContactOffered(),) if ask_contact else ()
    return Turn(state=State(Step.NAME), replies=(Reply(text, ask_contact=ask_contact),), effects=effects)


def _fresh(resident: ResidentView, world: World, *, greeting: bool) -> Turn:
    """Start over: the menu for someone we know, the sign-up for someone new."""
    if resident.registered:
        return Turn(state=State(Step.MENU), replies=(Reply(say.menu(resident.first_name), say.MENU_CHOICES),))
    if greeting:
        return _welcome(resident, world)
    return Turn(state=State(Step.NAME), replies=(Reply(say.ask_name()),))


def _idle(text: str, resident: ResidentView, world: World) -> Turn:
    if not resident.registered:
        return _welcome(resident, world)
    answer = parse_yes_no(text)
    seated = [b for b in resident.bookings if b.waiting_position is None]
    if answer is not None and seated:
        # OUI / NON answers the last reminder or notice we sent (they ask exactly that), else the next workshop.
        asked = next((b for b in seated if b.enrolment_id == resident.asked_about), None)
        target = asked or seated[0]
        if answer:
            reply = say.confirmed_coming(target.workshop.starts_at, world.tz)
            return Turn(state=None, replies=(Reply(reply),), effects=(ConfirmAttendance(target.enrolment_id),))
        if asked is None:
            # A NON that answers no question of ours (no recent reminder, or one about a seat they no longer hold):
            # ask which seat and confirm, as ANNULER does; never cancel on a guess.
            return _start_cancel(None, resident, world)
        reply = say.cancelled_enrolment(target.workshop.starts_at, world.tz)
        return Turn(state=None, replies=(Reply(reply),), effects=(CancelEnrolment(target.enrolment_id),))
    return Turn(state=State(Step.MENU), replies=(Reply(say.menu(resident.first_name), say.MENU_CHOICES),))


def _on_menu(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    choice = _pick(text, say.MENU_CHOICES)
    if choice == 1:
        return _offer(resident, world)
    if choice == 2:
        return _my_workshops(resident, world)
    if choice == 3:
        return _on_keyword(Keyword.ADVISER, None, resident, world)
    if parse_yes_no(text) is False:  # "non merci" to the menu: nothing to do (never read as cancelling a seat)
        return Turn(state=None, replies=(Reply(say.nothing_then()),))
    return _reask(state, resident, world)


# --- The sign-up steps --------------------------------------------------------------------------------------


def _on_name(text: str, state: State, _resident: ResidentView, _world: World) -> Turn:
    if not text.strip() or parse_yes_no(text) is False:
        # "Non merci" to the share-my-number button, or a shared contact we did not know: just ask the name
        return Turn(state=state, replies=(Reply(say.ask_name()),))
    if not looks_like_name(text):
        return Turn(state=state, replies=(Reply(say.name_not_understood()),))
    name = clean_name(text)
    data = {**state.data, "name": name}
    return Turn(state=State(Step.COMMUNE, data), replies=(Reply(say.ask_commune(first_name_of(name))),))


def _commune_chosen(insee: str, state: State, world: World) -> Turn:
    data = {**state.data, "commune": insee}
    data.pop("candidates", None)
    question = say.ask_level(_commune_name(world, insee))
    return Turn(state=State(Step.LEVEL, data), replies=(Reply(question, say.LEVEL_CHOICES),))


def _on_commune(text: str, state: State, _resident: ResidentView, world: World) -> Turn:
    found = match_commune(text, world.communes)
    if found.kind == "exact":
        return _commune_chosen(found.communes[0].insee, state, world)
    if found.kind == "several":
        candidates = [c.insee for c in found.communes]
        names = tuple(c.name for c in found.communes)
        data = {**state.data, "candidates": candidates}
        return Turn(state=State(Step.COMMUNE_PICK, data), replies=(Reply(say.pick_commune(), names),))
    if found.kind == "outside":
        reply = say.outside_territory(found.neighbour or text.strip(), world.territory.name, world.phone)
        return Turn(state=state, replies=(Reply(reply),))
    return Turn(state=state, replies=(Reply(say.ask_commune_again()),))


def _on_commune_pick(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    candidates: list[str] = list(state.data.get("candidates", []))
    names = [_commune_name(world, insee) for insee in candidates]
    choice = _pick(text, names)
    if choice is not None:
        return _commune_chosen(candidates[choice - 1], state, world)
    if parse_number(text, 99) is None and match_commune(text, world.communes).kind != "none":
        return _on_commune(text, replace(state, step=Step.COMMUNE), resident, world)  # another commune named
    # A number off the list, or words we cannot read: the same list again, with how to answer.
    return Turn(state=state, replies=(Reply(say.choose_by_number(len(names)), tuple(names)),))


def _on_level(text: str, state: State, _resident: ResidentView, world: World) -> Turn:
    choice = _pick(text, say.LEVEL_CHOICES) or _level_word(text)
    if choice is None:
        # Answering the previous question again corrects it: a commune here changes the commune.
        found = match_commune(text, world.communes)
        if found.kind == "exact":
            return _commune_chosen(found.communes[0].insee, state, world)
        return Turn(state=state, replies=(Reply(say.level_not_understood(), say.LEVEL_CHOICES),))
    data = {**state.data, "level": LEVELS[choice - 1].value}
    return Turn(state=State(Step.INTERESTS, data), replies=(Reply(say.ask_interests(), INTEREST_LABELS),))


LEVEL_WORDS = {"debutant": 1, "debutante": 1, "intermediaire": 2, "moyen": 2, "confirme": 3, "confirmee": 3}


def _level_word(text: str) -> int | None:
    """The spreadsheet words for levels, which some residents use too."""
    return next((LEVEL_WORDS[w] for w in normalize(text).split() if w in LEVEL_WORDS), None)


def _on_interests(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    interests = parse_interests(text, INTEREST_LABELS)
    if interests is None:
        if not state.data.get("interest_retry"):
            data = {**state.data, "interest_retry": True}
            return Turn(
                state=State(Step.INTERESTS, data), replies=(Reply(say.interests_not_understood(), INTEREST_LABELS),)
            )
        interests = []  # an optional question: never block a sign-up on it
    profile = SaveProfile(
        name=str(state.data["name"]),
        commune_insee=str(state.data["commune"]),
        level=Level(state.data["level"]),
        interests=tuple(interests),
    )
    registered = replace(
        resident,
        name=profile.name,
        commune_insee=profile.commune_insee,
        level=profile.level,
        interests=profile.interests,
    )
    return _add(_offer(registered, world), effects=(profile,), first=True)


# --- Choosing a workshop ------------------------------------------------------------------------------------


def nearest_workshops(
    *, world: World, commune_insee: str, level: Level, exclude: Sequence[int] = ()
) -> list[WorkshopOption]:
    """Upcoming workshops of that level, nearest first (distance from the commune's town hall), then soonest."""
    home = world.territory.commune(commune_insee)
    candidates = [w for w in world.workshops if w.level == level and w.id not in exclude]
    if home is None:
        return sorted(candidates, key=lambda w: w.starts_at)

    def key(w: WorkshopOption) -> tuple[float, datetime]:
        return round(distance_km(home.latitude, home.longitude, w.latitude, w.longitude), 1), w.starts_at

    return sorted(candidates, key=key)


def _offer(resident: ResidentView, world: World, exclude: Sequence[int] = ()) -> Turn:
    assert resident.commune_insee is not None and resident.level is not None  # noqa: S101 - registered residents only
    booked = {b.workshop.id for b in resident.bookings}
    # Nor a workshop at the same time as one they hold: nobody can be in two villages at once.
    busy = {w.id for w in world.workshops for b in resident.bookings if w.overlaps(b.workshop)}
    ranked = nearest_workshops(
        world=world, commune_insee=resident.commune_insee, level=resident.level, exclude=[*exclude, *booked, *busy]
    )
    with_seats = [w for w in ranked if w.free_seats > 0][:MAX_OFFERED]
    if not with_seats:
        full = [w for w in ranked if w.free_seats <= 0]
        if not full:
            return Turn(state=None, replies=(Reply(say.no_workshop_at_all(world.phone)),))
        first = full[0]
        text = say.offer_waiting_list(first.starts_at, world.tz, first.venue)
        return Turn(state=State(Step.WAITLIST, {"workshop": first.id}), replies=(Reply(text, say.YES_NO),))
    if len(with_seats) == 1:
        only = with_seats[0]
        text = say.offer_single(only.starts_at, world.tz, only.venue)
        data = {"offered": [only.id], "workshop": only.id}
        return Turn(state=State(Step.CONFIRM_WORKSHOP, data), replies=(Reply(text, say.YES_NO),))
    lines = tuple(say.workshop_line(w.starts_at, world.tz, w.commune) for w in with_seats)
    data = {"offered": [w.id for w in with_seats]}
    return Turn(state=State(Step.WORKSHOP, data), replies=(Reply(say.offer_workshops(), lines),))


def offers_after_cancellation(workshop_ids: Sequence[int]) -> State:
    """Where a cancellation notice leaves the conversation: at its offers of other workshops, where one digit
    enrols (the notice said "answer with the number")."""
    return State(Step.WORKSHOP, {"offered": list(workshop_ids), "direct": True})


def _offered(state: State, world: World) -> tuple[list[WorkshopOption], list[str]]:
    """The workshops offered at the last question (those still planned) and their numbered lines."""
    options = [w for w in (_workshop(world, int(i)) for i in state.data.get("offered", [])) if w is not None]
    return options, [say.workshop_line(w.starts_at, world.tz, w.commune) for w in options]


def _commune_correction(
    text: str, options: Sequence[WorkshopOption], resident: ResidentView, world: World
) -> Turn | None:
    """ "Non, j'habite à Saint-Victor" at the list of workshops: answering an earlier question again corrects it
    (SPEC §2). The commune is changed and the nearest workshops are offered again. A commune of one of the
    workshops offered is a choice of that workshop, not a correction."""
    if not resident.registered or parse_number(text, 99) is not None:
        return None
    found = match_commune(text, world.communes)
    if found.kind != "exact" or found.communes[0].insee == resident.commune_insee:
        return None
    commune = found.communes[0]
    if any(w.commune_insee == commune.insee for w in options):
        return None
    assert resident.name is not None and resident.level is not None  # noqa: S101 - registered
    moved = replace(resident, commune_insee=commune.insee)
    profile = SaveProfile(resident.name, commune.insee, resident.level, resident.interests)
    return _add(_offer(moved, world), replies=(Reply(say.commune_noted(commune.name)),), effects=(profile,), first=True)


def _on_workshop(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    options, lines = _offered(state, world)
    if (corrected := _commune_correction(text, options, resident, world)) is not None:
        return corrected
    if parse_yes_no(text) is False:
        return Turn(state=None, replies=(Reply(say.not_enrolled_ok()),))
    choice = _pick(text, lines)
    if choice is None or not options:
        return Turn(state=state, replies=(Reply(say.choose_by_number(len(options)), tuple(lines)),))
    chosen = options[choice - 1]
    if state.data.get("direct"):
        # An offer made after a cancelled workshop: the notice said "answer with the number", so one digit enrols.
        return Turn(state=None, effects=(Enrol(chosen.id, allow_waiting=False),))
    text_out = say.ask_confirm_workshop(chosen.starts_at, world.tz, chosen.venue)
    data = {**state.data, "workshop": chosen.id}
    return Turn(state=State(Step.CONFIRM_WORKSHOP, data), replies=(Reply(text_out, say.YES_NO),))


def _on_confirm_workshop(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    options, lines = _offered(state, world)
    if (corrected := _commune_correction(text, options, resident, world)) is not None:
        return corrected
    answer = parse_yes_no(text)
    workshop_id = int(state.data["workshop"])
    if answer is True:
        return Turn(state=None, effects=(Enrol(workshop_id, allow_waiting=False),))
    if answer is False:
        others = [i for i in state.data.get("offered", []) if i != workshop_id]
        if others and resident.registered:
            return _offer(resident, world, exclude=[workshop_id])
        return Turn(state=None, replies=(Reply(say.not_enrolled_ok()),))
    if len(options) > 1 and (choice := _pick(text, lines)) is not None:
        # Answering the previous question again corrects it: "2" after "1" offers the second workshop instead.
        workshop_id = options[choice - 1].id
        state = State(Step.CONFIRM_WORKSHOP, {**state.data, "workshop": workshop_id})
    option = _workshop(world, workshop_id)
    if option is None:
        return _offer(resident, world) if resident.registered else Turn(state=None)
    return Turn(
        state=state, replies=(Reply(say.ask_confirm_workshop(option.starts_at, world.tz, option.venue), say.YES_NO),)
    )


def _on_waitlist(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    answer = parse_yes_no(text)
    if answer is True:
        return Turn(state=None, effects=(Enrol(int(state.data["workshop"]), allow_waiting=True),))
    if answer is False:
        return Turn(state=None, replies=(Reply(say.not_enrolled_ok()),))
    return _reask(state, resident, world)


# --- Cancelling, forgetting, call-back ----------------------------------------------------------------------


def _on_cancel_pick(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    ids: list[int] = list(state.data.get("options", []))
    bookings = [b for b in resident.bookings if b.enrolment_id in ids]
    lines = [say.workshop_line(b.workshop.starts_at, world.tz, b.workshop.commune) for b in bookings]
    choice = _pick(text, lines)
    if choice is None:
        if parse_yes_no(text) is False:
            return Turn(state=None, replies=(Reply(say.cancel_kept()),))
        return Turn(state=state, replies=(Reply(say.choose_by_number(len(lines)), tuple(lines)),))
    return _ask_confirm_cancel(bookings[choice - 1], world)


def _on_cancel_confirm(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    answer = parse_yes_no(text)
    booking = next((b for b in resident.bookings if b.enrolment_id == state.data.get("enrolment")), None)
    if booking is None:
        return Turn(state=None, replies=(Reply(say.nothing_to_cancel()),))
    if answer is True:
        waiting = booking.waiting_position is not None
        reply = say.cancelled_enrolment(booking.workshop.starts_at, world.tz, waiting=waiting)
        return Turn(state=None, replies=(Reply(reply),), effects=(CancelEnrolment(booking.enrolment_id),))
    if answer is False:
        return Turn(state=None, replies=(Reply(say.cancel_kept()),))
    return _ask_confirm_cancel(booking, world)


def _on_forget_confirm(text: str, state: State, _resident: ResidentView, _world: World) -> Turn:
    answer = parse_yes_no(text)
    if answer is True:
        return Turn(state=None, replies=(Reply(say.forgotten()),), effects=(Erase(),))
    if answer is False:
        return Turn(state=None, replies=(Reply(say.forget_kept()),))
    return Turn(state=state, replies=(Reply(say.ask_confirm_forget(), say.YES_NO),))


def _on_callback_phone(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    phone = parse_phone(text)
    if phone is None:
        if parse_yes_no(text) is False:
            return Turn(state=None, replies=(Reply(say.no_callback(world.phone)),))
        return Turn(state=state, replies=(Reply(say.phone_not_understood()),))
    resume = state.data.get("resume")
    paused = State(Step(resume["step"]), dict(resume["data"]), state.updated_at) if resume else None
    noted = Turn(state=None, replies=(Reply(say.callback_phone_noted()),), effects=(_callback(paused, phone=phone),))
    return _resume(noted, paused, resident, world)


def _callback(paused: State | None, phone: str | None = None) -> RequestCallback:
    """The callback request, with the name and commune of a sign-up not finished yet."""
    data = paused.data if paused is not None else {}
    return RequestCallback(phone=phone, name=data.get("name"), commune_insee=data.get("commune"))


def _resume(turn: Turn, paused: State | None, resident: ResidentView, world: World) -> Turn:
    """``turn``, then the paused sign-up's question again (nothing to resume: ``turn`` alone)."""
    if paused is None:
        return turn
    return _add(_reask(paused, resident, world), replies=turn.replies, effects=turn.effects, first=True)


def parse_phone(text: str) -> str | None:
    """A French (or international) number written any usual way → E.164, else None (long text is cut, not refused)."""
    return to_e164(text.strip()[:MAX_RAW])


# --- Helpers ------------------------------------------------------------------------------------------------


def _reask(state: State, resident: ResidentView, world: World) -> Turn:
    """Ask the current question again (after AIDE, or an answer we could not read)."""
    if state.step == Step.NAME:
        return Turn(state=state, replies=(Reply(say.ask_name()),))
    if state.step in (Step.COMMUNE, Step.COMMUNE_PICK):
        first = first_name_of(str(state.data.get("name", "")))
        return Turn(state=State(Step.COMMUNE, state.data), replies=(Reply(say.ask_commune(first)),))
    if state.step == Step.LEVEL:
        return Turn(state=state, replies=(Reply(say.ask_level(), say.LEVEL_CHOICES),))
    if state.step == Step.INTERESTS:
        return Turn(state=state, replies=(Reply(say.ask_interests(), INTEREST_LABELS),))
    if state.step == Step.WAITLIST:
        option = _workshop(world, int(state.data.get("workshop", 0)))
        if option is not None:
            text = say.offer_waiting_list(option.starts_at, world.tz, option.venue)
            return Turn(state=state, replies=(Reply(text, say.YES_NO),))
    if state.step in (Step.WORKSHOP, Step.CONFIRM_WORKSHOP, Step.WAITLIST) and resident.registered:
        return _offer(resident, world)
    if state.step == Step.FORGET_CONFIRM:
        return Turn(state=state, replies=(Reply(say.ask_confirm_forget(), say.YES_NO),))
    if state.step == Step.CALLBACK_PHONE:
        return Turn(state=state, replies=(Reply(say.callback_requested(has_phone=False)),))
    if state.step == Step.CANCEL_CONFIRM:
        return _on_cancel_confirm("", state, resident, world)
    if state.step == Step.CANCEL_PICK:
        return _start_cancel(state, resident, world)
    if state.step == Step.MENU and resident.registered:
        return Turn(state=state, replies=(Reply(say.menu(resident.first_name), say.MENU_CHOICES),))
    first = resident.first_name
    return Turn(state=State(Step.MENU), replies=(Reply(say.not_understood_idle(first), say.MENU_CHOICES),))


def _add(turn: Turn, *, replies: tuple[Reply, ...] = (), effects: tuple[Effect, ...] = (), first: bool = False) -> Turn:
    """The same turn with more replies/effects, before (``first``) or after its own."""
    if first:
        return Turn(state=turn.state, replies=replies + turn.replies, effects=effects + turn.effects)
    return Turn(state=turn.state, replies=turn.replies + replies, effects=turn.effects + effects)


def _pick(text: str, choices: Sequence[str]) -> int | None:
    """A numbered choice, by its number or its words; a number out of range is no choice at all (the words of a
    choice may contain digits: "9 h")."""
    number = parse_number(text, 99)
    if number is not None:
        return number if number <= len(choices) else None
    return match_choice(text, choices)


def _workshop(world: World, workshop_id: int) -> WorkshopOption | None:
    return next((w for w in world.workshops if w.id == workshop_id), None)


def _commune_name(world: World, insee: str) -> str:
    commune = world.territory.commune(insee)
    return commune.name if commune else insee


# Every step takes the same four arguments (what was written, the state, the resident, the world), in this order;
# one that needs not all of them names the others with a leading underscore.
STEPS: dict[Step, Callable[[str, State, ResidentView, World], Turn]] = {
    Step.NAME: _on_name,
    Step.COMMUNE: _on_commune,
    Step.COMMUNE_PICK: _on_commune_pick,
    Step.LEVEL: _on_level,
    Step.INTERESTS: _on_interests,
    Step.WORKSHOP: _on_workshop,
    Step.CONFIRM_WORKSHOP: _on_confirm_workshop,
    Step.WAITLIST: _on_waitlist,
    Step.MENU: _on_menu,
    Step.CANCEL_PICK: _on_cancel_pick,
    Step.CANCEL_CONFIRM: _on_cancel_confirm,
    Step.FORGET_CONFIRM: _on_forget_confirm,
    Step.CALLBACK_PHONE: _on_callback_phone,
}
