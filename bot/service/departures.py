"""When the messages an operation queued will leave, and why they wait — what advisers are told (issue 14, defect 2).

Every adviser-facing output that announces messages (a cancellation, a move, a broadcast and its report, a phone
enrolment, a promotion) says when they leave and, when they wait, why: the daily cap of the person, quiet hours,
Sunday, a public holiday. The forecast replays the dispatcher's rules (``bot.scheduler.forecast``) on each
person's whole queue, so "dès maintenant" is only said of messages that will indeed leave now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.conversation.texts import when_fr
from bot.scheduler.forecast import Departure, Queued, WaitReason, forecast
from storage.models import MessageKind
from storage.outbox.claiming import capped_since
from storage.outbox.departures import PendingRow, pending_of_residents, pending_rows
from storage.outbox.queueing import PRIORITY_ANSWER, PRIORITY_NORMAL

ON_TIME = timedelta(minutes=1)  # leaving within this of now is "dès maintenant"


@dataclass(frozen=True)
class DepartureGroup:
    """Some of the messages, leaving at the same moment for the same reasons. ``leaves_at`` None: at once (or, for
    reminders, at the time planned for them); ``reasons`` are ``WaitReason`` values."""

    count: int
    leaves_at: datetime | None
    reasons: tuple[WaitReason, ...]


def _queued(row: PendingRow) -> Queued:
    answer = row.priority == PRIORITY_ANSWER
    return Queued(
        id=row.id,
        due_at=row.due_at,
        created_at=row.created_at,
        urgent=row.urgent,
        capped=row.resident_id is not None and row.priority == PRIORITY_NORMAL,
        window=not answer and row.kind != MessageKind.adviser_notice,
        planned=row.kind == MessageKind.reminder,
        retrying=row.attempts > 0,
    )


async def forecast_rows(
    *, session: AsyncSession, ctx: Context, rows: Sequence[PendingRow], now: datetime
) -> list[Departure]:
    """The departure of each of these pending rows, given everything else their residents have queued."""
    residents = {row.resident_id for row in rows if row.resident_id is not None}
    local_midnight = datetime.combine(now.astimezone(ctx.tz).date(), time(0, 0), tzinfo=ctx.tz)
    sent = await capped_since(session=session, resident_ids=residents, since=local_midnight)
    queues: dict[int | None, list[PendingRow]] = defaultdict(list)
    for row in await pending_of_residents(session=session, resident_ids=residents):
        queues[row.resident_id].append(row)
    queues[None] = [row for row in rows if row.resident_id is None]
    wanted = {row.id for row in rows}
    found: list[Departure] = []
    for resident_id, queue in queues.items():
        for departure in forecast(
            [_queued(row) for row in queue],
            now=now,
            sent_today=sent.get(resident_id, 0) if resident_id is not None else 0,
            daily_cap=ctx.settings.daily_cap,
            quiet_hours=ctx.settings.quiet_hours,
            tz=ctx.tz,
        ):
            if departure.message_id in wanted:
                found.append(departure)
    return found


def group(departures: Sequence[Departure], *, now: datetime) -> tuple[DepartureGroup, ...]:
    """Departures grouped by moment (to the minute) and reasons, soonest first."""
    counts: dict[tuple[datetime | None, tuple[WaitReason, ...]], int] = defaultdict(int)
    for departure in departures:
        at = None if departure.leaves_at <= now + ON_TIME else departure.leaves_at.replace(second=0, microsecond=0)
        counts[(at, departure.reasons if at is not None else ())] += 1
    ordered = sorted(counts.items(), key=lambda item: (item[0][0] is not None, item[0][0] or now, item[0][1]))
    return tuple(DepartureGroup(count, at, reasons) for (at, reasons), count in ordered)


async def departures_of(
    *, session: AsyncSession, ctx: Context, message_ids: Collection[int], now: datetime
) -> tuple[DepartureGroup, ...]:
    """Inside the caller's transaction (it sees the rows it just queued): when these messages leave."""
    rows = await pending_rows(session=session, ids=message_ids)
    return group(await forecast_rows(session=session, ctx=ctx, rows=rows, now=now), now=now)


async def broadcast_departures(*, ctx: Context, broadcast_id: int) -> tuple[DepartureGroup, ...]:
    """When the messages of a broadcast still waiting will leave, and why they wait."""
    now = ctx.now()
    async with ctx.db.read() as session:
        rows = await pending_rows(session=session, broadcast_id=broadcast_id)
        return group(await forecast_rows(session=session, ctx=ctx, rows=rows, now=now), now=now)


# ---------------------------------------------------------------------------------------------------------------
# In French, for the command line and Telegram


REASONS_FR = {
    WaitReason.quiet_hours: "heures calmes : pas d'envoi le soir ni la nuit",
    WaitReason.night: "pas d'envoi entre 22 h et 7 h, même pour un changement urgent",
    WaitReason.sunday: "pas d'envoi le dimanche",
    WaitReason.public_holiday: "pas d'envoi les jours fériés",
    WaitReason.daily_cap: "la personne a déjà reçu son nombre maximum de messages ce jour-là",
    WaitReason.retry: "nouvel essai après un refus passager de l'opérateur",
}


def departure_lines(groups: Sequence[DepartureGroup], tz: tzinfo) -> list[str]:
    """ "2 partent dès maintenant." / "1 part le lundi 7 décembre à 8 h 30 (pas d'envoi le dimanche)." """
    lines = []
    for item in groups:
        verb = "part" if item.count == 1 else "partent"
        if item.leaves_at is None:
            lines.append(f"{item.count} {verb} dès maintenant.")
            continue
        why = " ; ".join(REASONS_FR[reason] for reason in item.reasons)
        lines.append(f"{item.count} {verb} le {when_fr(item.leaves_at, tz)}" + (f" ({why})." if why else "."))
    return lines


__all__ = [
    "REASONS_FR",
    "DepartureGroup",
    "WaitReason",
    "broadcast_departures",
    "departure_lines",
    "departures_of",
    "forecast_rows",
    "group",
]
