"""The sign-up: ask for what is not known yet — name (and the second person's), commune, level, interests —
taking from every message all it says; once everything is known, the profile is saved and workshops offered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.common import (
    commune_name,
    interest_labels,
    pick_number_or_words,
    with_more,
    workshop_by_id,
)
from bot.conversation.dialogue.gathering import Gathered, first_name_said, gather
from bot.conversation.dialogue.offering import CARRIED, ask_confirm, offer
from bot.conversation.turns import ContactOffered, Effect, ResidentView, SaveProfile, State, Step, Turn, World
from bot.conversation.understanding.communes import match_commune
from bot.conversation.understanding.keywords import parse_yes_no
from bot.conversation.understanding.names import is_greeting
from bot.conversation.understanding.numbers import parse_number
from storage.enums import Level


def welcome_newcomer(text: str, resident: ResidentView, world: World) -> Turn:
    """Someone new: the welcome (consent and privacy in one line), with everything the first message already
    said taken ("Bonjour c'est Josette Martin de Domérat" → the level is asked next)."""
    ask_contact = not resident.has_phone and not resident.contact_offered
    effects: tuple[Effect, ...] = (ContactOffered(),) if ask_contact else ()
    gathered = gather(text, {}, None, world) if text.strip() else Gathered({}, [], None)
    turn = gathered.special or next_question(gathered.data, resident, world, gathered.notes)
    first, rest = turn.replies[0], turn.replies[1:]
    texts = say.welcome_and(world.territory.name, first.text, first.choices)
    welcome: tuple[Reply, ...]
    if len(texts) == 1:
        welcome = (Reply(texts[0], first.choices, ask_contact=ask_contact),)
    else:
        welcome = (Reply(texts[0], ask_contact=ask_contact), Reply(texts[1], first.choices))
    return Turn(state=turn.state, replies=welcome + rest, effects=effects + turn.effects)


def next_question(data: dict[str, Any], resident: ResidentView, world: World, notes: Sequence[str] = ()) -> Turn:
    """The first question whose answer is not known yet, after what was just understood; once everything is known,
    the profile is saved and workshops offered."""
    about = first_name_said(data) if data.get("for_someone") else ""
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
        step, question, choices = Step.INTERESTS, say.ask_interests(), interest_labels(world)
    else:
        return _complete(data, resident, world)
    return Turn(state=State(step, data), replies=(Reply(_said_back(notes, question, choices), choices),))


def _said_back(notes: Sequence[str], question: str, choices: tuple[str, ...]) -> str:
    """The question after what was understood, when it all fits one SMS (the commune first: it was matched
    forgivingly, so saying it back lets the resident correct it)."""
    communes = [n for n in notes if n.endswith(say.commune_noted(""))]
    found = say.first_fitting([" ".join([*kept, question]) for kept in (list(notes), communes, [])], choices)
    return found if found is not None else question


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
        chosen = workshop_by_id(world, int(data["workshop"]))
        if chosen is not None:
            return with_more(ask_confirm(chosen, carried, world), effects=(profile,), first=True)
    return with_more(offer(registered, world, carried), effects=(profile,), first=True)


def on_signup_answer(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    """One answer during the sign-up: all it says is kept, then the next question."""
    gathered = gather(text, state.data, state.step, world)
    if gathered.special is not None:
        return gathered.special
    data = gathered.data
    if state.step == Step.INTERESTS and "interests" not in data and not gathered.found:
        if not state.data.get("interest_retry"):
            choices = interest_labels(world)
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
        return not_understood(state, world)
    if resident.registered and state.step == Step.COMPANION:
        carried = {k: data[k] for k in CARRIED if k in data}
        chosen = workshop_by_id(world, int(data.get("workshop", 0) or 0))
        return ask_confirm(chosen, carried, world) if chosen is not None else offer(resident, world, carried)
    return next_question(data, resident, world, gathered.notes)


def _still_fine(text: str, state: State) -> bool:
    """Nothing new, and nothing to apologise for: a greeting, an empty message, "non merci" to the contact
    button."""
    return state.step == Step.NAME and (not text.strip() or parse_yes_no(text) is False or is_greeting(text))


def on_commune_pick(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    candidates: list[str] = list(state.data.get("candidates", []))
    names = [commune_name(world, insee) for insee in candidates]
    choice = pick_number_or_words(text, names)
    if choice is not None:
        data = {k: v for k, v in state.data.items() if k != "candidates"}
        data["commune"] = candidates[choice - 1]
        return next_question(data, resident, world, [say.commune_noted(names[choice - 1])])
    if parse_number(text, 99) is None and match_commune(text, world.communes, world.france).kind != "none":
        return on_signup_answer(text, replace(state, step=Step.COMMUNE), resident, world)  # another commune named
    # A number off the list, or words we cannot read: the same list again, with how to answer.
    return Turn(state=state, replies=(Reply(say.choose_by_number(len(names)), tuple(names)),), misunderstood=True)


def not_understood(state: State, world: World) -> Turn:
    step = state.step
    if step == Step.NAME:
        return Turn(state=state, replies=(Reply(say.name_not_understood()),), misunderstood=True)
    if step == Step.COMPANION:
        return Turn(state=state, replies=(Reply(say.companion_not_understood()),), misunderstood=True)
    if step == Step.COMMUNE:
        return Turn(state=state, replies=(Reply(say.ask_commune_again()),), misunderstood=True)
    if step == Step.LEVEL:
        return Turn(state=state, replies=(Reply(say.level_not_understood(), say.LEVEL_CHOICES),), misunderstood=True)
    choices = interest_labels(world)
    return Turn(state=state, replies=(Reply(say.interests_not_understood(), choices),), misunderstood=True)


def ask_signup_again(state: State, resident: ResidentView, world: World, again: bool) -> Turn:
    """The sign-up's current question again; ``again``: the last answer was not understood, and we say so."""
    if state.step == Step.COMMUNE_PICK:
        names = tuple(commune_name(world, insee) for insee in state.data.get("candidates", []))
        text = say.choose_by_number(len(names)) if again else say.pick_commune()
        return Turn(state=state, replies=(Reply(text, names),), misunderstood=again)
    if again:
        return not_understood(state, world)
    turn = next_question(dict(state.data), resident, world)
    same = turn.state is not None and turn.state.step == state.step
    return turn if same else Turn(state=state, replies=turn.replies)
