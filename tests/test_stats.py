"""After the workshop (``bot.service.stats``), on both databases: attendance, and the quarterly figures per commune and
level — signed up, waiting, seated, confirmed, came, and the share of reminders answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import update

from bot.config import Settings
from bot.context import Context
from bot.service.stats import StatsRow, mark_attendance, workshop_stats
from bot.service.workshops import WorkshopError, roster
from bot.territory import Territory
from storage.database import Database
from storage.models import (
    EnrolmentStatus,
    Level,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    Workshop,
    WorkshopStatus,
)
from tests.helpers.clock import Clock
from tests.helpers.world import JULIE, Town, in_2026

# On both databases: aggregates over times and groups, which the engines type differently.
pytestmark = pytest.mark.both_dialects


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


@dataclass
class Story:
    w: int  # Saint-Victor, beginners, Tuesday 3 March 14:00, three seats
    later: int  # Domérat, intermediate, Thursday 12 March, one seat
    ids: dict[str, int]
    seats: dict[str, int]


async def tell(town: Town) -> Story:
    """Anne, Bruno and Chloé get W's seats, Denis waits. The day-before reminders leave at 10:00; Anne answers
    OUI, Bruno NON (Denis gets his seat), Chloé nothing. Eve has the Domérat seat, Fred waits for it. Gina signed
    up without a workshop; Hugo was erased (he still counts). A cancelled workshop counts for nothing."""
    ids: dict[str, int] = {}
    for name in ("Anne", "Bruno", "Chloé", "Denis", "Hugo"):
        ids[name] = await town.resident(name, phone=f"+3361200{len(ids):04d}")
    for name in ("Eve", "Fred"):
        ids[name] = await town.resident(
            name, phone=f"+3361200{len(ids):04d}", commune="Domérat", level=Level.intermediate
        )
    ids["Gina"] = await town.resident("Gina", phone="+33612009999", commune="Lamaids")
    w = await town.workshop("Saint-Victor", in_2026(3, 14), capacity=3)
    later = await town.workshop("Domérat", in_2026(12, 14), level=Level.intermediate, capacity=1)
    gone = await town.workshop("Saint-Victor", in_2026(5, 14))
    seats = {name: await town.seat(ids[name], w) for name in ("Anne", "Bruno", "Chloé", "Denis")}
    seats |= {name: await town.seat(ids[name], later) for name in ("Eve", "Fred")}
    await town.seat(ids["Gina"], gone)
    async with town.ctx.db.write() as session:
        cancelled = await session.get(Workshop, gone)
        assert cancelled is not None
        cancelled.status = WorkshopStatus.cancelled
        await session.execute(  # what the dispatcher records when the 10:00 reminders leave
            update(OutboundMessage)
            .where(
                OutboundMessage.kind == MessageKind.reminder,
                OutboundMessage.workshop_id == w,
                OutboundMessage.due_at <= in_2026(2, 10),
            )
            .values(status=MessageStatus.sent, sent_at=in_2026(2, 10))
        )
        erased = await session.get(Resident, ids["Hugo"])
        assert erased is not None
        erased.erased, erased.name, erased.phone = True, None, None
    town.clock.now = in_2026(2, 10, 30)
    await town.say("+33612000000", "OUI")  # Anne
    await town.say("+33612000001", "non")  # Bruno
    return Story(w, later, ids, seats)


async def test_figures_per_commune_and_level(town: Town) -> None:
    story = await tell(town)
    town.clock.now = in_2026(3, 16, 30)
    await mark_attendance(
        ctx=town.ctx,
        actor=JULIE,
        workshop_id=story.w,
        present=[story.ids["Anne"], story.ids["Denis"]],
        absent=[story.ids["Chloé"]],
    )
    stats = await workshop_stats(ctx=town.ctx)
    names = ("signed_up", "waiting", "seated", "confirmed", "came", "reminded", "answered")

    def figures(r: StatsRow) -> dict[str, int]:
        return {name: getattr(r, name) for name in names}

    # (signed up, waiting, seated, confirmed, came, reminded, answered)
    assert [(r.commune, r.level, tuple(figures(r).values())) for r in stats.rows] == [
        ("Domérat", Level.intermediate, (2, 1, 1, 0, 0, 0, 0)),
        ("Lamaids", Level.beginner, (1, 0, 0, 0, 0, 0, 0)),
        # Anne came (OUI), Chloé did not (no answer), Denis came (promoted, not yet reminded); Bruno said NON.
        ("Saint-Victor", Level.beginner, (5, 0, 3, 1, 2, 3, 2)),
    ]
    saint_victor = stats.rows[2]
    assert saint_victor.answered_share == 0.667 and stats.rows[0].answered_share is None
    assert figures(stats.total) == {
        "signed_up": 8, "waiting": 1, "seated": 4, "confirmed": 1, "came": 2, "reminded": 3, "answered": 2,
    }  # fmt: skip

    quarter = await workshop_stats(ctx=town.ctx, since=in_2026(4, 0), until=in_2026(1, 0, month=4))
    assert [(r.commune, figures(r)) for r in quarter.rows] == [
        (
            "Domérat",
            {"signed_up": 0, "waiting": 1, "seated": 1, "confirmed": 0, "came": 0, "reminded": 0, "answered": 0},
        )
    ]


async def test_attendance_is_marked_corrected_and_shown_in_the_roster(town: Town) -> None:
    story = await tell(town)
    anne, chloe = story.ids["Anne"], story.ids["Chloé"]
    ctx = town.ctx
    refusals: list[tuple[str, datetime, dict[str, list[int]], str]] = [
        ("before the start", in_2026(3, 13), {"present": [anne]}, "pas encore commencé"),
        ("nobody named", in_2026(3, 16), {}, "indiquez qui était présent"),
        ("present and absent at once", in_2026(3, 16), {"present": [anne], "absent": [anne]}, "à la fois"),
        ("someone without a seat there", in_2026(3, 16), {"present": [anne, story.ids["Bruno"]]}, "pas de place"),
        ("someone unknown", in_2026(3, 16), {"absent": [99999]}, "99999"),
    ]
    for label, moment, marks, says in refusals:
        town.clock.now = moment
        with pytest.raises(WorkshopError, match=says):
            await mark_attendance(ctx=ctx, actor=JULIE, workshop_id=story.w, **marks)
        assert (await town.enrolment(story.seats["Anne"])).status == EnrolmentStatus.seated, label
    with pytest.raises(WorkshopError, match="n'existe pas"):
        await mark_attendance(ctx=ctx, actor=JULIE, workshop_id=99999, present=[anne])

    await mark_attendance(ctx=ctx, actor=JULIE, workshop_id=story.w, present=[anne], absent=[chloe])
    await mark_attendance(ctx=ctx, actor=JULIE, workshop_id=story.w, present=[chloe])  # she came late: corrected
    statuses = {e.name: e.status for e in (await roster(ctx=ctx, workshop_id=story.w)).enrolments}
    assert statuses == {
        "Anne": EnrolmentStatus.attended,
        "Chloé": EnrolmentStatus.attended,
        "Denis": EnrolmentStatus.seated,
    }
