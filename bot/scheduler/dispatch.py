"""The dispatcher: claim due outbox rows, send them through the channel's sender at its pace, record the result.

One claiming transaction per round (``Database.write()``), for every channel that has a sender:

1. lock the channel's pacing row (``send_pace``): it holds the next free sending slot for *all* processes, so the
   provider's rate limit is kept however many ``atelier serve`` run on the database;
2. lock the due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock), at most one second of slots;
3. screen each one (``screening.screen``): expired, no longer wanted, outside the sending window, over the daily
   cap — those are settled in the same transaction and never sent;
4. mark the rest ``sending`` under a lease, each with its slot.

Sends then run concurrently (bounded), each starting at its slot, and a local pacer spaces the actual starts in
this process (a late batch never bursts). A send that cannot start within SLOT_TOLERANCE of its slot (a busy
process) is given back rather than sent late, so that it does not crowd other processes' slots, and claimed again
for a new slot as soon as that is written; the tolerance doubles each time the same message is given back, so a
starved process still makes progress. After a pause the
first send goes alone (a probe): it opens the connections, whose delay would otherwise crowd the next sends.

Results are written in batches. A row whose worker died keeps its lease until it runs out, then comes back "in
doubt": with a sender that can look up what it sent (``SentLookup``, e.g. Twilio's message list) it is resent only
if the provider has no such message since the first claim; with a sender that cannot (Telegram), it is resent —
at-least-once, only for messages in flight at a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import Outgoing, Sender, SendError, SentLookup
from bot.context import Context
from bot.conversation.phones import masked
from bot.logs import log_failure
from bot.scheduler.pacing import Pacer, spacing_of
from bot.scheduler.planning import retry_delay
from bot.scheduler.recording import Effect, Recorder
from bot.scheduler.screening import LINE_REST, Action, is_answer, screen
from storage.enums import Channel
from storage.models import MessageStatus
from storage.outbox.claiming import (
    DueMessage,
    Facts,
    Outcome,
    load_facts,
    lock_due,
    lock_pace,
    mark_claimed,
    record_outcomes,
)

log = logging.getLogger(__name__)

SLOT_TOLERANCE = timedelta(milliseconds=30)  # a send starts at most this late for its slot (the first time)
# The first send after a pause opens connections (and the first ever builds the client): it reaches the provider
# tens of milliseconds late, crowding the next ones into its second. So after IDLE without sending, one message goes
# alone first (a probe) and the next claim waits for its answer.
IDLE = timedelta(seconds=10)
HORIZON = timedelta(seconds=1)  # slots reserved ahead by one claim: small, so the re-check is "at send time"
SEND_TIMEOUT = 10.0  # seconds; a send that takes longer is left in doubt, never assumed failed
LEASE_MARGIN = 2.0  # seconds kept in hand to record the result before the lease runs out
FLUSH_EVERY = 0.1  # seconds between two writes of results while running


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
    in_doubt: int = 0  # left claimed (timeout, unexpected error, failed lookup): settled after the lease
    given_back: int = 0  # claimed but not sent this round (late for its slot; in doubt and found unsent)

    def add(self, other: TickResult) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass(frozen=True)
class Claimed:
    message: DueMessage
    slot: datetime  # when the send may start
    claim: datetime  # the claim's lease_until: identifies it when the result is written
    # in doubt: only look it up at the provider; if it was not sent, give it back (due at ``due_after`` if set)
    lookup_only: bool = False
    due_after: datetime | None = None
    probe: bool = False  # the first send after a pause: the channel waits for its answer


@dataclass
class _ChannelState:
    spacing: timedelta  # between two slots; 0 when the channel has no rate limit
    pacer: Pacer
    recipient_interval: timedelta | None  # the sender's per-recipient limit (Telegram: a second per chat)
    next_open: datetime | None = None  # when the next claim can get slots (the pace row is ahead of us)
    recipient_next: dict[str, datetime] = field(default_factory=dict)  # per recipient: earliest next slot
    last_slot: datetime | None = None  # the last slot this process used
    probing: bool = False  # a probe is in flight: claim nothing more on this channel until it is answered


class Dispatcher:
    """Sends due outbox rows. ``tick()`` does one claim and waits for its sends (tests, one-shot use);
    ``run(stop)`` keeps claiming while messages are due, and otherwise waits for ``wake()`` or the interval."""

    def __init__(
        self,
        ctx: Context,
        *,
        lease: timedelta | None = None,  # default: ATELIER_DISPATCH_LEASE
        send_timeout: float = SEND_TIMEOUT,
        concurrency: int = 32,
        max_batch: int = 500,
        rng: random.Random | None = None,
        pacer: Callable[[timedelta], Pacer] = Pacer,  # one per channel, given its spacing
    ) -> None:
        self.ctx = ctx
        self._new_pacer = pacer
        self.lease = lease or timedelta(seconds=ctx.settings.dispatch_lease)
        self.send_timeout = send_timeout
        self.concurrency = concurrency
        self.max_batch = max_batch
        self.rng = rng or random.Random()  # noqa: S311 - retry jitter, not security
        self.totals = TickResult()
        self._recorder = Recorder(ctx)
        self._semaphore = asyncio.Semaphore(concurrency)
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._loop = _running_loop()  # the loop the dispatcher runs on (None until then, outside one)
        self._channels: dict[str, _ChannelState] = {}
        self._lateness: dict[int, int] = {}  # message id → times given back for being late for its slot
        self._capacity = concurrency * 8  # claimed and not yet settled, at most (big claims cost less)
        self._active = 0
        self._want_room = False  # the loop waits for sends to finish before claiming more
        self._given_back = False  # rows given back since the last write of results: due again once written

    # --- public -----------------------------------------------------------------------------------------

    def wake(self) -> None:
        """New messages were queued: claim now rather than at the next interval. Callable from any thread (an
        SQLite transaction runs on a writer thread of its own, ``storage/sqlite_writer.py``)."""
        loop = self._loop
        if loop is None or loop.is_closed() or _running_loop() is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def tick(self) -> TickResult:
        result = TickResult()
        for _ in range(2):  # a second claim only when the first was a probe (a channel used after a pause)
            claimed, _ = await self._claim(result)
            self._active += len(claimed)
            await asyncio.gather(*(self._deliver(item, result) for item in claimed))
            if not any(item.probe for item in claimed):
                break
        await self._recorder.flush()
        self.totals.add(result)
        return result

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
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
                        wait = self._next_claim_in(interval)
                except Exception as exc:
                    log_failure(log, "dispatch: claiming due messages", exc)
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
            spacing = spacing_of(self.ctx.settings.rate_of(channel))
            sender = self.ctx.senders.get(channel)
            interval = sender.recipient_interval if sender is not None else None
            state = _ChannelState(spacing=spacing, pacer=self._new_pacer(spacing), recipient_interval=interval)
            self._channels[channel] = state
        return state

    async def _claim(self, result: TickResult) -> tuple[list[Claimed], bool]:
        """One claiming transaction over every channel with a sender. Returns the claimed messages and whether
        more are probably due (a batch was full, or the pace kept us from taking more)."""
        now = self.ctx.now()
        claimed: list[Claimed] = []
        more = False
        if self._active >= self._capacity:
            return claimed, True
        async with self.ctx.db.write() as session:
            for channel in sorted(self.ctx.senders):
                room = min(self.max_batch, self._capacity - self._active - len(claimed))
                if room <= 0:
                    more = True
                    break
                taken, full = await self._claim_channel(session, channel, now=now, room=room, result=result)
                claimed.extend(taken)
                more = more or full
        for item in claimed:  # committed: until its answer, nothing more is claimed on a probed channel
            if item.probe:
                self._state(item.message.channel).probing = True
        result.claimed += len(claimed)
        return claimed, more

    async def _claim_channel(
        self, session: AsyncSession, channel: str, *, now: datetime, room: int, result: TickResult
    ) -> tuple[list[Claimed], bool]:
        state = self._state(channel)
        if state.probing:
            return [], False  # the probe's answer wakes the loop
        spacing = state.spacing
        pace = await lock_pace(session=session, channel=channel, now=now)
        start = max(now, pace.next_at)
        if start > now + HORIZON / 2:  # the next half second's slots are taken (maybe by other processes)
            state.next_open = start - HORIZON / 2
            return [], True
        if spacing:
            room = min(room, int((now + HORIZON - start) / spacing) + 1)
        due = await lock_due(session=session, channel=channel, now=now, limit=room)
        local = now.astimezone(self.ctx.tz)
        day_start = datetime.combine(local.date(), time(0, 0), tzinfo=self.ctx.tz)
        facts = await load_facts(session=session, messages=due, day_start=day_start, line_since=now - LINE_REST)
        lease_until = now + self.lease
        taken, settled = self._pick(
            due, facts, channel=channel, now=now, start=start, spacing=spacing, claim=lease_until, result=result
        )
        slots = [c.slot for c in taken if not c.lookup_only]
        if slots:
            pace.next_at = max(slots) + spacing
            state.last_slot = max(slots)
            if pace.next_at > now + HORIZON / 2:  # claim again when half of these slots are used
                state.next_open = pace.next_at - HORIZON / 2
        fresh = [c.message.id for c in taken if c.message.in_doubt_since is None]
        doubtful = [c.message.id for c in taken if c.message.in_doubt_since is not None]
        await mark_claimed(session=session, ids=fresh, now=now, lease_until=lease_until)
        await mark_claimed(session=session, ids=doubtful, now=now, lease_until=lease_until, in_doubt=True)
        await record_outcomes(session=session, outcomes=settled, now=now)
        self._forget_old_chats(state, now)
        return taken, len(due) >= room or state.next_open is not None

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
        sending = 0
        cold = bool(spacing) and (state.last_slot is None or start - state.last_slot > IDLE)
        taken: list[Claimed] = []
        settled: list[Outcome] = []
        for message in due:
            verdict = screen(
                message,
                facts=facts,
                now=now,
                quiet_hours=settings.quiet_hours,
                tz=self.ctx.tz,
                daily_cap=settings.daily_cap,
                sent_today=counts.get(message.resident_id or 0, 0),
                served_countries=settings.served_countries,
                call_hours=settings.call_hours,
            )
            wanted = verdict.action in (Action.send, Action.defer)
            if wanted and message.in_doubt_since is not None and lookup:
                # it may have gone before: find out first (no slot needed), send it later only if it had not
                taken.append(Claimed(message, now, claim, lookup_only=True, due_after=verdict.due_at))
                continue
            if verdict.action != Action.send:
                settled.append(self._settle(message, verdict.action, verdict.reason, verdict.due_at, result))
                continue
            if cold and sending:
                break  # a probe goes alone; the rest waits for the next claim
            slot = start + spacing * sending
            if state.recipient_interval:
                recipient_free = state.recipient_next.get(message.to_address, now)
                if recipient_free > slot:  # this recipient had a message too recently: claim it when free
                    state.next_open = min(state.next_open or recipient_free, recipient_free)
                    continue
                state.recipient_next[message.to_address] = slot + state.recipient_interval
            if message.resident_id is not None and not message.urgent and not is_answer(message):
                counts[message.resident_id] = counts.get(message.resident_id, 0) + 1
            if message.channel == Channel.voice:  # the line is busy from now on, for the rest of this batch too
                facts.lines.setdefault(message.to_address, set()).add(message.id)
            taken.append(Claimed(message, slot, claim, probe=cold))
            sending += 1
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
        if len(state.recipient_next) > 10_000:
            state.recipient_next = {chat: at for chat, at in state.recipient_next.items() if at > now}

    def _next_claim_in(self, interval: float) -> float:
        """Seconds until the next claim when more messages are due: when sends free some room (they wake the
        loop), when the pace opens the next slots, or at once."""
        if self._active > self._capacity // 2:
            self._want_room = True
            self._wake.clear()  # a wake from before this point is stale: the sends finishing will wake us
            return interval
        now = self.ctx.now()
        opens = [s.next_open for s in self._channels.values() if s.next_open is not None]
        wait = min(((at - now).total_seconds() for at in opens), default=0.0)
        return min(max(wait, 0.0), interval)

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
        self._active += 1
        task = asyncio.create_task(self._deliver(item, self.totals))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        """Write results every FLUSH_EVERY seconds while running; ``drain`` writes the last ones."""
        while not stop.is_set():
            await asyncio.sleep(FLUSH_EVERY)
            given_back, self._given_back = self._given_back, False
            try:
                await self._recorder.flush()
            except Exception as exc:
                self._given_back = self._given_back or given_back
                log_failure(log, "dispatch: recording results (kept for the next try)", exc)
            else:
                if given_back:  # pending again and due: claim them now, not at the next interval
                    self.wake()

    async def _deliver(self, item: Claimed, result: TickResult) -> None:
        tried = False
        try:
            tried = await self._deliver_one(item, result)
        finally:
            self._active -= 1
            if self._want_room and self._active <= self._capacity // 2:
                self._want_room = False
                self.wake()
            if item.probe:  # answered: the channel is warm (not if it was given back), claim the rest now
                state = self._state(item.message.channel)
                state.probing = False
                if tried:
                    state.last_slot = self.ctx.now()
                self.wake()

    async def _deliver_one(self, item: Claimed, result: TickResult) -> bool:
        """Send (or look up) one claimed message; True when the provider was asked."""
        message = item.message
        sender = self.ctx.senders.get(message.channel)
        if sender is None:  # the sender went away (never in practice): give the row back
            self._give_back(item, result)
            return False
        delay = (item.slot - self.ctx.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        async with self._semaphore:
            if (item.claim - self.ctx.now()).total_seconds() < self.send_timeout + LEASE_MARGIN:
                # waited too long for a free sender: never send under a lease that may run out mid-send
                self._give_back(item, result)
                return False
            if item.lookup_only and isinstance(sender, SentLookup):
                await self._resolve(sender, item, result)
                return True
            state = self._state(message.channel)
            if not state.spacing or item.probe:
                await state.pacer.wait()
            elif not await state.pacer.wait(within=self._slack(item)):
                # too late for its slot: sending now could crowd other processes' slots; a new slot next round
                self._give_back(item, result)
                return False
            self._lateness.pop(message.id, None)
            await self._send(sender, item, result)
            return True

    def _slack(self, item: Claimed) -> float:
        """Seconds left to start this send within its slot's tolerance, which doubles each time the same message
        was given back for lateness (a busy process must still get its messages out). Counts this time."""
        given_back = self._lateness.get(item.message.id, 0)
        if len(self._lateness) > 100_000:
            self._lateness.clear()
        self._lateness[item.message.id] = given_back + 1  # forgotten once it is sent
        tolerance = SLOT_TOLERANCE * (1 << min(given_back, 6))
        return (item.slot + tolerance - self.ctx.now()).total_seconds()

    def _give_back(self, item: Claimed, result: TickResult) -> None:
        """Not sent this time: pending again as it was (a row in doubt stays claimed until its lease runs out)."""
        if item.lookup_only or item.message.in_doubt_since is not None:
            result.in_doubt += 1
            return
        result.given_back += 1
        self._recorder.add(Outcome(item.message.id, MessageStatus.pending, claim=item.claim))
        self._given_back = True

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

    async def _resolve(self, sender: SentLookup, item: Claimed, result: TickResult) -> None:
        """An in-doubt row: recorded as sent when the provider has it; otherwise given back, to be sent as any
        pending row. A failed lookup keeps it in doubt, looked up again after a backoff."""
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
            return
        if found is None:
            result.given_back += 1
            self._recorder.add(Outcome(message.id, MessageStatus.pending, claim=item.claim, due_at=item.due_after))
            return
        log.info("dispatch: message %s had been sent before (provider id %s)", message.id, found)
        result.already_sent += 1
        self._recorder.add(
            Outcome(
                message.id,
                MessageStatus.sent,
                claim=item.claim,
                provider_id=found,
                sent_at=self.ctx.now(),
                attempted=True,  # the try before the crash
            ),
            about_resident=message.about_resident_id is not None,
        )

    async def _send(self, sender: Sender, item: Claimed, result: TickResult) -> None:
        message = item.message
        outgoing = Outgoing(
            to=message.to_address,
            body=message.body,
            choices=message.choices,
            ask_contact=message.ask_contact,
            message_id=message.id,
        )
        try:
            async with asyncio.timeout(self.send_timeout):
                provider_id = await sender.send(outgoing)
        except SendError as error:
            self._failed(sender, item, error, result)
            return
        except Exception as exc:  # a timeout, a bug: the provider may have it, so never resend blindly
            name = type(exc).__name__
            log.warning("dispatch: message %s to %s: %s; in doubt", message.id, masked(message.to_address), name)
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
        self._recorder.add(sent, about_resident=message.about_resident_id is not None)

    def _failed(self, sender: Sender, item: Claimed, error: SendError, result: TickResult) -> None:
        message = item.message
        code = error.code or "error"
        text = f"{code}: {error}"[:300]
        kind = "transient" if error.transient else "permanent"
        log.warning("dispatch: message %s to %s failed (%s, %s)", message.id, masked(message.to_address), code, kind)
        effect = None
        if message.resident_id is not None and (error.opted_out or error.unreachable):
            effect = Effect(message.resident_id, message.channel, opted_out=error.opted_out)
        if error.transient and effect is None:
            self._retry(sender, item, text, error.retry_after, result)
            return
        result.failed += 1
        failed = Outcome(message.id, MessageStatus.failed, claim=item.claim, error=text, attempted=True)
        self._recorder.add(failed, effect, about_resident=message.about_resident_id is not None)

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


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not called from a coroutine
        return None
