"""Benchmark: whole sign-up conversations by SMS, as signed Twilio webhooks, against ``atelier serve`` on SQLite.

In the same run, the same load goes to a bare Starlette endpoint that only parses the form, checks the signature
and answers a fixed TwiML: the ceiling of this machine for this kind of request. Both servers run in their own
process under uvicorn exactly as ``atelier serve`` runs it; the load client (aiohttp) is this process, so client
and server never share an event loop. Requests are built and signed before the clock starts.

    python bench/inbound_sms.py                  # 640 conversations (4,480 turns) at 32 concurrent requests
    python bench/inbound_sms.py --quick          # smoke test: 32 conversations
    python bench/inbound_sms.py --target http://127.0.0.1:8000 --token T --public-url https://…  # a running serve

Each conversation is the sign-up script of the transcripts ("Bonjour", a name, a commune, level, interests, a
workshop, OUI) from its own number. Target (issue 3): at least 50 % of the ceiling's throughput, p99 < 50 ms at
32 concurrent requests. Outbound SMS (none are expected: replies go back in the TwiML) would go to a fake Twilio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402 - after the path set-up above

PATH = "/sms/twilio"
ACCOUNT_SID = "AC" + "0" * 31 + "1"
OUR_NUMBER = "+33939000000"
COMMUNES = ("st victor", "domerat", "montlucon", "desertines", "quinssaines", "lavault ste anne")
SCRIPT = ("Bonjour", "Martine Dupont", "{commune}", "1", "1 3", "1", "oui")
FIXED_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Bonjour !</Message></Response>'


# --- the ceiling server (run as a separate process by this script) ---------------------------------------------


def ceiling_server(port: int, token: str, public_url: str) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    validator = RequestValidator(token)

    async def endpoint(request: Request) -> Response:
        form = await request.form()
        if not validator.validate(public_url + PATH, form, request.headers.get("x-twilio-signature", "")):
            return Response("Forbidden", status_code=403)
        return Response(FIXED_TWIML, media_type="application/xml")

    app = Starlette(routes=[Route(PATH, endpoint, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info", proxy_headers=True)  # as `atelier serve`


# --- processes ----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(url: str, seconds: float = 30.0) -> None:
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
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def atelier(*args: str) -> list[str]:
    """The ``atelier`` command of this checkout's interpreter."""
    return [sys.executable, "-c", "from bot.cli import main; main()", *args]


# --- the load -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
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
            turns.append(Turn(urlencode(form).encode(), validator.compute_signature(url, form)))
        result.append(turns)
    return result


@dataclass
class Result:
    name: str
    turns: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.turns / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<22} {self.turns:>6} turns in {self.seconds:6.2f} s  {self.rate:8.1f} turns/s  "
            f"p50 {self.percentile(0.5):6.1f} ms  p99 {self.percentile(0.99):6.1f} ms  "
            f"mean {statistics.fmean(self.latencies) * 1000:6.1f} ms  errors {self.errors}"
        )


async def load(name: str, base: str, work: list[list[Turn]], concurrency: int) -> Result:
    import aiohttp

    queue: asyncio.Queue[list[Turn]] = asyncio.Queue()
    for conversation in work:
        queue.put_nowait(conversation)
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base_url=base, connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                conversation = queue.get_nowait()
                for turn in conversation:  # one resident waits for each answer before writing again
                    started = time.perf_counter()
                    async with session.post(
                        PATH,
                        data=turn.body,
                        headers={
                            "Content-Type": "application/x-www-form-urlencoded",
                            "X-Twilio-Signature": turn.signature,
                        },
                    ) as response:
                        text = await response.text()
                    latencies.append(time.perf_counter() - started)
                    if response.status != 200 or "<Message" not in text:
                        errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return Result(name, len(latencies), seconds, latencies, errors)


# --- main ---------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    count = 32 if args.quick else args.conversations
    warmup = 4 if args.quick else 32
    token = args.token or "bench-auth-token"
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="atelier-bench-")))
        if args.target:
            base, public = args.target.rstrip("/"), (args.public_url or args.target).rstrip("/")
        else:
            port, fake_port = free_port(), free_port()
            base = public = f"http://127.0.0.1:{port}"
            env = {
                **os.environ,
                "ATELIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
                "ATELIER_PUBLIC_URL": public,
                "ATELIER_QUIET_HOURS": "none",
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": token,
                "TWILIO_FROM": OUR_NUMBER,
                "ATELIER_TWILIO_API_URL": f"http://127.0.0.1:{fake_port}",
            }
            for variable in ("TELEGRAM_BOT_TOKEN", "TWILIO_REGION", "TWILIO_EDGE"):
                env.pop(variable, None)
            fake = [
                sys.executable,
                "-m",
                "tests.helpers.fake_twilio",
                f"--port={fake_port}",
                f"--record={tmp / 'sent.jsonl'}",
            ]
            stack.enter_context(process([*fake, f"--auth-token={token}"], env=env, log=tmp / "fake.log"))
            for command in (atelier("db", "upgrade"), atelier("demo")):
                subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
            serve = atelier("serve", "--port", str(port))
            stack.enter_context(process(serve, env=env, log=tmp / "serve.log"))
            wait_http(f"{base}/healthz")
        ceiling_port = free_port()
        ceiling_url = f"http://127.0.0.1:{ceiling_port}"
        ceiling = [sys.executable, __file__, "--ceiling-server", f"--port={ceiling_port}", f"--token={token}"]
        stack.enter_context(process(ceiling, env=dict(os.environ), log=tmp / "ceiling.log"))
        wait_http(ceiling_url + PATH)

        print(f"{count} conversations of {len(SCRIPT)} turns, {args.concurrency} concurrent requests", flush=True)
        offset = int(time.time()) % 1_000_000 * 10  # fresh numbers when a running server is targeted twice
        warm = conversations(warmup, first=offset, token=token, url=public + PATH)
        work = conversations(count, first=offset + warmup, token=token, url=public + PATH)
        ceiling_work = conversations(count + warmup, first=0, token=token, url=ceiling_url + PATH)

        asyncio.run(load("warm-up", base, warm, min(args.concurrency, warmup)))
        served = asyncio.run(load("atelier serve", base, work, args.concurrency))
        asyncio.run(load("warm-up", ceiling_url, ceiling_work[:warmup], min(args.concurrency, warmup)))
        bare = asyncio.run(load("ceiling (bare Starlette)", ceiling_url, ceiling_work[warmup:], args.concurrency))
    print(served.line())
    print(bare.line())
    ratio = served.rate / bare.rate
    p99 = served.percentile(0.99)
    print(f"ratio: {ratio:.0%} of the ceiling's throughput (target >= 50 %); p99 {p99:.1f} ms (target < 50 ms)")
    print("targets met" if ratio >= 0.5 and p99 < 50 else "targets NOT met")
    return 1 if served.errors or bare.errors else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: few conversations")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--conversations", type=int, default=640)
    parser.add_argument("--target", help="URL of a running `atelier serve` (default: start one on SQLite)")
    parser.add_argument("--token", help="its TWILIO_AUTH_TOKEN (to sign the webhooks)")
    parser.add_argument("--public-url", help="its ATELIER_PUBLIC_URL (default: the target URL)")
    parser.add_argument("--ceiling-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ceiling_server:
        ceiling_server(args.port, args.token, f"http://127.0.0.1:{args.port}")
        return
    sys.exit(run(args))


if __name__ == "__main__":
    main()
