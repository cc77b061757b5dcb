"""The transcripts through the service on both databases: replies and the resulting state."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.channels import SMS, Inbound
from bot.config import Settings
from bot.context import Context
from bot.service.inbound import handle_inbound
from bot.territory import Territory
from storage.database import Database
from tests.helpers.clock import Clock
from tests.helpers.harness import PHONES, Shown, check_final, play, seed
from tests.helpers.transcripts import TRANSCRIPTS, Transcript

# On both databases: every conversation's effects on the database, through the service.
pytestmark = pytest.mark.both_dialects


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[t.label for t in TRANSCRIPTS])
async def test_transcript_through_the_service(
    transcript: Transcript, db: Database, settings: Settings, territory: Territory, now: datetime
) -> None:
    clock = Clock(now)
    ctx = Context(settings=settings, db=db, territory=territory, clock=clock)
    ids = await seed(db, transcript.setup, now)
    counter = iter(range(10_000))

    async def send(who: str, text: str) -> list[Shown]:
        inbound = Inbound(channel=SMS, address=PHONES[who], text=text, provider_id=f"SM{next(counter):032d}")
        handled = await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
        return [(reply.text, reply.choices) for reply in handled.replies]

    await play(transcript, send=send, clock=clock)
    await check_final(db, transcript, PHONES["resident"], PHONES["other"], ids=ids)
