"""The residents' conversation: pure, channel-agnostic, one small function per step and a table of steps.

``respond`` is given the stored state, what the resident wrote, what we know of the resident and of the world
(the clock, the communes, the upcoming workshops) and returns a ``Turn``: the new state, the replies with the
choices they offer, and the effects the service must apply. No I/O happens here, so every rule is tested as a table
(compare goflow's ``Session.Resume`` returning events, and python-telegram-bot's conversationbot example).

The sign-up asks for what it does not know yet, in order — name, the second person's name when two come, commune,
level, interests — and takes from every message all it says ("cest josette martin de domerat" gives the name and
the commune; "3 je suis a l aise" the level): nothing already said is asked again. Wherever the conversation
stands, a keyword (AIDE, ANNULER…), a wish said in words ("je suis malade je viendrai pas mardi", "changer de date
pour le 31", "effacez mon nom", "au revoir") or a usual question ("c'est payant ?") is answered first.

Effects whose outcome is only known once applied (a seat may be taken by someone else meanwhile) are followed by
``after_enrol`` / ``after_move``, which turn the outcome into the right words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.offers import (
    MAX_OFFERED,
    Chosen,
    Pick,
    choose,
    fitting,
    listed,
    nearest_workshops,
    ranked,
    subject_of,
)
from bot.conversation.phones import MAX_RAW, to_e164, unserved
from bot.conversation.turns import (
    SIGNUP_STEPS,
    Booking,
    CancelEnrolment,
    ConfirmAttendance,
    ContactOffered,
    Effect,
    Enrol,
    EnrolOutcome,
    Erase,
    MoveBooking,
    OptIn,
    OptOut,
    RequestCallback,
    ResidentView,
    SaveProfile,
    State,
    Step,
    Turn,
    WorkshopOption,
    World,
)
from bot.conversation.understanding.choices import match_choice
from bot.conversation.understanding.communes import CommuneMatch, match_commune
from bot.conversation.understanding.intents import (
    Intent,
    read_intent,
    read_party,
    read_question,
    reads_for_someone_else,
)
from bot.conversation.understanding.interests import mentioned_interests, parse_interests
from bot.conversation.understanding.keywords import Keyword, detect_keyword, parse_yes_no
from bot.conversation.understanding.levels import parse_level
from bot.conversation.understanding.names import first_name_of, is_greeting, read_name
from bot.conversation.understanding.numbers import parse_number
from bot.conversation.understanding.text import has_phrase, pad_words, words
from bot.conversation.understanding.when import Wish, read_wish
from bot.territory import FaqEntry
from storage.enums import Level

__all__ = [
    "MAX_OFFERED",
    "SIGNUP_STEPS",
    "Booking",
    "CancelEnrolment",
    "ConfirmAttendance",
    "ContactOffered",
    "Effect",
    "Enrol",
    "EnrolOutcome",
    "Erase",
    "MoveBooking",
    "OptIn",
    "OptOut",
    "RequestCallback",
    "ResidentView",
    "SaveProfile",
    "State",
    "Step",
    "Turn",
    "WorkshopOption",
    "World",
    "after_enrol",
    "after_move",
    "nearest_workshops",
    "offers_after_cancellation",
    "respond",
]

IDLE_RESTART = timedelta(hours=24)
LEVELS = (Level.beginner, Level.intermediate, Level.advanced)
MAX_SAID = 200  # what a resident said, kept for the adviser who calls back
CHOOSING = frozenset({Step.WORKSHOP, Step.CONFIRM_WORKSHOP, Step.WAITLIST})
# Carried from one offer to the next: how many come, the second person, when they would like it, a booking being
# moved, the workshops already shown.
CARRIED = ("party", "companion", "wish", "moving", "seen", "said", "declined", "from")
# "Non, j'habite à Quinssaines": a commune said with one of these is where the resident lives, not a workshop.
_HOME_WORDS = ("j habite", "je vis", "je suis de", "j suis de", "chez moi", "je reside", "nous habitons")


# --- Entry point --------------------------------------------------------------------------------------------


def respond(*, state: State | None, text: str, resident: ResidentView, world: World) -> Turn:
    text = text or ""
    keyword = detect_keyword(text)
    if resident.opted_out:
        # After STOP: nothing at all, whatever they send, until START (or INSCRIPTION).
        if keyword in (Keyword.START, Keyword.SIGNUP):
            return _add(_fresh(resident, world), replies=(Reply(say.started_again()),), first=True, effects=(OptIn(),))
        return Turn(state=state)
    if state is not None and state.updated_at is not None and world.now - state.updated_at > IDLE_RESTART:
        if keyword is None and resident.registered:
            return _add(_fresh(resident, world), replies=(Reply(say.restart_after_idle()),), first=True)
        if keyword is None:
            turn = _next({}, resident, world)
            return _add(turn, replies=(Reply(say.restart_after_idle()),), first=True)
        state = None
    if keyword is not None:
        return _on_keyword(keyword, state, resident, world)
    if state is not None and _answers_our_question(text, state, resident):
        state = None
    early = _anywhere(text, state, resident, world)
    if early is not None:
        return early
    turn = _idle(text, resident, world) if state is None else STEPS[state.step](text, state, resident, world)
    question = read_question(text, world.territory.faq)
    if question is not None:
        turn = _answered(question, turn, state, resident, world, text)
    return turn


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
    companion: str | None = None,
) -> Turn:
    """The words for an enrolment once the service knows whether a seat was taken (and a reminder planned)."""
    option = _workshop(world, workshop_id)
    if option is None or outcome == EnrolOutcome.UNAVAILABLE:  # cancelled, or too close, since it was offered
        return _add(_offer(resident, world), replies=(Reply(say.workshop_no_longer_offered()),), first=True)
    names = say.names_fr([resident.first_name, first_name_of(companion or "")])
    two = companion is not None
    if outcome == EnrolOutcome.SEATED:
        text = say.seated(
            names,
            option.starts_at,
            world.tz,
            option.venue,
            option.address,
            reminded=reminded,
            subject=subject_of(option, world),
            two=two,
        )
        return Turn(state=None, replies=(Reply(text),))
    if outcome == EnrolOutcome.WAITING:
        text = say.waiting(names, position or 1, option.starts_at, world.tz, option.venue, two=two)
        return Turn(state=None, replies=(Reply(text),))
    # FULL: someone else took the last seat a moment ago. Other workshops with a seat, or else this one's waiting
    # list (the one they chose, rather than the nearest full one).
    carried: dict[str, Any] = {"party": 2, "companion": companion} if two else {}
    taken = Reply(say.workshop_just_filled())
    others = _offer(resident, world, carried, exclude=(workshop_id,))
    if others.state is not None and others.state.step in (Step.WORKSHOP, Step.CONFIRM_WORKSHOP):
        return _add(others, replies=(taken,), first=True)
    wait = _offer_waiting(option, carried, world)
    return _add(wait, replies=(taken,), first=True)


def after_move(
    *, moved: bool, old: WorkshopOption | None, workshop_id: int, resident: ResidentView, world: World
) -> Turn:
    """The words for a move once the service knows whether the new seats were taken (the old ones are given up
    only then: a move never leaves the resident without a seat)."""
    option = _workshop(world, workshop_id)
    if not moved or option is None or old is None:
        return Turn(state=None, replies=(Reply(say.move_failed()),))
    text = say.moved(resident.first_name, old.starts_at, option.starts_at, world.tz, option.venue, option.address)
    return Turn(state=None, replies=(Reply(text),))


# --- Keywords and wishes work at every step -----------------------------------------------------------------


def _on_keyword(keyword: Keyword, state: State | None, resident: ResidentView, world: World) -> Turn:
    signing_up = state is not None and state.step in SIGNUP_STEPS
    if keyword == Keyword.STOP:
        seats = any(b.waiting_position is None for b in resident.bookings)
        return Turn(state=None, replies=(Reply(say.stopped(seats=seats)),), effects=(OptOut(),))
    if keyword in (Keyword.START, Keyword.SIGNUP):
        if resident.registered:
            return _offer(resident, world)
        if state is not None and signing_up:
            return _reask(state, resident, world)
        return _welcome("", resident, world)
    if keyword == Keyword.HELP:
        help_reply = Reply(say.help_text(world.phone))
        if state is None:
            return Turn(state=None, replies=(help_reply,))
        return _add(_reask(state, resident, world), replies=(help_reply,), first=True)
    if keyword == Keyword.RESTART:
        return Turn(state=State(Step.NAME, {}), replies=(Reply(say.restarted() + " " + say.ask_name()),))
    if keyword == Keyword.MY_WORKSHOPS:
        if state is not None and signing_up:  # answer, then carry on where they were
            listed_ = _my_workshops(resident, world, signing_up=True)
            return _add(_reask(state, resident, world), replies=listed_.replies, first=True)
        if not resident.registered and not resident.bookings:
            # Someone new who asks for "their" workshops wants one: welcome them into the sign-up.
            return _add(_welcome("", resident, world), replies=(Reply(say.no_workshop_yet()),), first=True)
        return _my_workshops(resident, world)
    if keyword == Keyword.ADVISER:
        return _callback(state, resident, world, reason=None)
    if keyword == Keyword.FORGET:
        return _ask_forget()
    return _start_cancel(state, resident, world)  # CANCEL


def _anywhere(text: str, state: State | None, resident: ResidentView, world: World) -> Turn | None:
    """What a sentence wants whatever the question asked: to be erased, to cancel or move a booking, to be called
    back, to stop there. None: the question's own answer (or the idle rules) decide."""
    intent = read_intent(text)
    step = state.step if state is not None else None
    if intent is None:
        return None
    if intent == Intent.ERASE:
        return _ask_forget()
    if intent == Intent.MOVE and resident.bookings and step in (None, Step.MENU, Step.CANCEL_PICK, Step.CANCEL_CONFIRM):
        return _start_move(text, resident, world)
    if intent == Intent.CANCEL and resident.bookings and step not in (Step.CANCEL_PICK, Step.CANCEL_CONFIRM):
        wish = _booking_wish(text, world)
        names_one = bool(wish.specific and _bookings_fitting(wish, resident, world))
        if step in CHOOSING and not (names_one or "annul" in text.lower()):
            return None  # "non je ne pourrai pas ce jour-là" answers the offer
        if step is None and parse_yes_no(text) is not None and not names_one:
            return None  # a NON that may answer a reminder: the idle rules know which seat it is about
        return _start_cancel(state, resident, world, text=text)
    if intent == Intent.CALLBACK:
        return _callback(state, resident, world, reason=text)
    if intent == Intent.EXIT and step not in (Step.CANCEL_CONFIRM, Step.FORGET_CONFIRM, Step.CALLBACK_PHONE):
        if step is None and resident.registered:
            return Turn(state=None, replies=(Reply(say.you_are_welcome()),))
        return Turn(state=None, replies=(Reply(say.goodbye()),))
    if intent == Intent.THANKS and step is None and resident.registered:
        return Turn(state=None, replies=(Reply(say.you_are_welcome()),))
    return None


