"""Planning rules as tables: reminder offsets, the sending window, Sundays, holidays, daylight saving, retries."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.scheduler.planning import (
    QuietHours,
    allowed_at,
    next_allowed,
    parse_quiet_hours,
    parse_reminders,
    reminder_times,
    retry_delay,
)
from tests.helpers.clock import PARIS, paris

MONDAY_2_MARCH = datetime(2026, 3, 2, 9, tzinfo=PARIS)
DEFAULT_RULES = parse_reminders("-1d@10:00,-3h")
DEFAULT_QUIET = parse_quiet_hours("20:00-08:30")


@dataclass(frozen=True)
class ReminderCase:
    label: str
    starts_at: datetime
    expected: list[tuple[datetime, bool]]  # (local due time, asks OUI/NON)
    now: datetime = MONDAY_2_MARCH
    rules: str = "-1d@10:00,-3h"
    quiet: str = "20:00-08:30"


REMINDER_CASES = [
    ReminderCase(
        "ordinary Tuesday 14 h: Monday 10 h asks, then 3 h before",
        paris(2026, 3, 10, 14),
        [(paris(2026, 3, 9, 10), True), (paris(2026, 3, 10, 11), False)],
    ),
    ReminderCase(
        "3 h before a 9 h workshop is 6 h, quiet: moves to 19:59 the evening before",
        paris(2026, 3, 10, 9),
        [(paris(2026, 3, 9, 10), True), (paris(2026, 3, 9, 19, 59), False)],
    ),
    ReminderCase(
        "the day before is a Sunday: Saturday 19:59",
        paris(2026, 3, 9, 14),
        [(paris(2026, 3, 7, 19, 59), True), (paris(2026, 3, 9, 11), False)],
    ),
    ReminderCase(
        "Monday 9 h: both land on Saturday 19:59, one reminder that asks",
        paris(2026, 3, 9, 9),
        [(paris(2026, 3, 7, 19, 59), True)],
    ),
    ReminderCase(
        "14 July (Tuesday) is a holiday: Monday 13 July 19:59",
        paris(2026, 7, 15, 14),
        [(paris(2026, 7, 13, 19, 59), True), (paris(2026, 7, 15, 11), False)],
        now=paris(2026, 7, 1, 9),
    ),
    ReminderCase(
        "1 May (Friday) is a holiday and Saturday 7 h is quiet: Thursday 30 April 19:59",
        paris(2026, 5, 2, 10),
        [(paris(2026, 4, 30, 19, 59), True)],
        now=paris(2026, 4, 20, 9),
    ),
    ReminderCase(
        "Ascension (Thursday 14 May 2026): Wednesday 19:59",
        paris(2026, 5, 15, 14),
        [(paris(2026, 5, 13, 19, 59), True), (paris(2026, 5, 15, 11), False)],
        now=paris(2026, 5, 1, 9),
    ),
    ReminderCase(
        "DST spring (Sunday 29 March): the Monday after still at 10:00 local",
        paris(2026, 3, 31, 14),
        [(paris(2026, 3, 30, 10), True), (paris(2026, 3, 31, 11), False)],
        now=paris(2026, 3, 20, 9),
    ),
    ReminderCase(
        "DST spring, no quiet hours: on the change day itself at 10:00 local",
        paris(2026, 3, 30, 14),
        [(paris(2026, 3, 29, 10), True), (paris(2026, 3, 30, 11), False)],
        now=paris(2026, 3, 20, 9),
        quiet="none",
    ),
    ReminderCase(
        "DST spring: Saturday evening before the change is 19:59 winter time",
        paris(2026, 3, 30, 14),
        [(paris(2026, 3, 28, 19, 59), True), (paris(2026, 3, 30, 11), False)],
        now=paris(2026, 3, 20, 9),
    ),
    ReminderCase(
        "DST autumn (Sunday 25 October), no quiet hours: 10:00 local on the change day",
        paris(2026, 10, 26, 14),
        [(paris(2026, 10, 25, 10), True), (paris(2026, 10, 26, 11), False)],
        now=paris(2026, 10, 20, 9),
        quiet="none",
    ),
    ReminderCase(
        "DST autumn: the Tuesday after, the Monday reminder at 10:00 local",
        paris(2026, 10, 27, 14),
        [(paris(2026, 10, 26, 10), True), (paris(2026, 10, 27, 11), False)],
        now=paris(2026, 10, 20, 9),
    ),
    ReminderCase(
        "late enrolment: the day-before moment is past, only 3 h before",
        paris(2026, 3, 10, 14),
        [(paris(2026, 3, 10, 11), False)],
        now=paris(2026, 3, 9, 12),
    ),
    ReminderCase(
        "very late enrolment: every moment is past",
        paris(2026, 3, 10, 14),
        [],
        now=paris(2026, 3, 10, 12),
    ),
    ReminderCase(
        "moved earlier into the past: not planned",
        paris(2026, 3, 10, 9),
        [],
        now=paris(2026, 3, 9, 20, 30),
    ),
    ReminderCase(
        "quiet hours none: exact times, Sunday and 6 h included",
        paris(2026, 3, 9, 9),
        [(paris(2026, 3, 8, 10), True), (paris(2026, 3, 9, 6), False)],
        quiet="none",
    ),
    ReminderCase(
        "a rule after the start is never planned",
        paris(2026, 3, 10, 14),
        [(paris(2026, 3, 10, 13, 30), False)],
        rules="-0d@18:00,-30m",
    ),
    ReminderCase(
        "a daytime quiet window 12:00-14:00: 13 h moves to 11:59",
        paris(2026, 3, 10, 15),
        [(paris(2026, 3, 10, 11, 59), False)],
        rules="-2h",
        quiet="12:00-14:00",
    ),
    ReminderCase(
        "two days before at 18 h",
        paris(2026, 3, 12, 10),
        [(paris(2026, 3, 10, 18), True)],
        rules="-2d@18:00",
    ),
]


@pytest.mark.parametrize("case", REMINDER_CASES, ids=[c.label for c in REMINDER_CASES])
def test_reminder_times(case: ReminderCase) -> None:
    planned = reminder_times(
        starts_at=case.starts_at.astimezone(UTC),
        rules=parse_reminders(case.rules),
        quiet_hours=parse_quiet_hours(case.quiet),
        tz=PARIS,
        now=case.now.astimezone(UTC),
    )
    assert [(p.due_at, p.asks_confirmation) for p in planned] == [(d.astimezone(UTC), a) for d, a in case.expected]
    assert all(p.due_at.tzinfo is not None and p.due_at.utcoffset() == timedelta(0) for p in planned)


def test_dst_does_not_shift_by_an_hour_in_utc_terms() -> None:
    """The same local 10:00 is 09:00 UTC in winter and 08:00 UTC in summer: the wall clock wins."""
    winter = reminder_times(
        starts_at=paris(2026, 3, 24, 14),
        rules=DEFAULT_RULES,
        quiet_hours=DEFAULT_QUIET,
        tz=PARIS,
        now=paris(2026, 3, 1, 9),
    )
    summer = reminder_times(
        starts_at=paris(2026, 3, 31, 14),
        rules=DEFAULT_RULES,
        quiet_hours=DEFAULT_QUIET,
        tz=PARIS,
        now=paris(2026, 3, 1, 9),
    )
    assert (winter[0].due_at.astimezone(UTC).hour, summer[0].due_at.astimezone(UTC).hour) == (9, 8)
    assert winter[0].label == "-1d@10:00" and winter[1].label == "-180m"


@dataclass(frozen=True)
class WindowCase:
    label: str
    moment: datetime
    urgent: bool
    allowed: bool
    next_moment: datetime
    quiet: QuietHours | None = DEFAULT_QUIET


WINDOW_CASES = [
    WindowCase("Monday 10 h", paris(2026, 3, 2, 10), False, True, paris(2026, 3, 2, 10)),
    WindowCase("Monday 7 h waits for 8:30", paris(2026, 3, 2, 7), False, False, paris(2026, 3, 2, 8, 30)),
    WindowCase("8:30 exactly is allowed", paris(2026, 3, 2, 8, 30), False, True, paris(2026, 3, 2, 8, 30)),
    WindowCase("20:00 exactly is quiet", paris(2026, 3, 2, 20), False, False, paris(2026, 3, 3, 8, 30)),
    WindowCase("Monday 21 h waits for Tuesday", paris(2026, 3, 2, 21), False, False, paris(2026, 3, 3, 8, 30)),
    WindowCase("Saturday 21 h waits for Monday", paris(2026, 3, 7, 21), False, False, paris(2026, 3, 9, 8, 30)),
    WindowCase("Sunday noon waits for Monday", paris(2026, 3, 8, 12), False, False, paris(2026, 3, 9, 8, 30)),
    WindowCase("urgent Saturday 21 h leaves", paris(2026, 3, 7, 21), True, True, paris(2026, 3, 7, 21)),
    WindowCase("urgent Sunday noon leaves", paris(2026, 3, 8, 12), True, True, paris(2026, 3, 8, 12)),
    WindowCase("urgent 23 h waits for 7 h", paris(2026, 3, 7, 23), True, False, paris(2026, 3, 8, 7)),
    WindowCase("urgent 6:59 waits for 7 h", paris(2026, 3, 8, 6, 59), True, False, paris(2026, 3, 8, 7)),
    WindowCase("eve of 14 July waits for the 15th", paris(2026, 7, 13, 21), False, False, paris(2026, 7, 15, 8, 30)),
    WindowCase("1 May noon waits for Saturday 2 May", paris(2026, 5, 1, 12), False, False, paris(2026, 5, 2, 8, 30)),
    WindowCase("Ascension noon", paris(2026, 5, 14, 12), False, False, paris(2026, 5, 15, 8, 30)),
    WindowCase("across the spring change", paris(2026, 3, 28, 21), False, False, paris(2026, 3, 30, 8, 30)),
    WindowCase("across the autumn change", paris(2026, 10, 24, 21), False, False, paris(2026, 10, 26, 8, 30)),
    WindowCase("none: Sunday 23 h leaves", paris(2026, 3, 8, 23), False, True, paris(2026, 3, 8, 23), quiet=None),
    WindowCase("none: urgent 3 h leaves", paris(2026, 3, 8, 3), True, True, paris(2026, 3, 8, 3), quiet=None),
]


@pytest.mark.parametrize("case", WINDOW_CASES, ids=[c.label for c in WINDOW_CASES])
def test_sending_window(case: WindowCase) -> None:
    moment = case.moment.astimezone(UTC)
    assert allowed_at(moment, urgent=case.urgent, quiet_hours=case.quiet, tz=PARIS) is case.allowed
    found = next_allowed(moment, urgent=case.urgent, quiet_hours=case.quiet, tz=PARIS)
    assert found == case.next_moment
    assert found.tzinfo == UTC


@dataclass(frozen=True)
class RetryCase:
    label: str
    attempts: int
    low: float
    high: float
    retry_after: float | None = None


RETRY_CASES = [
    RetryCase("first retry within 30 s", 1, 15, 30),
    RetryCase("second about twice as long", 2, 30, 60),
    RetryCase("third", 3, 60, 120),
    RetryCase("fifth", 5, 240, 480),
    RetryCase("sixth hits the 10 min ceiling", 6, 300, 600),
    RetryCase("fiftieth stays at 10 min", 50, 300, 600),
    RetryCase("Retry-After longer than the backoff wins", 1, 120, 120, retry_after=120),
    RetryCase("Retry-After shorter than the backoff is a floor", 3, 60, 120, retry_after=5),
]


@pytest.mark.parametrize("case", RETRY_CASES, ids=[c.label for c in RETRY_CASES])
def test_retry_delay(case: RetryCase) -> None:
    rng = random.Random(case.attempts)
    delays = [retry_delay(case.attempts, retry_after=case.retry_after, rng=rng).total_seconds() for _ in range(200)]
    assert all(case.low <= d <= case.high for d in delays)
    if case.low < case.high:
        assert len({round(d, 3) for d in delays}) > 100  # jitter: many different values
