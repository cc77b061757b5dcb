"""Changing a workshop — cancel, move, edit — and telling everyone concerned: the one home of it.

Each change has three parts, all here:

- the plan (``cancel_workshop_plan``, ``move_workshop_plan``, ``edit_workshop_plan``): checks the request and
  changes the rows inside the caller's transaction, and says who is concerned and what changed; a refusal is a
  ``WorkshopError`` raised before anything is written;
- the notices (``cancel_workshop_and_notify``, ``move_workshop_and_notify``, ``edit_workshop_and_notify``): the
  plan and, in the same transaction, what follows for the people seated or waiting — a notice through their own
  channel that says exactly what changed (old → new), their reminders cancelled or planned again, and, for a
  cancellation, the nearest next workshops of the same level offered as numbered choices (the conversation is left
  at the dialogue's offer, so that a reply "2" is understood); for an edit that raises the capacity, the people
  waiting seated in order and told. People who cannot be reached are listed for the adviser to phone (and on the
  "to call" list);
- the preview (``preview=True``): the same operation in a transaction that is rolled back, so that what the
  adviser is asked to confirm is exactly what confirming does.

Notices are not answers: they wait for the sending window, except a change within the next 24 hours, which is
urgent (it may leave in quiet hours, never 22:00–07:00). Idempotency keys name the change, so a retried
transaction notifies once; a notice about an earlier change not yet sent is replaced, so that nobody hears
"moved to Thursday" after "cancelled", and the new notice starts from what the resident was last told (kept as
data on the notice's outbox row, ``OutboundMessage.change``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.dialogue import offers_after_cancellation
from bot.conversation.offers import MAX_OFFERED, nearest_workshops
from bot.conversation.phones import national
from bot.conversation.turns import World
from bot.scheduler.planning import URGENT_WITHIN, is_urgent_change, next_allowed
from bot.service import spoken
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.calls import cancelled_script, moved_script, record_calls
from bot.service.departures import DepartureGroup, departure_lines, departures_of
from bot.service.inbound import build_world, keep_state
from bot.service.planning_csv import (
    MAX_TOPIC,
    WorkshopFieldsError,
    find_commune,
    local_to_utc,
    parse_capacity,
    parse_date,
    parse_time,
    plain,
    venue_for,
)
from bot.service.previews import write_or_preview
from bot.service.recipients import TO_PHONE_REASON_FR, ToPhone, address_of, person_to_phone, speaks_for, why_unreachable
from bot.service.reminders import Promoted, notify_promotion, replan_workshop
from bot.service.workshops import (
    WorkshopError,
    WorkshopSummary,
    active_enrolments,
    adviser_named,
    existing_workshop,
    find_or_add_venue,
    get_workshop,
    load_summary,
)
from bot.territory import Territory
from storage import seats
from storage.calls import NewCall, close_superseded
from storage.catalogue import active_bookings
from storage.conversations import forget_conversation, load_conversation
from storage.enums import Channel
from storage.models import (
    CallKind,
    Enrolment,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    Resident,
    Venue,
    Workshop,
    WorkshopStatus,
)
from storage.outbox.queueing import NewMessage, cancel_pending, enqueue, pending_about_workshop

log = logging.getLogger(__name__)

# What a cancelled workshop makes moot: its reminders, a promotion, a confirmation or an adviser's message to its
# participants ("bring your tablet") not yet sent.
MOOT_WHEN_CANCELLED = (MessageKind.reminder, MessageKind.promotion, MessageKind.confirmation, MessageKind.broadcast)
_STAMP = "%Y%m%dT%H%M%z"  # no colon: the stamps are fields of a colon-separated idempotency key


# ---------------------------------------------------------------------------------------------------------------
# What is asked, what changed


@dataclass(frozen=True)
class Place:
    venue_id: int
    venue: str
    address: str
    commune_insee: str
    commune: str


@dataclass(frozen=True)
class MoveRequest:
    """What the adviser typed; None = unchanged."""

    date: str | None = None
    start: str | None = None
    end: str | None = None
    commune: str | None = None
    venue: str | None = None
    address: str | None = None

    def is_empty(self) -> bool:
        return all(value is None or not value.strip() for value in self.__dict__.values())


@dataclass(frozen=True)
class WorkshopCancelled:
    workshop: WorkshopSummary  # as it was just before the cancellation
    reason: str
    concerned: tuple[Enrolment, ...]  # seated and waiting, seated first: the people to tell


@dataclass(frozen=True)
class WorkshopMoved:
    workshop: WorkshopSummary  # as it was just before the move
    old_start: datetime
    old_end: datetime
    new_start: datetime
    new_end: datetime
    old_place: Place
    new_place: Place
    concerned: tuple[Enrolment, ...]  # seated and waiting, seated first: the people to tell

    @property
    def time_changed(self) -> bool:
        return (self.old_start, self.old_end) != (self.new_start, self.new_end)

    @property
    def place_changed(self) -> bool:
        return self.old_place.venue_id != self.new_place.venue_id


@dataclass(frozen=True)
class WhenWhere:
    starts_at: datetime
    ends_at: datetime
    venue_id: int
    venue: str
    address: str
    commune: str


@dataclass(frozen=True)
class Concerned:
    """Someone seated or waiting when the change was made."""

    resident_id: int
    name: str | None
    status: EnrolmentStatus
    position: int | None  # on the waiting list


@dataclass(frozen=True)
class PlannedNotice:
    """One message a change queues (or would queue, in a preview): to whom, by which channel, what, and when."""

    resident_id: int
    name: str | None
    channel: str
    to_address: str
    body: str
    choices: tuple[str, ...]
    due_at: datetime
    urgent: bool


@dataclass(frozen=True)
class ChangeReport:
    action: Literal["cancelled", "moved"]
    workshop: WorkshopSummary  # as it is after the change (a preview: as it still is)
    old: WhenWhere
    new: WhenWhere | None  # None for a cancellation
    to_phone: tuple[ToPhone, ...]
    unchanged_for: int  # people whose last notice, not sent yet, already said what is now true: nothing to tell
    urgent: bool
    due_at: datetime | None  # when the notices may leave (None: nobody to tell)
    reminders_cancelled: int
    reminders_planned: int
    reason: str | None = None
    changed_at: datetime | None = None  # when the adviser made the change
    reason_shortened: bool = False  # a notice had to shorten or leave out the reason to fit in three SMS
    concerned: tuple[Concerned, ...] = ()  # seated, then waiting in order
    notices: tuple[PlannedNotice, ...] = ()  # every message queued, in order
    preview: bool = False  # nothing was written: this is what confirming would do
    departures: tuple[DepartureGroup, ...] = ()  # when the notices leave, and why some wait

    @property
    def told(self) -> dict[str, int]:
        """Notices queued, per channel."""
        return dict(Counter(notice.channel for notice in self.notices))

    @property
    def told_total(self) -> int:
        return len(self.notices)


@dataclass(frozen=True)
class Told:
    """Where and when a notice said the workshop was, before the change it announces: kept on its outbox row
    (``OutboundMessage.change``), so that a later notice replacing it, unsent, starts from there."""

    starts_at: datetime
    venue_id: int

    def as_data(self) -> dict[str, Any]:
        return {"from": {"starts_at": self.starts_at.isoformat(), "venue_id": self.venue_id}}

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> Told | None:
        told = (data or {}).get("from")
        if not isinstance(told, dict):
            return None
        return cls(datetime.fromisoformat(str(told["starts_at"])), int(told["venue_id"]))


# ---------------------------------------------------------------------------------------------------------------
# Planning a change: the rows, inside the caller's transaction


def _place_of(summary: WorkshopSummary) -> Place:
    return Place(summary.venue_id, summary.venue, summary.address, summary.commune_insee, summary.commune)


async def _changeable(
    *, session: AsyncSession, workshop_id: int, now: datetime, verb: str
) -> tuple[WorkshopSummary, Workshop]:
    """The workshop, locked, if it can still be changed: planned and not started."""
    workshop = await seats.lock_workshop(session=session, workshop_id=workshop_id)
    summary = await load_summary(session=session, workshop_id=workshop_id)
    if workshop is None:  # load_summary has refused an unknown id already; this narrows the type
        raise WorkshopError(f"l'atelier n°{workshop_id} n'existe pas")
    if summary.status == WorkshopStatus.cancelled:
        raise WorkshopError(f"l'atelier n°{workshop_id} est déjà annulé : il ne peut pas être {verb}")
    if summary.starts_at <= now:
        raise WorkshopError(f"l'atelier n°{workshop_id} a déjà commencé : il ne peut plus être {verb}")
    return summary, workshop


async def cancel_workshop_plan(
    *, session: AsyncSession, workshop_id: int, reason: str, now: datetime
) -> WorkshopCancelled:
    """Cancel inside the caller's transaction; says who is concerned (``cancel_workshop_and_notify`` tells them)."""
    reason = " ".join(reason.split())
    if not reason:
        raise WorkshopError("indiquez la raison de l'annulation (--reason), elle sera donnée aux inscrits")
    before, _ = await _changeable(session=session, workshop_id=workshop_id, now=now, verb="annulé")
    concerned = await seats.cancel_workshop(session=session, workshop_id=workshop_id, reason=reason, now=now)
    if concerned is None:  # cancelled by someone else between the check and the lock
        raise WorkshopError(f"l'atelier n°{workshop_id} est déjà annulé")
    return WorkshopCancelled(workshop=before, reason=reason, concerned=tuple(concerned))