def _answered(
    entry: FaqEntry, turn: Turn, state: State | None, resident: ResidentView, world: World, text: str
) -> Turn:
    """A usual question answered first; then the question we had asked, again (without "I did not understand":
    we did). What they asked is kept for an adviser who calls back."""
    place = _place(state, resident, world) if entry.key == "where" else None
    answer = say.where_exactly(*place) if place is not None else entry.answer
    if state is None and resident.registered and turn.state is not None and turn.state.step == Step.MENU:
        return Turn(state=None, replies=(Reply(answer),))  # asked out of the blue: the answer is enough
    if turn.misunderstood:
        turn = _reask(state, resident, world) if state is not None else Turn(state=None)
    if turn.state is not None:
        turn = replace(turn, state=replace(turn.state, data={**turn.state.data, "said": text[:MAX_SAID]}))
    return _add(turn, replies=(Reply(answer),), first=True)


def _place(state: State | None, resident: ResidentView, world: World) -> tuple[str, str] | None:
    """The venue and address of the workshop being talked about: the one offered, else their next one."""
    if state is not None and state.data.get("workshop") is not None:
        option = _workshop(world, int(state.data["workshop"]))
        if option is not None:
            return option.venue, option.address
    if resident.bookings:
        booked = resident.bookings[0].workshop
        return booked.venue, booked.address
    return None


# --- No conversation in progress ----------------------------------------------------------------------------


def _welcome(text: str, resident: ResidentView, world: World) -> Turn:
    """Someone new: the welcome (consent and privacy in one line), with everything the first message already
    said taken ("Bonjour c'est Josette Martin de Domérat" → the level is asked next)."""
    ask_contact = not resident.has_phone and not resident.contact_offered
    effects: tuple[Effect, ...] = (ContactOffered(),) if ask_contact else ()
    gathered = _gather(text, {}, None, world) if text.strip() else _Gathered({}, [], None)
    turn = gathered.special or _next(gathered.data, resident, world, gathered.notes)
    first, rest = turn.replies[0], turn.replies[1:]
    texts = say.welcome_and(world.territory.name, first.text, first.choices)
    welcome: tuple[Reply, ...]
    if len(texts) == 1:
        welcome = (Reply(texts[0], first.choices, ask_contact=ask_contact),)
    else:
        welcome = (Reply(texts[0], ask_contact=ask_contact), Reply(texts[1], first.choices))
    return Turn(state=turn.state, replies=welcome + rest, effects=effects + turn.effects)


def _fresh(resident: ResidentView, world: World) -> Turn:
    """Start over: the menu for someone we know, the name question for someone new."""
    if resident.registered:
        return _menu(resident)
    return _next({}, resident, world)


def _menu(resident: ResidentView, *, again: bool = False) -> Turn:
    text = say.not_understood_idle(resident.first_name) if again else say.menu(resident.first_name)
    return Turn(state=State(Step.MENU), replies=(Reply(text, say.MENU_CHOICES),), misunderstood=again)


def _idle(text: str, resident: ResidentView, world: World) -> Turn:
    if not resident.registered:
        return _welcome(text, resident, world)
    answer = parse_yes_no(text)
    seated = [b for b in resident.bookings if b.waiting_position is None and b.who is None]
    if answer is not None and seated:
        # OUI / NON answers the last reminder or notice we sent (they ask exactly that), else the next workshop.
        asked = next((b for b in seated if b.enrolment_id == resident.asked_about), None)
        target = asked or seated[0]
        if answer:
            reply = say.confirmed_coming(target.workshop.starts_at, world.tz)
            together = [b for b in resident.bookings if b.workshop.id == target.workshop.id]
            return Turn(
                state=None,
                replies=(Reply(reply),),
                effects=tuple(ConfirmAttendance(b.enrolment_id) for b in together),
            )
        if asked is None or _shared(asked, resident):
            # A NON that answers no question of ours (no recent reminder, or one about a seat they no longer hold,
            # or about two people): ask which seat and confirm, as ANNULER does; never cancel on a guess.
            return _start_cancel(None, resident, world)
        reply = say.cancelled_enrolment(target.workshop.starts_at, world.tz)
        return Turn(state=None, replies=(Reply(reply),), effects=(CancelEnrolment(target.enrolment_id),))
    wants = _signup_wishes(text, world)
    if wants is not None:
        return _offer_or_companion(resident, world, wants)
    return _menu(resident)


