"""The tests' clock: a "now" the test sets and moves, given wherever the product takes a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in Paris."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


@dataclass
class Clock:
    """Callable like ``Context.clock``: returns ``now``, which only the test moves."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
