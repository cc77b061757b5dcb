"""Benchmark: whole sign-up conversations by SMS as Twilio sends them — signed webhooks, and for every message
answered in TwiML its status callbacks (sent, then delivered) — against ``atelier serve``.

In the same run, the same load goes to a bare Starlette endpoint that only parses the form, checks the signature
(both as ``atelier serve`` does) and answers a fixed TwiML (or 204 to a callback): the ceiling of this machine for
this kind of request. Every server runs in its own process under uvicorn exactly as ``atelier serve`` runs it
(``bot.cli.SERVER_STACK``: httptools, uvloop); the load client (aiohttp) is
this process, so client and server never share an event loop. Turns are built and signed before the clock starts;
a callback is signed when its TwiML has named its URL, as Twilio does.

    python bench/inbound_sms.py                  # SQLite, then PostgreSQL with one and two processes
    python bench/inbound_sms.py --quick          # smoke test: 32 conversations
    python bench/inbound_sms.py --sqlite-only    # or --postgres-only
    python bench/inbound_sms.py --load-only --target http://127.0.0.1:8000 --token T   # load a running serve

Each conversation is the sign-up script of the transcripts ("Bonjour", a name, a commune, level, interests, a
workshop, OUI) from its own number; a resident waits for each answer before writing again, and Twilio posts the
callbacks of each message of the answer (sent, then delivered) before the resident's next message.

Targets (issue 16), SQLite, one process, 32 concurrent requests: the turns alone ≥ 35 % of the ceiling's
requests/s; with the callbacks, all requests ≥ 35 % of the ceiling's; p99 of a turn < 100 ms in both.
PostgreSQL, two processes (``atelier serve --workers 2``) ≥ 1.6 × one process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator, compare  # noqa: E402 - after the path set-up above

PATH = "/sms/twilio"
STATUS_PATH = "/sms/twilio/status"
ACCOUNT_SID = "AC" + "0" * 31 + "1"
OUR_NUMBER = "+33939000000"
COMMUNES = ("st victor", "domerat", "montlucon", "desertines", "quinssaines", "lavault ste anne")
SCRIPT = ("Bonjour", "Martine Dupont", "{commune}", "1", "1 3", "1", "oui")
CALLBACKS = ("sent", "delivered")  # what Twilio posts about each message it sends (the ones that matter to us)
_ACTION = re.compile(r'<Message[^>]*\baction="([^"]+)"')

# Issue 16's targets.
SHARE_OF_CEILING = 0.35
P99_MS = 100.0
SCALE_OUT = 1.6


# --- the ceiling server (run as a separate process by this script) ---------------------------------------------


def ceiling_server(port: int, token: str, public_url: str) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from bot.cli import SERVER_STACK
    from bot.handlers import read_form  # the form read as atelier serve reads it
    from bot.handlers.sms import MAX_FORM_BYTES

    validator = RequestValidator(token)
    report = f"{public_url}{STATUS_PATH}?outbox=1"
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Message action="{report}" method="POST">Bonjour !</Message></Response>'
    )

    async def signed(request: Request, url: str) -> bool:
        """The form read and its signature checked as ``atelier serve`` does both (one HMAC for a genuine one)."""
        form = await read_form(request, most=MAX_FORM_BYTES)
        signature = request.headers.get("x-twilio-signature", "")
        return form is not None and compare(validator.compute_signature(url, form), signature)

    async def endpoint(request: Request) -> Response:
        if not await signed(request, public_url + PATH):
            return Response("Forbidden", status_code=403)
        return Response(answer, media_type="application/xml")

    async def status(request: Request) -> Response:
        if not await signed(request, f"{public_url}{STATUS_PATH}?{request.url.query}"):
            return Response("Forbidden", status_code=403)
        return Response(status_code=204)

    routes = [Route(PATH, endpoint, methods=["POST"]), Route(STATUS_PATH, status, methods=["POST"])]
    app = Starlette(routes=routes)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", **SERVER_STACK)  # as `atelier serve`


# --- processes ----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own loopback server
                return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error answer: the server is up
                return
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


@contextmanager
def process(command: list[str], *, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield child
        finally:
            child.send_signal(signal.SIGINT)  # uvicorn's graceful stop
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def atelier(*args: str) -> list[str]:
    """The ``atelier`` command of this checkout's interpreter."""
    return [sys.executable, "-c", "from bot.cli import main; main()", *args]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and all its descendants (uvicorn's workers, PostgreSQL's backends),
    from /proc, those that ended included (a pool closes the connections it opened beyond its size: their
    backends' time is then their parent's "children" time)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid → (parent, seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime (proc(5)): fields 14 to 17, counted from the state, field 3
        stats[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]) / ticks)
    total, family = 0.0, {pid}
    for _ in range(4):  # uvicorn's parent → its workers (spawned: a resource tracker in between, at most)
        family |= {child for child, (parent, _) in stats.items() if parent in family}
    for member in family:
        if member in stats:
            total += stats[member][1]
    return total