def _signup_wishes(text: str, world: World) -> dict[str, Any] | None:
    """What a known resident's message says about a new workshop ("je voudrais un atelier le mardi avec mon
    mari"), as the data an offer carries; None when it does not ask for one."""
    party = read_party(text)
    wish = read_wish(text, communes=world.communes, interests=world.territory.interests)
    if read_intent(text) != Intent.WANT and not wish.specific and party.size == 1:
        return None
    data: dict[str, Any] = {"wish": _wish_data(wish)}
    if party.size == 2:
        data["party"] = 2
        if party.companion:
            data["companion"] = party.companion
    return data


def _shared(booking: Booking, resident: ResidentView) -> bool:
    """Someone else (sharing the phone) holds a seat in the same workshop."""
    same = booking.workshop.id
    return any(b.workshop.id == same and b.enrolment_id != booking.enrolment_id for b in resident.bookings)


def _my_workshops(resident: ResidentView, world: World, *, signing_up: bool = False) -> Turn:
    if not resident.bookings:
        return Turn(state=None, replies=(Reply(say.my_workshops_none(signing_up=signing_up)),))
    lines = [
        say.my_workshop_line(b.workshop.starts_at, world.tz, b.workshop.venue, b.waiting_position, b.who or "")
        for b in resident.bookings
    ]
    return Turn(state=None, replies=(Reply(say.my_workshops(lines)),))


def _on_menu(text: str, _state: State, resident: ResidentView, world: World) -> Turn:
    choice = _pick_number_or_words(text, say.MENU_CHOICES)
    if choice == 1:
        return _offer(resident, world)
    if choice == 2:
        return _my_workshops(resident, world)
    if choice == 3:
        return _callback(None, resident, world, reason=None)
    if parse_yes_no(text) is False:  # "non merci" to the menu: nothing to do (never read as cancelling a seat)
        return Turn(state=None, replies=(Reply(say.nothing_then()),))
    wants = _signup_wishes(text, world)
    if wants is not None:
        return _offer_or_companion(resident, world, wants)
    if is_greeting(text):
        return _menu(resident)
    return _menu(resident, again=True)


# --- The sign-up: ask for what is not known yet -------------------------------------------------------------


@dataclass(frozen=True)
class _Gathered:
    data: dict[str, Any]
    notes: list[str]  # what was understood, said back before the next question
    special: Turn | None  # a message that needs its own answer (several communes, one outside the territory)
    found: bool = False  # the message said something new


def _gather(text: str, data: dict[str, Any], step: Step | None, world: World) -> _Gathered:
    """Everything a sign-up message says: name (and a second person), commune, level, interests, when they would
    like to come. What was said before is kept; a commune may be corrected at the level question."""
    data, notes, found = dict(data), [], False
    if "name" not in data and reads_for_someone_else(text):
        data["for_someone"], found = True, True
    if "name" not in data:
        # A usual question ("c'est une arnaque ?") holds a name only when it is introduced as one.
        expected = step == Step.NAME and read_question(text, world.territory.faq) is None
        reading = read_name(text, communes=world.communes, expected=expected)
        if reading.name:
            data["name"], found = reading.name, True
            notes.append(say.thanks_name(_first(data)))
            if reading.companion:
                data["party"], data["companion"] = 2, reading.companion
    party = read_party(text)
    if party.size == 2 and not data.get("for_someone") and data.get("party") != 2:
        data["party"], found = 2, True
    if party.companion and not data.get("companion"):
        data["companion"] = _with_surname(party.companion, data)
    if step == Step.COMPANION and not data.get("companion"):
        reading = read_name(text, communes=world.communes, expected=True)
        if reading.name:
            data["companion"], found = _with_surname(reading.name, data), True
    special = None
    commune_said = _commune_said(text, data, step, world)
    if commune_said is not None:
        if commune_said.kind == "exact" and commune_said.communes[0].insee != data.get("commune"):
            data["commune"], found = commune_said.communes[0].insee, True
            data.pop("candidates", None)
            notes.append(say.commune_noted(commune_said.communes[0].name))
        elif commune_said.kind == "several":
            special = _ask_which_commune(commune_said, data)
        elif commune_said.kind == "outside" and "commune" not in data:
            place = commune_said.neighbour or (None if commune_said.postcode else text.strip()[:40] or None)
            reply = say.outside_territory(place, world.territory.name, world.phone)
            special = Turn(state=State(Step.COMMUNE, data), replies=(Reply(reply),))
    if "level" not in data:
        level = parse_level(text, at_question=step == Step.LEVEL)
        if level is not None:
            data["level"], found = LEVELS[level - 1].value, True
    if "interests" not in data and world.territory.interests:
        if step == Step.INTERESTS:
            chosen = parse_interests(text, world.territory.interests)
        else:
            chosen = mentioned_interests(text, world.territory.interests) or None
        if chosen is not None:
            data["interests"], found = chosen, True
    wish = read_wish(text)
    if wish.specific or wish.soonest:
        data["wish"] = _wish_data(wish)
    return _Gathered(data, notes, special, found or bool(notes))


def _commune_said(text: str, data: dict[str, Any], step: Step | None, world: World) -> CommuneMatch | None:
    """The commune a message names: forgivingly at the commune question (typos, postcodes, anywhere in France);
    elsewhere only when named surely ("de Domérat"), or to correct it at the level question."""
    if step in (Step.COMMUNE, Step.COMMUNE_PICK):
        return match_commune(text, world.communes, world.france)
    if "commune" in data and step != Step.LEVEL:
        return None
    found = match_commune(text, world.communes)
    if found.kind == "outside" and found.neighbour is None and found.postcode is not None:
        found = match_commune(text, world.communes, world.france)  # "je suis de vichy 03200": named
    if found.kind == "none" or found.approximate:
        return None
    if found.kind == "several" and found.postcode is None:
        return None  # "domerat ou montlucon" in a sentence: not sure enough to ask
    if step == Step.LEVEL and parse_level(text) is not None:
        return None
    return found


def _ask_which_commune(found: CommuneMatch, data: dict[str, Any]) -> Turn:
    candidates = [c.insee for c in found.communes]
    names = tuple(c.name for c in found.communes)
    state = State(Step.COMMUNE_PICK, {**data, "candidates": candidates})
    return Turn(state=state, replies=(Reply(say.pick_commune(), names),))


def _first(data: dict[str, Any]) -> str:
    return first_name_of(str(data.get("name", "")))


def _with_surname(companion: str, data: dict[str, Any]) -> str:
    """ "Bernard" with Colette Renaud: Bernard Renaud (how the roster will show him)."""
    name = str(data.get("name", "")).split()
    return f"{companion} {name[-1]}" if len(companion.split()) == 1 and len(name) > 1 else companion


def _next(data: dict[str, Any], resident: ResidentView, world: World, notes: Sequence[str] = ()) -> Turn:
    """The first question whose answer is not known yet, after what was just understood; once everything is known,
    the profile is saved and workshops offered."""
    about = _first(data) if data.get("for_someone") else ""
    step: Step
    choices: tuple[str, ...] = ()
    if "name" not in data:
        step, question = Step.NAME, say.ask_name(for_someone=bool(data.get("for_someone")))
    elif data.get("party") == 2 and not data.get("companion"):
        step, question = Step.COMPANION, say.ask_companion()
    elif "commune" not in data:
        step, question = Step.COMMUNE, say.ask_commune(about=about)
    elif "level" not in data:
        step, question, choices = Step.LEVEL, say.ask_level(about=about), say.LEVEL_CHOICES
    elif "interests" not in data and world.territory.interests:
        step, question, choices = Step.INTERESTS, say.ask_interests(), _interest_labels(world)
    else:
        return _complete(data, resident, world)
    return Turn(state=State(step, data), replies=(Reply(_said_back(notes, question, choices), choices),))


def _said_back(notes: Sequence[str], question: str, choices: tuple[str, ...]) -> str:
    """The question after what was understood, when it all fits one SMS (the commune first: it was matched
    forgivingly, so saying it back lets the resident correct it)."""
    communes = [n for n in notes if n.endswith(say.commune_noted(""))]
    for kept in (list(notes), communes, []):
        text = " ".join([*kept, question])
        if say.fits_one_sms(text, choices):
            return text
    return question


