"""The service alone: CPU time of ``handle_inbound`` per turn and of a delivery report, with no HTTP around them.

    python bench/service_turns.py                 # 200 sign-ups of 7 turns on SQLite, then their reports
    python bench/service_turns.py --profile       # and the profile's top entries (both threads)

One conversation after the other, in this process: the figure is the operation's own cost, steady from one run to
the next even on a busy machine (the HTTP side is the ceiling's, measured by bench/inbound_sms.py).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from inbound_sms import COMMUNES, SCRIPT, atelier  # noqa: E402 - after the path set-up above
from turn_profile import profile_writer  # noqa: E402 - after the path set-up above

from bot.channels import Inbound  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.context import Context  # noqa: E402
from bot.service.inbound import handle_inbound  # noqa: E402
from bot.service.reminders import record_report  # noqa: E402
from bot.territory import load_territory  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.enums import Channel  # noqa: E402
from storage.models import MessageStatus  # noqa: E402

REPORTS = (MessageStatus.sent, MessageStatus.delivered)


async def play(ctx: Context, count: int, first: int) -> tuple[int, list[int], list[float]]:
    """``count`` sign-ups; returns the turns played, the outbox ids of the replies and the CPU seconds spent on
    each step of the script (every thread: one turn at a time)."""
    turns, replies, by_step = 0, list[int](), [0.0] * len(SCRIPT)
    for index in range(first, first + count):
        number = f"+3361{index:07d}"
        for step, text in enumerate(SCRIPT):
            said = text.format(commune=COMMUNES[index % len(COMMUNES)])
            inbound = Inbound(channel=Channel.sms, address=number, text=said, provider_id=f"SM{index:016x}{step:016x}")
            cpu = time.process_time()
            handled = await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
            by_step[step] += time.process_time() - cpu
            replies += handled.reply_ids
            turns += 1
    return turns, replies, by_step


async def report(ctx: Context, replies: list[int]) -> int:
    """Twilio's reports on each reply (sent, delivered), naming the row as a TwiML reply's do."""
    for outbox_id in replies:
        sid = f"SM{outbox_id:032x}"
        for status in REPORTS:
            update = {"provider_id": sid, "status": status, "outbox_id": outbox_id}
            assert await record_report(ctx=ctx, report=update, now=ctx.now())
    return len(replies) * len(REPORTS)


async def main(args: argparse.Namespace, url: str) -> None:
    settings = load_settings({"ATELIER_DATABASE_URL": url, "ATELIER_QUIET_HOURS": "none"})
    db = Database.from_url(url)
    ctx = Context(settings=settings, db=db, territory=load_territory(settings.territory))
    try:
        await play(ctx, 10, first=9_000_000)  # warm-up: compiled statements, the world read once
        profile, writer = cProfile.Profile(time.thread_time), cProfile.Profile(time.thread_time)
        if args.profile:
            profile.enable()
            profile_writer(writer)
        cpu = time.process_time()
        turns, replies, by_step = await play(ctx, args.conversations, first=1_000_000)
        turn_cpu = time.process_time() - cpu
        cpu = time.process_time()
        reports = await report(ctx, replies)
        report_cpu = time.process_time() - cpu
        profile.disable()
    finally:
        await db.dispose()
    print(f"{turns} turns: {turn_cpu / turns * 1000:.2f} ms of CPU per turn (every thread of this process)")
    print(f"{reports} delivery reports: {report_cpu / reports * 1000:.2f} ms of CPU per report")
    for step, (said, seconds) in enumerate(zip(SCRIPT, by_step, strict=True)):
        print(f"  step {step + 1} {said!r:<18} {seconds / args.conversations * 1000:.2f} ms of CPU per turn")
    if args.profile:
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        if db.writer is not None:
            stats.add(writer)
        stats.sort_stats(args.sort).print_stats(args.top)
        print(text.getvalue())


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    parser.add_argument(
        "--profile", action="store_true", help="profile this thread and SQLite's writer thread, listed together"
    )
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-service-") as tmp:
        url = args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'service.db'}"
        env = {**os.environ, "ATELIER_DATABASE_URL": url}
        for command in (atelier("db", "upgrade"), atelier("demo")):
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        asyncio.run(main(args, url))


if __name__ == "__main__":
    run()
