"""The dispatcher: claim due outbox rows, send them through the channel's sender at its pace, record the result.

One claiming transaction per round (``Database.write()``), for every channel that has a sender:

1. lock the channel's pacing row (``send_pace``): it holds the next free sending slot for *all* processes, so the
   provider's rate limit is kept however many ``atelier serve`` run on the database;
2. lock the due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock), at most one second of slots;
3. screen each one (``screening.screen``): expired, no longer wanted, outside the sending window, over the daily
   cap — those are settled in the same transaction and never sent;
4. mark the rest ``sending`` under a lease, each with its slot.

Sends then run concurrently (bounded), each starting at its slot; a local pacer also spaces the actual starts so
that a late batch never bursts. Results are written in batches. A row whose worker died keeps its lease until it
runs out, then comes back "in doubt": with a sender that can look up what it sent (``SentLookup``, e.g. Twilio's
message list) it is resent only if the provider has no such message since the first claim; with a sender that
cannot (Telegram), it is resent — at-least-once, only for messages in flight at a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import TELEGRAM, Outgoing, Sender, SendError, SentLookup
from bot.context import Context
from bot.scheduler.planning import retry_delay
from bot.scheduler.screening import Action, is_answer, screen
from storage.models import MessageStatus
from storage.outbox import DueMessage, Facts, Outcome, load_facts, lock_due, lock_pace, mark_claimed, record_outcomes
from storage.residents import mark_sms_unreachable, set_opt_out

log = logging.getLogger(__name__)

RATE_MARGIN = 0.03  # pace 3 % under the limit: network jitter must not push one second's count over it
HORIZON = timedelta(seconds=1)  # slots reserved ahead by one claim: small, so the re-check is "at send time"
LEASE = timedelta(seconds=20)  # a claim not settled by then is in doubt (the worker died)
SEND_TIMEOUT = 10.0  # seconds; a send that takes longer is left in doubt, never assumed failed
LEASE_MARGIN = 2.0  # seconds kept in hand to record the result before the lease runs out
PER_CHAT = timedelta(seconds=1)  # Telegram: no more than one message per second in one chat
FLUSH_EVERY = 0.05  # seconds between two writes of results while running


@dataclass
class TickResult:
    claimed: int = 0
    sent: int = 0
    already_sent: int = 0  # in doubt and found at the provider: recorded as sent, not sent again
    retried: int = 0  # transient failure: pending again, with backoff
    failed: int = 0
    expired: int = 0
    cancelled: int = 0
    deferred: int = 0  # sending window or daily cap: pending again, later
    in_doubt: int = 0  # left claimed (timeout, unexpected error): settled after the lease

    def add(self, other: TickResult) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass(frozen=True)
class Claimed:
    message: DueMessage
    slot: datetime  # when the send may start
    claim: datetime  # the claim's lease_until: identifies it when the result is written
    defer_to: datetime | None = None  # in doubt but not sendable now: look it up, then defer if not sent


@dataclass(frozen=True)
class Effect:
    """A consequence of a provider's answer on the resident."""

    resident_id: int
    channel: str
    opted_out: bool  # else: the number cannot receive SMS


def spacing_of(rate: float) -> float:
    """Seconds between two sends at ``rate`` messages per second (kept RATE_MARGIN under the limit)."""
    return (1.0 + RATE_MARGIN) / rate


def mask(address: str) -> str:
    """Logs never show a number in full (SPEC §7)."""
    return "…" + address[-2:] if len(address) > 2 else "…"


class Pacer:
    """Spaces the actual start of sends on one channel in this process (monotonic clock)."""

    def __init__(self, spacing: float) -> None:
        self.spacing = spacing
        self._next = 0.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = max(now, self._next)
        self._next = start + self.spacing
        if start > now:
            await asyncio.sleep(start - now)


