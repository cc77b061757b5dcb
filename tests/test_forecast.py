"""When queued messages leave and why they wait (``bot.scheduler.forecast``, pure): one table of labelled cases,
then the service on both databases — a move whose notices wait for the daily cap says so (issue 14, defect 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from bot.config import Settings, load_settings
from bot.context import Context
from bot.scheduler.forecast import Queued, WaitReason, forecast, held_between
from bot.scheduler.planning import QuietHours, parse_quiet_hours
from bot.service.changes import move_workshop_and_notify, report_lines
from bot.service.departures import DepartureGroup, departure_lines
from bot.territory import Territory
from storage.database import Database
from storage.enums import Channel
from storage.models import MessageKind, MessageStatus
from storage.outbox.queueing import NewMessage, enqueue
from tests.helpers.clock import PARIS, Clock
from tests.helpers.world import JULIE, Town, in_2026

QUIET = parse_quiet_hours("20:00-08:30")
W = WaitReason


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A local time in December 2026 (Saturday 5, Sunday 6; Friday 25 is Christmas)."""
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def notice(number: int, queued: datetime, *, due: datetime | None = None, urgent: bool = False, **more: bool) -> Queued:
    return Queued(
        id=number,
        due_at=due or queued,
        created_at=queued,
        urgent=urgent,
        capped=more.get("capped", not urgent),
        window=more.get("window", True),
        planned=more.get("planned", False),
        retrying=more.get("retrying", False),
    )


@dataclass(frozen=True)
class Case:
    label: str
    now: datetime
    queue: tuple[Queued, ...]
    expected: tuple[tuple[datetime, tuple[WaitReason, ...]], ...]  # per message, in id order
    sent_today: int = 0
    cap: int = 4
    quiet: QuietHours | None = QUIET