def _new_times(before: WorkshopSummary, change: MoveRequest, tz: tzinfo, now: datetime) -> tuple[datetime, datetime]:
    """The new start and end: what was typed, the rest kept; a new start without an end keeps the length."""
    old_start, old_end = before.starts_at.astimezone(tz), before.ends_at.astimezone(tz)
    try:
        day = parse_date(change.date) if change.date else old_start.date()
        start = parse_time(change.start, "heure de début") if change.start else old_start.time()
        end = parse_time(change.end, "heure de fin") if change.end else None
        new_start = local_to_utc(day, start, tz)
        if end is not None:
            new_end = local_to_utc(day, end, tz)
        elif change.start:
            new_end = new_start + (before.ends_at - before.starts_at)
        else:
            new_end = local_to_utc(day, old_end.time(), tz)
    except WorkshopFieldsError as exc:
        raise WorkshopError(*exc.problems) from None
    if new_end <= new_start:
        raise WorkshopError(
            f"la fin ({new_end.astimezone(tz):%H:%M}) doit venir après le début ({new_start.astimezone(tz):%H:%M})"
        )
    if new_start <= now:
        raise WorkshopError(f"la nouvelle date est passée ({new_start.astimezone(tz):%d/%m/%Y à %H:%M})")
    return new_start, new_end


async def _new_place(
    *, session: AsyncSession, territory: Territory, before: WorkshopSummary, change: MoveRequest
) -> Place:
    """Where the workshop will be: the same place unless a commune, venue or address is given."""
    if not any((change.commune, change.venue, change.address)):
        return _place_of(before)
    try:
        commune = find_commune(change.commune, territory) if change.commune else territory.commune(before.commune_insee)
        if commune is None:
            raise WorkshopError("la commune de l'atelier n'est plus dans le territoire : indiquez --commune")
        name = change.venue or ""
        if not name and not change.address and commune.insee == before.commune_insee:
            name = before.venue  # --commune naming the commune it is already in: the venue stays
        name, address = venue_for(commune=commune, venue=name, address=change.address or "", territory=territory)
    except WorkshopFieldsError as exc:
        raise WorkshopError(*exc.problems) from None
    venue = await find_or_add_venue(
        session=session, territory=territory, commune_insee=commune.insee, name=name, address=address
    )
    given, known = plain(change.address or ""), plain(venue.address)
    if given and given not in known and known not in given:  # a known venue keeps its address: say so, not "moved"
        raise WorkshopError(
            f"le lieu « {venue.name} » à {commune.name} est connu à l'adresse « {venue.address} » ; pour une autre "
            "adresse, donnez un autre nom de lieu (--venue)"
        )
    return Place(venue.id, venue.name, venue.address, commune.insee, commune.name)


