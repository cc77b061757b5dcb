"""Messages held back, as the console's « Aujourd'hui » shows them (issue 15): when each will leave and why it
waits, from the forecast of the dispatcher's rules; and the failed sends the "to call" list does not already take
over. On both databases: the service reads the outbox with its own SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import Settings
from bot.context import Context
from bot.scheduler.forecast import WaitReason
from bot.service.calls import SWEPT_KINDS
from bot.service.outbox_views import failed_messages, held_messages
from bot.territory import Territory
from storage.database import Database
from storage.enums import Channel
from storage.models import MessageKind, MessageStatus
from storage.outbox.queueing import NewMessage, enqueue
from tests.helpers.clock import Clock
from tests.helpers.world import Town, in_2026

pytestmark = pytest.mark.both_dialects


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(6, 21))  # a Friday, 21:00: quiet hours until 08:30
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


async def queue(
    town: Town,
    resident_id: int,
    key: str,
    *,
    kind: MessageKind = MessageKind.broadcast,
    channel: Channel = Channel.sms,
    **fields: object,
) -> int:
    values: dict[str, object] = {"due_at": town.clock.now, "status": MessageStatus.pending} | fields
    async with town.ctx.db.write() as session:
        message_id = await enqueue(
            session=session,
            message=NewMessage(
                channel=channel, to_address="+33612345678", body=f"message {key}", kind=kind,
                idempotency_key=key, resident_id=resident_id, **values,  # type: ignore[arg-type]
            ),
        )  # fmt: skip
    assert message_id is not None
    return message_id


async def test_held_messages_say_when_they_leave_and_why(town: Town) -> None:
    evening = await town.resident("Martine Dupont", phone="+33612345678")
    busy = await town.resident("Jean Roux", phone="+33612345679")
    town.clock.now = in_2026(6, 15)  # Friday afternoon: Jean already had his four messages today
    for number in range(4):
        await queue(town, busy, f"sent {number}", status=MessageStatus.sent, sent_at=town.clock.now)
    held_by_cap = await queue(town, busy, "fifth")
    await queue(town, evening, "now")  # leaves at once: not held
    [capped] = await held_messages(ctx=town.ctx)
    assert (capped.message.id, capped.message.name, capped.reasons) == (
        held_by_cap,
        "Jean Roux",
        (WaitReason.daily_cap,),
    )
    assert capped.leaves_at == in_2026(7, 8, 30)  # the next day, once the sending window opens
    town.clock.now = in_2026(6, 21)
    await town.deliver(MessageKind.broadcast)
    held_by_night = await queue(town, evening, "evening")
    await queue(town, evening, "reminder", kind=MessageKind.reminder, due_at=in_2026(7, 10))  # planned: not held
    held = await held_messages(ctx=town.ctx)
    assert [(h.message.id, h.leaves_at, h.reasons) for h in held] == [
        (held_by_night, in_2026(7, 8, 30), (WaitReason.quiet_hours,))
    ]
    assert await held_messages(ctx=town.ctx, limit=0) == []


async def test_failed_sends_the_to_call_list_takes_over_can_be_left_out(town: Town) -> None:
    resident = await town.resident("Martine Dupont", phone="+33612345678")
    reminder = await queue(town, resident, "r", kind=MessageKind.reminder, status=MessageStatus.failed)
    notice = await queue(town, resident, "n", kind=MessageKind.change_notice, status=MessageStatus.failed)
    await queue(town, resident, "a", kind=MessageKind.reply, status=MessageStatus.failed)  # an answer: never listed
    # by phone, a reminder that failed is on the "to call" list too: nothing else reaches a landline
    called = await queue(town, resident, "c", kind=MessageKind.reminder, status=MessageStatus.failed,
                         channel=Channel.voice)  # fmt: skip
    town.clock.advance(timedelta(minutes=1))
    assert {m.id for m in await failed_messages(ctx=town.ctx)} == {reminder, notice, called}
    assert [m.id for m in await failed_messages(ctx=town.ctx, except_kinds=SWEPT_KINDS)] == [reminder]
