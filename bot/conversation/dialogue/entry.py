"""The entry point and the table of steps: one message in, one ``Turn`` out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.anywhere import answered_first, on_keyword, said_anywhere
from bot.conversation.dialogue.callback import on_callback_phone
from bot.conversation.dialogue.cancelling import on_cancel_confirm, on_cancel_pick
from bot.conversation.dialogue.choosing import on_confirm_workshop, on_waitlist, on_workshop
from bot.conversation.dialogue.common import with_more
from bot.conversation.dialogue.forgetting import on_forget_confirm
from bot.conversation.dialogue.idle import fresh_start, idle, on_menu
from bot.conversation.dialogue.moving import on_move_pick
from bot.conversation.dialogue.notices import answers_our_question
from bot.conversation.dialogue.signup import next_question, on_commune_pick, on_signup_answer
from bot.conversation.turns import OptIn, ResidentView, State, Step, Turn, World
from bot.conversation.understanding.intents import read_question
from bot.conversation.understanding.keywords import Keyword, detect_keyword

IDLE_RESTART = timedelta(hours=24)


def respond(*, state: State | None, text: str, resident: ResidentView, world: World) -> Turn:
    """One message, in this order: after STOP only START is heard; a conversation left a day starts again; a
    keyword; a wish said anywhere; else the current step's own answer (``STEPS``), a usual question answered first."""
    text = text or ""
    keyword = detect_keyword(text)
    if resident.opted_out:
        # After STOP: nothing at all, whatever they send, until START (or INSCRIPTION).
        if keyword in (Keyword.START, Keyword.SIGNUP):
            return with_more(
                fresh_start(resident, world), replies=(Reply(say.started_again()),), first=True, effects=(OptIn(),)
            )
        return Turn(state=state)
    if state is not None and state.updated_at is not None and world.now - state.updated_at > IDLE_RESTART:
        if keyword is None and resident.registered:
            return with_more(fresh_start(resident, world), replies=(Reply(say.restart_after_idle()),), first=True)
        if keyword is None:
            turn = next_question({}, resident, world)
            return with_more(turn, replies=(Reply(say.restart_after_idle()),), first=True)
        state = None
    if keyword is not None:
        return on_keyword(keyword, state, resident, world)
    if state is not None and answers_our_question(text, state, resident):
        state = None
    early = said_anywhere(text, state, resident, world)
    if early is not None:
        return early
    turn = idle(text, resident, world) if state is None else STEPS[state.step](text, state, resident, world)
    question = read_question(text, world.territory.faq)
    if question is not None:
        turn = answered_first(question, turn, state, resident, world, text)
    return turn


# Every step takes the same four arguments (what was written, the state, the resident, the world), in this order;
# one that needs not all of them names the others with a leading underscore.
STEPS: dict[Step, Callable[[str, State, ResidentView, World], Turn]] = {
    Step.NAME: on_signup_answer,
    Step.COMPANION: on_signup_answer,
    Step.COMMUNE: on_signup_answer,
    Step.COMMUNE_PICK: on_commune_pick,
    Step.LEVEL: on_signup_answer,
    Step.INTERESTS: on_signup_answer,
    Step.WORKSHOP: on_workshop,
    Step.CONFIRM_WORKSHOP: on_confirm_workshop,
    Step.WAITLIST: on_waitlist,
    Step.MENU: on_menu,
    Step.CANCEL_PICK: on_cancel_pick,
    Step.CANCEL_CONFIRM: on_cancel_confirm,
    Step.MOVE_PICK: on_move_pick,
    Step.FORGET_CONFIRM: on_forget_confirm,
    Step.CALLBACK_PHONE: on_callback_phone,
}
