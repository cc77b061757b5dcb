"""When messages may leave and when reminders are due. Pure: the clock, rules and time zone are passed in.

The sending window (SPEC §7): a message that is not an answer never leaves during quiet hours, on a Sunday or on
a French public holiday; an urgent notice (a change within 24 hours) may leave at any of those times except
22:00–07:00. ``quiet_hours=None`` (``ATELIER_QUIET_HOURS=none``) switches every one of these rules off.

Local times are built from the wall clock in the territory's zone (``datetime(…, tzinfo=zone)``), never by adding
hours to a UTC instant, so that a daylight-saving change moves nothing by an hour.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import holidays

# Settings' value types and their parsers live here, beside the rules that use them: ``bot.config`` imports them,
# so this pure module depends on no settings library.
_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|j)\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "j": "days"}
_CLOCK = re.compile(r"^(\d{1,2})[:hH](\d{2})$")


def parse_duration(value: str) -> timedelta:
    """``30m``, ``3h``, ``2d`` → timedelta."""
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r} (write 30m, 3h or 2d)")
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})


def parse_clock(value: str) -> time:
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f"not a time of day: {value!r} (write 10:00)")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"not a time of day: {value!r}")
    return time(hour, minute)


@dataclass(frozen=True)
class ReminderRule:
    """One reminder: either ``days`` before at local ``at``, or ``before`` the start."""

    days: int | None = None
    at: time | None = None
    before: timedelta | None = None

    @property
    def label(self) -> str:
        if self.before is not None:
            return f"-{int(self.before.total_seconds() // 60)}m"
        return f"-{self.days}d@{self.at:%H:%M}" if self.at else f"-{self.days}d"


def parse_reminders(value: str) -> tuple[ReminderRule, ...]:
    rules: list[ReminderRule] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if not item.startswith("-"):
            raise ValueError(f"a reminder is written -1d@10:00 or -3h, not {item!r}")
        item = item[1:]
        if "@" in item:
            days, _, clock = item.partition("@")
            delta = parse_duration(days)
            if delta.seconds or delta.days < 0:
                raise ValueError(f"a day reminder is written -Nd@HH:MM, not -{item!r}")
            rules.append(ReminderRule(days=delta.days, at=parse_clock(clock)))
        else:
            rules.append(ReminderRule(before=parse_duration(item)))
    return tuple(rules)


@dataclass(frozen=True)
class QuietHours:
    start: time  # e.g. 20:00
    end: time  # e.g. 08:30 (the next morning when end < start)

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


def parse_quiet_hours(value: str) -> QuietHours | None:
    if value.strip().lower() in {"none", "off", ""}:
        return None
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError(f"quiet hours are written 20:00-08:30 or none, not {value!r}")
    return QuietHours(parse_clock(start), parse_clock(end))


@dataclass(frozen=True)
class CallHours:
    """When a phone call may ring, local time: one or more ranges of the day (``09:30-12:00,14:00-19:00``), on
    open days only. A call interrupts whatever the person is doing, so even an urgent one keeps to these hours."""

    ranges: tuple[tuple[time, time], ...]

    def contains(self, moment: time) -> bool:
        return any(start <= moment < end for start, end in self.ranges)


def parse_call_hours(value: str) -> CallHours:
    ranges: list[tuple[time, time]] = []
    for item in (part.strip() for part in value.split(",")):
        start, sep, end = item.partition("-")
        if not sep:
            raise ValueError(f"call hours are written 09:30-12:00,14:00-19:00, not {value!r}")
        opening, closing = parse_clock(start), parse_clock(end)
        if closing <= opening:
            raise ValueError(f"call hours end after they start: {item!r}")
        ranges.append((opening, closing))
    return CallHours(tuple(sorted(ranges)))


URGENT_NIGHT = QuietHours(start=time(22, 0), end=time(7, 0))  # even an urgent notice never leaves then
URGENT_WITHIN = timedelta(hours=24)  # a change this close to the workshop is urgent
BEFORE_WINDOW = timedelta(minutes=1)  # "the last allowed moment" before a closed window
SUNDAY = 6

# Retries of a transient failure (SPEC §6): a first one within 30 s, then exponential backoff with jitter, never
# more than 10 minutes between two tries. Jitter spreads the retries of many messages after a provider outage.
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(minutes=10)


@dataclass(frozen=True)
class PlannedReminder:
    due_at: datetime  # aware, UTC
    label: str  # the rule it comes from, e.g. "-1d@10:00" (part of the idempotency key)
    asks_confirmation: bool  # the day-before reminder asks OUI / NON


@lru_cache(maxsize=16)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", years=year)


def is_public_holiday(day: date) -> bool:
    return day in _french_holidays(day.year)


def is_closed_day(day: date) -> bool:
    """Sundays and French public holidays: no message that can wait leaves then."""
    return day.weekday() == SUNDAY or is_public_holiday(day)


def _at(day: date, clock: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz)


def allowed_at(moment: datetime, *, urgent: bool, quiet_hours: QuietHours | None, tz: tzinfo) -> bool:
    """May a message that is not an answer leave at ``moment``?"""
    if quiet_hours is None:
        return True
    local = moment.astimezone(tz)
    if urgent:
        return not URGENT_NIGHT.contains(local.time())
    return not quiet_hours.contains(local.time()) and not is_closed_day(local.date())


def _window_end(local: datetime, window: QuietHours, tz: tzinfo) -> datetime:
    """The end of the closed window that contains ``local``."""
    day = local.date()
    if window.start > window.end and local.time() >= window.start:
        day += timedelta(days=1)  # the window runs over midnight: it ends tomorrow morning
    return _at(day, window.end, tz)


def _window_start(local: datetime, window: QuietHours, tz: tzinfo) -> datetime:
    """The start of the closed window that contains ``local``."""
    day = local.date()
    if window.start > window.end and local.time() < window.end:
        day -= timedelta(days=1)  # we are in the morning part: the window began yesterday evening
    return _at(day, window.start, tz)


def next_allowed(moment: datetime, *, urgent: bool, quiet_hours: QuietHours | None, tz: tzinfo) -> datetime:
    """The first moment at or after ``moment`` when such a message may leave."""
    if quiet_hours is None:
        return moment
    candidate = moment
    for _ in range(40):  # at most a few closed days in a row (e.g. a Sunday before a holiday): never loops long
        if allowed_at(candidate, urgent=urgent, quiet_hours=quiet_hours, tz=tz):
            return candidate.astimezone(moment.tzinfo)
        local = candidate.astimezone(tz)
        window = URGENT_NIGHT if urgent else quiet_hours
        if window.contains(local.time()):
            candidate = _window_end(local, window, tz)
        else:  # a Sunday or a holiday: try the next day, from its first minute
            candidate = _at(local.date() + timedelta(days=1), time(0, 0), tz)
    raise ValueError("no allowed moment found")  # pragma: no cover - would need 40 closed days in a row


def last_allowed(moment: datetime, *, quiet_hours: QuietHours | None, tz: tzinfo) -> datetime:
    """The latest moment at or before ``moment`` when a non-urgent message may leave (reminders move earlier)."""
    if quiet_hours is None:
        return moment
    candidate = moment
    for _ in range(40):
        if allowed_at(candidate, urgent=False, quiet_hours=quiet_hours, tz=tz):
            return candidate.astimezone(moment.tzinfo)
        local = candidate.astimezone(tz)
        if quiet_hours.contains(local.time()):
            candidate = _window_start(local, quiet_hours, tz) - BEFORE_WINDOW
        else:  # a Sunday or a holiday: the evening before (its own quiet hours are handled next round)
            candidate = _at(local.date(), time(0, 0), tz) - BEFORE_WINDOW
    raise ValueError("no allowed moment found")  # pragma: no cover


# --- Calls (the voice channel) -------------------------------------------------------------------------------
# A call may ring inside the call hours, outside the quiet hours, never on a Sunday or a public holiday, urgent or
# not. ``quiet_hours=None`` switches these rules off too (every sending-window rule, SPEC §6).


def call_allowed_at(moment: datetime, *, hours: CallHours, quiet_hours: QuietHours | None, tz: tzinfo) -> bool:
    if quiet_hours is None:
        return True
    local = moment.astimezone(tz)
    clock = local.time()
    return hours.contains(clock) and not quiet_hours.contains(clock) and not is_closed_day(local.date())


def next_call_at(moment: datetime, *, hours: CallHours, quiet_hours: QuietHours | None, tz: tzinfo) -> datetime:
    """The first moment at or after ``moment`` when a call may ring."""
    if quiet_hours is None:
        return moment
    local = moment.astimezone(tz)
    for offset in range(40):
        day = local.date() + timedelta(days=offset)
        if is_closed_day(day):
            continue
        for start, end in hours.ranges:
            begin, stop = _at(day, start, tz), _at(day, end, tz)
            candidate = max(begin, local)
            if candidate >= stop:
                continue
            if quiet_hours.contains(candidate.time()):
                candidate = _window_end(candidate, quiet_hours, tz)
            if candidate < stop:
                return candidate.astimezone(moment.tzinfo)
    raise ValueError("no moment for a call found")  # pragma: no cover - would need 40 closed days in a row


def last_call_at(moment: datetime, *, hours: CallHours, quiet_hours: QuietHours | None, tz: tzinfo) -> datetime:
    """The latest moment at or before ``moment`` when a call may ring (a reminder call moves earlier)."""
    if quiet_hours is None:
        return moment
    local = moment.astimezone(tz)
    for offset in range(40):
        day = local.date() - timedelta(days=offset)
        if is_closed_day(day):
            continue
        for start, end in reversed(hours.ranges):
            begin, stop = _at(day, start, tz), _at(day, end, tz)
            candidate = min(stop - BEFORE_WINDOW, local)
            if candidate < begin:
                continue
            if quiet_hours.contains(candidate.time()):
                candidate = _window_start(candidate, quiet_hours, tz) - BEFORE_WINDOW
            if candidate >= begin:
                return candidate.astimezone(moment.tzinfo)
    raise ValueError("no moment for a call found")  # pragma: no cover


def rule_moment(rule: ReminderRule, *, starts_at: datetime, tz: tzinfo) -> datetime:
    """The moment a rule names, before any window rule: ``-1d@10:00`` is 10:00 local the day before."""
    if rule.before is not None:
        return starts_at - rule.before
    local_start = starts_at.astimezone(tz)
    day = local_start.date() - timedelta(days=rule.days or 0)
    return _at(day, rule.at or local_start.time(), tz)


def reminder_times(
    *,
    starts_at: datetime,
    rules: tuple[ReminderRule, ...],
    quiet_hours: QuietHours | None,
    tz: tzinfo,
    now: datetime,
    call_hours: CallHours | None = None,
) -> list[PlannedReminder]:
    """The reminders to plan for a workshop starting at ``starts_at``, earliest first.

    A moment in a closed window moves earlier to the last allowed moment, never later (a reminder after the
    workshop is useless); a moment already past, or not before the start, is not planned. Two rules landing on
    the same moment give one reminder, the one asking for confirmation when either does. ``call_hours``: the
    reminders are phone calls, which keep to these hours.
    """
    planned: dict[datetime, PlannedReminder] = {}
    for rule in rules:
        moment = rule_moment(rule, starts_at=starts_at, tz=tz)
        if call_hours is not None:
            due = last_call_at(moment, hours=call_hours, quiet_hours=quiet_hours, tz=tz)
        else:
            due = last_allowed(moment, quiet_hours=quiet_hours, tz=tz)
        due = due.astimezone(starts_at.tzinfo)
        if due < now or due >= starts_at:
            continue
        reminder = PlannedReminder(due_at=due, label=rule.label, asks_confirmation=rule.days is not None)
        existing = planned.get(due)
        if existing is None or (reminder.asks_confirmation and not existing.asks_confirmation):
            planned[due] = reminder
    return [planned[due] for due in sorted(planned)]


def is_urgent_change(*, starts_at: datetime, now: datetime) -> bool:
    """A notice about a workshop starting within 24 hours may leave in quiet hours (not 22:00–07:00)."""
    return starts_at - now <= URGENT_WITHIN


def retry_delay(attempts: int, *, retry_after: float | None = None, rng: random.Random | None = None) -> timedelta:
    """How long to wait before trying again after ``attempts`` failed tries (1 = the first try failed).

    The first retry comes within 30 s; each later one waits about twice as long as the one before, with
    "equal jitter" (half fixed, half random: https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/),
    never more than 10 minutes — unless the provider asked for longer with ``Retry-After``.
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not security
    ceiling = min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), MAX_RETRY)
    delay = ceiling / 2 + (ceiling / 2) * rng.random()
    if retry_after is not None and retry_after > 0:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay
