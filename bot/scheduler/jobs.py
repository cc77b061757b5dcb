"""What runs on its own inside ``atelier serve``: the dispatch loop, the "to call" list's sweep and the nightly
retention purge.

APScheduler only drives the clock (issue 4): one ``AsyncIOScheduler`` per process with its memory job store, never
a shared job store (APScheduler 3 is not safe with several schedulers on one store) and never a message as a job —
messages are outbox rows, claimed safely by any number of processes. The dispatch loop is a plain asyncio task
rather than an interval job: it claims again at once while messages are due, sleeps until ``wake()`` or
``ATELIER_DISPATCH_INTERVAL`` otherwise, which an interval trigger cannot express.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Context
from bot.scheduler.dispatch import Dispatcher, log_failure
from bot.service.calls import sweep_now
from bot.service.erasure import erase
from storage.models import Resident
from storage.residents import inactive_residents

log = logging.getLogger(__name__)

PURGE_AT = {"hour": 3, "minute": 30}  # local time: the quietest moment of the night
CALLS_EVERY = 60  # seconds between two looks for failed deliveries and unanswered reminders (the "to call" list)
STOP_GRACE = 10.0  # seconds given to in-flight sends at shutdown; the rest stay claimed (in doubt)


@dataclass
class Jobs:
    ctx: Context
    dispatcher: Dispatcher
    scheduler: AsyncIOScheduler
    stop: asyncio.Event
    loop_task: asyncio.Task[None]


def start_jobs(ctx: Context, *, dispatcher: Dispatcher | None = None) -> Jobs:
    """Start the dispatch loop and the nightly purge. Call from inside the running event loop (the lifespan)."""
    dispatcher = dispatcher or Dispatcher(ctx)
    ctx.wake_dispatcher = dispatcher.wake
    stop = asyncio.Event()
    loop_task = asyncio.create_task(dispatcher.run(stop), name="atelier-dispatch")
    scheduler = AsyncIOScheduler(timezone=ctx.tz)
    scheduler.add_job(
        purge_inactive,
        CronTrigger(**PURGE_AT, timezone=ctx.tz),
        kwargs={"ctx": ctx},
        id="retention-purge",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        sweep_calls,
        IntervalTrigger(seconds=CALLS_EVERY),
        kwargs={"ctx": ctx},
        id="calls-sweep",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    log.info(
        "scheduler started: dispatch every %.1f s at most, to-call list every %d s, retention purge at 03:30",
        ctx.settings.dispatch_interval, CALLS_EVERY,
    )  # fmt: skip
    return Jobs(ctx, dispatcher, scheduler, stop, loop_task)


async def stop_jobs(jobs: Jobs, *, grace: float = STOP_GRACE) -> None:
    """Stop claiming, let in-flight sends finish for ``grace`` seconds, write their results, stop the scheduler."""
    jobs.stop.set()
    await jobs.loop_task
    await jobs.dispatcher.drain(grace)
    if jobs.scheduler.running:
        jobs.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler.shutdown is scheduled on the loop: let it run
    jobs.ctx.wake_dispatcher = _nothing
    log.info("scheduler stopped")


def _nothing() -> None:
    return None


async def sweep_calls(ctx: Context) -> int:
    """Failed deliveries and unanswered reminders become calls on the advisers' list (advisers in charge told)."""
    try:
        return await sweep_now(ctx)
    except Exception as exc:  # tried again at the next interval; never stops the scheduler
        log_failure("to-call list sweep", exc)
        return 0


async def purge_inactive(ctx: Context) -> int:
    """Erase the residents inactive for longer than ``ATELIER_RETENTION`` (anonymous counts are kept).

    One transaction per resident, so that a failure leaves the others done. No keyed hash is kept: they did not
    ask never to be contacted, they were only gone for long. Returns how many were erased."""
    now = ctx.now()
    async with ctx.db.read() as session:
        ids = await inactive_residents(session=session, before=now - ctx.settings.retention)
    erased = 0
    for resident_id in ids:
        try:
            await _erase_inactive(ctx, resident_id, now)
        except Exception as exc:  # the others are still erased; this one is tried again tomorrow night
            log_failure(f"erasing inactive resident {resident_id}", exc)
        else:
            erased += 1
    if ids:
        log.info("retention: %d of %d inactive resident(s) erased", erased, len(ids))
    return erased


async def _erase_inactive(ctx: Context, resident_id: int, now: datetime) -> None:
    async with ctx.db.write() as session:
        resident = await session.get(Resident, resident_id)
        if resident is not None and not resident.erased:
            # they did not ask to be forgotten: no hash kept, they may be written to again if they come back
            await erase(session=session, ctx=ctx, resident=resident, now=now, keep_hash=False)
