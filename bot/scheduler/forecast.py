"""When queued messages will leave, and why they wait. Pure: the queue, the clock and the rules are passed in.

The dispatcher decides at send time (``screening.screen``); advisers need to know before: a command that queues
notices says "2 partent dès maintenant ; 1 part lundi à 8 h 30 (dimanche)". This module replays the dispatcher's
rules on one resident's queue, in the order the dispatcher takes it: the sending window (quiet hours, Sundays,
public holidays; for urgent notices only the night, 22:00–07:00) and the daily cap of non-urgent messages per
resident (``ATELIER_DAILY_CAP``), counting what they already received that day.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.scheduler.planning import QuietHours, allowed_at, is_public_holiday, next_allowed

SUNDAY = 6
MAX_DAYS = 14  # a message is never held back longer than this by the cap alone (a resident with a long queue)


class WaitReason(enum.StrEnum):
    quiet_hours = "quiet_hours"  # ATELIER_QUIET_HOURS (default 20:00–08:30)
    night = "night"  # even an urgent notice never leaves 22:00–07:00
    sunday = "sunday"
    public_holiday = "public_holiday"
    daily_cap = "daily_cap"  # the resident already had ATELIER_DAILY_CAP messages that day
    retry = "retry"  # the provider refused it for now: tried again later


@dataclass(frozen=True)
class Queued:
    """One pending message of a resident, as the forecast needs it."""

    id: int
    due_at: datetime
    created_at: datetime
    urgent: bool
    capped: bool  # counts in (and is held by) the daily cap: a resident's message that is neither urgent nor an answer
    window: bool  # held by the sending window (everything but answers and advisers' work notices)
    planned: bool  # due at a time chosen in advance (a reminder): waiting for it is no delay
    retrying: bool = False  # due again after a transient failure


@dataclass(frozen=True)
class Departure:
    message_id: int
    leaves_at: datetime
    reasons: tuple[WaitReason, ...]  # why not at once (empty: at once, or at the time planned for it)


def closed_reasons(moment: datetime, *, urgent: bool, quiet_hours: QuietHours | None, tz: tzinfo) -> list[WaitReason]:
    """Why a message may not leave at ``moment`` (empty when it may)."""
    if quiet_hours is None or allowed_at(moment, urgent=urgent, quiet_hours=quiet_hours, tz=tz):
        return []
    local = moment.astimezone(tz)
    if urgent:
        return [WaitReason.night]
    reasons = []
    if local.weekday() == SUNDAY:
        reasons.append(WaitReason.sunday)
    elif is_public_holiday(local.date()):
        reasons.append(WaitReason.public_holiday)
    if quiet_hours.contains(local.time()):
        reasons.append(WaitReason.quiet_hours)
    return reasons


def held_between(
    start: datetime, end: datetime, *, urgent: bool, quiet_hours: QuietHours | None, tz: tzinfo
) -> list[WaitReason]:
    """Why a message queued at ``start`` was made to wait until ``end``: the closed windows in between (sampled
    when it was queued, at each midnight, and just before it may leave)."""
    moments = [start]
    midnight = _next_day(start, tz)
    while midnight < end and len(moments) < MAX_DAYS + 1:
        moments.append(midnight)
        midnight = _next_day(midnight, tz)
    moments.append(end - timedelta(minutes=1))
    reasons: list[WaitReason] = []
    for moment in moments:
        if start <= moment < end:
            _add(reasons, closed_reasons(moment, urgent=urgent, quiet_hours=quiet_hours, tz=tz))
    return reasons


def _next_day(moment: datetime, tz: tzinfo) -> datetime:
    local = moment.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time(0, 0), tzinfo=tz)


def _add(reasons: list[WaitReason], more: Sequence[WaitReason]) -> None:
    reasons.extend(r for r in more if r not in reasons)


def forecast(
    queue: Sequence[Queued],
    *,
    now: datetime,
    sent_today: int,
    daily_cap: int,
    quiet_hours: QuietHours | None,
    tz: tzinfo,
) -> list[Departure]:
    """When each of one resident's pending messages leaves; ``sent_today``: capped messages they already had
    today. Messages are taken as the dispatcher takes them: the soonest due first, then in the order queued."""
    per_day: dict[date, int] = {now.astimezone(tz).date(): sent_today}
    departures: list[Departure] = []
    for message in sorted(queue, key=lambda m: (max(m.due_at, now), m.id)):
        reasons: list[WaitReason] = []
        at = max(message.due_at, now)
        if message.due_at > now and not message.planned:
            if message.retrying:
                reasons.append(WaitReason.retry)
            elif closed_reasons(message.created_at, urgent=message.urgent, quiet_hours=quiet_hours, tz=tz):
                # queued while the window was closed: it waits for it to open
                _add(
                    reasons,
                    held_between(
                        message.created_at, message.due_at, urgent=message.urgent, quiet_hours=quiet_hours, tz=tz
                    ),
                )
            elif message.capped:  # queued while it could have left: the dispatcher put it back, for the cap
                reasons.append(WaitReason.daily_cap)
        if message.window:
            leaves = next_allowed(at, urgent=message.urgent, quiet_hours=quiet_hours, tz=tz)
            if leaves > at:
                _add(reasons, held_between(at, leaves, urgent=message.urgent, quiet_hours=quiet_hours, tz=tz))
            at = leaves
        if message.capped:
            for _ in range(MAX_DAYS):
                day = at.astimezone(tz).date()
                if per_day.get(day, 0) < daily_cap:
                    break
                _add(reasons, [WaitReason.daily_cap])
                at = next_allowed(_next_day(at, tz), urgent=False, quiet_hours=quiet_hours, tz=tz)
            day = at.astimezone(tz).date()
            per_day[day] = per_day.get(day, 0) + 1
        departures.append(Departure(message.id, at, tuple(reasons)))
    return departures


__all__ = ["Departure", "Queued", "WaitReason", "closed_reasons", "forecast", "held_between"]