class Recorder:
    """Collects outcomes and writes them in batches, in one transaction each."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._outcomes: list[Outcome] = []
        self._effects: list[Effect] = []
        self._lock = asyncio.Lock()

    def add(self, outcome: Outcome, effect: Effect | None = None) -> None:
        self._outcomes.append(outcome)
        if effect is not None:
            self._effects.append(effect)

    @property
    def waiting(self) -> int:
        return len(self._outcomes)

    async def flush(self) -> None:
        async with self._lock:
            if not self._outcomes and not self._effects:
                return
            outcomes, effects = self._outcomes, self._effects
            self._outcomes, self._effects = [], []
            try:
                async with self.ctx.db.write() as session:
                    await record_outcomes(session=session, outcomes=outcomes, now=self.ctx.now())
                    for effect in effects:
                        if effect.opted_out:
                            await set_opt_out(
                                session=session, resident_id=effect.resident_id, channel=effect.channel, opted_out=True
                            )
                        else:
                            await mark_sms_unreachable(session=session, resident_id=effect.resident_id)
            except Exception:
                # keep them for the next flush; rows stay claimed meanwhile (the claim guards late writes)
                self._outcomes[:0], self._effects[:0] = outcomes, effects
                raise


@dataclass
class _ChannelState:
    pacer: Pacer
    next_open: datetime | None = None  # when the next claim can get slots (the pace row is ahead of us)
    chat_next: dict[str, datetime] = field(default_factory=dict)  # Telegram: per-chat earliest next slot


class Dispatcher:
    """Sends due outbox rows. ``tick()`` does one claim and waits for its sends (tests, one-shot use);
    ``run(stop)`` keeps claiming while messages are due, and otherwise waits for ``wake()`` or the interval."""

    def __init__(
        self,
        ctx: Context,
        *,
        lease: timedelta = LEASE,
        send_timeout: float = SEND_TIMEOUT,
        concurrency: int = 32,
        max_batch: int = 500,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self.lease = lease
        self.send_timeout = send_timeout
        self.concurrency = concurrency
        self.max_batch = max_batch
        self.rng = rng or random.Random()  # noqa: S311 - retry jitter, not security
        self.totals = TickResult()
        self._recorder = Recorder(ctx)
        self._semaphore = asyncio.Semaphore(concurrency)
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._channels: dict[str, _ChannelState] = {}

    # --- public -----------------------------------------------------------------------------------------

    def wake(self) -> None:
        """New messages were queued: claim now rather than at the next interval."""
        self._wake.set()

    async def tick(self) -> TickResult:
        result = TickResult()
        claimed, _ = await self._claim(result)
        await asyncio.gather(*(self._deliver(item, result) for item in claimed))
        await self._recorder.flush()
        self.totals.add(result)
        return result

    async def run(self, stop: asyncio.Event) -> None:
        interval = self.ctx.settings.dispatch_interval
        flusher = asyncio.create_task(self._flush_loop(stop))
        try:
            while not stop.is_set():
                wait = interval
                try:
                    result = TickResult()
                    claimed, more = await self._claim(result)
                    self.totals.add(result)
                    for item in claimed:
                        self._start(item)
                    if more:
                        wait = self._until_next_open(interval)
                except Exception:
                    log.exception("dispatch: claiming failed; trying again in %.1f s", interval)
                await self._pause(wait, stop)
        finally:
            stop.set()
            await flusher

    async def drain(self, grace: float) -> None:
        """Let in-flight sends finish (for ``grace`` seconds at most), then write their results. Sends still
        running are cancelled: their rows stay claimed and are settled after the lease (in doubt)."""
        if self._inflight:
            _, still = await asyncio.wait(set(self._inflight), timeout=grace)
            for task in still:
                task.cancel()
            if still:
                await asyncio.gather(*still, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._recorder.flush()

    # --- claiming ---------------------------------------------------------------------------------------

    def _state(self, channel: str) -> _ChannelState:
        state = self._channels.get(channel)
        if state is None:
            state = _ChannelState(pacer=Pacer(self._spacing(channel)))
            self._channels[channel] = state
        return state

    def _spacing(self, channel: str) -> float:
        settings = self.ctx.settings
        rate = {"sms": settings.sms_rate, TELEGRAM: settings.telegram_rate}.get(channel)
        return spacing_of(rate) if rate else 0.0

    async def _claim(self, result: TickResult) -> tuple[list[Claimed], bool]:
        """One claiming transaction over every channel with a sender. Returns the claimed messages and whether
        more are probably due (a batch was full, or the pace kept us from taking more)."""
        now = self.ctx.now()
        claimed: list[Claimed] = []
        more = False
        async with self.ctx.db.write() as session:
            for channel in sorted(self.ctx.senders):
                room = min(self.max_batch, self.concurrency * 4 - len(self._inflight) - len(claimed))
                if room <= 0:
                    more = True
                    break
                taken, full = await self._claim_channel(session, channel, now=now, room=room, result=result)
                claimed.extend(taken)
                more = more or full
        result.claimed += len(claimed)
        return claimed, more

    async def _claim_channel(
        self, session: AsyncSession, channel: str, *, now: datetime, room: int, result: TickResult
    ) -> tuple[list[Claimed], bool]:
        state = self._state(channel)
        spacing = timedelta(seconds=state.pacer.spacing)
        pace = await lock_pace(session=session, channel=channel, now=now)
        start = max(now, pace.next_at)
        if start > now + HORIZON:  # other claims (maybe other processes) hold the next second's slots
            state.next_open = start - HORIZON
            return [], True
        if spacing:
            room = min(room, int((now + HORIZON - start) / spacing) + 1)
        due = await lock_due(session=session, channel=channel, now=now, limit=room)
        local = now.astimezone(self.ctx.tz)
        day_start = datetime.combine(local.date(), time(0, 0), tzinfo=self.ctx.tz)
        facts = await load_facts(session=session, messages=due, day_start=day_start)
        lease_until = now + self.lease
        taken, settled = self._pick(
            due, facts, channel=channel, now=now, start=start, spacing=spacing, claim=lease_until, result=result
        )
        sending = sum(1 for c in taken if c.defer_to is None)
        if sending:
            pace.next_at = start + spacing * sending
        fresh = [c.message.id for c in taken if c.message.in_doubt_since is None]
        doubtful = [c.message.id for c in taken if c.message.in_doubt_since is not None]
        await mark_claimed(session=session, ids=fresh, now=now, lease_until=lease_until)
        await mark_claimed(session=session, ids=doubtful, now=now, lease_until=lease_until, in_doubt=True)
        await record_outcomes(session=session, outcomes=settled, now=now)
        self._forget_old_chats(state, now)
        return taken, len(due) >= room

    def _pick(
        self,
        due: list[DueMessage],
        facts: Facts,
        *,
        channel: str,
        now: datetime,
        start: datetime,
        spacing: timedelta,
        claim: datetime,
        result: TickResult,
    ) -> tuple[list[Claimed], list[Outcome]]:
        """Screen the due rows: those to send get consecutive slots; the others are settled at once."""
        settings, state = self.ctx.settings, self._state(channel)
        lookup = isinstance(self.ctx.senders[channel], SentLookup)
        counts = dict(facts.sent_today)
        taken: list[Claimed] = []
        settled: list[Outcome] = []
        for message in due:
            slot = start + spacing * sum(1 for c in taken if c.defer_to is None)
            verdict = screen(
                message,
                facts=facts,
                now=now,
                quiet_hours=settings.quiet_hours,
                tz=self.ctx.tz,
                daily_cap=settings.daily_cap,
                sent_today=counts.get(message.resident_id or 0, 0),
            )
            if verdict.action == Action.defer and message.in_doubt_since is not None and lookup:
                # it may have gone before the crash: look it up first, defer it only if it had not
                taken.append(Claimed(message, now, claim, defer_to=verdict.due_at))
                continue
            if verdict.action != Action.send:
                settled.append(self._settle(message, verdict.action, verdict.reason, verdict.due_at, result))
                continue
            if message.channel == TELEGRAM:
                if state.chat_next.get(message.to_address, now) > slot:
                    continue  # this chat had a message less than a second ago: next round
                state.chat_next[message.to_address] = slot + PER_CHAT
            if message.resident_id is not None and not message.urgent and not is_answer(message):
                counts[message.resident_id] = counts.get(message.resident_id, 0) + 1
            taken.append(Claimed(message, slot, claim))
        return taken, settled

    @staticmethod
    def _settle(
        message: DueMessage, action: Action, reason: str, due_at: datetime | None, result: TickResult
    ) -> Outcome:
        if action == Action.expire:
            result.expired += 1
            return Outcome(message.id, MessageStatus.expired, error=reason)
        if action == Action.cancel:
            result.cancelled += 1
            return Outcome(message.id, MessageStatus.cancelled, error=reason)
        result.deferred += 1
        return Outcome(message.id, MessageStatus.pending, due_at=due_at)

    @staticmethod
    def _forget_old_chats(state: _ChannelState, now: datetime) -> None:
        if len(state.chat_next) > 10_000:
            state.chat_next = {chat: at for chat, at in state.chat_next.items() if at > now}

    def _until_next_open(self, interval: float) -> float:
        now = self.ctx.now()
        opens = [s.next_open for s in self._channels.values() if s.next_open is not None]
        wait = min(((at - now).total_seconds() for at in opens), default=0.0)
        return min(max(wait, 0.01), interval)

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        """Sleep until ``seconds`` pass, ``wake()`` is called, or ``stop`` is set."""
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            self._wake.clear()
            for state in self._channels.values():
                state.next_open = None

    # --- sending ----------------------------------------------------------------------------------------

    def _start(self, item: Claimed) -> None:
        task = asyncio.create_task(self._deliver(item, self.totals))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set() or self._inflight:
            await asyncio.sleep(FLUSH_EVERY)
            try:
                await self._recorder.flush()
            except Exception:
                log.exception("dispatch: recording results failed; retrying")

    async def _deliver(self, item: Claimed, result: TickResult) -> None:
        message = item.message
        sender = self.ctx.senders.get(message.channel)
        if sender is None:  # the sender went away (never in practice): give the row back
            self._recorder.add(Outcome(message.id, MessageStatus.pending, claim=item.claim))
            return
        delay = (item.slot - self.ctx.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        async with self._semaphore:
            if (item.claim - self.ctx.now()).total_seconds() < self.send_timeout + LEASE_MARGIN:
                # waited too long for a free sender: never send under a lease that may run out mid-send
                self._give_back(item, result)
                return
            doubtful = message.in_doubt_since is not None
            if doubtful and isinstance(sender, SentLookup) and await self._already_sent(sender, item, result):
                return
            if item.defer_to is not None:
                result.deferred += 1
                self._recorder.add(Outcome(message.id, MessageStatus.pending, claim=item.claim, due_at=item.defer_to))
                return
            await self._state(message.channel).pacer.wait()
            await self._send(sender, item, result)

    def _give_back(self, item: Claimed, result: TickResult) -> None:
        if item.message.in_doubt_since is None:
            self._recorder.add(Outcome(item.message.id, MessageStatus.pending, claim=item.claim))
        else:  # still in doubt: it stays claimed and comes back when the lease runs out
            result.in_doubt += 1

    def _retry_at(self, message: DueMessage, retry_after: float | None = None) -> datetime:
        return self.ctx.now() + retry_delay(message.attempts + 1, retry_after=retry_after, rng=self.rng)

    def _hold(self, item: Claimed, error: str, until: datetime) -> None:
        """The provider may have the message: keep it claimed, in doubt from ``until`` (the retry time). With a
        ``SentLookup`` sender it is looked up then; without, it is sent again (at-least-once)."""
        self._recorder.add(
            Outcome(
                item.message.id,
                MessageStatus.sending,
                claim=item.claim,
                error=error[:300],
                attempted=True,
                lease_until=until,
            )
        )

    async def _already_sent(self, sender: SentLookup, item: Claimed, result: TickResult) -> bool:
        """Resolve an in-doubt row: True (and recorded) when the provider has it, or when we could not find out
        (it stays in doubt, looked up again later); False when it was not sent and may be sent now."""
        message = item.message
        since = message.in_doubt_since or message.due_at
        try:
            async with asyncio.timeout(self.send_timeout):
                found = await sender.find_sent(to=message.to_address, body=message.body, since=since)
        except Exception as exc:  # we still do not know, so we must not send
            code = exc.code if isinstance(exc, SendError) and exc.code else type(exc).__name__
            log.warning("dispatch: looking up message %s failed (%s); still in doubt", message.id, code)
            result.in_doubt += 1
            self._hold(item, f"lookup failed: {code}", self._retry_at(message))
            return True
        if found is None:
            return False
        log.info("dispatch: message %s had been sent before (provider id %s)", message.id, found)
        result.already_sent += 1
        self._recorder.add(
            Outcome(message.id, MessageStatus.sent, claim=item.claim, provider_id=found, sent_at=self.ctx.now())
        )
        return True

    async def _send(self, sender: Sender, item: Claimed, result: TickResult) -> None:
        message = item.message
        outgoing = Outgoing(to=message.to_address, body=message.body, choices=message.choices)
        try:
            async with asyncio.timeout(self.send_timeout):
                provider_id = await sender.send(outgoing)
        except SendError as error:
            self._failed(sender, item, error, result)
            return
        except Exception as exc:  # a timeout, a bug: the provider may have it, so never resend blindly
            name = type(exc).__name__
            log.warning("dispatch: message %s to %s: %s; in doubt", message.id, mask(message.to_address), name)
            result.in_doubt += 1
            self._hold(item, name, self._retry_at(message))
            return
        result.sent += 1
        sent = Outcome(
            message.id,
            MessageStatus.sent,
            claim=item.claim,
            provider_id=provider_id,
            sent_at=self.ctx.now(),
            attempted=True,
        )
        self._recorder.add(sent)

    def _failed(self, sender: Sender, item: Claimed, error: SendError, result: TickResult) -> None:
        message = item.message
        code = error.code or "error"
        text = f"{code}: {error}"[:300]
        kind = "transient" if error.transient else "permanent"
        log.warning("dispatch: message %s to %s failed (%s, %s)", message.id, mask(message.to_address), code, kind)
        effect = None
        if message.resident_id is not None and (error.opted_out or error.unreachable):
            effect = Effect(message.resident_id, message.channel, opted_out=error.opted_out)
        if error.transient and effect is None:
            self._retry(sender, item, text, error.retry_after, result)
            return
        result.failed += 1
        failed = Outcome(message.id, MessageStatus.failed, claim=item.claim, error=text, attempted=True)
        self._recorder.add(failed, effect)

    def _retry(self, sender: Sender, item: Claimed, error: str, retry_after: float | None, result: TickResult) -> None:
        """A transient failure: try again after the backoff, unless that is past the message's deadline."""
        message = item.message
        retry = self._retry_at(message, retry_after)
        if message.expires_at is not None and retry >= message.expires_at:
            result.expired += 1
            self._recorder.add(
                Outcome(message.id, MessageStatus.expired, claim=item.claim, error=error, attempted=True)
            )
            return
        result.retried += 1
        if isinstance(sender, SentLookup):
            # a transient error may hide an accepted message (its answer was lost): look it up before retrying
            self._hold(item, error, retry)
            return
        self._recorder.add(
            Outcome(message.id, MessageStatus.pending, claim=item.claim, due_at=retry, error=error, attempted=True)
        )
