"""Where a turn's CPU goes: ``atelier serve``'s application run in this process under cProfile, loaded by the
benchmark's own client from another process (bench/inbound_sms.py), so the figures are the server's alone.

    python bench/turn_profile.py                    # 160 sign-ups (1,120 turns) with their status callbacks
    python bench/turn_profile.py --no-callbacks     # the turns alone
    python bench/turn_profile.py --top 40 --sort cumulative
    python bench/turn_profile.py --no-profile       # the CPU time per turn alone, without the profiler's cost
    python bench/turn_profile.py --database postgresql+asyncpg://…   # an empty database of yours

Prints the CPU time of this process (every thread) per turn and per request during the measured load, and the
profile's top entries, in CPU time of the event loop's thread and of SQLite's writer thread, each listed (other
threads are counted in the CPU time per turn, not listed). Profiling slows the code down about twice: the
entries' shares are what matter.
CPU time per turn hardly depends on what else the machine runs: it is the figure to compare when the machine is
shared.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
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

from inbound_sms import ACCOUNT_SID, OUR_NUMBER, atelier, free_port  # noqa: E402 - after the path set-up above

from bot.cli import SERVER_STACK  # noqa: E402
from storage.sqlite_writer import SQLiteWriter  # noqa: E402

TOKEN = "bench-auth-token"


def environment(database: str, public: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ATELIER_DATABASE_URL": database,
        "ATELIER_PUBLIC_URL": public,
        "ATELIER_QUIET_HOURS": "none",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": OUR_NUMBER,
        "ATELIER_TWILIO_API_URL": "http://127.0.0.1:9",  # nothing is sent: every reply goes back in the TwiML
    }
    for variable in ("TELEGRAM_BOT_TOKEN", "TWILIO_REGION", "TWILIO_EDGE"):
        env.pop(variable, None)
    return env


async def serve_and_load(
    args: argparse.Namespace, port: int, env: dict[str, str]
) -> tuple[cProfile.Profile, cProfile.Profile, str]:
    import uvicorn

    from bot.app import create_app
    from bot.cli import ready_to_serve
    from bot.config import load_settings

    os.environ.update(env)
    app = create_app(load_settings())
    ready_to_serve(app)  # as atelier serve does: the indexes built, start-up's objects frozen
    # Logged as ``atelier serve`` logs (our lines at INFO, uvicorn's access lines), into the void.
    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"))  # noqa: SIM115, ASYNC230 - once, kept
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", log_config=None, **SERVER_STACK)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn's Server offers a flag, not an event
        await asyncio.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    load = [sys.executable, str(ROOT / "bench" / "inbound_sms.py"), "--load-only", f"--target={base}"]
    load += [f"--token={TOKEN}", f"--concurrency={args.concurrency}"]
    if not args.callbacks:
        load.append("--no-callbacks")
    warm = await asyncio.create_subprocess_exec(*load, "--conversations=16", stdout=subprocess.DEVNULL, env=env)
    await warm.wait()
    profile = cProfile.Profile(time.thread_time)  # CPU time of the event loop's thread, not the wall clock
    writer = cProfile.Profile(time.thread_time)  # and of SQLite's writer thread
    cpu, loop_cpu = time.process_time(), time.thread_time()
    if args.profile:
        profile.enable()
        profile_writer(writer)
    else:
        _time_writer()
    measured = await asyncio.create_subprocess_exec(
        *load, f"--conversations={args.conversations}", stdout=subprocess.PIPE, env=env
    )
    output, _ = await measured.communicate()
    profile.disable()
    profile_writer(None)
    cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
    server.should_exit = True
    await serving
    report = output.decode()
    turns, requests = _counts(report)
    loop = type(asyncio.get_running_loop())
    summary = (
        f"{report.strip()}\nserver: {config.http_protocol_class.__name__} on {loop.__module__}.{loop.__name__}\n"
        f"server CPU (this process, every thread): {cpu:.2f} s = "
        f"{cpu / turns * 1000:.2f} ms per turn, {cpu / requests * 1000:.2f} ms per request"
    )
    if not args.profile:
        writer_cpu = _writer_cpu[0]
        summary += (
            f"\n  of which the event loop's thread {loop_cpu / requests * 1000:.2f} ms per request, SQLite's writer "
            f"thread {writer_cpu / requests * 1000:.2f} ms per request (the rest: other threads)"
        )
    return profile, writer, summary


# What the writer thread runs: a transaction alone, and a group of them (the turns and delivery reports that
# arrived together).
_UNPROFILED = {"_run": SQLiteWriter._run, "_run_together": SQLiteWriter._run_together}


_writer_cpu = [0.0]


def _time_writer() -> None:
    """Add up the CPU time of everything run on SQLite's writer thread into ``_writer_cpu``."""
    for name, unprofiled in _UNPROFILED.items():

        def timed(self: SQLiteWriter, works: Any, unprofiled: Any = unprofiled) -> Any:
            started = time.thread_time()
            try:
                return unprofiled(self, works)
            finally:
                _writer_cpu[0] += time.thread_time() - started

        setattr(SQLiteWriter, name, timed)


def profile_writer(profile: cProfile.Profile | None) -> None:
    """Profile everything run on SQLite's writer thread into ``profile`` (None: stop)."""
    for name, unprofiled in _UNPROFILED.items():
        if profile is None:
            setattr(SQLiteWriter, name, unprofiled)
            continue

        def profiled(self: SQLiteWriter, works: Any, unprofiled: Any = unprofiled, profile: Any = profile) -> Any:
            profile.enable()
            try:
                return unprofiled(self, works)
            finally:
                profile.disable()

        setattr(SQLiteWriter, name, profiled)


def _counts(report: str) -> tuple[int, int]:
    """The load's ``turns=N requests=M`` line."""
    for line in report.splitlines():
        if line.startswith("turns="):
            parts = dict(part.split("=") for part in line.split())
            return int(parts["turns"]), int(parts["requests"])
    raise RuntimeError(f"the load printed no counts:\n{report}")


def _serving_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop ``atelier serve`` runs on (what ``uvicorn.Server.run`` creates)."""
    import uvicorn

    return uvicorn.Config("bot.cli:worker_app", **SERVER_STACK).get_loop_factory()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=160)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--no-callbacks", dest="callbacks", action="store_false")
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--no-profile", dest="profile", action="store_false", help="only the CPU time per turn")
    parser.add_argument("--save", help="write the raw profile here (for snakeviz, pstats)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-profile-") as tmp:
        port = free_port()
        database = args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'profile.db'}"
        env = environment(database, f"http://127.0.0.1:{port}")
        for command in (atelier("db", "upgrade"), atelier("demo")):
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        with asyncio.Runner(loop_factory=_serving_loop()) as runner:
            profile, writer, summary = runner.run(serve_and_load(args, port, env))
    if args.save:
        profile.dump_stats(args.save)
        writer.dump_stats(args.save + ".writer")
    if args.profile:
        for title, stats in (("the event loop's thread", profile), ("SQLite's writer thread", writer)):
            text = io.StringIO()
            try:
                pstats.Stats(stats, stream=text).sort_stats(args.sort).print_stats(args.top)
            except TypeError:  # nothing ran there (PostgreSQL has no writer thread)
                continue
            print(f"--- {title} ---\n{text.getvalue()}")
    print(summary)


if __name__ == "__main__":
    main()
