"""The pure dialogue alone: CPU time of ``dialogue.respond`` (and ``after_enrol``) per turn, without the service.

    python bench/dialogue_turns.py                  # 60 sign-ups of 7 turns, replayed 10 times
    python bench/dialogue_turns.py --personas       # the personas of tests/personas.py instead
    python bench/dialogue_turns.py --profile        # and the profile's top entries

The sign-ups of bench/inbound_sms.py are played once through the service (``handle_inbound`` on SQLite, as
bench/service_turns.py does), every call to the dialogue is recorded with its arguments, then the calls are
replayed, timed, in this thread: the figure is the dialogue's own CPU per turn, steady on a busy machine. Each
replay must give what the service got (the dialogue is pure), else the script stops.

The sign-ups all say the same words (bench/inbound_sms.py's script): caches keyed on what a resident wrote are
warmer there than in real use. The personas' are less so (``--personas``: 70 residents, each with their own words,
spellings and detours: about 400 turns, half of them different messages). Replayed, every message has been seen
before: ``--cold`` empties the caches keyed on what residents write (``TEXT_CACHES``) before each call, the
pessimistic bound (the SMS lines' cache then also loses the workshop lines, which every resident is offered).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from inbound_sms import atelier  # noqa: E402 - after the path set-up above
from service_turns import play  # noqa: E402

import bot.conversation.dialogue as dialogue  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.context import Context  # noqa: E402
from bot.territory import load_territory  # noqa: E402
from storage.database import Database  # noqa: E402
from tests.personas import run_personas  # noqa: E402

RECORDED = ("respond", "after_enrol", "after_move")
# The caches of bot/conversation keyed on a resident's words (the others are keyed on the world: the territory,
# the workshops, their dates), by module and name.
TEXT_CACHES = (
    ("bot.conversation.understanding.text", "_normalized"),
    ("bot.conversation.understanding.text", "_words"),
    ("bot.conversation.understanding.keywords", "_keyword_in"),
    ("bot.conversation.understanding.interests", "_words_meant"),
    ("bot.conversation.gsm7", "_line_septets"),
)

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], str]


def recording(calls: list[Call]) -> None:
    """Wrap the dialogue's entry points (as the service reaches them) to append each call and its result's repr."""
    for name in RECORDED:
        original = getattr(dialogue, name)

        def recorded(*args: Any, original: Any = original, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            calls.append((original, args, kwargs, repr(result)))
            return result

        setattr(dialogue, name, recorded)


async def record(url: str, conversations: int) -> None:
    settings = load_settings({"ATELIER_DATABASE_URL": url, "ATELIER_QUIET_HOURS": "none"})
    db = Database.from_url(url)
    ctx = Context(settings=settings, db=db, territory=load_territory(settings.territory))
    try:
        await play(ctx, conversations, first=1_000_000)
    finally:
        await db.dispose()


def replay(calls: list[Call]) -> float:
    """CPU time of this thread to make every call once."""
    started = time.thread_time()
    for function, args, kwargs, _ in calls:
        function(*args, **kwargs)
    return time.thread_time() - started


def replay_cold(calls: list[Call]) -> float:
    """Likewise, the caches keyed on residents' words emptied before each call (not counted)."""
    found = (getattr(importlib.import_module(module), name, None) for module, name in TEXT_CACHES)
    caches = [cache for cache in found if cache is not None]  # an older version may have fewer
    spent = 0.0
    for function, args, kwargs, _ in calls:
        for cache in caches:
            cache.cache_clear()
        started = time.thread_time()
        function(*args, **kwargs)
        spent += time.thread_time() - started
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--personas", action="store_true", help="the personas' messages, not the sign-up script")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--cold", action="store_true", help="caches keyed on residents' words emptied before each call")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args()
    calls: list[Call] = []
    recording(calls)
    if args.personas:
        asyncio.run(run_personas())
    else:
        with tempfile.TemporaryDirectory(prefix="atelier-dialogue-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'dialogue.db'}"
            env = {**os.environ, "ATELIER_DATABASE_URL": url}
            for command in (atelier("db", "upgrade"), atelier("demo")):
                subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
            asyncio.run(record(url, args.conversations))
    for function, call_args, kwargs, expected in calls:  # also the warm-up round
        if repr(function(*call_args, **kwargs)) != expected:
            raise SystemExit(f"{function.__name__} answered differently on replay: the dialogue is not pure")
    turns = sum(1 for function, *_ in calls if function.__name__ == "respond")
    times = sorted((replay_cold if args.cold else replay)(calls) for _ in range(args.rounds))
    print(
        f"{turns} turns ({len(calls)} calls to the dialogue), replayed {args.rounds} times"
        f"{', caches of the words cold' if args.cold else ''}: "
        f"{times[0] / turns * 1000:.3f} ms of CPU per turn at best, {times[len(times) // 2] / turns * 1000:.3f} median"
    )
    if args.profile:
        profile = cProfile.Profile(time.thread_time)
        profile.runcall(replay, calls)
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats(args.sort).print_stats("bot/conversation", args.top)
        print(text.getvalue())


if __name__ == "__main__":
    main()
