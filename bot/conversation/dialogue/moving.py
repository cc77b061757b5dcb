""" "Je voudrais changer de date pour le 31": which booking (theirs), then which workshop instead. The old seat is
given up only once the new one is taken (``after_move``)."""

from __future__ import annotations

from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.common import MAX_SAID, booking_wish, bookings_fitting, pick_line
from bot.conversation.dialogue.offering import ask_confirm, nothing_for, offerable
from bot.conversation.offers import MAX_OFFERED, fitting, listed
from bot.conversation.turns import Booking, ResidentView, State, Step, Turn, World
from bot.conversation.understanding.keywords import parse_yes_no
from bot.conversation.understanding.when import read_wish


def start_move(text: str, resident: ResidentView, world: World) -> Turn:
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
    order = [w for w in offerable(state, resident, world, wish) if w.id != booking.workshop.id]
    if wish.specific:
        found = [w for w in fitting(wish, order, world) if w.free_seats >= len(together)]
        if found:  # the best one that fits, to confirm; a "non" shows the next ones
            return ask_confirm(found[0], {**data, "offered": [w.id for w in found[:MAX_OFFERED]]}, world)
        note = say.full_workshop() if fitting(wish, order, world) else nothing_for(wish, world)
    else:
        note = ""
    with_seats = [w for w in order if w.free_seats >= len(together)]
    if not with_seats:
        return Turn(state=None, replies=(Reply(say.nothing_to_move_to()),))
    if len(with_seats[:MAX_OFFERED]) == 1:
        return ask_confirm(with_seats[0], data, world, note=note)
    old_start = booking.workshop.starts_at
    text_out, labels = listed(with_seats[:MAX_OFFERED], world, lambda _: say.move_header(old_start, world.tz, note))
    ids = [w.id for w in with_seats[:MAX_OFFERED]]
    data = {**data, "offered": ids, "labels": list(labels), "seen": ids}
    return Turn(state=State(Step.WORKSHOP, data), replies=(Reply(text_out, labels),))


def on_move_pick(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    ids = [int(i) for i in state.data.get("options", [])]
    own = [b for b in resident.bookings if b.enrolment_id in ids]
    labels = list(state.data.get("labels") or [])
    choice = pick_line(text, labels) if len(labels) == len(own) else None
    if choice is None:
        wish = booking_wish(text, world)
        fits = [b for b in own if b in bookings_fitting(wish, resident, world)]
        if wish.specific and len(fits) == 1:
            return _offer_move(fits[0], str(state.data.get("said", "")), resident, world)
        if parse_yes_no(text) is False or not own:
            return Turn(state=None, replies=(Reply(say.cancel_kept()),))
        return Turn(state=state, replies=(Reply(say.choose_by_number(len(own)), tuple(labels)),), misunderstood=True)
    return _offer_move(own[choice - 1], str(state.data.get("said", "")), resident, world)
