"""Cancelling or moving a workshop and telling everyone concerned, in one transaction (issue 6, item 1).

``bot.service.workshops`` changes the rows (``cancel_workshop_plan`` / ``move_workshop_plan``); this module adds, in the
same transaction, what follows for the people seated or waiting: a notice through their own channel that says
exactly what changed (old → new), their reminders cancelled or planned again, and — for a cancellation — the
nearest next workshops of the same level offered as numbered choices (the conversation is left at the dialogue's
WORKSHOP step, so that a reply "2" is understood). People who cannot be reached are listed for the adviser to phone.

Notices are not answers: they wait for the sending window, except a change within the next 24 hours, which is
urgent (it may leave in quiet hours, never 22:00–07:00). Idempotency keys name the change, so a retried
transaction notifies once; a notice about an earlier change not yet sent is replaced, so that nobody hears
"moved to Thursday" after "cancelled", and the new notice starts from what the resident was last told.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.dialogue import MAX_OFFERED, Step, nearest_workshops
from bot.conversation.phones import national
from bot.scheduler.planning import URGENT_WITHIN, is_urgent_change, next_allowed
from bot.service.calls import cancelled_script, moved_script, record_calls
from bot.service.departures import DepartureGroup, departure_lines, departures_of
from bot.service.inbound import build_world
from bot.service.recipients import ToPhone, address_of, person_to_phone, why_unreachable
from bot.service.reminders import replan_workshop
from bot.service.workshops import (
    MoveRequest,
    WorkshopError,
    WorkshopMoved,
    WorkshopSummary,
    cancel_workshop_plan,
    get_workshop,
    move_workshop_plan,
)
from storage import seats
from storage.calls import NewCall, close_superseded
from storage.catalogue import active_bookings
from storage.conversations import forget_conversation, load_conversation, save_conversation
from storage.models import (
    CallKind,
    Enrolment,
    EnrolmentStatus,
    MessageKind,
    MessageStatus,
    Venue,
)
from storage.outbox.queueing import NewMessage, cancel_pending, enqueue, pending_about_workshop

log = logging.getLogger(__name__)

# What a cancelled workshop makes moot: its reminders, a promotion, a confirmation or an adviser's message to its
# participants ("bring your tablet") not yet sent.
MOOT_WHEN_CANCELLED = (MessageKind.reminder, MessageKind.promotion, MessageKind.confirmation, MessageKind.broadcast)
_STAMP = "%Y%m%dT%H%M%z"  # no colon: the stamps are fields of a colon-separated idempotency key


@dataclass(frozen=True)
class WhenWhere:
    starts_at: datetime
    ends_at: datetime
    venue_id: int
    venue: str
    address: str
    commune: str


@dataclass(frozen=True)
class ChangeReport:
    action: Literal["cancelled", "moved"]
    workshop: WorkshopSummary  # as it is after the change
    old: WhenWhere
    new: WhenWhere | None  # None for a cancellation
    told: Mapping[str, int]  # notices queued, per channel
    to_phone: tuple[ToPhone, ...]
    unchanged_for: int  # people whose last notice, not sent yet, already said what is now true: nothing to tell
    urgent: bool
    due_at: datetime | None  # when the notices may leave (None: nobody to tell)
    reminders_cancelled: int
    reminders_planned: int
    reason: str | None = None
    changed_at: datetime | None = None  # when the adviser made the change
    reason_shortened: bool = False  # a notice had to shorten or leave out the reason to fit in three SMS
    departures: tuple[DepartureGroup, ...] = ()  # when the notices leave, and why some wait

    @property
    def told_total(self) -> int:
        return sum(self.told.values())


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
# Shared pieces


def _where(summary: WorkshopSummary) -> WhenWhere:
    return WhenWhere(
        summary.starts_at, summary.ends_at, summary.venue_id, summary.venue, summary.address, summary.commune
    )


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
    ]
    rows = await pending_about_workshop(session=session, workshop_id=moved.workshop.id, kinds=CARRIED_OVER)
    for row in rows:
        for before, after in swaps:
            if before and before != after:
                row.body = row.body.replace(before, after)
        row.expires_at = moved.new_start  # a seat's message expires when the workshop starts
    return {row.resident_id: row.due_at for row in rows if row.resident_id is not None}


async def _replace_unsent_notices(*, session: AsyncSession, workshop_id: int) -> dict[int, tuple[datetime, int]]:
    """Cancel the change notices of this workshop not sent yet; returns, per resident, the start and venue their
    first unsent notice started from (what they were last told), so the new notice starts from there."""
    rows = await pending_about_workshop(session=session, workshop_id=workshop_id, kinds=(MessageKind.change_notice,))
    known: dict[int, tuple[datetime, int]] = {}
    for row in rows:  # oldest first
        parts = row.idempotency_key.split(":")
        if row.resident_id is not None and row.resident_id not in known and parts[0] == "move" and len(parts) >= 4:
            known[row.resident_id] = (datetime.strptime(parts[2], _STAMP), int(parts[3]))
        row.status, row.error = MessageStatus.cancelled, "replaced by a later change"
    return known


async def _venue_commune(session: AsyncSession, venue_id: int) -> str | None:
    venue = await session.get(Venue, venue_id)
    return venue.commune.name if venue is not None else None


@dataclass
class _Tally:
    told: Counter[str]
    to_phone: list[ToPhone]
    unchanged: int = 0
    queued: list[int] = field(default_factory=list)  # the notices queued (their ids)
    calls: list[NewCall] = field(default_factory=list)  # the people to phone, for the advisers' "to call" list


async def _record_calls(session: AsyncSession, ctx: Context, workshop_id: int, tally: _Tally, now: datetime) -> None:
    """The people no notice can reach go on the "to call" list (the adviser in charge is told); a call about an
    earlier change of the same workshop, not made yet, is replaced."""
    people = [call.resident_id for call in tally.calls]
    await close_superseded(
        session=session, workshop_id=workshop_id, kind=CallKind.change_notice, resident_ids=people, now=now
    )
    await record_calls(session=session, ctx=ctx, calls=tally.calls)


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


async def cancel_workshop_and_notify(*, ctx: Context, workshop_id: int, reason: str, author: str) -> ChangeReport:
    """Cancel the workshop and tell everyone seated or waiting, offering the nearest next workshops of the same
    level that have a free seat. Raises ``WorkshopError`` (nothing changed) when it cannot be cancelled."""
    now = ctx.now()
    tally = _Tally(Counter(), [])
    shortened = False
    async with ctx.db.write() as session:
        cancelled = await cancel_workshop_plan(session=session, workshop_id=workshop_id, reason=reason, now=now)
        before = cancelled.workshop
        urgent, due = notice_timing(ctx=ctx, starts_at=before.starts_at, now=now)
        moot = await cancel_pending(session=session, workshop_id=workshop_id, kinds=MOOT_WHEN_CANCELLED)
        known = await _replace_unsent_notices(session=session, workshop_id=workshop_id)
        world = await build_world(session=session, ctx=ctx, now=now)
        for enrolment in cancelled.concerned:
            resident = enrolment.resident
            destination = address_of(resident)
            if destination is None:
                tally.to_phone.append(person_to_phone(resident, status=enrolment.status.value))
                script = cancelled_script(
                    starts_at=before.starts_at, commune=before.commune, reason=cancelled.reason, ctx=ctx
                )
                tally.calls.append(
                    _change_call(enrolment, key=f"cancel:{workshop_id}:{resident.id}", what_to_say=script, now=now)
                )
                continue
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
                start, venue_id = known[resident.id]
                commune = await _venue_commune(session, venue_id) or commune
            body = say.workshop_cancelled_notice(
                start, ctx.tz, commune, cancelled.reason, offers=choices, phone=ctx.territory.contact.phone
            )
            shortened = shortened or " ".join(cancelled.reason.split()) not in body
            queued = await enqueue(
                session=session,
                message=NewMessage(
                    channel=channel,
                    to_address=address,
                    body=body,
                    choices=choices,
                    kind=MessageKind.change_notice,
                    due_at=due,
                    expires_at=before.starts_at,
                    urgent=urgent,
                    idempotency_key=f"cancel:{workshop_id}:{resident.id}",
                    resident_id=resident.id,
                    workshop_id=workshop_id,
                    enrolment_id=enrolment.id,
                ),
            )
            if queued is None:
                continue
            tally.told[channel] += 1
            tally.queued.append(queued)
            if offers:
                # The reply "2" must reach the dialogue's WORKSHOP step with these offers; its idle restart
                # counts from the moment the notice may leave, not from now.
                existing = await load_conversation(session=session, channel=channel, address=address)
                await save_conversation(
                    session=session,
                    existing=existing,
                    channel=channel,
                    address=address,
                    resident_id=resident.id,
                    step=Step.WORKSHOP.value,
                    data={"offered": [w.id for w in offers], "direct": True},  # one digit re-enrols
                    now=due,
                )
        await _record_calls(session, ctx, workshop_id, tally, now)
        departures = await departures_of(session=session, ctx=ctx, message_ids=tally.queued, now=now)
    ctx.wake_dispatcher()
    log.info(
        "workshop %s cancelled by %s: %s notices, %s to phone", workshop_id, author, sum(tally.told.values()),
        len(tally.to_phone),
    )  # fmt: skip
    return ChangeReport(
        action="cancelled",
        workshop=await get_workshop(ctx=ctx, workshop_id=workshop_id),
        old=_where(before),
        new=None,
        told=dict(tally.told),
        to_phone=tuple(tally.to_phone),
        unchanged_for=0,
        urgent=urgent,
        due_at=due if cancelled.concerned else None,
        reminders_cancelled=moot,
        reminders_planned=0,
        reason=cancelled.reason,
        changed_at=now,
        reason_shortened=shortened,
        departures=departures,
    )


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
    author: str,
    change: MoveRequest | None = None,
) -> ChangeReport:
    """Move the workshop (date, times, venue) and tell everyone seated or waiting what changed; seated people
    keep their seat, their reminders are planned again for the new time, and they are asked to answer NON if
    it no longer suits them. ``change`` (the command line's commune / venue / address) is an alternative to the
    keyword arguments. Raises ``WorkshopError`` (nothing changed) when it cannot be moved."""
    now = ctx.now()
    tally = _Tally(Counter(), [])
    async with ctx.db.write() as session:
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
        for enrolment in moved.concerned:
            # After their own message, if one was carried over: "une place s'est libérée", then "déplacé".
            after = carried.get(enrolment.resident_id)
            notice_due = max(due, after + NOTICE_AFTER) if after is not None else due
            await _tell_moved(
                session=session, ctx=ctx, enrolment=enrolment, moved=moved, known=known, version=version,
                timing=(urgent, notice_due), now=now, tally=tally,
            )  # fmt: skip
        await _record_calls(session, ctx, workshop_id, tally, now)
        departures = await departures_of(session=session, ctx=ctx, message_ids=tally.queued, now=now)
    ctx.wake_dispatcher()
    log.info(
        "workshop %s moved by %s: %s notices, %s to phone", workshop_id, author, sum(tally.told.values()),
        len(tally.to_phone),
    )  # fmt: skip
    new = WhenWhere(
        moved.new_start,
        moved.new_end,
        moved.new_place.venue_id,
        moved.new_place.venue,
        moved.new_place.address,
        moved.new_place.commune,
    )
    return ChangeReport(
        action="moved",
        workshop=await get_workshop(ctx=ctx, workshop_id=workshop_id),
        old=_where(moved.workshop),
        new=new,
        told=dict(tally.told),
        to_phone=tuple(tally.to_phone),
        unchanged_for=tally.unchanged,
        urgent=urgent,
        due_at=due if moved.concerned else None,
        reminders_cancelled=reminders_cancelled,
        reminders_planned=reminders_planned,
        changed_at=now,
        departures=departures,
    )


async def _tell_moved(
    *,
    session: AsyncSession,
    ctx: Context,
    enrolment: Enrolment,
    moved: WorkshopMoved,
    known: dict[int, tuple[datetime, int]],
    version: str,
    timing: tuple[bool, datetime],
    now: datetime,
    tally: _Tally,
) -> None:
    resident = enrolment.resident
    destination = address_of(resident)
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
    old_start, old_venue_id = known.get(resident.id, (moved.old_start, moved.old_place.venue_id))
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
    urgent, due = timing
    key = (
        f"move:{moved.workshop.id}:{old_start:{_STAMP}}:{old_venue_id}:{moved.new_start:{_STAMP}}:"
        f"{moved.new_place.venue_id}:{version}:{resident.id}"
    )
    queued = await enqueue(
        session=session,
        message=NewMessage(
            channel=channel,
            to_address=address,
            body=body,
            kind=MessageKind.change_notice,
            due_at=due,
            expires_at=moved.new_start,
            urgent=urgent,
            idempotency_key=key,
            resident_id=resident.id,
            workshop_id=moved.workshop.id,
            enrolment_id=enrolment.id,
        ),
    )
    if queued is None:
        return
    tally.told[channel] += 1
    tally.queued.append(queued)
    if answer_non:
        # NON must reach the dialogue's idle state, where it answers this notice: it cancels the seat moved.
        await forget_conversation(session=session, channel=channel, address=address)


def describe_to_phone(people: Sequence[ToPhone]) -> list[str]:
    """One French line per person to phone, for the command line and Telegram."""
    reasons = {
        "no_channel": "ni mobile ni Telegram",
        "sms_unreachable": "numéro fixe ou refusé par l'opérateur",
        "opted_out": "a demandé STOP",
        "failed": "échec d'envoi",
        "expired": "message expiré sans partir",
        "cancelled": "message retiré avant l'envoi",
    }
    return [
        f"{p.name or '(sans nom)'} — {national(p.phone) or 'pas de numéro'} ({reasons.get(p.reason, p.reason)})"
        for p in people
    ]


__all__ = [
    "ChangeReport",
    "WhenWhere",
    "cancel_workshop_and_notify",
    "describe_to_phone",
    "move_workshop_and_notify",
    "notice_timing",
    "report_lines",
]


URGENT_NOTE = " (changement urgent : envoi possible le soir et le dimanche, jamais entre 22 h et 7 h)"


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
