"""Writing the dispatcher's results: outcomes collected from concurrent sends, written in batches."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.context import Context
from storage.outbox.claiming import Outcome, record_outcomes
from storage.outbox.queueing import scrub_sent_about_erased
from storage.residents import mark_sms_unreachable, set_opt_out


@dataclass(frozen=True)
class Effect:
    """A consequence of a provider's answer on the resident."""

    resident_id: int
    channel: str
    opted_out: bool  # else: the number cannot receive SMS


class Recorder:
    """Collects outcomes and writes them in batches, in one transaction each."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._outcomes: list[Outcome] = []
        self._effects: list[Effect] = []
        self._about: list[int] = []  # messages about a resident, done with: blanked if that resident was erased
        self._lock = asyncio.Lock()

    def add(self, outcome: Outcome, effect: Effect | None = None, *, about_resident: bool = False) -> None:
        self._outcomes.append(outcome)
        if effect is not None:
            self._effects.append(effect)
        if about_resident:
            self._about.append(outcome.id)

    async def flush(self) -> None:
        async with self._lock:
            if not self._outcomes and not self._effects:
                return
            outcomes, effects, about = self._outcomes, self._effects, self._about
            self._outcomes, self._effects, self._about = [], [], []
            scrubbed = 0
            try:
                async with self.ctx.db.write() as session:
                    await record_outcomes(session=session, outcomes=outcomes, now=self.ctx.now())
                    scrubbed = await scrub_sent_about_erased(session=session, ids=about)
                    for effect in effects:
                        if effect.opted_out:
                            await set_opt_out(
                                session=session, resident_id=effect.resident_id, channel=effect.channel, opted_out=True
                            )
                        else:
                            await mark_sms_unreachable(session=session, resident_id=effect.resident_id)
            except Exception:
                # keep them for the next flush; rows stay claimed meanwhile (the claim guards late writes)
                self._outcomes[:0], self._effects[:0], self._about[:0] = outcomes, effects, about
                raise
            if scrubbed:
                await self.ctx.db.checkpoint()  # SQLite: the goodbye's address leaves the write-ahead log too
