"""The words for effects whose outcome is known only once the service applied them: a seat may have been
taken by someone else meanwhile."""

from __future__ import annotations

from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.common import with_more, workshop_by_id
from bot.conversation.dialogue.offering import offer, offer_waiting_list
from bot.conversation.offers import subject_of
from bot.conversation.turns import EnrolOutcome, ResidentView, Step, Turn, WorkshopOption, World
from bot.conversation.understanding.names import first_name_of


def after_enrol(
    *,
    outcome: EnrolOutcome,
    workshop_id: int,
    position: int | None,
    resident: ResidentView,
    world: World,
    reminded: bool = True,
    companion: str | None = None,
) -> Turn:
    """The words for an enrolment once the service knows whether a seat was taken (and a reminder planned)."""
    option = workshop_by_id(world, workshop_id)
    if option is None or outcome == EnrolOutcome.UNAVAILABLE:  # cancelled, or too close, since it was offered
        return with_more(offer(resident, world), replies=(Reply(say.workshop_no_longer_offered()),), first=True)
    names = say.names_fr([resident.first_name, first_name_of(companion or "")])
    two = companion is not None
    if outcome == EnrolOutcome.SEATED:
        text = say.seated(
            names,
            option.starts_at,
            world.tz,
            option.venue,
            option.address,
            reminded=reminded,
            subject=subject_of(option, world),
            two=two,
        )
        return Turn(state=None, replies=(Reply(text),))
    if outcome == EnrolOutcome.WAITING:
        text = say.waiting(names, position or 1, option.starts_at, world.tz, option.venue, two=two)
        return Turn(state=None, replies=(Reply(text),))
    # FULL: someone else took the last seat a moment ago. Other workshops with a seat, or else this one's waiting
    # list (the one they chose, rather than the nearest full one).
    carried: dict[str, Any] = {"party": 2, "companion": companion} if two else {}
    taken = Reply(say.workshop_just_filled())
    others = offer(resident, world, carried, exclude=(workshop_id,))
    if others.state is not None and others.state.step in (Step.WORKSHOP, Step.CONFIRM_WORKSHOP):
        return with_more(others, replies=(taken,), first=True)
    wait = offer_waiting_list(option, carried, world)
    return with_more(wait, replies=(taken,), first=True)


def after_move(
    *, moved: bool, old: WorkshopOption | None, workshop_id: int, resident: ResidentView, world: World
) -> Turn:
    """The words for a move once the service knows whether the new seats were taken (the old ones are given up
    only then: a move never leaves the resident without a seat)."""
    option = workshop_by_id(world, workshop_id)
    if not moved or option is None or old is None:
        return Turn(state=None, replies=(Reply(say.move_failed()),))
    text = say.moved(resident.first_name, old.starts_at, option.starts_at, world.tz, option.venue, option.address)
    return Turn(state=None, replies=(Reply(text),))