async def move_workshop_plan(
    *, session: AsyncSession, territory: Territory, tz: tzinfo, now: datetime, workshop_id: int, change: MoveRequest
) -> WorkshopMoved:
    """Move (date, times, venue) inside the caller's transaction; says who is concerned and what changed
    (``move_workshop_and_notify`` tells them). A new start without a new end keeps the workshop's length."""
    if change.is_empty():
        raise WorkshopError("rien à changer : indiquez --date, --start, --end, --commune, --venue ou --address")
    before, workshop = await _changeable(session=session, workshop_id=workshop_id, now=now, verb="déplacé")
    new_start, new_end = _new_times(before, change, tz, now)
    new_place = await _new_place(session=session, territory=territory, before=before, change=change)
    if (new_start, new_end, new_place.venue_id) == (before.starts_at, before.ends_at, before.venue_id):
        raise WorkshopError(f"l'atelier n°{workshop_id} a déjà cette date, cet horaire et ce lieu : rien ne change")
    twin = await existing_workshop(
        session=session, venue_id=new_place.venue_id, starts_at=new_start, level=workshop.level, planned_only=True
    )
    if twin is not None and twin != workshop_id:  # the same refusal as `workshops add`: two groups would meet
        raise WorkshopError(f"l'atelier n°{twin} a déjà lieu à ce lieu, à cette heure et pour ce niveau")
    workshop.starts_at, workshop.ends_at, workshop.venue_id = new_start, new_end, new_place.venue_id
    workshop.updated_at = now
    await session.flush()
    # The new venue_id does not reload ``workshop.venue``: without this, the reminders planned again in this
    # transaction would name the old place.
    await session.refresh(workshop, attribute_names=["venue"])
    return WorkshopMoved(
        workshop=before,
        old_start=before.starts_at,
        old_end=before.ends_at,
        new_start=new_start,
        new_end=new_end,
        old_place=_place_of(before),
        new_place=new_place,
        concerned=await active_enrolments(session=session, workshop_id=workshop_id),
    )


@dataclass(frozen=True)
class WorkshopEdit:
    """What the adviser changes without cancelling or moving the workshop; None = unchanged.

    ``capacity``: the number of seats (written as typed, "8", or a number); ``adviser``: the adviser in charge by
    name or number (a registered adviser; "aucun" for nobody)."""

    capacity: int | str | None = None
    topic: str | None = None
    adviser: str | None = None

    def is_empty(self) -> bool:
        return self.capacity is None and self.topic is None and self.adviser is None


@dataclass(frozen=True)
class WorkshopEdited:
    workshop: WorkshopSummary  # as it was just before the edit
    capacity: tuple[int, int] | None  # (before, after) when it changed
    topic: tuple[str, str] | None
    adviser: tuple[str | None, str | None] | None
    promoted: tuple[Enrolment, ...]  # seated from the waiting list by a larger capacity, in order
    too_late: bool  # a larger capacity, but too close to the start to seat anyone (ATELIER_PROMOTION_CUTOFF)


NOBODY = ("aucun", "aucune", "personne", "-")


