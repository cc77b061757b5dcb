"""Several ``atelier serve`` on one database behave as one (issue 4): each message leaves exactly once, at one pace.

Also the rate test: the fake Twilio's own timestamps show no one-second window above ``ATELIER_SMS_RATE``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.models import MessageStatus
from tests.helpers.fake_twilio import spawn
from tests.helpers.pacing import busiest_second
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


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_processes_send_each_message_once(db_url: str, tmp_path: Path) -> None:
    count, rate = 5000, 400
    with_db(db_url, lambda db: seed_messages(db, count, datetime.now(UTC)))
    with spawn(tmp_path / "sent.jsonl") as fake:
        env = serve_env(db_url, fake, ATELIER_SMS_RATE=f"{rate}/s")
        with serving(env, tmp_path / "one.log", tmp_path / "two.log"):
            wait_for(lambda: with_db(db_url, unsettled) == 0, 55, "every message sent")
        recorded = fake.messages()
    counts = by_recipient(recorded)
    assert sorted(counts) == sorted(number(i) for i in range(count))
    assert set(counts.values()) == {1}
    assert {status for _, status, _ in with_db(db_url, outbox_rows)} == {MessageStatus.sent}
    # The two processes share one pace (the send_pace row): without it they would send at twice the rate. Each
    # starts a send within SLOT_TOLERANCE of its slot, so the fake sees at most the limit as long as the network
    # and scheduling jitter of two busy processes on one machine stay under the rest of RATE_MARGIN; at 400/s on
    # two shared cores they sometimes do not, by a message or two: hence 2 % of slack here (the strict
    # single-process rate test is below).
    times = sorted(m.created_at for m in recorded)
    busiest = busiest_second(times)
    print(f"two processes: busiest second {busiest} for a limit of {rate}/s")
    assert busiest <= rate * 1.02
    assert (times[-1] - times[0]).total_seconds() >= (count - rate) / rate  # one pace: twice the rate would be half


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_rate_limit_seen_by_the_provider(db_url: str, tmp_path: Path) -> None:
    count, rate = 300, 50
    with_db(db_url, lambda db: seed_messages(db, count, datetime.now(UTC)))
    with spawn(tmp_path / "sent.jsonl") as fake:
        with serving(serve_env(db_url, fake, ATELIER_SMS_RATE=f"{rate}/s"), tmp_path / "serve.log"):
            wait_for(lambda: len(fake.messages()) == count, 30, "every message sent")
        times = sorted(m.created_at for m in fake.messages())
    busiest = busiest_second(times)
    span = (times[-1] - times[0]).total_seconds()
    print(
        f"rate test: busiest second {busiest} for a limit of {rate}/s, achieved {(count - 1) / span / rate:.3f} of it"
    )
    assert busiest <= rate
    # Paced, not a burst. How close to the limit a process gets is a figure of the machine's load: the benchmark
    # prints it (bench/dispatch.py); test_dispatch.py checks, on an injected clock, that each second gets its slots.
    assert span >= (count - rate) / rate
