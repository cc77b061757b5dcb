"""What the dispatcher's pacer granted, to check rates on the slots rather than on the wall clock.

A send starts only once the pacer of its channel has granted it a start (``Pacer.reserve``), and the pacer never
grants two starts closer than its spacing. Checking the granted starts says what the dispatcher asked of the
provider whatever the machine's load; how fast a loaded machine actually gets there is the benchmark's business
(``bench/dispatch.py`` prints the achieved rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.scheduler.pacing import Pacer


class RecordingPacer(Pacer):
    """A pacer that keeps the starts it granted (event-loop seconds), in order."""

    def __init__(self, spacing: timedelta) -> None:
        super().__init__(spacing)
        self.starts: list[float] = []

    def reserve(self, now: float, within: float | None = None) -> float | None:
        start = super().reserve(now, within)
        if start is not None:
            self.starts.append(start)
        return start


class Pacers:
    """Give ``Dispatcher(ctx, pacer=pacers.new)``: the pacers the dispatcher made, by spacing."""

    def __init__(self) -> None:
        self.made: list[RecordingPacer] = []

    def new(self, spacing: timedelta) -> RecordingPacer:
        pacer = RecordingPacer(spacing)
        self.made.append(pacer)
        return pacer

    @property
    def starts(self) -> list[float]:
        """Every start granted, all channels together, in time order."""
        return sorted(start for pacer in self.made for start in pacer.starts)


def most_within(window: float, times: Sequence[float] | Sequence[datetime]) -> int:
    """The most events in any window [t, t + ``window`` seconds) starting at an event."""
    seconds = sorted(t.timestamp() if isinstance(t, datetime) else t for t in times)
    best, start = 0, 0
    for end, moment in enumerate(seconds):
        while moment - seconds[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def busiest_second(times: Sequence[float] | Sequence[datetime]) -> int:
    """The most events in any one-second window [t, t + 1 s) starting at an event."""
    return most_within(1.0, times)
