"""The spoken form of each message, for the outbox rows of the voice channel.

Every operation that tells a resident something (a reminder, a freed seat, an adviser's enrolment, a change, a
broadcast) picks the resident's channel with ``address_of``; when it is ``Channel.voice`` (a landline), the row
holds what the call says (``bot.conversation.texts``, written for the ear) and the call's menu of keys
(``bot.conversation.keypad``), and it may ring only in the call hours. Nothing here decides who is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.keypad import CallMenu, Menu
from bot.scheduler.planning import next_allowed, next_call_at
from storage.enums import Channel
from storage.models import Workshop


@dataclass(frozen=True)
class Spoken:
    body: str  # said twice, after who is calling
    choices: tuple[str, ...]  # the call's menu, as stored on the row (``CallMenu.stored``)


COMING = CallMenu(Menu.coming).stored()
WAITING = CallMenu(Menu.waiting).stored()
LISTEN = CallMenu(Menu.listen).stored()


def place_of(workshop: Workshop) -> str:
    """Where the workshop is, as people say it: "à la mairie de Saint-Victor"."""
    return say.place_spoken(workshop.venue.name, workshop.venue.commune.name)


def reminder(workshop: Workshop, ctx: Context) -> Spoken:
    return Spoken(say.reminder_spoken(workshop.starts_at, ctx.tz, place_of(workshop)), COMING)


def promotion(workshop: Workshop, ctx: Context) -> Spoken:
    return Spoken(say.promotion_spoken(workshop.starts_at, ctx.tz, place_of(workshop)), COMING)


def seated(workshop: Workshop, ctx: Context, *, reminded: bool) -> Spoken:
    return Spoken(say.seated_spoken(workshop.starts_at, ctx.tz, place_of(workshop), reminded=reminded), COMING)


def waiting(workshop: Workshop, ctx: Context, *, position: int) -> Spoken:
    return Spoken(say.waiting_spoken(position, workshop.starts_at, ctx.tz, place_of(workshop)), WAITING)


def cancelled(*, starts_at: datetime, commune: str, reason: str, offer: Workshop | None, ctx: Context) -> Spoken:
    """One other workshop at most is offered by phone (key 1 takes it): a list of three is not heard, it is lost."""
    if offer is None:
        return Spoken(say.cancelled_spoken(starts_at, ctx.tz, commune, reason, offer=None), LISTEN)
    said = f"{say.when_spoken(offer.starts_at, ctx.tz)}, {place_of(offer)}"
    body = say.cancelled_spoken(starts_at, ctx.tz, commune, reason, offer=said)
    return Spoken(body, CallMenu(Menu.offer, offer.id).stored())


def moved(*, old_start: datetime, old_commune: str, workshop: Workshop, seated: bool, ctx: Context) -> Spoken:
    body = say.moved_spoken(
        old_start=old_start,
        old_commune=old_commune,
        new_start=workshop.starts_at,
        tz=ctx.tz,
        new_place=place_of(workshop),
        seated=seated,
    )
    return Spoken(body, COMING if seated else WAITING)


def broadcast(text: str) -> Spoken:
    return Spoken(say.broadcast_spoken(text), LISTEN)


def first_moment(*, ctx: Context, channel: str, now: datetime, urgent: bool) -> datetime:
    """When a message that is not an answer may first leave on ``channel``: a call keeps to the call hours (even
    an urgent one), the others to the sending window."""
    quiet = ctx.settings.quiet_hours
    if channel == Channel.voice:
        return next_call_at(now, hours=ctx.settings.call_hours, quiet_hours=quiet, tz=ctx.tz)
    return next_allowed(now, urgent=urgent, quiet_hours=quiet, tz=ctx.tz)
