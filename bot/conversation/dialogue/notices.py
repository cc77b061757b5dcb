"""The answers to what we sent unasked: a reminder or a change notice asks OUI or NON, a cancellation notice
offers other workshops by number."""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.cancelling import start_cancel
from bot.conversation.turns import Booking, CancelEnrolment, ConfirmAttendance, ResidentView, State, Step, Turn, World
from bot.conversation.understanding.keywords import parse_yes_no


def answers_our_question(text: str, state: State, resident: ResidentView) -> bool:
    """A reminder or notice asked OUI/NON after the conversation's last question: a yes or no answers it, not the
    older question (the menu shown this morning, say)."""
    if resident.asked_at is None or state.updated_at is None or state.updated_at >= resident.asked_at:
        return False
    return parse_yes_no(text) is not None


def answer_to_notice(answer: bool, seated: Sequence[Booking], resident: ResidentView, world: World) -> Turn:
    """OUI / NON answers the last reminder or notice we sent (they ask exactly that), else the next workshop;
    ``seated``: the resident's own seats, the next workshop first."""
    asked = next((b for b in seated if b.enrolment_id == resident.asked_about), None)
    target = asked or seated[0]
    if answer:
        reply = say.confirmed_coming(target.workshop.starts_at, world.tz)
        together = [b for b in resident.bookings if b.workshop.id == target.workshop.id]
        return Turn(
            state=None,
            replies=(Reply(reply),),
            effects=tuple(ConfirmAttendance(b.enrolment_id) for b in together),
        )
    if asked is None or _shared(asked, resident):
        # A NON that answers no question of ours (no recent reminder, or one about a seat they no longer hold,
        # or about two people): ask which seat and confirm, as ANNULER does; never cancel on a guess.
        return start_cancel(None, resident, world)
    reply = say.cancelled_enrolment(target.workshop.starts_at, world.tz)
    return Turn(state=None, replies=(Reply(reply),), effects=(CancelEnrolment(target.enrolment_id),))


def _shared(booking: Booking, resident: ResidentView) -> bool:
    """Someone else (sharing the phone) holds a seat in the same workshop."""
    same = booking.workshop.id
    return any(b.workshop.id == same and b.enrolment_id != booking.enrolment_id for b in resident.bookings)


def offers_after_cancellation(workshop_ids: Sequence[int]) -> State:
    """Where a cancellation notice leaves the conversation: at its offers of other workshops, where one digit
    enrols (the notice said "answer with the number")."""
    return State(Step.WORKSHOP, {"offered": list(workshop_ids), "direct": True})
