"""Where the voice channel meets the advisers' "to call" list (issues 14 and 17), as tables over real HTTP on
loopback (``tests/helpers/voice_rig.py``), on both databases:

- an SMS that finds a landline is said by a call when calls are on — then no adviser is asked to phone as well;
  when no call can say it (calls off, STOP), an adviser is;
- a call Twilio refuses outright (an invalid or unreachable number) reaches nobody: an adviser phones instead, and
  the adviser in charge is told, as for every message we cannot send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from bot.service.calls import list_calls, sweep_now
from bot.service.enrolments import cancel
from bot.service.voice import take_over_from_sms
from storage.enums import Channel
from storage.models import CallKind
from tests.helpers.fake_twilio import LANDLINE
from tests.helpers.voice_rig import VoiceSite, voice_site
from tests.helpers.world import in_2026

pytestmark = pytest.mark.both_dialects  # the sweep's and the take-over's own SQL

MONDAY_10H, W_START = in_2026(2, 10), in_2026(10, 14)
MARTINE, LOUIS = "+33612345678", "+33612000111"  # Louis's number looks mobile: the carrier says it is a landline


async def _nothing(site: VoiceSite) -> None:
    return None


async def _stop(site: VoiceSite) -> None:
    await site.town.say(LOUIS, "STOP")


@dataclass(frozen=True)
class LostSms:
    label: str
    environ: dict[str, str] = field(default_factory=dict)
    then: Callable[[VoiceSite], Awaitable[None]] = _nothing  # after the SMS was refused
    call_reason: str | None = None  # the to-call item about the freed seat; None: no item, a call says it
    voice_rows: int = 0  # calls queued for Louis


LOST_SMS = [
    LostSms("calls on: the call says it, no adviser phones as well", voice_rows=3),  # the seat, two reminders
    LostSms("calls off: an adviser phones", {"ATELIER_VOICE": "false"}, call_reason="sms_unreachable"),
    LostSms("STOP after the refusal: no call may, an adviser phones", then=_stop, call_reason="opted_out"),
]


@pytest.mark.parametrize("case", LOST_SMS, ids=lambda c: c.label)
async def test_a_freed_seat_whose_sms_finds_a_landline(db_url: str, case: LostSms) -> None:
    async with voice_site(db_url, MONDAY_10H, **case.environ) as site:
        town = site.town
        workshop = await town.workshop("Saint-Victor", W_START, capacity=1)
        martine = await town.resident("Martine Dupont", phone=MARTINE)
        louis = await town.resident("Louis Marchand", phone=LOUIS)
        martine_seat = await town.seat(martine, workshop)
        await town.seat(louis, workshop)  # waits
        site.fake.refuse(LOUIS, LANDLINE)
        async with site.ctx.db.write() as session:
            await cancel(session=session, ctx=site.ctx, enrolment_id=martine_seat, now=site.clock.now)
        await site.dispatch()  # the freed seat's SMS is refused: 30006, a landline
        await case.then(site)
        # the minutely jobs, in either order: the sweep before the take-over is the case that went wrong
        await sweep_now(site.ctx)
        await take_over_from_sms(ctx=site.ctx)
        await sweep_now(site.ctx)
        calls = [(c.kind, c.reason) for c in await list_calls(ctx=site.ctx) if c.resident_id == louis]
        expected = [(CallKind.promotion, case.call_reason)] if case.call_reason else []
        assert calls == expected, case.label
        assert len(await town.messages(resident_id=louis, channel=Channel.voice)) == case.voice_rows, case.label