# --- the load -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    number: str
    body: bytes
    signature: str


def conversations(count: int, *, first: int, token: str, url: str) -> list[list[Turn]]:
    """``count`` conversations from distinct numbers, each turn form-encoded and signed for ``url``."""
    validator = RequestValidator(token)
    result = []
    for index in range(first, first + count):
        number = f"+3361{index:07d}"
        turns = []
        for step, text in enumerate(SCRIPT):
            sid = f"SM{index:016x}{step:016x}"
            form = {
                "AccountSid": ACCOUNT_SID,
                "ApiVersion": "2010-04-01",
                "Body": text.format(commune=COMMUNES[index % len(COMMUNES)]),
                "From": number,
                "FromCountry": "FR",
                "MessageSid": sid,
                "NumMedia": "0",
                "NumSegments": "1",
                "SmsMessageSid": sid,
                "SmsSid": sid,
                "SmsStatus": "received",
                "To": OUR_NUMBER,
                "ToCountry": "FR",
            }
            turns.append(Turn(number, urlencode(form).encode(), validator.compute_signature(url, form)))
        result.append(turns)
    return result


class Callbacks:
    """The status callbacks Twilio posts for the messages of a TwiML answer, signed for the URL each names."""

    def __init__(self, token: str, base: str, public: str) -> None:
        self._validator = RequestValidator(token)
        self._base, self._public = base, public
        self._sent = 0

    def of(self, twiml: str, to: str) -> list[tuple[str, bytes, str]]:
        """(path and query, body, signature) of each callback, in the order Twilio posts them."""
        posts = []
        for action in _ACTION.findall(twiml):
            url = unescape(action)
            self._sent += 1
            sid = f"SM{os.getpid():08x}{self._sent:024x}"
            for status in CALLBACKS:
                form = {
                    "AccountSid": ACCOUNT_SID,
                    "ApiVersion": "2010-04-01",
                    "From": OUR_NUMBER,
                    "MessageSid": sid,
                    "MessageStatus": status,
                    "SmsSid": sid,
                    "SmsStatus": status,
                    "To": to,
                }
                path = url[len(self._public) :] if url.startswith(self._public) else url
                posts.append((path, urlencode(form).encode(), self._validator.compute_signature(url, form)))
        return posts


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float]  # of the turns
    callbacks: int
    errors: int
    cpu: float | None = None  # the server's CPU seconds during the load, when it is ours
    database_cpu: float | None = None  # and the database server's (PostgreSQL)
    client_cpu: float | None = None  # and this load client's
    notes: list[str] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.latencies)

    @property
    def requests(self) -> int:
        return self.turns + self.callbacks

    @property
    def turn_rate(self) -> float:
        return self.turns / self.seconds

    @property
    def request_rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def line(self) -> str:
        cpu = ""
        if self.cpu is not None:
            per_turn, per_request = self.cpu / self.turns * 1000, self.cpu / self.requests * 1000
            cpu = f"  server CPU {per_turn:5.2f} ms/turn {per_request:5.2f} ms/request"
        if self.database_cpu is not None:
            cpu += f", database {self.database_cpu / self.turns * 1000:5.2f} ms/turn"
        if self.client_cpu is not None:
            cpu += f", load client {self.client_cpu / self.turns * 1000:5.2f} ms/turn"
        return (
            f"{self.name:<34} {self.turns:>5} turns {self.callbacks:>5} callbacks in {self.seconds:6.2f} s "
            f"{self.turn_rate:7.1f} turns/s {self.request_rate:7.1f} req/s  turn p50 {self.percentile(0.5):6.1f} "
            f"p90 {self.percentile(0.9):6.1f} p99 {self.percentile(0.99):6.1f} ms  errors {self.errors}{cpu}"
        )


