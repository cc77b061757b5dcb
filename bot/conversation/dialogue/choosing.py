"""The answers to an offer: a workshop chosen by its number or its words, another day or place, the others,
a yes or no to the one proposed, the waiting list."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.common import with_more, workshop_by_id
from bot.conversation.dialogue.offering import (
    CARRIED,
    ask_confirm,
    last_offered,
    nothing_for,
    offer,
    offer_waiting_list,
    offerable,
    party_of,
    present,
    seen_with,
)
from bot.conversation.dialogue.signup import next_question
from bot.conversation.offers import MAX_OFFERED, Chosen, Pick, choose, fitting, listed
from bot.conversation.turns import Enrol, MoveBooking, ResidentView, SaveProfile, State, Step, Turn, World
from bot.conversation.understanding.communes import match_commune
from bot.conversation.understanding.intents import read_party
from bot.conversation.understanding.keywords import parse_yes_no
from bot.conversation.understanding.numbers import parse_number
from bot.conversation.understanding.text import pad_words, phrase_search, words
from bot.conversation.understanding.when import Wish, read_wish

# "Non, j'habite à Quinssaines": a commune said with one of these is where the resident lives, not a workshop.
_HOME_WORDS = ("j habite", "je vis", "je suis de", "j suis de", "chez moi", "je reside", "nous habitons")
_says_home = phrase_search(_HOME_WORDS)


def _commune_correction(text: str, state: State, resident: ResidentView, world: World) -> Turn | None:
    """ "Non, j'habite à Saint-Victor" at the list of workshops: answering an earlier question again corrects it
    (SPEC §2). The commune is changed and the best workshops for it offered again. A place said without "j'habite"
    is where they would like the workshop ("celui de Lavault, ma soeur habite là-bas")."""
    if not resident.registered or parse_number(text, 99) is not None or state.data.get("moving"):
        return None
    if not _says_home(pad_words(words(text))):
        return None
    found = match_commune(text, world.communes)
    if found.kind != "exact" or found.communes[0].insee == resident.commune_insee:
        return None
    commune = found.communes[0]
    assert resident.name is not None and resident.level is not None  # noqa: S101 - registered
    moved = replace(resident, commune_insee=commune.insee)
    profile = SaveProfile(resident.name, commune.insee, resident.level, resident.interests)
    carried = {k: v for k, v in state.data.items() if k in CARRIED and k != "seen"}
    turn = offer(moved, world, carried, note=say.commune_noted(commune.name))
    return with_more(turn, effects=(profile,), first=True)


def _with_party(text: str, data: dict[str, Any]) -> dict[str, Any]:
    """ "2 pour nous deux", "oui avec mon mari": two people from now on."""
    party = read_party(text)
    if party.size == 2 and data.get("party") != 2:
        data = {**data, "party": 2}
        if party.companion:
            data["companion"] = party.companion
    return data


def on_workshop(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    corrected = _commune_correction(text, state, resident, world)
    if corrected is not None:
        return corrected
    options, labels = last_offered(state, world)
    data = _with_party(text, state.data)
    chosen = choose(text, options, labels, world)
    return _chosen(chosen, State(Step.WORKSHOP, data), resident, world)


def _chosen(chosen: Chosen, state: State, resident: ResidentView, world: World) -> Turn:
    """What follows a choice among the workshops offered (or the words about them)."""
    data = state.data
    if chosen.pick == Pick.ONE:
        if not chosen.options:
            turn = offer(resident, world, data) if resident.registered else Turn(state=None)
            return with_more(turn, replies=(Reply(say.workshop_no_longer_offered()),), first=True)
        option = chosen.options[0]
        if party_of(data) == 2 and not data.get("companion"):
            ask = State(Step.COMPANION, {**data, "workshop": option.id})
            return Turn(state=ask, replies=(Reply(say.ask_companion()),))
        if option.free_seats < party_of(data):
            return offer_waiting_list(option, data, world, note=say.full_workshop())
        if data.get("direct") and state.step == Step.WORKSHOP:
            # An offer made after a cancelled workshop: the notice said "answer with the number", so one digit
            # enrols.
            return Turn(state=None, effects=(Enrol(option.id, allow_waiting=False),))
        return ask_confirm(option, data, world)
    if chosen.pick == Pick.ELSEWHERE and chosen.wish is not None:
        return _further(chosen.wish, state, resident, world)
    if chosen.pick == Pick.OTHERS and resident.registered:
        return _others(state, resident, world)
    if chosen.pick == Pick.DECLINED:
        if data.get("moving"):
            return Turn(state=None, replies=(Reply(say.cancel_kept()),))
        return Turn(state=None, replies=(Reply(say.not_enrolled_ok()),))
    return ask_choice_again(state, resident, world, again=True)


def _further(wish: Wish, state: State, resident: ResidentView, world: World) -> Turn:
    """A day, date, place or subject none of the offered workshops has: looked for in the whole planning. When the
    best one that fits is full, its waiting list is offered (never for a move: a move keeps the seat held), and a
    "non" shows the others."""
    if not resident.registered:
        return ask_choice_again(state, resident, world, again=True)
    data = {k: v for k, v in state.data.items() if k in CARRIED}
    party = party_of(data)
    declined = set(data.get("declined", ()))
    found = [w for w in fitting(wish, offerable(state, resident, world, wish), world) if w.id not in declined]
    named = bool(wish.weekdays or wish.days or wish.communes)  # "jeudi 5", "celui de Lavault": that one
    if named and found and found[0].free_seats < party and not data.get("moving"):
        return offer_waiting_list(found[0], data, world, note=say.full_workshop())
    with_seats = [w for w in found if w.free_seats >= party]
    if with_seats:
        # The best one that fits, to confirm; a "non" shows the next ones that fit.
        alternatives = [w.id for w in with_seats[:MAX_OFFERED]]
        return ask_confirm(with_seats[0], {**data, "offered": alternatives}, world)
    return _reshow(state, world, note=say.full_workshop() if found else nothing_for(wish, world))


def _others(state: State, resident: ResidentView, world: World) -> Turn:
    """ "Autre", "ya pas d autres dates ?": the next best workshops, not shown yet."""
    data = {k: v for k, v in state.data.items() if k in CARRIED}
    seen = set(data.get("seen", ())) | {int(i) for i in state.data.get("offered", [])}
    rest = [w for w in offerable(state, resident, world) if w.id not in seen]
    if not [w for w in rest if w.free_seats >= party_of(data)]:
        return _reshow(state, world, note=say.nothing_else())
    return present(rest, party_of(data), {**data, "seen": sorted(seen)}, world, note="")


def _reshow(state: State, world: World, *, note: str) -> Turn:
    """The same offer again, after a note ("Pas d'atelier de votre niveau le jeudi.")."""
    options, _ = last_offered(state, world)
    still = [o for o in options if o is not None]
    if state.step == Step.WORKSHOP and still:
        text, labels = listed(still, world, lambda subject: say.offer_header(note, subject))
        data = {**state.data, "offered": [o.id for o in still], "labels": list(labels)}
        return Turn(state=State(Step.WORKSHOP, data), replies=(Reply(text, labels),))
    option = workshop_by_id(world, int(state.data.get("workshop", 0) or 0))
    if option is not None:
        return ask_confirm(option, state.data, world, note=note)
    return Turn(state=state, replies=(Reply(note),))


def on_confirm_workshop(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    corrected = _commune_correction(text, state, resident, world)
    if corrected is not None:
        return corrected
    data = _with_party(text, state.data)
    workshop_id = int(data["workshop"])
    answer = parse_yes_no(text)
    if answer is True:
        if party_of(data) == 2 and not data.get("companion"):
            return Turn(state=State(Step.COMPANION, data), replies=(Reply(say.ask_companion()),))
        moving = [int(i) for i in data.get("moving", [])]
        if moving:
            return Turn(state=None, effects=(MoveBooking(tuple(moving), workshop_id),))
        companion = str(data["companion"]) if party_of(data) == 2 and data.get("companion") else None
        return Turn(state=None, effects=(Enrol(workshop_id, allow_waiting=False, companion=companion),))
    if answer is False and not _says_which(text, world):
        if data.get("moving"):
            return _others(State(Step.WORKSHOP, {**data, "seen": seen_with(data, [workshop_id])}), resident, world)
        others = [o for o in (workshop_by_id(world, int(i)) for i in data.get("offered", [])) if o is not None]
        others = [o for o in others if o.id != workshop_id and o.free_seats >= party_of(data)]
        if others and resident.registered and not data.get("labels"):
            # What was offered after a wish ("mardi"): the next ones that fit it.
            carried = {k: v for k, v in data.items() if k in CARRIED}
            return present(others, party_of(data), carried, world, note="")
        if others and resident.registered:
            fresh = {k: v for k, v in data.items() if k != "seen"}
            return offer(resident, world, fresh, exclude=[workshop_id])
        if resident.registered:
            return _others(State(Step.WORKSHOP, {**data, "seen": seen_with(data, [workshop_id])}), resident, world)
        return Turn(state=None, replies=(Reply(say.not_enrolled_ok()),))
    options, labels = last_offered(state, world)
    chosen = choose(text, options, labels, world)
    if chosen.pick in (Pick.ONE, Pick.ELSEWHERE, Pick.OTHERS):
        return _chosen(chosen, State(Step.WORKSHOP, data), resident, world)
    return ask_choice_again(State(Step.CONFIRM_WORKSHOP, data), resident, world, again=True)


def _says_which(text: str, world: World) -> bool:
    """ "Non, plutôt mardi": a no that names what they want instead."""
    return read_wish(text, communes=world.communes, interests=world.territory.interests).specific


def on_waitlist(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    data = _with_party(text, state.data)
    workshop_id = int(data["workshop"])
    answer = parse_yes_no(text)
    if answer is True:
        companion = str(data["companion"]) if party_of(data) == 2 and data.get("companion") else None
        return Turn(state=None, effects=(Enrol(workshop_id, allow_waiting=True, companion=companion),))
    declined = {**data, "declined": sorted({*data.get("declined", ()), workshop_id})}
    chosen = choose(text, [], [], world)
    if chosen.pick in (Pick.ELSEWHERE, Pick.OTHERS):  # "non, un autre jour à Lavault"
        return _chosen(chosen, State(Step.WORKSHOP, declined), resident, world)
    if answer is False:
        others = offerable(State(Step.WORKSHOP, declined), resident, world) if resident.registered else []
        if [w for w in others if w.id != workshop_id and w.free_seats >= party_of(data)]:
            carried = {k: v for k, v in declined.items() if k in CARRIED and k != "seen"}
            return offer(resident, world, carried, exclude=[workshop_id])
        return Turn(state=None, replies=(Reply(say.not_enrolled_ok()),))
    return ask_choice_again(state, resident, world, again=True)


def ask_choice_again(state: State, resident: ResidentView, world: World, again: bool) -> Turn:
    """The offer, the workshop to confirm or the waiting list again; when it is gone, a fresh offer (someone new
    starts the sign-up). ``again``: the last answer was not understood, and we say so."""
    step, data = state.step, state.data
    if step == Step.WAITLIST:
        option = workshop_by_id(world, int(data.get("workshop", 0)))
        if option is not None:
            note = say.NOT_UNDERSTOOD if again else ""
            turn = offer_waiting_list(option, {k: v for k, v in data.items() if k != "workshop"}, world, note=note)
            return replace(turn, misunderstood=again)
    if step == Step.WORKSHOP:
        options, labels = last_offered(state, world)
        headers = say.offer_again_header() if again else say.offer_header()
        if any(o is not None for o in options) and (header := say.first_fitting(headers, labels)) is not None:
            return Turn(state=state, replies=(Reply(header, tuple(labels)),), misunderstood=again)
    if step == Step.CONFIRM_WORKSHOP:
        option = workshop_by_id(world, int(data.get("workshop", 0)))
        if option is not None:
            turn = ask_confirm(option, dict(data), world, note=say.NOT_UNDERSTOOD if again else "")
            return replace(turn, misunderstood=again)
    if resident.registered:
        return offer(resident, world, data)
    return next_question({}, resident, world)