def _complete(data: dict[str, Any], resident: ResidentView, world: World) -> Turn:
    profile = SaveProfile(
        name=str(data["name"]),
        commune_insee=str(data["commune"]),
        level=Level(data["level"]),
        interests=tuple(data.get("interests", ())),
    )
    registered = replace(
        resident,
        name=profile.name,
        commune_insee=profile.commune_insee,
        level=profile.level,
        interests=profile.interests,
    )
    carried = {k: data[k] for k in CARRIED if k in data}
    if data.get("workshop") is not None:
        chosen = _workshop(world, int(data["workshop"]))
        if chosen is not None:
            return _add(_confirm(chosen, carried, world), effects=(profile,), first=True)
    return _add(_offer(registered, world, carried), effects=(profile,), first=True)


def _interest_labels(world: World) -> tuple[str, ...]:
    return tuple(i.label for i in world.territory.interests)


def _signup_step(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    """One answer during the sign-up: all it says is kept, then the next question."""
    gathered = _gather(text, state.data, state.step, world)
    if gathered.special is not None:
        return gathered.special
    data = gathered.data
    if state.step == Step.INTERESTS and "interests" not in data and not gathered.found:
        if not state.data.get("interest_retry"):
            choices = _interest_labels(world)
            retry = State(Step.INTERESTS, {**data, "interest_retry": True})
            return Turn(state=retry, replies=(Reply(say.interests_not_understood(), choices),), misunderstood=True)
        data["interests"] = []  # an optional question: never block a sign-up on it
        gathered = replace(gathered, found=True)
    if state.step == Step.LEVEL and "level" not in data and not gathered.found:
        if not state.data.get("level_retry"):
            retry = State(Step.LEVEL, {**data, "level_retry": True})
            reply = Reply(say.level_not_understood(), say.LEVEL_CHOICES)
            return Turn(state=retry, replies=(reply,), misunderstood=True)
        # Twice not understood: someone who cannot say is new to this; they start with the beginners.
        data["level"] = Level.beginner.value
        gathered = replace(gathered, found=True, notes=[*gathered.notes, say.starting_as_beginner()])
    if state.step == Step.COMPANION and not data.get("companion") and parse_yes_no(text) is False:
        data.pop("party", None)  # "non, finalement je viens seule"
        gathered = replace(gathered, found=True)
    if not gathered.found and not _still_fine(text, state):
        return _reask(state, resident, world, again=True)
    if resident.registered and state.step == Step.COMPANION:
        carried = {k: data[k] for k in CARRIED if k in data}
        chosen = _workshop(world, int(data.get("workshop", 0) or 0))
        return _confirm(chosen, carried, world) if chosen is not None else _offer(resident, world, carried)
    return _next(data, resident, world, gathered.notes)


def _still_fine(text: str, state: State) -> bool:
    """Nothing new, and nothing to apologise for: a greeting, an empty message, "non merci" to the contact
    button."""
    return state.step == Step.NAME and (not text.strip() or parse_yes_no(text) is False or is_greeting(text))


def _on_commune_pick(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    candidates: list[str] = list(state.data.get("candidates", []))
    names = [_commune_name(world, insee) for insee in candidates]
    choice = _pick_number_or_words(text, names)
    if choice is not None:
        data = {k: v for k, v in state.data.items() if k != "candidates"}
        data["commune"] = candidates[choice - 1]
        return _next(data, resident, world, [say.commune_noted(names[choice - 1])])
    if parse_number(text, 99) is None and match_commune(text, world.communes, world.france).kind != "none":
        return _signup_step(text, replace(state, step=Step.COMMUNE), resident, world)  # another commune named
    # A number off the list, or words we cannot read: the same list again, with how to answer.
    return Turn(state=state, replies=(Reply(say.choose_by_number(len(names)), tuple(names)),), misunderstood=True)


# --- Offering workshops -------------------------------------------------------------------------------------


def _wish_data(wish: Wish) -> dict[str, Any]:
    """When they would like to come, as stored between messages (places and subjects are read anew)."""
    return {
        "weekdays": sorted(wish.weekdays),
        "days": sorted(wish.days),
        "months": sorted(wish.months),
        "part": wish.part,
        "hour": wish.hour,
        "soonest": wish.soonest,
    }


def _wish_of(data: dict[str, Any]) -> Wish:
    stored = data.get("wish") or {}
    return Wish(
        weekdays=frozenset(stored.get("weekdays", ())),
        days=frozenset(stored.get("days", ())),
        months=frozenset(stored.get("months", ())),
        part=stored.get("part"),
        hour=stored.get("hour"),
        soonest=bool(stored.get("soonest")),
    )


def _party(data: dict[str, Any]) -> int:
    return 2 if data.get("party") == 2 else 1


def _offer_or_companion(resident: ResidentView, world: World, data: dict[str, Any]) -> Turn:
    """An offer to someone known; when two will come, the second person's name first."""
    if _party(data) == 2 and not data.get("companion"):
        return Turn(state=State(Step.COMPANION, data), replies=(Reply(say.ask_companion()),))
    return _offer(resident, world, data)


def _excluded(resident: ResidentView, world: World, moving: Sequence[int] = ()) -> list[int]:
    """Workshops not to offer: those already booked, and those at the same time as one (nobody can be in two
    villages at once); the booking being moved does not count."""
    held = [b for b in resident.bookings if b.enrolment_id not in moving]
    booked = {b.workshop.id for b in held}
    busy = {w.id for w in world.workshops for b in held if w.overlaps(b.workshop)}
    return sorted(booked | busy)


def _offer(
    resident: ResidentView,
    world: World,
    data: dict[str, Any] | None = None,
    *,
    exclude: Sequence[int] = (),
    note: str = "",
) -> Turn:
    """The best workshops for them (three at most, one SMS), or the waiting list when all are full."""
    assert resident.commune_insee is not None and resident.level is not None  # noqa: S101 - registered residents only
    data = {k: v for k, v in (data or {}).items() if k in CARRIED}
    party, wish = _party(data), _wish_of(data)
    order = ranked(
        world,
        commune_insee=resident.commune_insee,
        level=resident.level,
        interests=resident.interests,
        exclude=[*exclude, *_excluded(resident, world), *data.get("seen", ())],
        wish=wish,
    )
    if wish.specific and not fitting(wish, order, world):
        note = note or _nothing_for(wish, world)
    data.pop("wish", None)
    return _present(order, party, data, world, note=note)


def _present(order: Sequence[WorkshopOption], party: int, data: dict[str, Any], world: World, *, note: str) -> Turn:
    with_seats = [w for w in order if w.free_seats >= party][:MAX_OFFERED]
    if not with_seats:
        full = [w for w in order if w.free_seats < party]
        if not full:
            replies = (Reply(note),) if note else ()
            return Turn(state=None, replies=(*replies, Reply(say.no_workshop_at_all(world.phone))))
        return _offer_waiting(full[0], data, world, note=note)
    if len(with_seats) == 1:
        return _confirm(with_seats[0], {**data, "offered": [with_seats[0].id]}, world, note=note, single=True)
    text, labels = listed(with_seats, world, lambda subject: say.offer_header(note, subject))
    ids = [w.id for w in with_seats]
    state = State(Step.WORKSHOP, {**data, "offered": ids, "labels": list(labels), "seen": _seen(data, ids)})
    return Turn(state=state, replies=(Reply(text, labels),))


def _seen(data: dict[str, Any], ids: Sequence[int]) -> list[int]:
    return sorted({*data.get("seen", ()), *ids})


def _offer_waiting(option: WorkshopOption, data: dict[str, Any], world: World, *, note: str = "") -> Turn:
    text = say.offer_waiting_list(option.starts_at, world.tz, option.venue, note=note)
    return Turn(state=State(Step.WAITLIST, {**data, "workshop": option.id}), replies=(Reply(text, say.YES_NO),))


def _confirm(
    option: WorkshopOption, data: dict[str, Any], world: World, *, note: str = "", single: bool = False
) -> Turn:
    """ "Atelier Impôts le mardi 14 avril à 14 h, Mairie de Saint-Victor. Je vous inscris ? OUI ou NON." — or,
    when a booking is being moved, "Je change votre inscription du … pour le … ?"."""
    data = {**data, "workshop": option.id}
    data.setdefault("offered", [option.id])
    subject = subject_of(option, world)
    old = data.get("from")
    old_option = _workshop(world, int(old)) if old is not None else None
    if data.get("moving") and old_option is not None:
        text = say.ask_confirm_move(old_option.starts_at, option.starts_at, world.tz, option.venue, subject)
    elif single and _party(data) == 1:
        text = say.offer_single(option.starts_at, world.tz, option.venue, subject, note=note)
    else:
        two = _party(data) == 2
        text = say.ask_confirm_workshop(option.starts_at, world.tz, option.venue, subject, two=two, note=note)
    return Turn(state=State(Step.CONFIRM_WORKSHOP, data), replies=(Reply(text, say.YES_NO),))


def _offered(state: State, world: World) -> tuple[list[WorkshopOption | None], list[str]]:
    """The workshops offered at the last question (None for one no longer open: the numbers shown still count)
    and their lines, as shown."""
    ids = [int(i) for i in state.data.get("offered", [])]
    options = [_workshop(world, i) for i in ids]
    labels = list(state.data.get("labels") or [])
    if len(labels) != len(ids):  # an offer made elsewhere (a cancellation notice) lists them the plain way
        labels = [say.workshop_line(o.starts_at, world.tz, o.commune) if o else "" for o in options]
    return options, labels


def _commune_correction(text: str, state: State, resident: ResidentView, world: World) -> Turn | None:
    """ "Non, j'habite à Saint-Victor" at the list of workshops: answering an earlier question again corrects it
    (SPEC §2). The commune is changed and the best workshops for it offered again. A place said without "j'habite"
    is where they would like the workshop ("celui de Lavault, ma soeur habite là-bas")."""
    if not resident.registered or parse_number(text, 99) is not None or state.data.get("moving"):
        return None
    if not any(has_phrase(pad_words(words(text)), phrase) for phrase in _HOME_WORDS):
        return None
    found = match_commune(text, world.communes)
    if found.kind != "exact" or found.communes[0].insee == resident.commune_insee:
        return None
    commune = found.communes[0]
    assert resident.name is not None and resident.level is not None  # noqa: S101 - registered
    moved = replace(resident, commune_insee=commune.insee)
    profile = SaveProfile(resident.name, commune.insee, resident.level, resident.interests)
    carried = {k: v for k, v in state.data.items() if k in CARRIED and k != "seen"}
    turn = _offer(moved, world, carried, note=say.commune_noted(commune.name))
    return _add(turn, effects=(profile,), first=True)


def _with_party(text: str, data: dict[str, Any]) -> dict[str, Any]:
    """ "2 pour nous deux", "oui avec mon mari": two people from now on."""
    party = read_party(text)
    if party.size == 2 and data.get("party") != 2:
        data = {**data, "party": 2}
        if party.companion:
            data["companion"] = party.companion
    return data


def _on_workshop(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    corrected = _commune_correction(text, state, resident, world)
    if corrected is not None:
        return corrected
    options, labels = _offered(state, world)
    data = _with_party(text, state.data)
    chosen = choose(text, options, labels, world)
    return _chosen(chosen, State(Step.WORKSHOP, data), resident, world)


def _chosen(chosen: Chosen, state: State, resident: ResidentView, world: World) -> Turn:
    """What follows a choice among the workshops offered (or the words about them)."""
    data = state.data
    if chosen.pick == Pick.ONE:
        if not chosen.options:
            turn = _offer(resident, world, data) if resident.registered else Turn(state=None)
            return _add(turn, replies=(Reply(say.workshop_no_longer_offered()),), first=True)
        option = chosen.options[0]
        if _party(data) == 2 and not data.get("companion"):
            ask = State(Step.COMPANION, {**data, "workshop": option.id})
            return Turn(state=ask, replies=(Reply(say.ask_companion()),))
        if option.free_seats < _party(data):
            return _offer_waiting(option, data, world, note=say.full_workshop())
        if data.get("direct") and state.step == Step.WORKSHOP:
            # An offer made after a cancelled workshop: the notice said "answer with the number", so one digit
            # enrols.
            return Turn(state=None, effects=(Enrol(option.id, allow_waiting=False),))
        return _confirm(option, data, world)
    if chosen.pick == Pick.ELSEWHERE and chosen.wish is not None:
        return _further(chosen.wish, state, resident, world)
    if chosen.pick == Pick.OTHERS and resident.registered:
        return _others(state, resident, world)
    if chosen.pick == Pick.DECLINED:
        if data.get("moving"):
            return Turn(state=None, replies=(Reply(say.cancel_kept()),))
        return Turn(state=None, replies=(Reply(say.not_enrolled_ok()),))
    return _reask(state, resident, world, again=True)


def _candidates(state: State, resident: ResidentView, world: World, wish: Wish | None = None) -> list[WorkshopOption]:
    """Every workshop that may be offered now, best first (all of them: full ones too)."""
    assert resident.commune_insee is not None and resident.level is not None  # noqa: S101 - registered
    moving = [int(i) for i in state.data.get("moving", [])]
    level = resident.level
    if moving:
        held = next((b for b in resident.bookings if b.enrolment_id in moving), None)
        level = held.workshop.level if held is not None else level
    return ranked(
        world,
        commune_insee=resident.commune_insee,
        level=level,
        interests=resident.interests,
        exclude=_excluded(resident, world, moving),
        wish=wish,
    )


def _further(wish: Wish, state: State, resident: ResidentView, world: World) -> Turn:
    """A day, date, place or subject none of the offered workshops has: looked for in the whole planning. When the
    best one that fits is full, its waiting list is offered (never for a move: a move keeps the seat held), and a
    "non" shows the others."""
    if not resident.registered:
        return _reask(state, resident, world, again=True)
    data = {k: v for k, v in state.data.items() if k in CARRIED}
    party = _party(data)
    declined = set(data.get("declined", ()))
    found = [w for w in fitting(wish, _candidates(state, resident, world, wish), world) if w.id not in declined]
    named = bool(wish.weekdays or wish.days or wish.communes)  # "jeudi 5", "celui de Lavault": that one
    if named and found and found[0].free_seats < party and not data.get("moving"):
        return _offer_waiting(found[0], data, world, note=say.full_workshop())
    with_seats = [w for w in found if w.free_seats >= party]
    if with_seats:
        # The best one that fits, to confirm; a "non" shows the next ones that fit.
        alternatives = [w.id for w in with_seats[:MAX_OFFERED]]
        return _confirm(with_seats[0], {**data, "offered": alternatives}, world)
    return _reshow(state, world, note=say.full_workshop() if found else _nothing_for(wish, world))


def _others(state: State, resident: ResidentView, world: World) -> Turn:
    """ "Autre", "ya pas d autres dates ?": the next best workshops, not shown yet."""
    data = {k: v for k, v in state.data.items() if k in CARRIED}
    seen = set(data.get("seen", ())) | {int(i) for i in state.data.get("offered", [])}
    rest = [w for w in _candidates(state, resident, world) if w.id not in seen]
    if not [w for w in rest if w.free_seats >= _party(data)]:
        return _reshow(state, world, note=say.nothing_else())
    return _present(rest, _party(data), {**data, "seen": sorted(seen)}, world, note="")


def _reshow(state: State, world: World, *, note: str) -> Turn:
    """The same offer again, after a note ("Pas d'atelier de votre niveau le jeudi.")."""
    options, _ = _offered(state, world)
    still = [o for o in options if o is not None]
    if state.step == Step.WORKSHOP and still:
        text, labels = listed(still, world, lambda subject: say.offer_header(note, subject))
        data = {**state.data, "offered": [o.id for o in still], "labels": list(labels)}
        return Turn(state=State(Step.WORKSHOP, data), replies=(Reply(text, labels),))
    option = _workshop(world, int(state.data.get("workshop", 0) or 0))
    if option is not None:
        return _confirm(option, state.data, world, note=note)
    return Turn(state=state, replies=(Reply(note),))


def _nothing_for(wish: Wish, world: World) -> str:
    """ "Pas d'atelier de votre niveau le jeudi." — what was asked for, said back."""
    parts = []
    if wish.days:
        parts.append("le " + " ou le ".join(str(d) for d in sorted(wish.days)))
    elif wish.weekdays:
        names = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        parts.append("le " + " ou le ".join(names[d] for d in sorted(wish.weekdays)))
    if wish.part:
        parts.append("le matin" if wish.part == "morning" else "l'après-midi")
    if wish.communes:
        parts.append("à " + " ou à ".join(_commune_name(world, c) for c in wish.communes))
    if wish.subjects and not parts:
        return say.nothing_on(", ".join(wish.subjects))
    return say.nothing_that_day(" ".join(parts))


def _on_confirm_workshop(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    corrected = _commune_correction(text, state, resident, world)
    if corrected is not None:
        return corrected
    data = _with_party(text, state.data)
    workshop_id = int(data["workshop"])
    answer = parse_yes_no(text)
    if answer is True:
        if _party(data) == 2 and not data.get("companion"):
            return Turn(state=State(Step.COMPANION, data), replies=(Reply(say.ask_companion()),))
        moving = [int(i) for i in data.get("moving", [])]
        if moving:
            return Turn(state=None, effects=(MoveBooking(tuple(moving), workshop_id),))
        companion = str(data["companion"]) if _party(data) == 2 and data.get("companion") else None
        return Turn(state=None, effects=(Enrol(workshop_id, allow_waiting=False, companion=companion),))
    if answer is False and not _says_which(text, world):
        if data.get("moving"):
            return _others(State(Step.WORKSHOP, {**data, "seen": _seen(data, [workshop_id])}), resident, world)
        others = [o for o in (_workshop(world, int(i)) for i in data.get("offered", [])) if o is not None]
        others = [o for o in others if o.id != workshop_id and o.free_seats >= _party(data)]
        if others and resident.registered and not data.get("labels"):
            # What was offered after a wish ("mardi"): the next ones that fit it.
            carried = {k: v for k, v in data.items() if k in CARRIED}
            return _present(others, _party(data), carried, world, note="")
        if others and resident.registered:
            fresh = {k: v for k, v in data.items() if k != "seen"}
            return _offer(resident, world, fresh, exclude=[workshop_id])
        if resident.registered:
            return _others(State(Step.WORKSHOP, {**data, "seen": _seen(data, [workshop_id])}), resident, world)
        return Turn(state=None, replies=(Reply(say.not_enrolled_ok()),))
    options, labels = _offered(state, world)
    chosen = choose(text, options, labels, world)
    if chosen.pick in (Pick.ONE, Pick.ELSEWHERE, Pick.OTHERS):
        return _chosen(chosen, State(Step.WORKSHOP, data), resident, world)
    return _reask(State(Step.CONFIRM_WORKSHOP, data), resident, world, again=True)


def _says_which(text: str, world: World) -> bool:
    """ "Non, plutôt mardi": a no that names what they want instead."""
    return read_wish(text, communes=world.communes, interests=world.territory.interests).specific


def _on_waitlist(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    data = _with_party(text, state.data)
    workshop_id = int(data["workshop"])
    answer = parse_yes_no(text)
    if answer is True:
        companion = str(data["companion"]) if _party(data) == 2 and data.get("companion") else None
        return Turn(state=None, effects=(Enrol(workshop_id, allow_waiting=True, companion=companion),))
    declined = {**data, "declined": sorted({*data.get("declined", ()), workshop_id})}
    chosen = choose(text, [], [], world)
    if chosen.pick in (Pick.ELSEWHERE, Pick.OTHERS):  # "non, un autre jour à Lavault"
        return _chosen(chosen, State(Step.WORKSHOP, declined), resident, world)
    if answer is False:
        others = _candidates(State(Step.WORKSHOP, declined), resident, world) if resident.registered else []
        if [w for w in others if w.id != workshop_id and w.free_seats >= _party(data)]:
            carried = {k: v for k, v in declined.items() if k in CARRIED and k != "seen"}
            return _offer(resident, world, carried, exclude=[workshop_id])
        return Turn(state=None, replies=(Reply(say.not_enrolled_ok()),))
    return _reask(state, resident, world, again=True)


# --- Cancelling, moving, forgetting, call-back --------------------------------------------------------------


def _booking_wish(text: str, world: World) -> Wish:
    return read_wish(text, communes=world.communes)


def _bookings_fitting(wish: Wish, resident: ResidentView, world: World) -> list[Booking]:
    return [b for b in resident.bookings if wish.fits(b.workshop.starts_at, world.tz, b.workshop.commune_insee)]


def _booking_groups(bookings: Sequence[Booking]) -> list[list[Booking]]:
    """The choices for cancelling: each booking, and both together when two people share a workshop."""
    groups = [[b] for b in bookings]
    for workshop_id in dict.fromkeys(b.workshop.id for b in bookings):
        together = [b for b in bookings if b.workshop.id == workshop_id]
        if len(together) > 1:
            groups.append(together)
    return groups


def _group_line(group: list[Booking], world: World, style: int, *, one_workshop: bool, me: str) -> str:
    """A cancelling choice: the workshop (and whose seat, when two share the phone); only whose seat when every
    choice is for the same workshop ("Colette", "Bernard", "Tous les deux")."""
    who = "tous les deux" if len(group) > 1 else group[0].who or ""
    if one_workshop:
        return (who or me or "moi")[:1].upper() + (who or me or "moi")[1:]
    first = group[0].workshop
    line = say.workshop_line(first.starts_at, world.tz, first.commune, style=style)
    return f"{line} ({who})" if who else line


def _start_cancel(state: State | None, resident: ResidentView, world: World, *, text: str = "") -> Turn:
    bookings = list(resident.bookings)
    if not bookings:
        if state is not None and state.step in SIGNUP_STEPS:
            return Turn(state=None, replies=(Reply(say.signup_stopped()),))
        return Turn(state=None, replies=(Reply(say.nothing_to_cancel()),))
    wish = _booking_wish(text, world) if text else Wish()
    if wish.specific:
        bookings = _bookings_fitting(wish, resident, world) or bookings  # "annuler mardi": Tuesday's
    groups = _booking_groups(bookings)
    if len(groups) == 1:
        return _ask_confirm_cancel(groups[0], world)
    return _ask_which_group(groups, resident, world)


def _ask_which_group(groups: list[list[Booking]], resident: ResidentView, world: World, *, again: bool = False) -> Turn:
    one_workshop = len({b.workshop.id for g in groups for b in g}) == 1
    if one_workshop:
        question = say.ask_who_cancels(groups[0][0].workshop.starts_at, world.tz, again=again)
    else:
        question = say.choose_by_number(len(groups)) if again else say.ask_which_to_cancel()
    lines: tuple[str, ...] = ()
    for style in range(5):
        lines = tuple(_group_line(g, world, style, one_workshop=one_workshop, me=resident.first_name) for g in groups)
        if say.fits_one_sms(question, lines):
            break
    data = {"options": [[b.enrolment_id for b in g] for g in groups], "labels": list(lines)}
    return Turn(state=State(Step.CANCEL_PICK, data), replies=(Reply(question, lines),), misunderstood=again)


def _ask_confirm_cancel(group: list[Booking], world: World, *, again: bool = False) -> Turn:
    booking = group[0]
    who = "vous deux" if len(group) > 1 else booking.who or ""
    ask = say.cancel_not_understood if again else say.ask_confirm_cancel
    text = ask(booking.workshop.starts_at, world.tz, booking.workshop.venue, who)
    data = {"enrolments": [b.enrolment_id for b in group]}
    return Turn(state=State(Step.CANCEL_CONFIRM, data), replies=(Reply(text, say.YES_NO),), misunderstood=again)


def _groups_of(state: State, resident: ResidentView) -> list[list[Booking]]:
    by_id = {b.enrolment_id: b for b in resident.bookings}
    groups = [[by_id[int(i)] for i in ids if int(i) in by_id] for ids in state.data.get("options", [])]
    return [g for g in groups if g]


def _on_cancel_pick(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    groups = _groups_of(state, resident)
    if not groups:
        return Turn(state=None, replies=(Reply(say.nothing_to_cancel()),))
    labels = list(state.data.get("labels") or [])
    choice = _pick_line(text, labels)
    if choice is None:
        wish = _booking_wish(text, world)
        fits = [g for g in groups if len(g) == 1 and g[0] in _bookings_fitting(wish, resident, world)]
        if wish.specific and len(fits) == 1:
            return _ask_confirm_cancel(fits[0], world)
        if parse_yes_no(text) is False:
            return Turn(state=None, replies=(Reply(say.cancel_kept()),))
        return _ask_which_group(groups, resident, world, again=True)
    return _ask_confirm_cancel(groups[choice - 1], world)


def _on_cancel_confirm(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    ids = [int(i) for i in state.data.get("enrolments", [])] or [int(state.data.get("enrolment", 0))]
    group = [b for b in resident.bookings if b.enrolment_id in ids]
    if not group:
        return Turn(state=None, replies=(Reply(say.nothing_to_cancel()),))
    answer = parse_yes_no(text)
    if answer is True:
        first = group[0]
        who = "" if len(group) > 1 or first.who is None else first.who
        waiting = first.waiting_position is not None
        reply = say.cancelled_enrolment(first.workshop.starts_at, world.tz, waiting=waiting, who=who)
        return Turn(state=None, replies=(Reply(reply),), effects=tuple(CancelEnrolment(b.enrolment_id) for b in group))
    if answer is False:
        return Turn(state=None, replies=(Reply(say.cancel_kept()),))
    return _ask_confirm_cancel(group, world, again=True)


def _start_move(text: str, resident: ResidentView, world: World) -> Turn:
    """ "Je voudrais changer de date pour le 31": which booking (theirs), then which workshop instead."""
    own = [b for b in resident.bookings if b.who is None]
    if not own or not resident.registered:
        return Turn(state=None, replies=(Reply(say.nothing_to_move()),))
    if len(own) == 1:
        return _offer_move(own[0], text, resident, world)
    items = [(b.workshop.starts_at, b.workshop.commune, "") for b in own]
    question, lines = say.fitting_lines(lambda _: (say.ask_which_to_move(),), items, world.tz)
    data = {"options": [b.enrolment_id for b in own], "labels": list(lines), "said": text[:MAX_SAID]}
    return Turn(state=State(Step.MOVE_PICK, data), replies=(Reply(question, lines),))


def _offer_move(booking: Booking, text: str, resident: ResidentView, world: World) -> Turn:
    """Other workshops of the same level instead of ``booking`` (with the companion's seat, when two come); those
    that fit what was said first ("pour le 31")."""
    together = [b for b in resident.bookings if b.workshop.id == booking.workshop.id]
    moving = [b.enrolment_id for b in together]
    data: dict[str, Any] = {"moving": moving, "from": booking.workshop.id, "party": len(together)}
    wish = read_wish(text, communes=world.communes, interests=world.territory.interests)
    state = State(Step.WORKSHOP, data)
    order = [w for w in _candidates(state, resident, world, wish) if w.id != booking.workshop.id]
    if wish.specific:
        found = [w for w in fitting(wish, order, world) if w.free_seats >= len(together)]
        if found:  # the best one that fits, to confirm; a "non" shows the next ones
            return _confirm(found[0], {**data, "offered": [w.id for w in found[:MAX_OFFERED]]}, world)
        note = say.full_workshop() if fitting(wish, order, world) else _nothing_for(wish, world)
    else:
        note = ""
    with_seats = [w for w in order if w.free_seats >= len(together)]
    if not with_seats:
        return Turn(state=None, replies=(Reply(say.nothing_to_move_to()),))
    if len(with_seats[:MAX_OFFERED]) == 1:
        return _confirm(with_seats[0], data, world, note=note)
    old_start = booking.workshop.starts_at
    text_out, labels = listed(with_seats[:MAX_OFFERED], world, lambda _: say.move_header(old_start, world.tz, note))
    ids = [w.id for w in with_seats[:MAX_OFFERED]]
    data = {**data, "offered": ids, "labels": list(labels), "seen": ids}
    return Turn(state=State(Step.WORKSHOP, data), replies=(Reply(text_out, labels),))


def _on_move_pick(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    ids = [int(i) for i in state.data.get("options", [])]
    own = [b for b in resident.bookings if b.enrolment_id in ids]
    labels = list(state.data.get("labels") or [])
    choice = _pick_line(text, labels) if len(labels) == len(own) else None
    if choice is None:
        wish = _booking_wish(text, world)
        fits = [b for b in own if b in _bookings_fitting(wish, resident, world)]
        if wish.specific and len(fits) == 1:
            return _offer_move(fits[0], str(state.data.get("said", "")), resident, world)
        if parse_yes_no(text) is False or not own:
            return Turn(state=None, replies=(Reply(say.cancel_kept()),))
        return Turn(state=state, replies=(Reply(say.choose_by_number(len(own)), tuple(labels)),), misunderstood=True)
    return _offer_move(own[choice - 1], str(state.data.get("said", "")), resident, world)


def _ask_forget(*, again: bool = False) -> Turn:
    text = say.forget_not_understood() if again else say.ask_confirm_forget()
    return Turn(state=State(Step.FORGET_CONFIRM), replies=(Reply(text, say.YES_NO),), misunderstood=again)


def _on_forget_confirm(text: str, _state: State, _resident: ResidentView, _world: World) -> Turn:
    answer = parse_yes_no(text)
    if answer is True:
        return Turn(state=None, replies=(Reply(say.forgotten()),), effects=(Erase(),))
    if answer is False:
        return Turn(state=None, replies=(Reply(say.forget_kept()),))
    return _ask_forget(again=True)


def _callback(state: State | None, resident: ResidentView, world: World, *, reason: str | None) -> Turn:
    """CONSEILLER: in the middle of a sign-up, the adviser learns what was said so far and why they asked (their
    words, or the question they had just asked us), and the sign-up carries on after."""
    paused = state if state is not None and state.step in SIGNUP_STEPS else None
    said = reason or (str(state.data.get("said")) if state is not None and state.data.get("said") else None)
    if resident.has_phone:
        effect = _callback_effect(paused, reason=said)
        noted = Turn(state=None, replies=(Reply(say.callback_requested(has_phone=True)),), effects=(effect,))
        return _resume(noted, paused, resident, world)
    resume: dict[str, Any] = {"resume": {"step": paused.step.value, "data": paused.data}} if paused is not None else {}
    if said:
        resume["said"] = said[:MAX_SAID]
    return Turn(state=State(Step.CALLBACK_PHONE, resume), replies=(Reply(say.callback_requested(has_phone=False)),))


def _on_callback_phone(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    phone = parse_phone(text)
    if phone is None:
        if parse_yes_no(text) is False:
            return Turn(state=None, replies=(Reply(say.no_callback(world.phone)),))
        return Turn(state=state, replies=(Reply(say.phone_not_understood()),), misunderstood=True)
    if unserved(phone, countries=world.served_countries) is not None:
        # a premium-rate or foreign number is never passed on to an adviser to call: another one is asked for
        return Turn(state=state, replies=(Reply(say.phone_not_callable()),))
    resume = state.data.get("resume")
    paused = State(Step(resume["step"]), dict(resume["data"]), state.updated_at) if resume else None
    reason = state.data.get("said")
    effect = _callback_effect(paused, phone=phone, reason=str(reason) if reason else None)
    noted = Turn(state=None, replies=(Reply(say.callback_phone_noted()),), effects=(effect,))
    return _resume(noted, paused, resident, world)


def _callback_effect(paused: State | None, *, phone: str | None = None, reason: str | None = None) -> RequestCallback:
    """The callback request, with the name and commune of a sign-up not finished yet."""
    data = paused.data if paused is not None else {}
    said = " ".join(reason.split())[:MAX_SAID] if reason else None
    return RequestCallback(phone=phone, name=data.get("name"), commune_insee=data.get("commune"), reason=said)


def _resume(turn: Turn, paused: State | None, resident: ResidentView, world: World) -> Turn:
    """``turn``, then the paused sign-up's question again (nothing to resume: ``turn`` alone)."""
    if paused is None:
        return turn
    return _add(_reask(paused, resident, world), replies=turn.replies, effects=turn.effects, first=True)


def offers_after_cancellation(workshop_ids: Sequence[int]) -> State:
    """Where a cancellation notice leaves the conversation: at its offers of other workshops, where one digit
    enrols (the notice said "answer with the number")."""
    return State(Step.WORKSHOP, {"offered": list(workshop_ids), "direct": True})


def parse_phone(text: str) -> str | None:
    """A French (or international) number written any usual way → E.164, else None (long text is cut, not refused)."""
    return to_e164(text.strip()[:MAX_RAW])


# --- Helpers ------------------------------------------------------------------------------------------------


def _reask(state: State, resident: ResidentView, world: World, *, again: bool = False) -> Turn:
    """Ask the current question again (after AIDE, a question answered, or an answer we could not read: then
    ``again`` says so first)."""
    step, data = state.step, state.data
    if step in (Step.NAME, Step.COMPANION, Step.COMMUNE, Step.LEVEL, Step.INTERESTS):
        if again:
            return _not_understood(state, world)
        turn = _next(dict(data), resident, world)
        return turn if turn.state is not None and turn.state.step == step else Turn(state=state, replies=turn.replies)
    if step == Step.COMMUNE_PICK:
        names = tuple(_commune_name(world, insee) for insee in data.get("candidates", []))
        text = say.choose_by_number(len(names)) if again else say.pick_commune()
        return Turn(state=state, replies=(Reply(text, names),), misunderstood=again)
    if step == Step.WAITLIST:
        option = _workshop(world, int(data.get("workshop", 0)))
        if option is not None:
            note = say.NOT_UNDERSTOOD if again else ""
            turn = _offer_waiting(option, {k: v for k, v in data.items() if k != "workshop"}, world, note=note)
            return replace(turn, misunderstood=again)
    if step == Step.WORKSHOP:
        options, labels = _offered(state, world)
        if any(o is not None for o in options):
            for candidate in say.offer_again_header() if again else say.offer_header():
                if say.fits_one_sms(candidate, labels):
                    return Turn(state=state, replies=(Reply(candidate, tuple(labels)),), misunderstood=again)
    if step == Step.CONFIRM_WORKSHOP:
        option = _workshop(world, int(data.get("workshop", 0)))
        if option is not None:
            turn = _confirm(option, dict(data), world, note=say.NOT_UNDERSTOOD if again else "")
            return replace(turn, misunderstood=again)
    if step in CHOOSING and resident.registered:
        return _offer(resident, world, data)
    if step == Step.FORGET_CONFIRM:
        return _ask_forget(again=again)
    if step == Step.CALLBACK_PHONE:
        return Turn(state=state, replies=(Reply(say.callback_requested(has_phone=False)),))
    if step == Step.CANCEL_CONFIRM:
        return _on_cancel_confirm("", state, resident, world)
    if step == Step.CANCEL_PICK:
        return _start_cancel(state, resident, world)
    if step == Step.MOVE_PICK:
        return _start_move(str(data.get("said", "")), resident, world)
    if resident.registered:
        return _menu(resident, again=again)
    return _next({}, resident, world)


def _not_understood(state: State, world: World) -> Turn:
    step = state.step
    if step == Step.NAME:
        return Turn(state=state, replies=(Reply(say.name_not_understood()),), misunderstood=True)
    if step == Step.COMPANION:
        return Turn(state=state, replies=(Reply(say.companion_not_understood()),), misunderstood=True)
    if step == Step.COMMUNE:
        return Turn(state=state, replies=(Reply(say.ask_commune_again()),), misunderstood=True)
    if step == Step.LEVEL:
        return Turn(state=state, replies=(Reply(say.level_not_understood(), say.LEVEL_CHOICES),), misunderstood=True)
    choices = _interest_labels(world)
    return Turn(state=state, replies=(Reply(say.interests_not_understood(), choices),), misunderstood=True)


def _add(turn: Turn, *, replies: tuple[Reply, ...] = (), effects: tuple[Effect, ...] = (), first: bool = False) -> Turn:
    """The same turn with more replies/effects, before (``first``) or after its own."""
    if first:
        return replace(turn, replies=replies + turn.replies, effects=effects + turn.effects)
    return replace(turn, replies=turn.replies + replies, effects=turn.effects + effects)


def _pick_number_or_words(text: str, choices: Sequence[str]) -> int | None:
    """A numbered choice, by its number, its label or its words; a number out of range is no choice at all (the
    words of a choice may contain digits: "9 h")."""
    exact = _pick_line(text, choices)
    return exact if exact is not None else match_choice(text, choices)


def _pick_line(text: str, labels: Sequence[str]) -> int | None:
    """A line chosen by its number or its exact label (a button)."""
    typed = " ".join(words(text))
    for index, label in enumerate(labels):
        if typed and typed == " ".join(words(label)):
            return index + 1
    number = parse_number(text, 99)
    return number if number is not None and number <= len(labels) else None


def _workshop(world: World, workshop_id: int) -> WorkshopOption | None:
    return next((w for w in world.workshops if w.id == workshop_id), None)


def _commune_name(world: World, insee: str) -> str:
    commune = world.territory.commune(insee)
    return commune.name if commune else insee


# Every step takes the same four arguments (what was written, the state, the resident, the world), in this order;
# one that needs not all of them names the others with a leading underscore.
# Every step takes the same four arguments (what was written, the state, the resident, the world), in this order;
# one that needs not all of them names the others with a leading underscore.
STEPS: dict[Step, Callable[[str, State, ResidentView, World], Turn]] = {
    Step.NAME: _signup_step,
    Step.COMPANION: _signup_step,
    Step.COMMUNE: _signup_step,
    Step.COMMUNE_PICK: _on_commune_pick,
    Step.LEVEL: _signup_step,
    Step.INTERESTS: _signup_step,
    Step.WORKSHOP: _on_workshop,
    Step.CONFIRM_WORKSHOP: _on_confirm_workshop,
    Step.WAITLIST: _on_waitlist,
    Step.MENU: _on_menu,
    Step.CANCEL_PICK: _on_cancel_pick,
    Step.CANCEL_CONFIRM: _on_cancel_confirm,
    Step.MOVE_PICK: _on_move_pick,
    Step.FORGET_CONFIRM: _on_forget_confirm,
    Step.CALLBACK_PHONE: _on_callback_phone,
}
