"""SPEC §7 with real processes: ``kill -9`` in the middle of sending loses nothing and sends nothing twice.

A real ``atelier serve`` sends 1,000 due reminders to the fake Twilio API (a process of its own, which records each
message it accepts in an append-only file); it is killed with SIGKILL in the middle, then started again. The rows
it had claimed come back "in doubt" when their lease runs out and are looked up at Twilio (the official client's
list call) before anything is sent again. The same with reminders that are phone calls (residents with a
landline): each number is called exactly once, an in-doubt call looked up in Twilio's call list.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.models import MessageStatus
from tests.helpers.fake_twilio import spawn
from tests.helpers.serving import (
    by_recipient,
    landline,
    number,
    outbox_rows,
    seed_reminders,
    serve_env,
    serving,
    start_serve,
    unsettled,
    wait_for,
    with_db,
)

COUNT = 1000


@pytest.mark.slow
def test_kill_9_while_sending_loses_nothing_and_sends_nothing_twice(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    with_db(url, lambda db: seed_reminders(db, COUNT, datetime.now(UTC)))
    with spawn(tmp_path / "sent.jsonl", latency=0.02) as fake:
        env = serve_env(url, fake, ATELIER_SMS_RATE="200/s")
        first = start_serve(env, tmp_path / "first.log")
        try:
            wait_for(lambda: len(fake.messages()) >= 300, 90, "300 messages sent by the first process")
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
            wait_for(lambda: with_db(url, unsettled) == 0, 120, "every message sent after the restart")
        recorded = fake.messages()
    counts = by_recipient(recorded)
    assert sorted(counts) == sorted(number(i) for i in range(COUNT))  # every one arrived …
    assert set(counts.values()) == {1}  # … exactly once
    rows = with_db(url, outbox_rows)
    sid_of = {message.to: message.sid for message in recorded}
    assert all(status == MessageStatus.sent and provider == sid_of[to] for to, status, provider in rows)


CALLS = 400


@pytest.mark.slow
def test_kill_9_while_calling_loses_no_call_and_calls_nobody_twice(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "atelier.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    with_db(url, lambda db: seed_reminders(db, CALLS, datetime.now(UTC), calls=True))
    with spawn(tmp_path / "placed.jsonl", latency=0.02) as fake:
        # Calls are on (a public URL); nobody answers in this test: the calls are placed and stay queued at Twilio.
        env = serve_env(url, fake, ATELIER_CALL_RATE="100/s", ATELIER_PUBLIC_URL="http://127.0.0.1:9")
        first = start_serve(env, tmp_path / "first.log")
        try:
            wait_for(lambda: len(fake.calls()) >= 120, 90, "120 calls placed by the first process")
        finally:
            first.kill()
        at_kill = [call["to"] for call in fake.calls()]
        assert len(at_kill) < CALLS, "killed too late: nothing was left to call"
        assert len(set(at_kill)) == len(at_kill)
        in_doubt = {to for to, status, _ in with_db(url, outbox_rows) if status == MessageStatus.sending}
        assert in_doubt, "the kill should leave claimed calls behind"
        unrecorded = in_doubt & set(at_kill)  # Twilio placed them, our database does not know
        print(f"at the kill: {len(at_kill)} calls, {len(in_doubt)} in doubt, {len(unrecorded)} placed but not recorded")
        with serving(env, tmp_path / "second.log"):
            wait_for(lambda: with_db(url, unsettled) == 0, 120, "every call placed after the restart")
        placed = fake.calls()
    called = [call["to"] for call in placed]
    assert sorted(called) == sorted(landline(i) for i in range(CALLS))  # every number called …
    assert len(set(called)) == len(called)  # … exactly once
    rows = with_db(url, outbox_rows)
    sid_of = {call["to"]: call["sid"] for call in placed}
    assert all(status == MessageStatus.sent and provider == sid_of[to] for to, status, provider in rows)
    assert fake.messages() == []  # and no SMS to a landline