async def load(
    name: str,
    base: str,
    work: list[list[Turn]],
    concurrency: int,
    *,
    callbacks: Callbacks | None,
    server_pid: int | None = None,
    database_pid: int | None = None,
) -> Result:
    import aiohttp

    queue: asyncio.Queue[list[Turn]] = asyncio.Queue()
    for conversation in work:
        queue.put_nowait(conversation)
    latencies: list[float] = []
    posted = errors = 0
    form_type = "application/x-www-form-urlencoded"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url=base, connector=connector) as session:

        async def worker() -> None:
            nonlocal errors, posted
            while not queue.empty():
                conversation = queue.get_nowait()
                for turn in conversation:  # one resident waits for each answer before writing again
                    started = time.perf_counter()
                    headers = {"Content-Type": form_type, "X-Twilio-Signature": turn.signature}
                    async with session.post(PATH, data=turn.body, headers=headers) as response:
                        text = await response.text()
                    latencies.append(time.perf_counter() - started)
                    if response.status != 200 or "<Message" not in text:
                        errors += 1
                    for path, body, signature in callbacks.of(text, turn.number) if callbacks else ():
                        headers = {"Content-Type": form_type, "X-Twilio-Signature": signature}
                        async with session.post(path, data=body, headers=headers) as response:
                            await response.read()
                        posted += 1
                        if response.status != 204:
                            errors += 1

        cpu = cpu_seconds(server_pid) if server_pid is not None else None
        database = cpu_seconds(database_pid) if database_pid is not None else None
        client = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        client = time.process_time() - client
        if server_pid is not None and cpu is not None:
            cpu = cpu_seconds(server_pid) - cpu
        if database_pid is not None and database is not None:
            database = cpu_seconds(database_pid) - database
    return Result(name, seconds, latencies, posted, errors, cpu, database, client)


# --- the runs -----------------------------------------------------------------------------------------------------


class Numbers:
    """Fresh phone numbers for each load, so that every conversation starts from nothing."""

    def __init__(self) -> None:
        self._next = int(time.time()) % 100_000 * 10  # and when a running server is targeted twice

    def take(self, count: int) -> int:
        first, self._next = self._next, self._next + count
        return first


def server_env(database: str, public: str, token: str, fake: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ATELIER_DATABASE_URL": database,
        "ATELIER_PUBLIC_URL": public,
        "ATELIER_QUIET_HOURS": "none",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": token,
        "TWILIO_FROM": OUR_NUMBER,
        "ATELIER_TWILIO_API_URL": fake,  # nothing should be sent: the replies go back in the TwiML
    }
    for variable in ("TELEGRAM_BOT_TOKEN", "TWILIO_REGION", "TWILIO_EDGE"):
        env.pop(variable, None)
    return env


@dataclass
class Plan:
    count: int
    warmup: int
    concurrency: int
    token: str