def _new_capacity(before: WorkshopSummary, value: int | str | None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        capacity = parse_capacity(value)
    except WorkshopFieldsError as exc:
        raise WorkshopError(*exc.problems) from None
    if capacity < before.seated:
        raise WorkshopError(
            f"{before.seated} personnes ont déjà une place : le nombre de places ne peut pas descendre sous "
            f"{before.seated} (désinscrivez d'abord quelqu'un : atelier residents unenrol)"
        )
    return capacity


def _new_topic(value: str | None) -> str | None:
    if value is None:
        return None
    topic = " ".join(value.split())
    if not topic:
        raise WorkshopError("le thème ne peut pas être vide")
    if len(topic) > MAX_TOPIC:
        raise WorkshopError(f"le thème est trop long ({len(topic)} caractères, {MAX_TOPIC} au plus)")
    return topic


async def edit_workshop_plan(
    *, session: AsyncSession, workshop_id: int, edit: WorkshopEdit, now: datetime, promotion_cutoff: timedelta
) -> WorkshopEdited:
    """Change the capacity, the topic or the adviser in charge inside the caller's transaction. A larger capacity
    seats the people waiting, in order (``edit_workshop_and_notify`` tells them), unless the workshop starts within
    ``promotion_cutoff``; a capacity below the seats taken is refused."""
    if edit.is_empty():
        raise WorkshopError("rien à changer : indiquez --capacity, --topic ou --adviser")
    before, workshop = await _changeable(session=session, workshop_id=workshop_id, now=now, verb="modifié")
    capacity, topic = _new_capacity(before, edit.capacity), _new_topic(edit.topic)
    adviser_change: tuple[str | None, str | None] | None = None
    if edit.adviser is not None and edit.adviser.strip():
        owner = None if plain(edit.adviser) in NOBODY else await adviser_named(session=session, name=edit.adviser)
        if (owner.id if owner else None) != workshop.adviser_id:
            adviser_change = (before.adviser, owner.name if owner else None)
            workshop.adviser_id = owner.id if owner else None
    capacity_change = (before.capacity, capacity) if capacity is not None and capacity != before.capacity else None
    topic_change = (before.topic, topic) if topic is not None and topic != before.topic else None
    if capacity_change is None and topic_change is None and adviser_change is None:
        raise WorkshopError(f"l'atelier n°{workshop_id} est déjà ainsi : rien ne change")
    if capacity is not None:
        workshop.capacity = capacity
    if topic is not None:
        workshop.topic = topic
    workshop.updated_at = now
    await session.flush()
    promoted: list[Enrolment] = []
    too_late = capacity_change is not None and capacity_change[1] > capacity_change[0]
    if too_late and now < workshop.starts_at - promotion_cutoff:
        too_late = False
        promoted = await seats.fill_free_seats(session=session, workshop_id=workshop_id, now=now)
    too_late = too_late and before.waiting > 0
    return WorkshopEdited(before, capacity_change, topic_change, adviser_change, tuple(promoted), too_late)


# ---------------------------------------------------------------------------------------------------------------
# When notices leave


def notice_timing(*, ctx: Context, starts_at: datetime, now: datetime) -> tuple[bool, datetime]:
    """(urgent, due) for a notice about a workshop starting at ``starts_at``.

    Urgent when the workshop is within 24 hours. A notice that can wait for the window, but whose window opens
    less than 24 hours before the workshop (a Saturday-evening change for Monday morning), leaves as an urgent
    one from the moment it becomes urgent instead.
    """
    quiet, tz = ctx.settings.quiet_hours, ctx.tz
    if is_urgent_change(starts_at=starts_at, now=now):
        return True, next_allowed(now, urgent=True, quiet_hours=quiet, tz=tz)
    due = next_allowed(now, urgent=False, quiet_hours=quiet, tz=tz)
    if not is_urgent_change(starts_at=starts_at, now=due):
        return False, due
    urgent_due = next_allowed(max(now, starts_at - URGENT_WITHIN), urgent=True, quiet_hours=quiet, tz=tz)
    return True, min(due, urgent_due)


# ---------------------------------------------------------------------------------------------------------------
# Shared pieces of the notices


def _where(summary: WorkshopSummary) -> WhenWhere:
    return WhenWhere(
        summary.starts_at, summary.ends_at, summary.venue_id, summary.venue, summary.address, summary.commune
    )


def _concerned(enrolments: Sequence[Enrolment]) -> tuple[Concerned, ...]:
    return tuple(Concerned(e.resident_id, e.resident.name, e.status, e.position) for e in enrolments)


CARRIED_OVER = (MessageKind.promotion, MessageKind.confirmation)  # about one seat, still true after a move
NOTICE_AFTER = timedelta(minutes=1)  # a move notice leaves this long after the person's carried-over message


async def _carry_over_unsent(*, session: AsyncSession, ctx: Context, moved: WorkshopMoved) -> dict[int, datetime]:
    """A promotion or a phone enrolment's confirmation not sent yet must still reach its person, who has heard
    nothing else: it is rewritten for the new time and place (the phrases its own functions wrote are swapped),
    rather than dropped at send time as outdated. Returns, per resident, when their rewritten message is due (the
    move notice must come after it)."""
    old, new = moved.old_place, moved.new_place
    swaps = [
        (say.when_fr(moved.old_start, ctx.tz), say.when_fr(moved.new_start, ctx.tz)),
        (say.venue_label(old.venue, old.commune), say.venue_label(new.venue, new.commune)),
        (old.address, new.address),
        # the same message said by a call (a landline): its spoken phrases
        (say.when_spoken(moved.old_start, ctx.tz), say.when_spoken(moved.new_start, ctx.tz)),
        (say.place_spoken(old.venue, old.commune), say.place_spoken(new.venue, new.commune)),
    ]
    rows = await pending_about_workshop(session=session, workshop_id=moved.workshop.id, kinds=CARRIED_OVER)
    for row in rows:
        for before, after in swaps:
            if before and before != after:
                row.body = row.body.replace(before, after)
        row.expires_at = moved.new_start  # a seat's message expires when the workshop starts
    return {row.resident_id: row.due_at for row in rows if row.resident_id is not None}


async def _replace_unsent_notices(*, session: AsyncSession, workshop_id: int) -> dict[int, Told]:
    """Cancel the change notices of this workshop not sent yet; returns, per resident, where and when their first
    unsent notice started from (what they were last told), so the new notice starts from there."""
    rows = await pending_about_workshop(session=session, workshop_id=workshop_id, kinds=(MessageKind.change_notice,))
    known: dict[int, Told] = {}
    for row in rows:  # oldest first
        told = Told.of(row.change)
        if row.resident_id is not None and row.resident_id not in known and told is not None:
            known[row.resident_id] = told
        row.status, row.error = MessageStatus.cancelled, "replaced by a later change"
    return known


async def _venue_commune(session: AsyncSession, venue_id: int) -> str | None:
    venue = await session.get(Venue, venue_id)
    return venue.commune.name if venue is not None else None


@dataclass
class _Tally:
    to_phone: list[ToPhone] = field(default_factory=list)
    unchanged: int = 0
    notices: list[PlannedNotice] = field(default_factory=list)
    queued_ids: list[int] = field(default_factory=list)  # the notices queued (their ids): when they leave
    calls: list[NewCall] = field(default_factory=list)  # the people to phone, for the advisers' "to call" list

    def queued(self, resident: Resident, message: NewMessage, message_id: int) -> None:
        self.queued_ids.append(message_id)
        self.notices.append(
            PlannedNotice(
                resident.id, resident.name, message.channel, message.to_address, message.body,
                tuple(message.choices or ()), message.due_at, message.urgent,
            )
        )  # fmt: skip

    def summary(self) -> str:
        """The audit trail's account of the notices: how many queued, how many people to phone."""
        return f"{len(self.notices)} message(s) prévu(s), {len(self.to_phone)} personne(s) à appeler"


async def _record_calls(session: AsyncSession, ctx: Context, workshop_id: int, tally: _Tally, now: datetime) -> None:
    """The people no notice can reach go on the "to call" list (the adviser in charge is told); a call about an
    earlier change of the same workshop, not made yet, is replaced."""
    people = [call.resident_id for call in tally.calls]
    await close_superseded(
        session=session, workshop_id=workshop_id, kind=CallKind.change_notice, resident_ids=people, now=now
    )
    await record_calls(session=session, ctx=ctx, calls=tally.calls)


async def _report(
    ctx: Context,
    tally: _Tally,
    *,
    action: Literal["cancelled", "moved"],
    workshop_id: int,
    actor: Actor,
    old: WhenWhere,
    new: WhenWhere | None,
    timing: tuple[bool, datetime],
    reminders: tuple[int, int],  # (cancelled, planned)
    changed_at: datetime,
    concerned: tuple[Concerned, ...],
    departures: tuple[DepartureGroup, ...],
    preview: bool,
    reason: str | None = None,
    reason_shortened: bool = False,
) -> ChangeReport:
    """After the change's transaction: the dispatcher woken (unless a preview), and the adviser's report."""
    if not preview:
        ctx.wake_dispatcher()
        log.info(
            "workshop %s %s by %s: %s notices, %s to phone", workshop_id, action, actor.label,
            len(tally.notices), len(tally.to_phone),
        )  # fmt: skip
    urgent, due = timing
    return ChangeReport(
        action=action,
        workshop=await get_workshop(ctx=ctx, workshop_id=workshop_id),
        old=old,
        new=new,
        to_phone=tuple(tally.to_phone),
        unchanged_for=tally.unchanged,
        urgent=urgent,
        due_at=due if concerned else None,
        reminders_cancelled=reminders[0],
        reminders_planned=reminders[1],
        reason=reason,
        changed_at=changed_at,
        reason_shortened=reason_shortened,
        concerned=concerned,
        notices=tuple(tally.notices),
        preview=preview,
        departures=departures,
    )


async def _queue_notice(
    *,
    session: AsyncSession,
    ctx: Context,
    tally: _Tally,
    enrolment: Enrolment,
    destination: tuple[Channel, str],
    said: tuple[str, tuple[str, ...]],  # body, choices
    timing: tuple[bool, datetime],  # urgent, due
    expires_at: datetime,
    key: str,
    change: dict[str, Any] | None = None,
) -> bool:
    """Queue one person's change notice (a call: from the first moment one may ring) and count it; False when a
    notice with this key was queued already (a retried transaction)."""
    channel, address = destination
    urgent, due = timing
    if channel == Channel.voice:
        due = spoken.first_moment(ctx=ctx, channel=channel, now=due, urgent=urgent)
    notice = NewMessage(
        channel=channel,
        to_address=address,
        body=said[0],
        choices=said[1],
        kind=MessageKind.change_notice,
        due_at=due,
        expires_at=expires_at,
        urgent=urgent,
        idempotency_key=key,
        resident_id=enrolment.resident_id,
        workshop_id=enrolment.workshop_id,
        enrolment_id=enrolment.id,
        change=change,
    )
    queued = await enqueue(session=session, message=notice)
    if queued is None:
        return False
    tally.queued(enrolment.resident, notice, queued)
    return True


def _change_call(enrolment: Enrolment, *, key: str, what_to_say: str, now: datetime) -> NewCall:
    return NewCall(
        key=key,
        kind=CallKind.change_notice,
        resident_id=enrolment.resident_id,
        what_to_say=what_to_say,
        created_at=now,
        reason=why_unreachable(enrolment.resident),
        workshop_id=enrolment.workshop_id,
        enrolment_id=enrolment.id,
    )


# ---------------------------------------------------------------------------------------------------------------
# Cancelling


async def cancel_workshop_and_notify(
    *, ctx: Context, workshop_id: int, reason: str, actor: Actor, preview: bool = False
) -> ChangeReport:
    """Cancel the workshop and tell everyone seated or waiting, offering the nearest next workshops of the same
    level that have a free seat. Raises ``WorkshopError`` (nothing changed) when it cannot be cancelled.
    ``preview``: report what confirming would do, and write nothing."""
    now = ctx.now()
    tally = _Tally()
    async with write_or_preview(ctx, preview=preview) as session:
        cancelled = await cancel_workshop_plan(session=session, workshop_id=workshop_id, reason=reason, now=now)
        before = cancelled.workshop
        urgent, due = notice_timing(ctx=ctx, starts_at=before.starts_at, now=now)
        moot = await cancel_pending(session=session, workshop_id=workshop_id, kinds=MOOT_WHEN_CANCELLED)
        known = await _replace_unsent_notices(session=session, workshop_id=workshop_id)
        world = await build_world(session=session, ctx=ctx, now=now)
        shortened = False
        residents = {e.resident_id for e in cancelled.concerned}
        for enrolment in cancelled.concerned:
            if speaks_for(enrolment.resident, residents):
                continue  # two people, one phone: the notice to that phone is for both
            told_all = await _tell_cancelled(
                session=session, ctx=ctx, world=world, enrolment=enrolment, cancelled=cancelled, known=known,
                timing=(urgent, due), now=now, tally=tally,
            )  # fmt: skip
            shortened = shortened or not told_all
        concerned = _concerned(cancelled.concerned)  # read in the transaction: its rows expire at its end
        await _record_calls(session, ctx, workshop_id, tally, now)
        departures = await departures_of(session=session, ctx=ctx, message_ids=tally.queued_ids, now=now)
        await record(
            session=session, actor=actor, action="workshop_cancelled", at=now, workshop_id=workshop_id,
            summary=f"atelier n°{workshop_id} annulé : {cancelled.reason} ; {tally.summary()}",
        )  # fmt: skip
    return await _report(
        ctx, tally, action="cancelled", workshop_id=workshop_id, actor=actor, old=_where(before), new=None,
        timing=(urgent, due), reminders=(moot, 0), changed_at=now, concerned=concerned,
        departures=departures, preview=preview, reason=cancelled.reason, reason_shortened=shortened,
    )  # fmt: skip


async def _tell_cancelled(
    *,
    session: AsyncSession,
    ctx: Context,
    world: World,
    enrolment: Enrolment,
    cancelled: WorkshopCancelled,
    known: dict[int, Told],
    timing: tuple[bool, datetime],
    now: datetime,
    tally: _Tally,
) -> bool:
    """Queue one person's cancellation notice, with its offers; False when the reason had to be shortened."""
    resident, before = enrolment.resident, cancelled.workshop
    destination = address_of(resident, calls=ctx.settings.calls_enabled)
    if destination is None:
        tally.to_phone.append(person_to_phone(resident, status=enrolment.status.value))
        script = cancelled_script(starts_at=before.starts_at, commune=before.commune, reason=cancelled.reason, ctx=ctx)
        tally.calls.append(
            _change_call(enrolment, key=f"cancel:{before.id}:{resident.id}", what_to_say=script, now=now)
        )
        return True
    channel, address = destination
    booked = [e.workshop_id for e in await active_bookings(session=session, resident_id=resident.id, now=now)]
    offers = [
        w
        for w in nearest_workshops(
            world=world,
            commune_insee=resident.commune_insee or before.commune_insee,
            level=before.level,
            exclude=booked,
        )
        if w.free_seats > 0
    ][:MAX_OFFERED]
    choices = tuple(say.workshop_line(w.starts_at, ctx.tz, w.commune) for w in offers)
    start, commune = before.starts_at, before.commune
    if resident.id in known:
        start = known[resident.id].starts_at
        commune = await _venue_commune(session, known[resident.id].venue_id) or commune
    body = say.workshop_cancelled_notice(
        start, ctx.tz, commune, cancelled.reason, offers=choices, phone=ctx.territory.contact.phone
    )
    if channel == Channel.voice:  # a landline: said by a call, with the nearest other workshop (key 1 takes it)
        offer = await session.get(Workshop, offers[0].id) if offers else None
        said = spoken.cancelled(starts_at=start, commune=commune, reason=cancelled.reason, offer=offer, ctx=ctx)
        body, choices, offers = said.body, said.choices, []
    queued = await _queue_notice(
        session=session, ctx=ctx, tally=tally, enrolment=enrolment, destination=destination, said=(body, choices),
        timing=timing, expires_at=before.starts_at, key=f"cancel:{before.id}:{resident.id}",
    )  # fmt: skip
    if queued and offers:
        # A reply "2" must reach the dialogue's offer; its idle restart counts from the moment the notice may
        # leave, not from now.
        existing = await load_conversation(session=session, channel=channel, address=address)
        state = offers_after_cancellation([w.id for w in offers])
        await keep_state(
            session=session, existing=existing, channel=channel, address=address, resident_id=resident.id,
            state=state, now=timing[1],
        )  # fmt: skip
    return " ".join(cancelled.reason.split()) in body


# ---------------------------------------------------------------------------------------------------------------
# Moving


def _text(value: date | time | str | None, kind: Literal["date", "time"]) -> str | None:
    """What ``MoveRequest`` reads: a typed string, or a date / time object written as the planning CSV does."""
    if value is None or isinstance(value, str):
        return value
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return f"{value:%H:%M}"
    raise WorkshopError(f"valeur inattendue : {value!r}")


async def _change_request(
    *,
    session: AsyncSession,
    new_date: date | str | None,
    new_start: time | str | None,
    new_end: time | str | None,
    venue_id: int | None,
) -> MoveRequest:
    commune = venue = None
    if venue_id is not None:
        found = await session.get(Venue, venue_id)
        if found is None:
            raise WorkshopError(f"le lieu n°{venue_id} n'existe pas")
        commune, venue = found.commune_insee, found.name
    return MoveRequest(
        date=_text(new_date, "date"),
        start=_text(new_start, "time"),
        end=_text(new_end, "time"),
        commune=commune,
        venue=venue,
    )


async def _next_seated_workshop(session: AsyncSession, resident_id: int, now: datetime) -> int | None:
    """The workshop an idle NON would cancel: the dialogue cancels the resident's soonest seated booking."""
    for booking in await active_bookings(session=session, resident_id=resident_id, now=now):
        if booking.status == EnrolmentStatus.seated:
            return booking.workshop_id
    return None


async def move_workshop_and_notify(
    *,
    ctx: Context,
    workshop_id: int,
    new_date: date | str | None = None,
    new_start: time | str | None = None,
    new_end: time | str | None = None,
    venue_id: int | None = None,
    actor: Actor,
    change: MoveRequest | None = None,
    preview: bool = False,
) -> ChangeReport:
    """Move the workshop (date, times, venue) and tell everyone seated or waiting what changed; seated people
    keep their seat, their reminders are planned again for the new time, and they are asked to answer NON if
    it no longer suits them. ``change`` (the command line's commune / venue / address) is an alternative to the
    keyword arguments. Raises ``WorkshopError`` (nothing changed) when it cannot be moved. ``preview``: report
    what confirming would do, and write nothing."""
    now = ctx.now()
    tally = _Tally()
    async with write_or_preview(ctx, preview=preview) as session:
        request = change or await _change_request(
            session=session, new_date=new_date, new_start=new_start, new_end=new_end, venue_id=venue_id
        )
        # Lock first, so the version stamp read here is the one being moved from (the plan locks again: no-op).
        workshop = await seats.lock_workshop(session=session, workshop_id=workshop_id)
        version = f"{workshop.updated_at:%Y%m%d%H%M%S%f}" if workshop is not None else "0"
        moved = await move_workshop_plan(
            session=session, territory=ctx.territory, tz=ctx.tz, now=now, workshop_id=workshop_id, change=request
        )
        urgent, due = notice_timing(ctx=ctx, starts_at=min(moved.old_start, moved.new_start), now=now)
        if moved.time_changed:
            # An OUI given for the old time says nothing about the new one: the new reminder asks again.
            for enrolment in moved.concerned:
                if enrolment.status == EnrolmentStatus.seated:
                    enrolment.confirmed = None
        reminders_cancelled = await cancel_pending(
            session=session, workshop_id=workshop_id, kinds=(MessageKind.reminder,)
        )
        reminders_planned = await replan_workshop(session=session, ctx=ctx, workshop_id=workshop_id, now=now)
        carried = await _carry_over_unsent(session=session, ctx=ctx, moved=moved)
        known = await _replace_unsent_notices(session=session, workshop_id=workshop_id)
        residents = {e.resident_id for e in moved.concerned}
        for enrolment in moved.concerned:
            if speaks_for(enrolment.resident, residents):
                continue  # two people, one phone: the notice to that phone is for both
            # After their own message, if one was carried over: "une place s'est libérée", then "déplacé".
            after = carried.get(enrolment.resident_id)
            notice_due = max(due, after + NOTICE_AFTER) if after is not None else due
            await _tell_moved(
                session=session, ctx=ctx, enrolment=enrolment, moved=moved, known=known, version=version,
                timing=(urgent, notice_due), now=now, tally=tally,
            )  # fmt: skip
        concerned = _concerned(moved.concerned)  # read in the transaction: its rows expire at its end
        await _record_calls(session, ctx, workshop_id, tally, now)
        departures = await departures_of(session=session, ctx=ctx, message_ids=tally.queued_ids, now=now)
        where = f"{moved.new_place.venue} ({moved.new_place.commune})"
        await record(
            session=session, actor=actor, action="workshop_moved", at=now, workshop_id=workshop_id,
            summary=f"atelier n°{workshop_id} déplacé du {say.when_fr(moved.old_start, ctx.tz)} au "
            f"{say.when_fr(moved.new_start, ctx.tz)}, {where} ; {tally.summary()}",
        )  # fmt: skip
    new = WhenWhere(
        moved.new_start,
        moved.new_end,
        moved.new_place.venue_id,
        moved.new_place.venue,
        moved.new_place.address,
        moved.new_place.commune,
    )
    return await _report(
        ctx, tally, action="moved", workshop_id=workshop_id, actor=actor, old=_where(moved.workshop), new=new,
        timing=(urgent, due), reminders=(reminders_cancelled, reminders_planned), changed_at=now,
        concerned=concerned, departures=departures, preview=preview,
    )  # fmt: skip


async def _tell_moved(
    *,
    session: AsyncSession,
    ctx: Context,
    enrolment: Enrolment,
    moved: WorkshopMoved,
    known: dict[int, Told],
    version: str,
    timing: tuple[bool, datetime],
    now: datetime,
    tally: _Tally,
) -> None:
    resident = enrolment.resident
    destination = address_of(resident, calls=ctx.settings.calls_enabled)
    if destination is None:
        tally.to_phone.append(person_to_phone(resident, status=enrolment.status.value))
        place = say.venue_label(moved.new_place.venue, moved.new_place.commune)
        script = moved_script(
            old_start=moved.old_start, commune=moved.old_place.commune, new_start=moved.new_start, place=place, ctx=ctx
        )
        key = f"move:{moved.workshop.id}:{moved.new_start:{_STAMP}}:{moved.new_place.venue_id}:{resident.id}"
        tally.calls.append(_change_call(enrolment, key=key, what_to_say=script, now=now))
        return
    channel, address = destination
    told = known.get(resident.id, Told(moved.old_start, moved.old_place.venue_id))
    old_start, old_venue_id = told.starts_at, told.venue_id
    old_end = moved.old_end if old_start == moved.old_start else old_start + (moved.old_end - moved.old_start)
    place_changed = old_venue_id != moved.new_place.venue_id
    if (old_start, old_venue_id) == (moved.new_start, moved.new_place.venue_id) and old_end == moved.new_end:
        tally.unchanged += 1  # moved back before their notice left: what they know is true again
        return
    old_commune = moved.old_place.commune
    if old_venue_id != moved.old_place.venue_id:
        old_commune = await _venue_commune(session, old_venue_id) or old_commune
    seated = enrolment.status == EnrolmentStatus.seated
    answer_non = seated and await _next_seated_workshop(session, resident.id, now) == moved.workshop.id
    body = say.workshop_moved_notice(
        old_start=old_start,
        old_end=old_end,
        old_commune=old_commune,
        new_start=moved.new_start,
        new_end=moved.new_end,
        tz=ctx.tz,
        new_venue=moved.new_place.venue,
        new_address=moved.new_place.address,
        place_changed=place_changed,
        seated=seated,
        answer_non=answer_non,
    )
    choices: tuple[str, ...] = ()
    if channel == Channel.voice:  # a landline: said by a call; key 2 gives the seat up, as NON does
        workshop = await session.get(Workshop, moved.workshop.id)
        if workshop is not None:
            said = spoken.moved(old_start=old_start, old_commune=old_commune, workshop=workshop, seated=seated, ctx=ctx)
            body, choices = said.body, said.choices
    key = (
        f"move:{moved.workshop.id}:{old_start:{_STAMP}}:{old_venue_id}:{moved.new_start:{_STAMP}}:"
        f"{moved.new_place.venue_id}:{version}:{resident.id}"
    )
    queued = await _queue_notice(
        session=session, ctx=ctx, tally=tally, enrolment=enrolment, destination=destination, said=(body, choices),
        timing=timing, expires_at=moved.new_start, key=key, change=Told(old_start, old_venue_id).as_data(),
    )  # fmt: skip
    if queued and answer_non:
        # NON must reach the dialogue's idle state, where it answers this notice: it cancels the seat moved.
        await forget_conversation(session=session, channel=channel, address=address)


# ---------------------------------------------------------------------------------------------------------------
# What the adviser reads


URGENT_NOTE = " (changement urgent : envoi possible le soir et le dimanche, jamais entre 22 h et 7 h)"


# ---------------------------------------------------------------------------------------------------------------
# Editing


@dataclass(frozen=True)
class EditReport:
    workshop: WorkshopSummary  # as it is after the edit (a preview: as it still is)
    capacity: tuple[int, int] | None  # (before, after) when it changed
    topic: tuple[str, str] | None
    adviser: tuple[str | None, str | None] | None
    seated: tuple[Promoted, ...]  # from the waiting list, in order
    too_late: bool  # more seats, but too close to the start to give them (ATELIER_PROMOTION_CUTOFF)
    departures: tuple[DepartureGroup, ...]  # when the messages to the people seated leave
    preview: bool = False


async def edit_workshop_and_notify(
    *, ctx: Context, workshop_id: int, edit: WorkshopEdit, actor: Actor, preview: bool = False
) -> EditReport:
    """Change the capacity, the topic or the adviser in charge of a workshop without cancelling it. Raising the
    capacity seats the people waiting, in order, each told as a promotion is (or put on the "to call" list);
    lowering it below the seats taken is refused. Raises ``WorkshopError`` (nothing changed) on a refusal.
    ``preview``: report what confirming would do, and write nothing."""
    now = ctx.now()
    async with write_or_preview(ctx, preview=preview) as session:
        edited = await edit_workshop_plan(
            session=session, workshop_id=workshop_id, edit=edit, now=now,
            promotion_cutoff=ctx.settings.promotion_cutoff,
        )  # fmt: skip
        seated: list[Promoted] = []
        notices: list[int] = []
        for enrolment in edited.promoted:
            notice = await notify_promotion(session=session, ctx=ctx, enrolment_id=enrolment.id, now=now)
            seated.append(Promoted(enrolment.resident_id, enrolment.resident.name, notice is not None))
            notices += [notice] if notice is not None else []
        departures = await departures_of(session=session, ctx=ctx, message_ids=notices, now=now)
        await record(
            session=session, actor=actor, action="workshop_edited", at=now, workshop_id=workshop_id,
            summary=f"atelier n°{workshop_id} modifié : {_edit_summary(edited)}",
        )  # fmt: skip
    if not preview:
        ctx.wake_dispatcher()
        log.info("workshop %s edited by %s: %s seated from the waiting list", workshop_id, actor.label, len(seated))
    return EditReport(
        workshop=await get_workshop(ctx=ctx, workshop_id=workshop_id),
        capacity=edited.capacity,
        topic=edited.topic,
        adviser=edited.adviser,
        seated=tuple(seated),
        too_late=edited.too_late,
        departures=departures,
        preview=preview,
    )


def _edit_summary(edited: WorkshopEdited) -> str:
    """The audit trail's account of an edit (people by number only)."""
    parts = []
    if edited.capacity is not None:
        parts.append(f"places {edited.capacity[0]} → {edited.capacity[1]}")
    if edited.topic is not None:
        parts.append(f"thème « {edited.topic[0]} » → « {edited.topic[1]} »")
    if edited.adviser is not None:
        parts.append(f"conseiller {edited.adviser[0] or 'personne'} → {edited.adviser[1] or 'personne'}")
    if edited.promoted:
        numbers = ", ".join(f"n°{e.resident_id}" for e in edited.promoted)
        parts.append(f"place(s) donnée(s) à la liste d'attente : {numbers}")
    return " ; ".join(parts) or "rien"


def edit_lines(report: EditReport, tz: tzinfo) -> list[str]:
    """What the adviser reads before confirming an edit, and after (command line, Telegram)."""
    future = report.preview
    lines = []
    if report.capacity is not None:
        lines.append(f"Places : {report.capacity[0]} → {report.capacity[1]}.")
    if report.topic is not None:
        lines.append(f"Thème : « {report.topic[0]} » → « {report.topic[1]} ».")
    if report.adviser is not None:
        lines.append(f"Conseiller : {report.adviser[0] or 'personne'} → {report.adviser[1] or 'personne'}.")
    if report.seated:
        lines.append(
            f"Place{'s' if len(report.seated) > 1 else ''} {'donnée' if len(report.seated) == 1 else 'données'} "
            f"à la liste d'attente, dans l'ordre{' (si vous confirmez)' if future else ''} :"
        )
        for person in report.seated:
            how = "prévenue par message" if person.told else "à appeler (aucun message ne peut la prévenir)"
            lines.append(f"  {person.name or '(sans nom)'} (personne n°{person.resident_id}) : {how}")
    if report.too_late:
        lines.append(
            "L'atelier commence bientôt : les personnes en attente n'ont pas eu de place automatiquement ; "
            "appelez-les si vous voulez les faire venir."
        )
    if not future:
        lines.extend(departure_lines(report.departures, tz))
    return lines


def describe_to_phone(people: Sequence[ToPhone]) -> list[str]:
    """One French line per person to phone, for the command line and Telegram."""
    return [
        f"{p.name or '(sans nom)'} — {national(p.phone) or 'pas de numéro'} "
        f"({TO_PHONE_REASON_FR.get(p.reason, p.reason)})"
        for p in people
    ]


def report_lines(report: ChangeReport, tz: tzinfo) -> list[str]:
    """What the adviser reads after a change: who was told and when, who to phone (command line, Telegram)."""
    told = ", ".join(f"{count} par {say.channel_name(ch)}" for ch, count in sorted(report.told.items()) if count)
    lines = []
    if told and report.due_at is not None:
        urgent = URGENT_NOTE if report.urgent else ""
        lines.append(f"Messages prévus : {told}{urgent}.")
        lines.extend(departure_lines(report.departures, tz))
    elif not report.to_phone and not report.unchanged_for:
        lines.append("Personne n'était inscrit : aucun message.")
    if report.unchanged_for:
        lines.append(
            f"{report.unchanged_for} personne(s) n'avaient pas encore reçu l'avis précédent : rien à leur dire."
        )
    if report.reason_shortened:
        lines.append("La raison était trop longue pour tenir dans le SMS : elle a été raccourcie ou omise.")
    if report.to_phone:
        lines.append(f"À appeler ({len(report.to_phone)}) :")
        lines.extend(f"  {line}" for line in describe_to_phone(report.to_phone))
    return lines
