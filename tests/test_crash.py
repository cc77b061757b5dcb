"""SPEC §7 with real processes: ``kill -9`` in the middle of sending loses nothing and sends nothing twice.

A real ``atelier serve`` sends 1,000 due reminders to the fake Twilio API (a process of its own, which records each
message it accepts in an append-only file); it is killed with SIGKILL in the middle, then started again. The rows
it had claimed come back "in doubt" when their lease runs out and are looked up at Twilio (the official client's
list call) before anything is sent again.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from storage.database import Database
from storage.models import MessageStatus, OutboundMessage
from tests.fakes.twilio import spawn
from tests.serving import by_recipient, number, seed_reminders, serve_env, serving, start_serve, wait_for

T = TypeVar("T")
COUNT = 1000


def with_db(url: str, action: Callable[[Database], Awaitable[T]]) -> T:
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


@pytest.mark.slow
def test_kill_9_while_sending_loses_nothing_and_sends_nothing_twice(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    with_db(url, lambda db: seed_reminders(db, COUNT, datetime.now(UTC)))
    with spawn(tmp_path / "sent.jsonl", latency=0.02) as fake:
        env = serve_env(url, fake, ATELIER_SMS_RATE="100/s")
        first = start_serve(env, tmp_path / "first.log")
        try:
            wait_for(lambda: len(fake.messages()) >= 300, 40, "300 messages sent by the first process")
        finally:
            first.kill()
        at_kill = fake.messages()
        assert len(at_kill) < COUNT, "killed too late: nothing was left to send"
        assert max(by_recipient(at_kill).values()) == 1
        in_doubt = {to for to, status, _ in with_db(url, outbox_rows) if status == MessageStatus.sending}
        assert in_doubt, "the kill should leave claimed rows behind"
        unrecorded = in_doubt & {message.to for message in at_kill}  # Twilio has them, our database does not
        print(f"at the kill: {len(at_kill)} sent, {len(in_doubt)} in doubt, {len(unrecorded)} sent but not recorded")
        with serving(env, tmp_path / "second.log"):
            wait_for(lambda: with_db(url, unsettled) == 0, 50, "every message sent after the restart")
        recorded = fake.messages()
    counts = by_recipient(recorded)
    assert sorted(counts) == sorted(number(i) for i in range(COUNT))  # every one arrived …
    assert set(counts.values()) == {1}  # … exactly once
    rows = with_db(url, outbox_rows)
    sid_of = {message.to: message.sid for message in recorded}
    assert all(status == MessageStatus.sent and provider == sid_of[to] for to, status, provider in rows)
