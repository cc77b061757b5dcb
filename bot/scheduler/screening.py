"""Is a due message still wanted, and may it leave now? Pure: the facts, the clock and the rules are passed in.

Checked by the dispatcher in the transaction that claims the message, just before it is sent (SPEC §7): no
reminder to someone who cancelled, opted out or was erased; none after its workshop started (or was moved); nothing
that is not an answer outside the sending window; no more than the daily cap of non-urgent messages per resident.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from bot.conversation.phones import SERVED_BY_DEFAULT, unserved
from bot.scheduler.planning import CallHours, QuietHours, call_allowed_at, next_allowed, next_call_at
from bot.scheduler.planning import allowed_at as window_open
from storage.enums import Channel
from storage.models import EnrolmentStatus, MessageKind, WorkshopStatus
from storage.outbox.claiming import DueMessage, Facts

# The messages about one enrolment, and the enrolment states in which they still mean something: a reminder or a
# promotion while the person holds the seat; a confirmation (an adviser enrolled them by phone) while they hold the
# seat or wait for one.
HELD = {
    MessageKind.reminder: (EnrolmentStatus.seated,),
    MessageKind.promotion: (EnrolmentStatus.seated,),
    MessageKind.confirmation: (EnrolmentStatus.seated, EnrolmentStatus.waiting),
}


class Action(enum.StrEnum):
    send = "send"
    cancel = "cancel"  # no longer wanted: status cancelled
    expire = "expire"  # too late: status expired, never sent late
    defer = "defer"  # not now: pending again, due at ``due_at``


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str = ""
    due_at: datetime | None = None


SEND = Verdict(Action.send)
# After a call to a number, the next one waits this long (a call is intrusive; and an in-doubt call is then looked
# up at Twilio with no other call to the same number nearby to mistake it for).
LINE_REST = timedelta(minutes=10)
LINE_RECHECK = timedelta(minutes=1)


def is_answer(message: DueMessage) -> bool:
    """An answer to something the resident wrote leaves at once, whatever the hour."""
    return message.kind == MessageKind.reply or message.inbound_id is not None


def next_day(now: datetime, tz: tzinfo) -> datetime:
    """The first moment of the next local day."""
    local = now.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), time(0, 0), tzinfo=tz)


def _unwanted(message: DueMessage, facts: Facts) -> str | None:
    """Why the message must not be sent any more, or None."""
    if not message.to_address:
        return "no address (erased)"  # a reply to a number erased since: its address was blanked
    if message.resident_id is not None:
        resident = facts.residents.get(message.resident_id)
        if resident is None:
            return "resident deleted"
        if resident.erased:
            return "resident erased"
        if message.channel == Channel.sms and resident.sms_unreachable:
            return "number cannot receive SMS"
        # a STOP sent by SMS stops the calls to that number too
        opted_out = (message.channel in (Channel.sms, Channel.voice) and resident.opted_out_sms) or (
            message.channel == Channel.telegram and resident.opted_out_telegram
        )
        if opted_out and not is_answer(message):  # the STOP confirmation itself is an answer and still leaves
            return "resident opted out"
    held = HELD.get(message.kind)
    if held is not None:
        if message.enrolment_id is not None and facts.enrolments.get(message.enrolment_id) not in held:
            return "no longer enrolled" if EnrolmentStatus.waiting in held else "no longer seated"
        if message.workshop_id is not None:
            workshop = facts.workshops.get(message.workshop_id)
            if workshop is None or workshop[0] != WorkshopStatus.planned:
                return "workshop cancelled"
            if message.expires_at is not None and workshop[1] != message.expires_at:
                return "workshop moved"  # its reminders were planned again for the new time
    return None


def _unserved(message: DueMessage, countries: Collection[str]) -> str | None:
    """A resident's number we do not serve (signed up before the setting changed, say): nothing that is not an
    answer goes to it — an SMS or a call abroad or to a special number costs dearly."""
    phone = message.channel in (Channel.sms, Channel.voice)
    if not phone or message.resident_id is None or is_answer(message) or not message.to_address:
        return None
    problem = unserved(message.to_address, countries=countries)
    return None if problem is None else f"number not served ({problem})"


def screen(
    message: DueMessage,
    *,
    facts: Facts,
    now: datetime,
    quiet_hours: QuietHours | None,
    tz: tzinfo,
    daily_cap: int,
    sent_today: int,
    served_countries: Collection[str] = SERVED_BY_DEFAULT,
    call_hours: CallHours | None = None,
) -> Verdict:
    """What to do with a due message now. ``sent_today``: non-urgent messages the resident already got today
    (including those accepted earlier in the same batch). ``served_countries``: no reminder, notice or broadcast
    goes to (or calls) a resident's number of another country, nor a special one (ATELIER_SERVED_COUNTRIES).
    ``call_hours``: when a call (the voice channel) may ring; None: calls keep to the sending window like any
    message."""
    if message.expires_at is not None and message.expires_at <= now:
        return Verdict(Action.expire, "expired")
    reason = _unwanted(message, facts) or _unserved(message, served_countries)
    if reason is not None:
        return Verdict(Action.cancel, reason)
    if is_answer(message) or message.kind == MessageKind.adviser_notice:
        return SEND  # the window protects residents; an adviser's work notice (a callback request) leaves at once
    later: datetime | None = None
    calling = message.channel == Channel.voice
    if calling and call_hours is not None:  # a call keeps to the call hours, urgent or not
        if not call_allowed_at(now, hours=call_hours, quiet_hours=quiet_hours, tz=tz):
            later, reason = next_call_at(now, hours=call_hours, quiet_hours=quiet_hours, tz=tz), "call hours"
    elif not window_open(now, urgent=message.urgent, quiet_hours=quiet_hours, tz=tz):
        later, reason = next_allowed(now, urgent=message.urgent, quiet_hours=quiet_hours, tz=tz), "sending window"
    if later is not None:
        pass
    elif not message.urgent and message.resident_id is not None and sent_today >= daily_cap:
        later = next_allowed(next_day(now, tz), urgent=False, quiet_hours=quiet_hours, tz=tz)
        if calling and call_hours is not None:
            later = next_call_at(later, hours=call_hours, quiet_hours=quiet_hours, tz=tz)
        reason = "daily cap"
    elif calling and facts.line_busy(message):
        later, reason = now + LINE_RECHECK, "another call to this number"
    if later is None:
        return SEND
    if message.expires_at is not None and later >= message.expires_at:
        return Verdict(Action.expire, f"{reason}: could only leave after its deadline")
    return Verdict(Action.defer, reason or "", later)
