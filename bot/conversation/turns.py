"""The dialogue's vocabulary, as types: what it is given (the resident, the world, the stored state) and what it
returns (a ``Turn``: the new state, the replies with their choices, the effects for the service to apply).

Pure data, no behaviour beyond small properties: ``dialogue`` decides, ``bot.service.inbound`` applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from bot.channels import Reply
from bot.conversation.phones import SERVED_BY_DEFAULT
from bot.conversation.understanding.communes import CommuneIndex, FranceIndex
from bot.conversation.understanding.names import first_name_of
from bot.territory import Territory
from storage.enums import Level


class Step(StrEnum):
    NAME = "name"
    COMPANION = "companion"  # the name of the second person coming
    COMMUNE = "commune"
    COMMUNE_PICK = "commune_pick"
    LEVEL = "level"
    INTERESTS = "interests"
    WORKSHOP = "workshop"
    CONFIRM_WORKSHOP = "confirm_workshop"
    WAITLIST = "waitlist"
    MENU = "menu"
    CANCEL_PICK = "cancel_pick"
    CANCEL_CONFIRM = "cancel_confirm"
    MOVE_PICK = "move_pick"  # which booking to move
    FORGET_CONFIRM = "forget_confirm"
    CALLBACK_PHONE = "callback_phone"


SIGNUP_STEPS = frozenset(
    {
        Step.NAME,
        Step.COMPANION,
        Step.COMMUNE,
        Step.COMMUNE_PICK,
        Step.LEVEL,
        Step.INTERESTS,
        Step.WORKSHOP,
        Step.CONFIRM_WORKSHOP,
    }
)


# --- What the dialogue is given -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkshopOption:
    id: int
    starts_at: datetime
    level: Level
    topic: str
    venue: str
    address: str
    commune_insee: str
    commune: str
    latitude: float
    longitude: float
    free_seats: int
    ends_at: datetime | None = None  # None: taken as two hours after the start

    @property
    def until(self) -> datetime:
        return self.ends_at or self.starts_at + timedelta(hours=2)

    def overlaps(self, other: WorkshopOption) -> bool:
        return self.starts_at < other.until and other.starts_at < self.until


@dataclass(frozen=True)
class Booking:
    """One of the resident's active enrolments in an upcoming workshop (or of someone who shares their phone)."""

    enrolment_id: int
    workshop: WorkshopOption
    waiting_position: int | None  # None: seated
    confirmed: bool | None = None
    who: str | None = None  # the first name of the companion it is for; None: the resident themself


@dataclass(frozen=True)
class ResidentView:
    name: str | None = None
    commune_insee: str | None = None
    level: Level | None = None
    interests: tuple[str, ...] = ()
    has_phone: bool = False
    opted_out: bool = False  # on the channel this message came from
    contact_offered: bool = True  # the Telegram "share my number" button was offered already
    bookings: tuple[Booking, ...] = ()
    asked_about: int | None = None  # the enrolment our latest reminder or notice was about: OUI/NON answers it
    asked_at: datetime | None = None  # when that reminder or notice was sent

    @property
    def registered(self) -> bool:
        return bool(self.name and self.commune_insee and self.level)

    @property
    def first_name(self) -> str:
        return first_name_of(self.name or "")


@dataclass(frozen=True)
class World:
    now: datetime
    tz: tzinfo
    territory: Territory
    communes: CommuneIndex
    workshops: tuple[WorkshopOption, ...]  # upcoming, planned, past the sign-up cut-off
    france: FranceIndex | None = None  # every French commune, to name a place outside the territory
    served_countries: tuple[str, ...] = SERVED_BY_DEFAULT  # numbers of other countries are not called back

    @property
    def phone(self) -> str:
        return self.territory.contact.phone


@dataclass(frozen=True)
class State:
    step: Step
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


# --- What the dialogue returns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveProfile:
    name: str
    commune_insee: str
    level: Level
    interests: tuple[str, ...]


@dataclass(frozen=True)
class Enrol:
    workshop_id: int
    allow_waiting: bool
    companion: str | None = None  # a second person, on the same phone, seated with the resident


@dataclass(frozen=True)
class MoveBooking:
    """Give up these enrolments (one person, or two coming together) for seats in another workshop: one
    operation, in one transaction, the freed seats offered to the people waiting."""

    enrolment_ids: tuple[int, ...]
    workshop_id: int


@dataclass(frozen=True)
class CancelEnrolment:
    enrolment_id: int


@dataclass(frozen=True)
class ConfirmAttendance:
    enrolment_id: int


@dataclass(frozen=True)
class OptOut:
    pass


@dataclass(frozen=True)
class OptIn:
    pass


@dataclass(frozen=True)
class Erase:
    pass


@dataclass(frozen=True)
class RequestCallback:
    phone: str | None = None  # a number given in the conversation (Telegram residents may have none on file)
    name: str | None = None  # given during a sign-up not finished yet: the adviser knows whom they call
    commune_insee: str | None = None  # likewise; it also says which advisers to tell
    reason: str | None = None  # what the resident said they need ("je n'ai pas de voiture")


@dataclass(frozen=True)
class ContactOffered:
    pass


Effect = (
    SaveProfile
    | Enrol
    | MoveBooking
    | CancelEnrolment
    | ConfirmAttendance
    | OptOut
    | OptIn
    | Erase
    | RequestCallback
    | ContactOffered
)


@dataclass(frozen=True)
class Turn:
    state: State | None  # None: no conversation in progress (the stored one is removed)
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
    misunderstood: bool = False  # the message was not understood: the question is asked again


class EnrolOutcome(StrEnum):
    SEATED = "seated"
    WAITING = "waiting"
    FULL = "full"  # the last seat went to someone else meanwhile
    UNAVAILABLE = "unavailable"  # cancelled or started meanwhile
