"""Pacing sends on one channel: the spacing a rate gives, and a local pacer of the actual starts.

Pure arithmetic and an asyncio sleep; the slots shared by several processes live in the database (``send_pace``,
reserved by the dispatcher's claim).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

# Sends are spaced (1 + RATE_MARGIN) / rate apart: N + 1 sends can then reach the provider within one second only if
# the network delays the first by RATE_MARGIN seconds more than the last.
RATE_MARGIN = 0.04
UNPACED = timedelta(milliseconds=1)  # a rate above 1,000/s is no limit worth pacing


def spacing_of(rate: float | None) -> timedelta:
    """Time between two sends at ``rate`` messages per second, kept RATE_MARGIN under the limit; zero for no
    limit (None, or so high that pacing is pointless)."""
    if not rate:
        return timedelta(0)
    spacing = timedelta(seconds=(1.0 + RATE_MARGIN) / rate)
    return spacing if spacing >= UNPACED else timedelta(0)


class Pacer:
    """Spaces the actual starts of sends on one channel in this process (monotonic clock): whatever the delays
    before, two sends never start closer than ``spacing``."""

    def __init__(self, spacing: timedelta) -> None:
        self.spacing = spacing.total_seconds()
        self._next = 0.0

    def reserve(self, now: float, within: float | None = None) -> float | None:
        """Reserve this process's next start (on the event loop's clock), at ``now`` or later; None (and nothing
        reserved) when that is more than ``within`` seconds away."""
        start = max(now, self._next)
        if within is not None and start - now > within:
            return None
        self._next = start + self.spacing
        return start

    async def wait(self, within: float | None = None) -> bool:
        """Wait for this process's next start; False (and nothing reserved) when that is more than ``within``
        seconds away."""
        now = asyncio.get_running_loop().time()
        start = self.reserve(now, within)
        if start is None:
            return False
        if start > now:
            await asyncio.sleep(start - now)
        return True
