"""What the messages of a period cost, SMS and calls apart (issue 17): the statistics' last lines.

SMS are paid by the segment (``ATELIER_SMS_PRICE``), calls by the started minute (``ATELIER_CALL_PRICE``), both
ways for calls: those placed to residents with a landline, and those received on the territory's number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.context import Context
from bot.conversation.texts import sms_segments
from storage.usage import CallTotals, call_totals, sms_sent


@dataclass(frozen=True)
class Usage:
    sms: int  # SMS handed to Twilio
    sms_segments: int
    sms_cost: float  # euros
    calls: CallTotals
    call_cost: float  # euros

    @property
    def total_cost(self) -> float:
        return round(self.sms_cost + self.call_cost, 2)


async def usage(*, ctx: Context, since: datetime | None = None, until: datetime | None = None) -> Usage:
    async with ctx.db.read() as session:
        texts = await sms_sent(session=session, since=since, until=until)
        calls = await call_totals(session=session, since=since, until=until)
    segments = sum(sms_segments(body, tuple(choices)) for body, choices in texts)
    return Usage(
        sms=len(texts),
        sms_segments=segments,
        sms_cost=round(segments * ctx.settings.sms_price, 2),
        calls=calls,
        call_cost=round(calls.minutes * ctx.settings.call_price, 2),
    )


__all__ = ["CallTotals", "Usage", "usage"]
