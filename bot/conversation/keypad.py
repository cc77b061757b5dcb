"""What the keys of a phone call mean: menus as data. Pure: no I/O.

A call reads a message aloud, then offers a menu ("Si vous venez, tapez 1…"). Each menu maps a key to an action;
the service carries the action out through the same operations as the SMS words (1 = OUI, 2 = NON). A call's menu
is stored on its outbox row (``choices``), so that whatever process answers Twilio's request knows it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType


class Action(enum.StrEnum):
    confirm = "confirm"  # OUI: the person is coming
    give_up = "give_up"  # NON: the seat (or the place on the waiting list) is given up
    replay = "replay"  # hear the message again
    enrol = "enrol"  # take the other workshop offered
    callback = "callback"  # be called back by an adviser (CONSEILLER)
    next_workshop = "next_workshop"  # hear one's next workshop
    cancel_next = "cancel_next"  # cancel one's next workshop (asks for a confirmation key first)
    keep = "keep"  # change nothing


class Menu(enum.StrEnum):
    coming = "coming"  # a seat: reminder, freed seat, enrolment by an adviser, a move
    waiting = "waiting"  # a place on a waiting list
    offer = "offer"  # a cancelled workshop, another one offered
    listen = "listen"  # nothing to answer (a broadcast, a cancellation with nothing to offer)
    welcome = "welcome"  # someone called the territory's number
    cancel_next = "cancel_next"  # "tapez 1 pour confirmer l'annulation"


KEYS: MappingProxyType[Menu, MappingProxyType[str, Action]] = MappingProxyType(
    {
        Menu.coming: MappingProxyType({"1": Action.confirm, "2": Action.give_up, "3": Action.replay}),
        Menu.waiting: MappingProxyType({"2": Action.give_up, "3": Action.replay}),
        Menu.offer: MappingProxyType({"1": Action.enrol, "3": Action.replay}),
        Menu.listen: MappingProxyType({"3": Action.replay}),
        Menu.welcome: MappingProxyType({"1": Action.callback, "2": Action.next_workshop, "3": Action.cancel_next}),
        Menu.cancel_next: MappingProxyType({"1": Action.give_up, "2": Action.keep}),
    }
)
CHANGES = frozenset({Action.confirm, Action.give_up, Action.enrol, Action.callback})  # acted on once per call


@dataclass(frozen=True)
class CallMenu:
    """A menu and what it is about (the workshop offered, the enrolment to cancel), as stored on an outbox row."""

    menu: Menu
    subject: int | None = None

    def stored(self) -> tuple[str, ...]:
        return (self.menu.value,) if self.subject is None else (self.menu.value, str(self.subject))


def menu_of(choices: tuple[str, ...] | list[str]) -> CallMenu:
    """The menu stored on an outbox row; a row with none (or one this version does not know) offers replay only."""
    if not choices or choices[0] not in Menu.__members__:
        return CallMenu(Menu.listen)
    subject = choices[1] if len(choices) > 1 else ""
    return CallMenu(Menu(choices[0]), int(subject) if subject.isdigit() else None)


def action_for(menu: Menu, digits: str) -> Action | None:
    """The action of the first key pressed; None for a key the menu does not offer (or none)."""
    key = digits.strip()[:1]
    return KEYS[menu].get(key)
