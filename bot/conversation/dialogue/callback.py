"""CONSEILLER: a call-back request, with the number to call when we do not have it; a sign-up in progress
carries on after."""

from __future__ import annotations

from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.again import reask
from bot.conversation.dialogue.common import MAX_SAID, with_more
from bot.conversation.phones import MAX_RAW, to_e164, unserved
from bot.conversation.turns import SIGNUP_STEPS, RequestCallback, ResidentView, State, Step, Turn, World
from bot.conversation.understanding.keywords import parse_yes_no


def ask_for_callback(state: State | None, resident: ResidentView, world: World, *, reason: str | None) -> Turn:
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


def on_callback_phone(text: str, state: State, resident: ResidentView, world: World) -> Turn:
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
    return with_more(reask(paused, resident, world), replies=turn.replies, effects=turn.effects, first=True)


def parse_phone(text: str) -> str | None:
    """A French (or international) number written any usual way → E.164, else None (long text is cut, not refused)."""
    return to_e164(text.strip()[:MAX_RAW])
