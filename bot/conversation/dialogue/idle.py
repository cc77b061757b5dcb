"""No conversation in progress, or at the menu: someone new is welcomed into the sign-up; someone known gets
the menu, an offer when they ask for a workshop, or their OUI / NON read as the answer to our last notice."""

from __future__ import annotations

from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.callback import ask_for_callback
from bot.conversation.dialogue.common import pick_number_or_words
from bot.conversation.dialogue.menu import menu, my_workshops
from bot.conversation.dialogue.notices import answer_to_notice
from bot.conversation.dialogue.offering import offer, offer_or_companion, wish_data
from bot.conversation.dialogue.signup import next_question, welcome_newcomer
from bot.conversation.turns import ResidentView, State, Turn, World
from bot.conversation.understanding.intents import Intent, read_intent, read_party
from bot.conversation.understanding.keywords import parse_yes_no
from bot.conversation.understanding.names import is_greeting
from bot.conversation.understanding.when import read_wish


def fresh_start(resident: ResidentView, world: World) -> Turn:
    """Start over: the menu for someone we know, the name question for someone new."""
    if resident.registered:
        return menu(resident)
    return next_question({}, resident, world)


def idle(text: str, resident: ResidentView, world: World) -> Turn:
    if not resident.registered:
        return welcome_newcomer(text, resident, world)
    answer = parse_yes_no(text)
    seated = [b for b in resident.bookings if b.waiting_position is None and b.who is None]
    if answer is not None and seated:
        return answer_to_notice(answer, seated, resident, world)
    wants = _signup_wishes(text, world)
    if wants is not None:
        return offer_or_companion(resident, world, wants)
    return menu(resident)


def _signup_wishes(text: str, world: World) -> dict[str, Any] | None:
    """What a known resident's message says about a new workshop ("je voudrais un atelier le mardi avec mon
    mari"), as the data an offer carries; None when it does not ask for one."""
    party = read_party(text)
    wish = read_wish(text, communes=world.communes, interests=world.territory.interests)
    if read_intent(text) != Intent.WANT and not wish.specific and party.size == 1:
        return None
    data: dict[str, Any] = {"wish": wish_data(wish)}
    if party.size == 2:
        data["party"] = 2
        if party.companion:
            data["companion"] = party.companion
    return data


def on_menu(text: str, _state: State, resident: ResidentView, world: World) -> Turn:
    choice = pick_number_or_words(text, say.MENU_CHOICES)
    if choice == 1:
        return offer(resident, world)
    if choice == 2:
        return my_workshops(resident, world)
    if choice == 3:
        return ask_for_callback(None, resident, world, reason=None)
    if parse_yes_no(text) is False:  # "non merci" to the menu: nothing to do (never read as cancelling a seat)
        return Turn(state=None, replies=(Reply(say.nothing_then()),))
    wants = _signup_wishes(text, world)
    if wants is not None:
        return offer_or_companion(resident, world, wants)
    if is_greeting(text):
        return menu(resident)
    return menu(resident, again=True)