def play(
    name: str,
    base: str,
    plan: Plan,
    numbers: Numbers,
    *,
    callbacks: bool,
    server_pid: int | None = None,
    database_pid: int | None = None,
) -> Result:
    """A warm-up, then the measured load, each from fresh numbers."""
    warm = conversations(plan.warmup, first=numbers.take(plan.warmup), token=plan.token, url=base + PATH)
    work = conversations(plan.count, first=numbers.take(plan.count), token=plan.token, url=base + PATH)
    signer = Callbacks(plan.token, base, base) if callbacks else None
    asyncio.run(load("warm-up", base, warm, min(plan.concurrency, plan.warmup), callbacks=signer))
    pids = {"server_pid": server_pid, "database_pid": database_pid}
    measured = load(name, base, work, plan.concurrency, callbacks=signer, **pids)
    return asyncio.run(measured)


@contextmanager
def atelier_serve(
    tmp: Path, database: str, token: str, *, workers: int = 1, label: str = "serve"
) -> Iterator[tuple[str, int]]:
    """A migrated database with the demo planning, served by ``atelier serve`` (and a fake Twilio API beside)."""
    port, fake_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(database, base, token, f"http://127.0.0.1:{fake_port}")
    with ExitStack() as inner:
        fake = [sys.executable, "-m", "tests.helpers.fake_twilio", f"--port={fake_port}", f"--auth-token={token}"]
        inner.enter_context(process(fake, env=env, log=tmp / f"{label}-fake.log"))
        for command in (atelier("db", "upgrade"), atelier("demo")):
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        serve = atelier("serve", "--port", str(port), "--workers", str(workers))
        child = inner.enter_context(process(serve, env=env, log=tmp / f"{label}.log"))
        wait_http(f"{base}/healthz")
        yield base, child.pid


@contextmanager
def ceiling(tmp: Path, token: str) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, __file__, "--ceiling-server", f"--port={port}", f"--token={token}"]
    with process(command, env=dict(os.environ), log=tmp / "ceiling.log"):
        wait_http(base + PATH)
        yield base


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def sqlite_runs(tmp: Path, plan: Plan, numbers: Numbers) -> tuple[list[Result], bool]:
    """One process on SQLite, turns alone then with their callbacks, each beside the ceiling."""
    results, ok = [], True
    with ceiling(tmp, plan.token) as bare:
        with atelier_serve(tmp, f"sqlite+aiosqlite:///{tmp / 'bench.db'}", plan.token) as (base, pid):
            served = play("SQLite, 1 process, turns", base, plan, numbers, callbacks=False, server_pid=pid)
            served_cb = play("SQLite, 1 process, turns+callbacks", base, plan, numbers, callbacks=True, server_pid=pid)
        top = play("ceiling, turns", bare, plan, numbers, callbacks=False)
        top_cb = play("ceiling, turns+callbacks", bare, plan, numbers, callbacks=True)
    results += [served, top, served_cb, top_cb]
    for line in (served, top, served_cb, top_cb):
        print(line.line(), flush=True)
    share = served.turn_rate / top.request_rate
    share_cb = served_cb.request_rate / top_cb.request_rate
    for label, value, p99 in (("turns alone", share, served), ("with callbacks", share_cb, served_cb)):
        good = value >= SHARE_OF_CEILING and p99.percentile(0.99) < P99_MS
        ok = ok and good
        print(
            f"  SQLite {label}: {value:.0%} of the ceiling's requests/s (target >= {SHARE_OF_CEILING:.0%}), "
            f"turn p99 {p99.percentile(0.99):.1f} ms (target < {P99_MS:.0f} ms): {verdict(good)}"
        )
    return results, ok


