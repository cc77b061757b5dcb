"""What a known resident is shown: the menu, and their workshops (MES ATELIERS)."""

from __future__ import annotations

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.turns import ResidentView, State, Step, Turn, World


def menu(resident: ResidentView, *, again: bool = False) -> Turn:
    text = say.not_understood_idle(resident.first_name) if again else say.menu(resident.first_name)
    return Turn(state=State(Step.MENU), replies=(Reply(text, say.MENU_CHOICES),), misunderstood=again)


def my_workshops(resident: ResidentView, world: World, *, signing_up: bool = False) -> Turn:
    if not resident.bookings:
        return Turn(state=None, replies=(Reply(say.my_workshops_none(signing_up=signing_up)),))
    lines = [
        say.my_workshop_line(b.workshop.starts_at, world.tz, b.workshop.venue, b.waiting_position, b.who or "")
        for b in resident.bookings
    ]
    return Turn(state=None, replies=(Reply(say.my_workshops(lines)),))
