"""Real ``atelier serve`` processes for the crash, two-process and rate tests, and the rows they send."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select

from bot.channels import SMS
from storage.database import Database
from storage.enums import Channel
from storage.models import (
    Enrolment,
    EnrolmentStatus,
    Level,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resident,
    Venue,
    Workshop,
)
from storage.outbox.queueing import NewMessage, enqueue_many
from tests.helpers.fake_twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    FakeTwilioProcess,
    RecordedMessage,
)
from tests.helpers.pgserver import free_port

ROOT = Path(__file__).resolve().parents[2]
ATELIER = Path(sys.executable).parent / "atelier"
T = TypeVar("T")


def with_db(url: str, action: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``action`` on the database at ``url`` from synchronous code (the tests that drive processes)."""

    async def main() -> T:
        db = Database.from_url(url)
        try:
            return await action(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


async def unsettled(db: Database) -> int:
    async with db.read() as session:
        query = select(func.count()).where(OutboundMessage.status.in_([MessageStatus.pending, MessageStatus.sending]))
        return int((await session.execute(query)).scalar_one())


async def outbox_rows(db: Database) -> list[tuple[str, MessageStatus, str | None]]:
    async with db.read() as session:
        rows = await session.execute(
            select(OutboundMessage.to_address, OutboundMessage.status, OutboundMessage.provider_id)
        )
        return [(to, MessageStatus(status), provider) for to, status, provider in rows]


def serve_env(db_url: str, fake: FakeTwilioProcess, **extra: str) -> dict[str, str]:
    """The environment of a serve process that sends SMS to the fake Twilio, whatever the wall clock says."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ATELIER_", "TWILIO_", "TELEGRAM_"))}
    env.update(
        ATELIER_DATABASE_URL=db_url,
        ATELIER_QUIET_HOURS="none",
        ATELIER_DISPATCH_INTERVAL="0.5",
        ATELIER_DISPATCH_LEASE="15",  # the restart after a kill -9 waits for the lease: the shortest allowed
        TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN,
        TWILIO_FROM=DEFAULT_FROM,
        ATELIER_TWILIO_API_URL=fake.url,
    )
    env.update(extra)
    return env


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM: uvicorn's graceful shutdown runs the lifespan's end (the scheduler stops cleanly)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def launch(env: dict[str, str], log: Path) -> Served:
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(ATELIER), "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    return Served(process, port, log)


def wait_ready(served: Served, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"atelier serve exited: {served.log.read_text(errors='replace')[-2000:]}")
        try:
            url = f"http://127.0.0.1:{served.port}/healthz"
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    served.kill()
    raise RuntimeError(f"atelier serve did not answer /healthz within {timeout:.0f} s")


def start_serve(env: dict[str, str], log: Path) -> Served:
    served = launch(env, log)
    wait_ready(served)
    return served


@contextmanager
def serving(env: dict[str, str], *logs: Path) -> Iterator[list[Served]]:
    """One ``atelier serve`` per log file, started together; stopped gracefully at the end."""
    started = [launch(env, log) for log in logs]
    try:
        for served in started:
            wait_ready(served)
        yield started
    finally:
        for served in started:
            served.stop()


def number(index: int) -> str:
    return f"+3361{index:07d}"


def landline(index: int) -> str:
    return f"+3347{index:07d}"


async def seed_reminders(db: Database, count: int, now: datetime, *, calls: bool = False) -> None:
    """``count`` residents seated in one big workshop, each with one reminder due now; ``calls``: they have a
    landline, and the reminders are phone calls."""
    address = landline if calls else number
    async with db.write() as session:
        query = select(Venue).where(Venue.name == "Mairie de Saint-Victor")
        venue = (await session.execute(query)).unique().scalars().first()
        assert venue is not None
        starts = now + timedelta(days=2)
        workshop = Workshop(
            venue_id=venue.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            level=Level.beginner,
            topic="Premiers pas",
            capacity=count,
        )
        residents = [Resident(phone=address(i), name=f"Résident {i}", sms_unreachable=calls) for i in range(count)]
        session.add(workshop)
        session.add_all(residents)
        await session.flush()
        enrolments = [
            Enrolment(resident_id=r.id, workshop_id=workshop.id, status=EnrolmentStatus.seated) for r in residents
        ]
        session.add_all(enrolments)
        await session.flush()
        await enqueue_many(
            session=session,
            messages=[
                NewMessage(
                    channel=Channel.voice if calls else SMS,
                    to_address=address(index),
                    body=f"Rappel n°{index} : atelier numérique mercredi à 14 h. Vous venez ? Répondez OUI ou NON.",
                    choices=("coming",) if calls else (),
                    kind=MessageKind.reminder,
                    due_at=now - timedelta(seconds=1),
                    expires_at=starts,
                    idempotency_key=f"reminder:{enrolment.id}:test",
                    resident_id=resident.id,
                    workshop_id=workshop.id,
                    enrolment_id=enrolment.id,
                )
                for index, (resident, enrolment) in enumerate(zip(residents, enrolments, strict=True))
            ],
        )


async def seed_messages(db: Database, count: int, now: datetime) -> None:
    """``count`` messages due now, to as many numbers, tied to nobody (the fastest rows to check)."""
    async with db.write() as session:
        await enqueue_many(
            session=session,
            messages=[
                NewMessage(
                    channel=SMS,
                    to_address=number(index),
                    body=f"Message n°{index}",
                    kind=MessageKind.broadcast,
                    due_at=now - timedelta(seconds=1),
                    idempotency_key=f"message:{index}",
                )
                for index in range(count)
            ],
        )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def by_recipient(messages: list[RecordedMessage]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in messages:
        counts[message.to] = counts.get(message.to, 0) + 1
    return counts
