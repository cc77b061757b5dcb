"""What works at every step: a keyword (AIDE, ANNULER…), a wish said in words ("je suis malade je viendrai pas
mardi", "effacez mon nom", "au revoir"), a usual question ("c'est payant ?") answered first."""

from __future__ import annotations

from dataclasses import replace

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.again import reask
from bot.conversation.dialogue.callback import ask_for_callback
from bot.conversation.dialogue.cancelling import start_cancel
from bot.conversation.dialogue.common import MAX_SAID, booking_wish, bookings_fitting, with_more, workshop_by_id
from bot.conversation.dialogue.forgetting import ask_forget
from bot.conversation.dialogue.menu import my_workshops
from bot.conversation.dialogue.moving import start_move
from bot.conversation.dialogue.offering import offer
from bot.conversation.dialogue.signup import welcome_newcomer
from bot.conversation.turns import SIGNUP_STEPS, OptOut, ResidentView, State, Step, Turn, World
from bot.conversation.understanding.intents import Intent, read_intent
from bot.conversation.understanding.keywords import Keyword, parse_yes_no
from bot.territory import FaqEntry

CHOOSING = frozenset({Step.WORKSHOP, Step.CONFIRM_WORKSHOP, Step.WAITLIST})


def on_keyword(keyword: Keyword, state: State | None, resident: ResidentView, world: World) -> Turn:
    signing_up = state is not None and state.step in SIGNUP_STEPS
    if keyword == Keyword.STOP:
        seats = any(b.waiting_position is None for b in resident.bookings)
        return Turn(state=None, replies=(Reply(say.stopped(seats=seats)),), effects=(OptOut(),))
    if keyword in (Keyword.START, Keyword.SIGNUP):
        if resident.registered:
            return offer(resident, world)
        if state is not None and signing_up:
            return reask(state, resident, world)
        return welcome_newcomer("", resident, world)
    if keyword == Keyword.HELP:
        help_reply = Reply(say.help_text(world.phone))
        if state is None:
            return Turn(state=None, replies=(help_reply,))
        return with_more(reask(state, resident, world), replies=(help_reply,), first=True)
    if keyword == Keyword.RESTART:
        return Turn(state=State(Step.NAME, {}), replies=(Reply(say.restarted() + " " + say.ask_name()),))
    if keyword == Keyword.MY_WORKSHOPS:
        if state is not None and signing_up:  # answer, then carry on where they were
            listed_ = my_workshops(resident, world, signing_up=True)
            return with_more(reask(state, resident, world), replies=listed_.replies, first=True)
        if not resident.registered and not resident.bookings:
            # Someone new who asks for "their" workshops wants one: welcome them into the sign-up.
            return with_more(welcome_newcomer("", resident, world), replies=(Reply(say.no_workshop_yet()),), first=True)
        return my_workshops(resident, world)
    if keyword == Keyword.ADVISER:
        return ask_for_callback(state, resident, world, reason=None)
    if keyword == Keyword.FORGET:
        return ask_forget()
    return start_cancel(state, resident, world)  # CANCEL


def said_anywhere(text: str, state: State | None, resident: ResidentView, world: World) -> Turn | None:
    """What a sentence wants whatever the question asked: to be erased, to cancel or move a booking, to be called
    back, to stop there. None: the question's own answer (or the idle rules) decide."""
    intent = read_intent(text)
    step = state.step if state is not None else None
    if intent is None:
        return None
    if intent == Intent.ERASE:
        return ask_forget()
    if intent == Intent.MOVE and resident.bookings and step in (None, Step.MENU, Step.CANCEL_PICK, Step.CANCEL_CONFIRM):
        return start_move(text, resident, world)
    if intent == Intent.CANCEL and resident.bookings and step not in (Step.CANCEL_PICK, Step.CANCEL_CONFIRM):
        wish = booking_wish(text, world)
        names_one = bool(wish.specific and bookings_fitting(wish, resident, world))
        if step in CHOOSING and not (names_one or "annul" in text.lower()):
            return None  # "non je ne pourrai pas ce jour-là" answers the offer
        if step is None and parse_yes_no(text) is not None and not names_one:
            return None  # a NON that may answer a reminder: the idle rules know which seat it is about
        return start_cancel(state, resident, world, text=text)
    if intent == Intent.CALLBACK:
        return ask_for_callback(state, resident, world, reason=text)
    if intent == Intent.EXIT and step not in (Step.CANCEL_CONFIRM, Step.FORGET_CONFIRM, Step.CALLBACK_PHONE):
        if step is None and resident.registered:
            return Turn(state=None, replies=(Reply(say.you_are_welcome()),))
        return Turn(state=None, replies=(Reply(say.goodbye()),))
    if intent == Intent.THANKS and step is None and resident.registered:
        return Turn(state=None, replies=(Reply(say.you_are_welcome()),))
    return None


def answered_first(
    entry: FaqEntry, turn: Turn, state: State | None, resident: ResidentView, world: World, text: str
) -> Turn:
    """A usual question answered first; then the question we had asked, again (without "I did not understand":
    we did). What they asked is kept for an adviser who calls back."""
    place = _place(state, resident, world) if entry.key == "where" else None
    answer = say.where_exactly(*place) if place is not None else entry.answer
    if state is None and resident.registered and turn.state is not None and turn.state.step == Step.MENU:
        return Turn(state=None, replies=(Reply(answer),))  # asked out of the blue: the answer is enough
    if turn.misunderstood:
        turn = reask(state, resident, world) if state is not None else Turn(state=None)
    if turn.state is not None:
        turn = replace(turn, state=replace(turn.state, data={**turn.state.data, "said": text[:MAX_SAID]}))
    return with_more(turn, replies=(Reply(answer),), first=True)


def _place(state: State | None, resident: ResidentView, world: World) -> tuple[str, str] | None:
    """The venue and address of the workshop being talked about: the one offered, else their next one."""
    if state is not None and state.data.get("workshop") is not None:
        option = workshop_by_id(world, int(state.data["workshop"]))
        if option is not None:
            return option.venue, option.address
    if resident.bookings:
        booked = resident.bookings[0].workshop
        return booked.venue, booked.address
    return None