def postgres_runs(stack: ExitStack, tmp: Path, plan: Plan, numbers: Numbers) -> tuple[list[Result], bool]:
    """PostgreSQL (a throwaway server), one process then two (``--workers 2``), Twilio's whole traffic."""
    from tests.helpers import pgserver

    server = pgserver.start()
    stack.callback(pgserver.stop, server)
    results = []
    for workers in (1, 2):
        database = f"bench{workers}"
        asyncio.run(_create_database(server.admin_url, database))
        url = server.url(database)
        with atelier_serve(tmp, url, plan.token, workers=workers, label=f"pg{workers}") as (base, pid):
            name = f"PostgreSQL, {workers} process{'es' if workers > 1 else ''}, turns+callbacks"
            postmaster = int((server.directory / "data" / "postmaster.pid").read_text().split()[0])
            results.append(play(name, base, plan, numbers, callbacks=True, server_pid=pid, database_pid=postmaster))
        print(results[-1].line(), flush=True)
    scale = results[1].request_rate / results[0].request_rate
    ok = scale >= SCALE_OUT
    print(f"  PostgreSQL: two processes give {scale:.2f} x one (target >= {SCALE_OUT}): {verdict(ok)}")
    if (bound := cores_bound(results[0])) is not None:
        print(
            f"  this machine's {os.cpu_count()} cores allow at most {bound:.2f} x one process: one process's rate "
            "already keeps them that busy with the servers, PostgreSQL and this load client together"
        )
    return results, ok


def cores_bound(one: Result) -> float | None:
    """How many times one process's request rate the machine's cores could serve at all, whatever the number of
    processes: the cores divided by the CPU every request costs in all (servers, database, load client) and by
    the rate. Two processes cannot beat it, however well they scale."""
    if one.cpu is None or one.database_cpu is None or one.client_cpu is None:
        return None
    per_request = (one.cpu + one.database_cpu + one.client_cpu) / one.requests
    return (os.cpu_count() or 1) / (per_request * one.request_rate)


async def _create_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def run(args: argparse.Namespace) -> int:
    plan = Plan(
        count=32 if args.quick else args.conversations,
        warmup=4 if args.quick else 32,
        concurrency=args.concurrency,
        token=args.token or "bench-auth-token",
    )
    numbers = Numbers()
    print(f"{plan.count} conversations of {len(SCRIPT)} turns, {plan.concurrency} concurrent requests", flush=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    ok, errors = True, 0
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="atelier-bench-")))
        runs = []
        if not args.postgres_only:
            results, good = sqlite_runs(tmp, plan, numbers)
            runs += results
            ok = ok and good
        if not args.sqlite_only:
            results, good = postgres_runs(stack, tmp, plan, numbers)
            runs += results
            ok = ok and good
        errors = sum(r.errors for r in runs)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    print("targets met" if ok else "targets NOT met")
    return 1 if errors else 0


def load_only(args: argparse.Namespace) -> int:
    """Load a running server (no warm-up, no ceiling): what ``bench/turn_profile.py`` drives."""
    base = args.target.rstrip("/")
    public = (args.public_url or base).rstrip("/")
    token = args.token or "bench-auth-token"
    first = Numbers().take(args.conversations) + os.getpid() % 8 * 1_000_000  # numbers stay 7 digits
    work = conversations(args.conversations, first=first, token=token, url=public + PATH)
    signer = Callbacks(token, base, public) if args.callbacks else None
    result = asyncio.run(load("load", base, work, args.concurrency, callbacks=signer))
    print(result.line())
    print(f"turns={result.turns} requests={result.requests} errors={result.errors}")
    return 1 if result.errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: few conversations")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--conversations", type=int, default=640)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--load-only", action="store_true", help="only load --target (no ceiling, no warm-up)")
    parser.add_argument("--no-callbacks", dest="callbacks", action="store_false", help="with --load-only")
    parser.add_argument("--target", help="with --load-only: the URL of a running `atelier serve`")
    parser.add_argument("--token", help="its TWILIO_AUTH_TOKEN (to sign the webhooks)")
    parser.add_argument("--public-url", help="its ATELIER_PUBLIC_URL (default: the target URL)")
    parser.add_argument("--ceiling-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ceiling_server:
        ceiling_server(args.port, args.token, f"http://127.0.0.1:{args.port}")
        return
    if args.load_only:
        if not args.target:
            parser.error("--load-only needs --target")
        sys.exit(load_only(args))
    sys.exit(run(args))


if __name__ == "__main__":
    main()