CASES = [
    Case("an open window: at once", at(7, 10), (notice(1, at(7, 10)),), ((at(7, 10), ()),)),
    Case("the evening: tomorrow morning", at(7, 21), (notice(1, at(7, 21)),), ((at(8, 8, 30), (W.quiet_hours,)),)),
    Case(
        "Saturday evening: Monday morning, past the Sunday",
        at(5, 21),
        (notice(1, at(5, 21)),),
        ((at(7, 8, 30), (W.quiet_hours, W.sunday)),),
    ),
    Case(
        "Christmas day: the morning after",
        at(25, 10),
        (notice(1, at(25, 10)),),
        ((at(26, 8, 30), (W.public_holiday, W.quiet_hours)),),
    ),
    Case(
        "an urgent notice in the evening: at once",
        at(7, 21),
        (notice(1, at(7, 21), urgent=True),),
        ((at(7, 21), ()),),
    ),
    Case(
        "an urgent notice at night: at seven",
        at(7, 23),
        (notice(1, at(7, 23), urgent=True),),
        ((at(8, 7), (W.night,)),),
    ),
    Case(
        "four already today: tomorrow",
        at(7, 10),
        (notice(1, at(7, 10)),),
        ((at(8, 8, 30), (W.daily_cap,)),),
        sent_today=4,
    ),
    Case(
        "three today: one more now, the next tomorrow",
        at(7, 10),
        (notice(1, at(7, 10)), notice(2, at(7, 10))),
        ((at(7, 10), ()), (at(8, 8, 30), (W.daily_cap,))),
        sent_today=3,
    ),
    Case(
        "an urgent notice is not held by the cap",
        at(7, 10),
        (notice(1, at(7, 10), urgent=True),),
        ((at(7, 10), ()),),
        sent_today=9,
    ),
    Case(
        "a reminder planned for later: at its time, no delay to explain",
        at(7, 10),
        (notice(1, at(7, 9), due=at(8, 10), planned=True),),
        ((at(8, 10), ()),),
    ),
    Case(
        "put back by the dispatcher for the cap: said so",
        at(7, 12),
        (notice(1, at(7, 11), due=at(8, 8, 30)),),
        ((at(8, 8, 30), (W.daily_cap,)),),
    ),
    Case(
        "a transient failure: tried again",
        at(7, 12),
        (notice(1, at(7, 11), due=at(7, 12, 5), retrying=True),),
        ((at(7, 12, 5), (W.retry,)),),
    ),
    Case(
        "an answer-like message outside the window rules leaves at once",
        at(7, 23),
        (notice(1, at(7, 23), window=False, capped=False),),
        ((at(7, 23), ()),),
    ),
    Case("no quiet hours at all", at(6, 23), (notice(1, at(6, 23)),), ((at(6, 23), ()),), quiet=None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_forecast(case: Case) -> None:
    found = forecast(
        case.queue, now=case.now, sent_today=case.sent_today, daily_cap=case.cap, quiet_hours=case.quiet, tz=PARIS
    )
    got = {d.message_id: (d.leaves_at.astimezone(PARIS), d.reasons) for d in found}
    assert [got[m.id] for m in case.queue] == list(case.expected)


def test_held_between_names_every_closed_window_crossed() -> None:
    assert held_between(at(5, 21), at(7, 8, 30), urgent=False, quiet_hours=QUIET, tz=PARIS) == [
        W.quiet_hours,
        W.sunday,
    ]
    assert held_between(at(7, 10), at(7, 11), urgent=False, quiet_hours=QUIET, tz=PARIS) == []


def test_departure_lines_in_french() -> None:
    groups = (
        DepartureGroup(2, None, ()),
        DepartureGroup(1, at(8, 8, 30).astimezone(PARIS), (W.daily_cap,)),
        DepartureGroup(3, at(7, 8, 30), (W.quiet_hours, W.sunday)),
    )
    assert departure_lines(groups, PARIS) == [
        "2 partent dès maintenant.",
        "1 part le mardi 8 décembre à 8 h 30 (la personne a déjà reçu son nombre maximum de messages ce jour-là).",
        "3 partent le lundi 7 décembre à 8 h 30 (heures calmes : pas d'envoi le soir ni la nuit ; pas d'envoi le "
        "dimanche).",
    ]


# --- Through the service --------------------------------------------------------------------------------------


@pytest.fixture
def town(db_url: str, db: Database, territory: Territory) -> Town:
    settings: Settings = load_settings({"ATELIER_DATABASE_URL": db_url, "ATELIER_DAILY_CAP": "2"})
    clock = Clock(in_2026(2, 10))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


@pytest.mark.both_dialects  # the queue and the day's count are read with the service's own SQL
async def test_a_move_whose_notices_wait_for_the_daily_cap_says_when_and_why(town: Town) -> None:
    workshop = await town.workshop("Saint-Victor", in_2026(9, 14), capacity=6)
    busy = await town.resident("Martine Dupont", phone="+33612345678")
    free = await town.resident("Paul Durand", phone="+33698765432")
    for resident in (busy, free):
        await town.seat(resident, workshop)
    for number in range(2):  # Martine already had her two messages today
        async with town.ctx.db.write() as session:
            sent = NewMessage(
                channel=Channel.sms, to_address="+33612345678", body=f"Diffusion {number}",
                kind=MessageKind.broadcast, due_at=town.clock.now - timedelta(hours=1), idempotency_key=f"b{number}",
                resident_id=busy, status=MessageStatus.sent, sent_at=town.clock.now - timedelta(hours=1),
            )  # fmt: skip
            await enqueue(session=session, message=sent)
    report = await move_workshop_and_notify(ctx=town.ctx, workshop_id=workshop, new_start="15:00", actor=JULIE)
    assert report.departures == (
        DepartureGroup(1, None, ()),
        DepartureGroup(1, in_2026(3, 8, 30), (W.daily_cap,)),
    )
    lines = report_lines(report, PARIS)
    assert "Messages prévus : 2 par SMS." in lines
    assert "1 part dès maintenant." in lines
    assert any(line.startswith("1 part le mardi 3 mars à 8 h 30 (la personne a déjà reçu") for line in lines)
    assert not any("partent dès maintenant" in line for line in lines)
