"""Benchmark: the dispatcher sending due SMS to the fake Twilio REST API on loopback (issue 4).

Three measures in one run, each against a fresh fake Twilio in its own process
(``python -m tests.helpers.fake_twilio``). The first two alternate for ``--rounds`` rounds and the medians are
compared, so that a change in the machine's load during the run does not favour one of them:

1. ceiling — the official ``twilio`` client alone (``AsyncTwilioHttpClient``, ``messages.create_async``): N messages
   at C concurrent requests, nothing else;
2. ours, no rate limit — the real dispatcher (claim in the database, screen, send through ``TwilioSender``, record
   the result) with ``ATELIER_SMS_RATE`` out of reach, at the same concurrency C. Target: at least 70 % of (1);
3. ours, rate-limited — M messages at ``ATELIER_SMS_RATE=R``: the achieved rate as a fraction of R (target ≥ 0.95)
   and the busiest one-second window in the fake's own timestamps (never above R).

    python bench/dispatch.py                       # 3 rounds of 10,000 messages at 32 concurrent, then 2,000 at 200/s
    python bench/dispatch.py --quick               # smoke test: 1 round of 500 messages, then 200 at 100/s
    python bench/dispatch.py --database-url postgresql+asyncpg://user@host/empty_db   # on PostgreSQL

The database is a new SQLite file unless ``--database-url`` names an empty database (migrated here).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.http.async_http_client import AsyncTwilioHttpClient  # noqa: E402 - after the path set-up above
from twilio.rest import Client  # noqa: E402

from bot.channels import SMS  # noqa: E402
from bot.config import DEFAULT_TERRITORY, load_settings  # noqa: E402
from bot.context import Context  # noqa: E402
from bot.handlers.sms import TwilioSender  # noqa: E402
from bot.scheduler.dispatch import Dispatcher  # noqa: E402
from bot.territory import load_territory  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import MessageKind  # noqa: E402
from storage.outbox.queueing import NewMessage, enqueue_many  # noqa: E402
from tests.helpers.fake_twilio import (  # noqa: E402
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    FakeTwilioProcess,
    RecordedMessage,
    spawn,
)

UNLIMITED = "1000000/s"


def number(index: int) -> str:
    return f"+3361{index:07d}"


def body(index: int) -> str:
    """A day-before reminder as residents get it (GSM-7 already: é and à are in the alphabet), numbered."""
    text = "Rappel : atelier numérique mardi 14 avril à 14 h, Mairie de Saint-Victor. Vous venez ? Répondez OUI ou NON."
    return f"{text} {index}"


def busiest_second(times: Sequence[datetime]) -> int:
    ordered = sorted(times)
    best, end = 0, 0
    for start, moment in enumerate(ordered):
        while end < len(ordered) and ordered[end] < moment + timedelta(seconds=1):
            end += 1
        best = max(best, end - start)
    return best


# --- 1. the official client alone -------------------------------------------------------------------------------


async def official_client(fake: FakeTwilioProcess, count: int, concurrency: int) -> float:
    """Messages per second of ``messages.create_async`` alone, ``concurrency`` requests at a time."""
    http = AsyncTwilioHttpClient()
    client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, http_client=http)
    client.api.base_url, client.region, client.edge = fake.url, None, None
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            await client.messages.create_async(to=number(index), from_=DEFAULT_FROM, body=body(index))

    await one(count)  # opens the client and a connection, as the dispatcher's probe does (not timed)
    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    elapsed = time.perf_counter() - started
    await http.close()
    return count / elapsed


# --- 2 and 3. the dispatcher ------------------------------------------------------------------------------------


async def fresh_database(url: str | None, directory: Path) -> Database:
    db = Database.from_url(url or f"sqlite+aiosqlite:///{directory / 'bench.db'}")
    await upgrade(db.engine)
    return db


async def queue(db: Database, count: int, tag: str) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    async with db.write() as session:
        for first in range(0, count, 2000):
            batch = [
                NewMessage(
                    channel=SMS,
                    to_address=number(i),
                    body=body(i),
                    kind=MessageKind.broadcast,
                    due_at=now,
                    idempotency_key=f"bench:{tag}:{i}",
                )
                for i in range(first, min(count, first + 2000))
            ]
            await enqueue_many(session=session, messages=batch)


async def dispatcher_run(
    db: Database, fake: FakeTwilioProcess, *, count: int, concurrency: int, rate: str
) -> tuple[float, int]:
    """Run the dispatcher until ``count`` messages are sent and recorded: (messages per second, given back)."""
    settings = load_settings(
        {
            "ATELIER_DATABASE_URL": str(db.engine.url),
            "ATELIER_SMS_RATE": rate,
            "ATELIER_QUIET_HOURS": "none",
            "ATELIER_DISPATCH_INTERVAL": "0.2",
        }
    )
    sender = TwilioSender(
        account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN, from_number=DEFAULT_FROM, api_url=fake.url
    )
    ctx = Context(settings=settings, db=db, territory=load_territory(DEFAULT_TERRITORY), senders={SMS: sender})
    dispatcher = Dispatcher(ctx, concurrency=concurrency)
    stop = asyncio.Event()
    started = time.perf_counter()
    loop = asyncio.create_task(dispatcher.run(stop))
    while dispatcher.totals.sent < count:
        if loop.done():
            loop.result()  # raises what stopped it
            raise RuntimeError("the dispatch loop stopped early")
        await asyncio.sleep(0.01)
    stop.set()
    await loop
    await dispatcher.drain(10)  # the last results are written: part of the measure
    elapsed = time.perf_counter() - started
    await sender.aclose()
    return count / elapsed, dispatcher.totals.given_back


def rate_figures(messages: list[RecordedMessage], limit: float) -> tuple[float, int]:
    times = sorted(m.created_at for m in messages)
    achieved = (len(times) - 1) / (times[-1] - times[0]).total_seconds()
    return achieved / limit, busiest_second(times)


async def main(args: argparse.Namespace) -> int:
    warnings.simplefilter("ignore", DeprecationWarning)  # aiohttp's BasicAuth notice, from the official client
    directory = Path(tempfile.mkdtemp(prefix="atelier-bench-"))
    print(
        f"dispatch benchmark: {args.count} messages at {args.concurrency} concurrent requests; fake Twilio on loopback"
    )

    db = await fresh_database(args.database_url, directory)
    try:
        ceilings, ours = [], []
        for round_ in range(args.rounds):
            with spawn(directory / f"ceiling-{round_}.jsonl") as fake:
                ceilings.append(await official_client(fake, args.count, args.concurrency))
            await queue(db, args.count, f"unlimited-{round_}")
            with spawn(directory / f"unlimited-{round_}.jsonl") as fake:
                rate, _ = await dispatcher_run(db, fake, count=args.count, concurrency=args.concurrency, rate=UNLIMITED)
                ours.append(rate)
                assert len(fake.messages()) == args.count, "every message exactly once"
            print(f"  round {round_ + 1}: official client alone {ceilings[-1]:6.0f}/s, dispatcher {ours[-1]:6.0f}/s")
        ceiling, mine = statistics.median(ceilings), statistics.median(ours)
        share = mine / ceiling
        verdict = "ok" if share >= 0.70 else "BELOW TARGET"
        print(f"  official twilio client alone : {ceiling:8.0f} messages/s (median)")
        print(f"  dispatcher, no rate limit    : {mine:8.0f} messages/s (median) = {share:.0%} of the client alone "
              f"(target ≥ 70 %: {verdict})")  # fmt: skip

        limit = float(args.rate)
        await queue(db, args.limited_count, "limited")
        with spawn(directory / "limited.jsonl") as fake:
            _, given_back = await dispatcher_run(
                db, fake, count=args.limited_count, concurrency=args.concurrency, rate=f"{args.rate}/s"
            )
            fraction, busiest = rate_figures(fake.messages(), limit)
        ok = fraction >= 0.95 and busiest <= limit
        print(f"  dispatcher at {args.rate}/s: {args.limited_count} messages, achieved {fraction:.3f} of the limit, "
              f"busiest second {busiest} (limit {args.rate}; target ≥ 0.95 and never above: "
              f"{'ok' if ok else 'MISSED'}; {given_back} sends given back for a new slot)")  # fmt: skip
    finally:
        await db.dispose()
    return 0 if share >= 0.70 and ok else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="messages for the throughput measures")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent requests (both measures)")
    parser.add_argument("--rate", type=int, default=200, help="the rate limit of the third measure, per second")
    parser.add_argument("--limited-count", type=int, default=2000, help="messages for the rate-limited measure")
    parser.add_argument("--database-url", default=None, help="an empty database (default: a new SQLite file)")
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds of the first two measures")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 500 messages, then 200 at 100/s")
    args = parser.parse_args(argv)
    if args.quick:
        args.count, args.limited_count, args.rate, args.rounds = 500, 200, 100, 1
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
