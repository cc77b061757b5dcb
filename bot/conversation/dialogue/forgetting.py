"""OUBLIER (or "effacez mon nom"): erase the resident's personal data, after a confirmation."""

from __future__ import annotations

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.turns import Erase, ResidentView, State, Step, Turn, World
from bot.conversation.understanding.keywords import parse_yes_no


def ask_forget(*, again: bool = False) -> Turn:
    text = say.forget_not_understood() if again else say.ask_confirm_forget()
    return Turn(state=State(Step.FORGET_CONFIRM), replies=(Reply(text, say.YES_NO),), misunderstood=again)


def on_forget_confirm(text: str, _state: State, _resident: ResidentView, _world: World) -> Turn:
    answer = parse_yes_no(text)
    if answer is True:
        return Turn(state=None, replies=(Reply(say.forgotten()),), effects=(Erase(),))
    if answer is False:
        return Turn(state=None, replies=(Reply(say.forget_kept()),))
    return ask_forget(again=True)
