"""What runs on its own inside ``atelier serve``: the dispatch loop and a nightly job (the retention purge, which
the wiring hands in: the scheduler only knows when it runs, ``bot.service.erasure`` what it does).

APScheduler only drives the clock (issue 4): one ``AsyncIOScheduler`` per process with its memory job store, never
a shared job store (APScheduler 3 is not safe with several schedulers on one store) and never a message as a job —
messages are outbox rows, claimed safely by any number of processes. The dispatch loop is a plain asyncio task
rather than an interval job: it claims again at once while messages are due, sleeps until ``wake()`` or
``ATELIER_DISPATCH_INTERVAL`` otherwise, which an interval trigger cannot express.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.context import Context
from bot.logs import log_failure
from bot.scheduler.dispatch import Dispatcher

log = logging.getLogger(__name__)

PURGE_AT = {"hour": 3, "minute": 30}  # local time: the quietest moment of the night
STOP_GRACE = 10.0  # seconds given to in-flight sends at shutdown; the rest stay claimed (in doubt)

Nightly = Callable[[Context], Awaitable[object]]  # a job run once a night with the context (the retention purge)
Minutely = Callable[..., Awaitable[object]]  # a job run every minute, called with ``ctx=`` (calls never reported)
EVERY_MINUTE = 60  # seconds


@dataclass
class Jobs:
    ctx: Context
    dispatcher: Dispatcher
    scheduler: AsyncIOScheduler
    stop: asyncio.Event
    loop_task: asyncio.Task[None]


def start_jobs(
    ctx: Context, *, purge: Nightly, minutely: Sequence[Minutely] = (), dispatcher: Dispatcher | None = None
) -> Jobs:
    """Start the dispatch loop, the nightly ``purge`` and the ``minutely`` jobs. Call from inside the running
    event loop (the lifespan)."""
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
    for job in minutely:
        scheduler.add_job(
            _logged(job),
            IntervalTrigger(seconds=EVERY_MINUTE),
            kwargs={"ctx": ctx},
            id=f"minutely-{getattr(job, '__name__', 'job')}",
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


def _logged(job: Minutely) -> Callable[..., Awaitable[object]]:
    """The job, its failures logged: it runs again at the next minute, and never stops the scheduler."""

    async def run(**kwargs: object) -> object:
        try:
            return await job(**kwargs)
        except Exception as exc:
            log_failure(log, f"job {getattr(job, '__name__', 'job')}", exc)
            return None

    return run
