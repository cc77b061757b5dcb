"""What every part of the dialogue shares: adding to a turn, reading a numbered choice, finding a workshop,
a commune's name, which bookings a wish names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.channels import Reply
from bot.conversation.turns import Booking, Effect, ResidentView, Turn, WorkshopOption, World
from bot.conversation.understanding.choices import match_choice
from bot.conversation.understanding.numbers import parse_number
from bot.conversation.understanding.text import words
from bot.conversation.understanding.when import Wish, read_wish

MAX_SAID = 200  # what a resident said, kept for the adviser who calls back


def with_more(
    turn: Turn, *, replies: tuple[Reply, ...] = (), effects: tuple[Effect, ...] = (), first: bool = False
) -> Turn:
    """The same turn with more replies/effects, before (``first``) or after its own."""
    if first:
        return replace(turn, replies=replies + turn.replies, effects=effects + turn.effects)
    return replace(turn, replies=turn.replies + replies, effects=turn.effects + effects)


def pick_number_or_words(text: str, choices: Sequence[str]) -> int | None:
    """A numbered choice, by its number, its label or its words; a number out of range is no choice at all (the
    words of a choice may contain digits: "9 h")."""
    exact = pick_line(text, choices)
    return exact if exact is not None else match_choice(text, choices)


def pick_line(text: str, labels: Sequence[str]) -> int | None:
    """A line chosen by its number or its exact label (a button)."""
    typed = " ".join(words(text))
    for index, label in enumerate(labels):
        if typed and typed == " ".join(words(label)):
            return index + 1
    number = parse_number(text, 99)
    return number if number is not None and number <= len(labels) else None


def workshop_by_id(world: World, workshop_id: int) -> WorkshopOption | None:
    return next((w for w in world.workshops if w.id == workshop_id), None)


def commune_name(world: World, insee: str) -> str:
    commune = world.territory.commune(insee)
    return commune.name if commune else insee


def interest_labels(world: World) -> tuple[str, ...]:
    return tuple(i.label for i in world.territory.interests)


def booking_wish(text: str, world: World) -> Wish:
    return read_wish(text, communes=world.communes)


def bookings_fitting(wish: Wish, resident: ResidentView, world: World) -> list[Booking]:
    return [b for b in resident.bookings if wish.fits(b.workshop.starts_at, world.tz, b.workshop.commune_insee)]
