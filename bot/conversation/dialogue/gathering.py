"""Reading a sign-up message: everything it says — the name (and a second person's), the commune, the level,
the interests, when they would like to come — added to what was said before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.offering import wish_data
from bot.conversation.turns import State, Step, Turn, World
from bot.conversation.understanding.communes import CommuneMatch, match_commune
from bot.conversation.understanding.intents import read_party, read_question, reads_for_someone_else
from bot.conversation.understanding.interests import mentioned_interests, parse_interests
from bot.conversation.understanding.levels import parse_level
from bot.conversation.understanding.names import first_name_of, read_name
from bot.conversation.understanding.when import read_wish
from storage.enums import Level

LEVELS = (Level.beginner, Level.intermediate, Level.advanced)


@dataclass(frozen=True)
class Gathered:
    data: dict[str, Any]
    notes: list[str]  # what was understood, said back before the next question
    special: Turn | None  # a message that needs its own answer (several communes, one outside the territory)
    found: bool = False  # the message said something new


def gather(text: str, data: dict[str, Any], step: Step | None, world: World) -> Gathered:
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
            notes.append(say.thanks_name(first_name_said(data)))
            if reading.companion:
                data["party"], data["companion"] = 2, reading.companion
    party = read_party(text)
    if party.size == 2 and not data.get("for_someone") and data.get("party") != 2:
        data["party"], found = 2, True
    if party.companion and not data.get("companion"):
        data["companion"] = with_surname(party.companion, data)
    if step == Step.COMPANION and not data.get("companion"):
        reading = read_name(text, communes=world.communes, expected=True)
        if reading.name:
            data["companion"], found = with_surname(reading.name, data), True
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
        data["wish"] = wish_data(wish)
    return Gathered(data, notes, special, found or bool(notes))


def _commune_said(text: str, data: dict[str, Any], step: Step | None, world: World) -> CommuneMatch | None:
    """The commune a message names: forgivingly at the commune question (typos, postcodes, anywhere in France);
    elsewhere only when named surely ("de Domérat"), or to correct it at the level question."""
    if step in (Step.COMMUNE, Step.COMMUNE_PICK):
        return match_commune(text, world.communes, world.france)
    if "commune" in data and step != Step.LEVEL:
        return None
    found = match_commune(text, world.communes, typos=False)  # an approximate match is set aside below
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


def first_name_said(data: dict[str, Any]) -> str:
    return first_name_of(str(data.get("name", "")))


def with_surname(companion: str, data: dict[str, Any]) -> str:
    """ "Bernard" with Colette Renaud: Bernard Renaud (how the roster will show him)."""
    name = str(data.get("name", "")).split()
    return f"{companion} {name[-1]}" if len(companion.split()) == 1 and len(name) > 1 else companion
