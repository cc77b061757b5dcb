"""ANNULER (or a NON, or "je viendrai pas mardi"): which booking, then a confirmation; never a cancellation
on a guess."""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.common import booking_wish, bookings_fitting, pick_line
from bot.conversation.turns import SIGNUP_STEPS, Booking, CancelEnrolment, ResidentView, State, Step, Turn, World
from bot.conversation.understanding.keywords import parse_yes_no
from bot.conversation.understanding.when import Wish


def _booking_groups(bookings: Sequence[Booking]) -> list[list[Booking]]:
    """The choices for cancelling: each booking, and both together when two people share a workshop."""
    groups = [[b] for b in bookings]
    for workshop_id in dict.fromkeys(b.workshop.id for b in bookings):
        together = [b for b in bookings if b.workshop.id == workshop_id]
        if len(together) > 1:
            groups.append(together)
    return groups


def _group_line(group: list[Booking], world: World, style: int, *, one_workshop: bool, me: str) -> str:
    """A cancelling choice: the workshop (and whose seat, when two share the phone); only whose seat when every
    choice is for the same workshop ("Colette", "Bernard", "Tous les deux")."""
    who = "tous les deux" if len(group) > 1 else group[0].who or ""
    if one_workshop:
        return (who or me or "moi")[:1].upper() + (who or me or "moi")[1:]
    first = group[0].workshop
    line = say.workshop_line(first.starts_at, world.tz, first.commune, style=style)
    return f"{line} ({who})" if who else line


def start_cancel(state: State | None, resident: ResidentView, world: World, *, text: str = "") -> Turn:
    bookings = list(resident.bookings)
    if not bookings:
        if state is not None and state.step in SIGNUP_STEPS:
            return Turn(state=None, replies=(Reply(say.signup_stopped()),))
        return Turn(state=None, replies=(Reply(say.nothing_to_cancel()),))
    wish = booking_wish(text, world) if text else Wish()
    if wish.specific:
        bookings = bookings_fitting(wish, resident, world) or bookings  # "annuler mardi": Tuesday's
    groups = _booking_groups(bookings)
    if len(groups) == 1:
        return _ask_confirm_cancel(groups[0], world)
    return _ask_which_group(groups, resident, world)


def _ask_which_group(groups: list[list[Booking]], resident: ResidentView, world: World, *, again: bool = False) -> Turn:
    one_workshop = len({b.workshop.id for g in groups for b in g}) == 1
    if one_workshop:
        question = say.ask_who_cancels(groups[0][0].workshop.starts_at, world.tz, again=again)
    else:
        question = say.choose_by_number(len(groups)) if again else say.ask_which_to_cancel()
    lines: tuple[str, ...] = ()
    for style in range(5):
        lines = tuple(_group_line(g, world, style, one_workshop=one_workshop, me=resident.first_name) for g in groups)
        if say.fits_one_sms(question, lines):
            break
    data = {"options": [[b.enrolment_id for b in g] for g in groups], "labels": list(lines)}
    return Turn(state=State(Step.CANCEL_PICK, data), replies=(Reply(question, lines),), misunderstood=again)


def _ask_confirm_cancel(group: list[Booking], world: World, *, again: bool = False) -> Turn:
    booking = group[0]
    who = "vous deux" if len(group) > 1 else booking.who or ""
    ask = say.cancel_not_understood if again else say.ask_confirm_cancel
    text = ask(booking.workshop.starts_at, world.tz, booking.workshop.venue, who)
    data = {"enrolments": [b.enrolment_id for b in group]}
    return Turn(state=State(Step.CANCEL_CONFIRM, data), replies=(Reply(text, say.YES_NO),), misunderstood=again)


def _groups_of(state: State, resident: ResidentView) -> list[list[Booking]]:
    by_id = {b.enrolment_id: b for b in resident.bookings}
    groups = [[by_id[int(i)] for i in ids if int(i) in by_id] for ids in state.data.get("options", [])]
    return [g for g in groups if g]


def on_cancel_pick(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    groups = _groups_of(state, resident)
    if not groups:
        return Turn(state=None, replies=(Reply(say.nothing_to_cancel()),))
    labels = list(state.data.get("labels") or [])
    choice = pick_line(text, labels)
    if choice is None:
        wish = booking_wish(text, world)
        fits = [g for g in groups if len(g) == 1 and g[0] in bookings_fitting(wish, resident, world)]
        if wish.specific and len(fits) == 1:
            return _ask_confirm_cancel(fits[0], world)
        if parse_yes_no(text) is False:
            return Turn(state=None, replies=(Reply(say.cancel_kept()),))
        return _ask_which_group(groups, resident, world, again=True)
    return _ask_confirm_cancel(groups[choice - 1], world)


def on_cancel_confirm(text: str, state: State, resident: ResidentView, world: World) -> Turn:
    ids = [int(i) for i in state.data.get("enrolments", [])] or [int(state.data.get("enrolment", 0))]
    group = [b for b in resident.bookings if b.enrolment_id in ids]
    if not group:
        return Turn(state=None, replies=(Reply(say.nothing_to_cancel()),))
    answer = parse_yes_no(text)
    if answer is True:
        first = group[0]
        who = "" if len(group) > 1 or first.who is None else first.who
        waiting = first.waiting_position is not None
        reply = say.cancelled_enrolment(first.workshop.starts_at, world.tz, waiting=waiting, who=who)
        return Turn(state=None, replies=(Reply(reply),), effects=tuple(CancelEnrolment(b.enrolment_id) for b in group))
    if answer is False:
        return Turn(state=None, replies=(Reply(say.cancel_kept()),))
    return _ask_confirm_cancel(group, world, again=True)
