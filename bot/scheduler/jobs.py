"""What runs on its own inside ``atelier serve``: the dispatch loop, a nightly job (the retention purge) and a job
every minute (the "to call" list's sweep). The wiring hands both jobs in: the scheduler only knows when they run,
``bot.service.erasure`` and ``bot.service.calls`` what they do.

APScheduler only drives the clock (issue 4): one ``AsyncIOScheduler`` per process with its memory job store, never
a shared job store (APScheduler 3 is not safe with several schedulers on one store) and never a message as a job —
messages are outbox rows, claimed safely by any number of processes. The dispatch loop is a plain asyncio task
rather than an interval job: it claims again at once while messages are due, sleeps until ``wake()`` or
``ATELIER_DISPATCH_INTERVAL`` otherwise, which an interval trigger cannot express.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Context
from bot.scheduler.dispatch import Dispatcher

log = logging.getLogger(__name__)

PURGE_AT = {"hour": 3, "minute": 30}  # local time: the quietest moment of the night
STOP_GRACE = 10.0  # seconds given to in-flight sends at shutdown; the rest stay claimed (in doubt)

Nightly = Callable[[Context], Awaitable[object]]  # a job run once a night with the context (the retention purge)
Periodic = Callable[[Context], Awaitable[object]]  # a job run every SWEEP_EVERY seconds (the "to call" list's sweep)
SWEEP_EVERY = 60


@dataclass
class Jobs:
    ctx: Context
    dispatcher: Dispatcher
    scheduler: AsyncIOScheduler
    stop: asyncio.Event
    loop_task: asyncio.Task[None]


def start_jobs(
    ctx: Context, *, purge: Nightly, sweep: Periodic | None = None, dispatcher: Dispatcher | None = None
) -> Jobs:
    """Start the dispatch loop, the nightly ``purge`` and, when given, ``sweep`` every minute. Call from inside the
    running event loop (the lifespan)."""
    dispatcher = dispatcher or Dispatcher(ctx)
    ctx.wake_dispatcher = dispatcher.wake
    stop = asyncio.Event()
    loop_task = asyncio.create_task(dispatcher.run(stop), name="atelier-dispatch")
    scheduler = AsyncIOScheduler(timezone=ctx.tz)
    scheduler.add_job(
        purge,
        CronTrigger(**PURGE_AT, timezone=ctx.tz),
        args=(ctx,),
        id="retention-purge",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    if sweep is not None:
        scheduler.add_job(
            sweep,
            IntervalTrigger(seconds=SWEEP_EVERY),
            args=(ctx,),
            id="calls-sweep",
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    log.info(
        "scheduler started: dispatch every %.1f s at most, retention purge at 03:30", ctx.settings.dispatch_interval
    )
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
