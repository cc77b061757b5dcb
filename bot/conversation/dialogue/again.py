"""Asking the current question again: after AIDE, a usual question answered, a paused sign-up resumed, or an
answer we could not read (then ``again`` says so first). One function per kind of step, and a table."""

from __future__ import annotations

from collections.abc import Callable

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.cancelling import on_cancel_confirm, start_cancel
from bot.conversation.dialogue.choosing import ask_choice_again
from bot.conversation.dialogue.forgetting import ask_forget
from bot.conversation.dialogue.menu import menu
from bot.conversation.dialogue.moving import start_move
from bot.conversation.dialogue.signup import ask_signup_again, next_question
from bot.conversation.turns import ResidentView, State, Step, Turn, World


def reask(state: State, resident: ResidentView, world: World, *, again: bool = False) -> Turn:
    """Ask the current question again (after AIDE, a question answered, or an answer we could not read: then
    ``again`` says so first)."""
    return AGAIN.get(state.step, _menu_again)(state, resident, world, again)


def _forget_again(_state: State, _resident: ResidentView, _world: World, again: bool) -> Turn:
    return ask_forget(again=again)


def _phone_again(state: State, _resident: ResidentView, _world: World, _again: bool) -> Turn:
    return Turn(state=state, replies=(Reply(say.callback_requested(has_phone=False)),))


def _cancel_confirm_again(state: State, resident: ResidentView, world: World, _again: bool) -> Turn:
    return on_cancel_confirm("", state, resident, world)


def _cancel_pick_again(state: State, resident: ResidentView, world: World, _again: bool) -> Turn:
    return start_cancel(state, resident, world)


def _move_pick_again(state: State, resident: ResidentView, world: World, _again: bool) -> Turn:
    return start_move(str(state.data.get("said", "")), resident, world)


def _menu_again(_state: State, resident: ResidentView, world: World, again: bool) -> Turn:
    """The menu for someone we know; someone new starts the sign-up."""
    if resident.registered:
        return menu(resident, again=again)
    return next_question({}, resident, world)


# Every function takes (the state, the resident, the world, whether the last answer was not understood).
AGAIN: dict[Step, Callable[[State, ResidentView, World, bool], Turn]] = {
    Step.NAME: ask_signup_again,
    Step.COMPANION: ask_signup_again,
    Step.COMMUNE: ask_signup_again,
    Step.COMMUNE_PICK: ask_signup_again,
    Step.LEVEL: ask_signup_again,
    Step.INTERESTS: ask_signup_again,
    Step.WORKSHOP: ask_choice_again,
    Step.CONFIRM_WORKSHOP: ask_choice_again,
    Step.WAITLIST: ask_choice_again,
    Step.MENU: _menu_again,
    Step.CANCEL_PICK: _cancel_pick_again,
    Step.CANCEL_CONFIRM: _cancel_confirm_again,
    Step.MOVE_PICK: _move_pick_again,
    Step.FORGET_CONFIRM: _forget_again,
    Step.CALLBACK_PHONE: _phone_again,
}
