"""What a real ``atelier serve`` process does before and around its routes: it refuses to start unprotected, and
its access log holds no query string.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.fake_twilio import DEFAULT_AUTH_TOKEN
from tests.helpers.serving import ATELIER, ROOT, serving

PUBLIC = "https://atelier.example.org"


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database of its own (the process's memory is measured: no PostgreSQL in the way)."""
    path = tmp_path / "atelier.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def plain_env(database: str, **values: str) -> dict[str, str]:
    """The environment of a serve process with no provider account (SMS would go to the console sender)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ATELIER_", "TWILIO_", "TELEGRAM_"))}
    env.update(ATELIER_DATABASE_URL=database, ATELIER_QUIET_HOURS="none", **values)
    return env


# --- Refusing to start unprotected -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"ATELIER_PUBLIC_URL": PUBLIC},
        {"ATELIER_PUBLIC_URL": PUBLIC, "TWILIO_AUTH_TOKEN": "   "},
        {"ATELIER_PUBLIC_URL": PUBLIC, "ATELIER_ALLOW_UNSIGNED": "false"},
    ],
    ids=["no auth token", "a blank auth token", "unsigned explicitly not allowed"],
)
def test_a_public_service_without_a_twilio_auth_token_refuses_to_start(values: dict[str, str], database: str) -> None:
    """Anyone could otherwise post OUBLIER then OUI as any resident: one sentence, a non-zero exit, no server."""
    try:
        done = subprocess.run(
            [str(ATELIER), "serve", "--port", "0"],
            cwd=ROOT,
            env=plain_env(database, **values),
            capture_output=True,
            timeout=15,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("atelier serve started (it was still running after 15 s)")
    error = " ".join(done.stderr.decode().split())  # one sentence, wrapped to the terminal's width
    assert done.returncode != 0
    assert error.startswith("Erreur : ATELIER_PUBLIC_URL est défini mais pas TWILIO_AUTH_TOKEN"), error
    assert error.endswith("ATELIER_ALLOW_UNSIGNED=1)."), error


@pytest.mark.parametrize(
    "values",
    [
        {},  # local use: no public URL, nobody can reach the webhooks from outside
        {"ATELIER_PUBLIC_URL": PUBLIC, "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN},
        {"ATELIER_PUBLIC_URL": PUBLIC, "ATELIER_ALLOW_UNSIGNED": "1"},
    ],
    ids=["no public URL", "public with an auth token", "public, unsigned allowed explicitly"],
)
def test_a_protected_or_local_service_starts(values: dict[str, str], database: str, tmp_path: Path) -> None:
    with (
        serving(plain_env(database, **values), tmp_path / "serve.log") as (served,),
        urllib.request.urlopen(f"http://127.0.0.1:{served.port}/healthz", timeout=5) as answer,
    ):
        assert answer.status == 200


# --- Bounded bodies: memory under a chunked upload ----------------------------------------------------------------

MiB = 1024 * 1024
MB = 1_000_000  # a field of 1 MB stays under Starlette's 1 MiB limit on one field
ATTACK = 900 * MB  # per request: 900 fields of 1 MB, as the attacker sent them
ATTACKERS = 3
MAX_GROWTH = 50 * MiB


def memory(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak since the process started), in bytes (Linux's /proc)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return values


def fields() -> Iterator[bytes]:
    """The attack's form, produced as it is sent: the test itself never holds more than one field."""
    field = b"x" * MB
    for index in range(ATTACK // MB):
        yield b"%sf%d=" % (b"&" if index else b"", index) + field


@dataclass
class Attempt:
    sent: int = 0
    status: str = ""  # the status line the server answered, if it answered


def attack(port: int, stop: threading.Event, attempt: Attempt) -> None:
    """One unsigned chunked POST to the SMS webhook, sent until the server answers or closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"POST /sms/twilio HTTP/1.1\r\nHost: atelier.example.org\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        try:
            for piece in fields():
                if stop.is_set() or select.select([connection], [], [], 0)[0]:
                    break  # the server answered (or the memory limit is passed already)
                connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                attempt.sent += len(piece)
            else:
                connection.sendall(b"0\r\n\r\n")
            if not stop.is_set():
                attempt.status = connection.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
        except (BrokenPipeError, ConnectionResetError):
            attempt.status = "connection closed by the server"


@pytest.mark.slow
def test_three_chunked_900_mb_posts_barely_move_the_server_s_memory(database: str, tmp_path: Path) -> None:
    """The issue's attack: unsigned chunked forms of 900 MB, three at once, before any signature check. Each is
    stopped at the SMS webhook's 64 KiB: the server's peak memory (VmHWM, which no sampling can miss) grows by
    less than 50 MiB."""
    env = plain_env(database, ATELIER_PUBLIC_URL=PUBLIC, TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN)
    with serving(env, tmp_path / "serve.log") as (served,):
        pid = served.process.pid
        for _ in range(3):  # warm up: the first requests load what a request needs
            with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/healthz", timeout=5):
                pass
        before = memory(pid)
        stop = threading.Event()
        attempts = [Attempt() for _ in range(ATTACKERS)]
        threads = [threading.Thread(target=attack, args=(served.port, stop, a)) for a in attempts]
        for thread in threads:
            thread.start()
        peak = before["VmRSS"]
        while any(thread.is_alive() for thread in threads):
            peak = max(peak, memory(pid)["VmRSS"])
            if peak - before["VmRSS"] > MAX_GROWTH:
                stop.set()  # failed already: no need to push the rest of 2.7 GB
            time.sleep(0.01)
        for thread in threads:
            thread.join()
        after = memory(pid)
        assert served.process.poll() is None, "the server died"
    growth = max(peak, after["VmHWM"]) - before["VmRSS"]
    print(
        f"RSS before {before['VmRSS'] / MiB:.1f} MiB, peak {max(peak, after['VmHWM']) / MiB:.1f} MiB "
        f"(+{growth / MiB:.1f} MiB); sent before the server stopped each: "
        + ", ".join(f"{a.sent / MiB:.1f} MiB ({a.status})" for a in attempts)
    )
    assert growth < MAX_GROWTH, f"the server grew by {growth / MiB:.0f} MiB"
    assert all(a.status.startswith("HTTP/1.1 413") or "closed" in a.status for a in attempts), attempts
    assert all(a.sent < 64 * MiB for a in attempts), attempts  # stopped early, not read to the end


# --- Access lines --------------------------------------------------------------------------------------------------

NUMBER = "+33647291853"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sms/twilio"),  # a webhook misconfigured as GET in Twilio's console
        ("GET", "/sms/twilio/status"),
        ("POST", "/sms/twilio/status"),
        ("GET", "/telegram/webhook"),
        ("GET", "/nowhere"),
    ],
)
def test_access_lines_carry_no_query_string(method: str, path: str, database: str, tmp_path: Path) -> None:
    query = urllib.parse.urlencode({"From": NUMBER, "Body": "OUBLIER Martine Dupont", "outbox": "12"})
    log = tmp_path / "serve.log"
    with serving(plain_env(database), log) as (served,):
        request = urllib.request.Request(f"http://127.0.0.1:{served.port}{path}?{query}", method=method, data=None)
        try:
            urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 - an http URL built here
        except urllib.error.HTTPError as refused:  # 405, 404, 403: the line is logged all the same
            refused.close()
    logged = log.read_text(errors="replace")
    assert f'"{method} {path} HTTP/1.1"' in logged, logged  # the access line is there …
    for secret in (NUMBER, "47291853", "Dupont", "OUBLIER", "outbox", "?"):  # … without its query string
        assert secret not in logged.split("Uvicorn running", 1)[-1], secret
