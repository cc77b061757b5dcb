"""Several ``atelier serve`` on one database behave as one (issue 4): each message leaves exactly once, at one pace.

Also the rate test: what the fake Twilio received, in its own timestamps, keeps to ``ATELIER_SMS_RATE``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels import SMS
from bot.scheduler.pacing import spacing_of
from storage.database import Database
from storage.models import MessageStatus, SendPace
from tests.helpers.fake_twilio import spawn
from tests.helpers.pacing import busiest_second, most_within
from tests.helpers.serving import (
    by_recipient,
    number,
    outbox_rows,
    seed_messages,
    serve_env,
    serving,
    unsettled,
    wait_for,
    with_db,
)

# On both databases: several processes on one database: PostgreSQL by nature (the rate test picks SQLite).
pytestmark = pytest.mark.both_dialects


async def next_free_slot(db: Database) -> datetime:
    async with db.read() as session:
        return (await session.execute(select(SendPace.next_at).where(SendPace.channel == SMS))).scalar_one()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_processes_send_each_message_once(db_url: str, tmp_path: Path) -> None:
    count, rate = 5000, 400
    with_db(db_url, lambda db: seed_messages(db, count, datetime.now(UTC)))
    with spawn(tmp_path / "sent.jsonl") as fake:
        env = serve_env(db_url, fake, ATELIER_SMS_RATE=f"{rate}/s")
        started = datetime.now(UTC)
        with serving(env, tmp_path / "one.log", tmp_path / "two.log"):
            wait_for(lambda: with_db(db_url, unsettled) == 0, 120, "every message sent")
        recorded = fake.messages()
    counts = by_recipient(recorded)
    assert sorted(counts) == sorted(number(i) for i in range(count))
    assert set(counts.values()) == {1}
    assert {status for _, status, _ in with_db(db_url, outbox_rows)} == {MessageStatus.sent}
    # The two processes share one pace: every message took its slot from the one send_pace row, which moved on by
    # at least one spacing per message (a slot is reserved, not timed: this holds however loaded the machine).
    assert with_db(db_url, next_free_slot) >= started + count * spacing_of(rate)
    # What the provider saw. Each process starts a send within SLOT_TOLERANCE of its slot; how much the network and
    # the scheduling of two busy processes on two shared cores bunch them up on arrival is the machine's, not ours
    # (tens of milliseconds under load): over five seconds that is far inside RATE_MARGIN, and twice the rate (two
    # paces) far outside it. The per-second limit is checked on the slots the pacer granted (test_dispatch.py).
    times = sorted(m.created_at for m in recorded)
    print(f"two processes: busiest second {busiest_second(times)} for a limit of {rate}/s")
    assert most_within(5.0, times) <= 5 * rate


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_rate_limit_seen_by_the_provider(db_url: str, tmp_path: Path) -> None:
    count, rate = 300, 50
    with_db(db_url, lambda db: seed_messages(db, count, datetime.now(UTC)))
    with spawn(tmp_path / "sent.jsonl") as fake:
        with serving(serve_env(db_url, fake, ATELIER_SMS_RATE=f"{rate}/s"), tmp_path / "serve.log"):
            wait_for(lambda: len(fake.messages()) == count, 90, "every message sent")
        times = sorted(m.created_at for m in fake.messages())
    span = (times[-1] - times[0]).total_seconds()
    achieved = (count - 1) / span / rate
    print(f"rate test: busiest second {busiest_second(times)} for a limit of {rate}/s, achieved {achieved:.3f} of it")
    # Arrival times at the provider, over five seconds (see above): the limit with the jitter of a loaded machine
    # left out. How close to the limit a process gets is a figure of the machine's load too: the benchmark prints it
    # (bench/dispatch.py); test_dispatch.py checks, on an injected clock, that each second gets its slots.
    assert most_within(5.0, times) <= 5 * rate
    assert span >= (count - rate) / rate  # paced, not a burst
