"""Whom we answer, and how much: every SMS we send costs the territory money (SMS pumping).

Decided for each inbound message, in its transaction, before the dialogue runs:

- a number we do not serve — a special number (premium rate, shared cost…) or another country's — gets the
  advisers' contact, once a day at most, and nothing else: no sign-up, no conversation, hence never a reminder;
- any number or chat gets at most ``ATELIER_REPLY_LIMIT`` replies (20 in 10 minutes); then one notice ("trop de
  messages"), then silence until the window has passed. The replies are counted in the outbox, which every process
  writes, and messages from one address are handled one at a time (``storage.turns.open_turn``'s advisory lock):
  several processes share the count exactly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.channels import Inbound
from bot.context import Context
from bot.conversation import texts as say
from bot.conversation.phones import unserved
from storage.enums import Channel
from storage.outbox.queueing import RecentReplies

REFUSAL_INTERVAL = timedelta(days=1)  # a number we do not serve hears from us at most this often
NOTICE_MARKER = ":limit"  # the idempotency key of a reply that is the notice (or a refusal) ends with this


class Gate(enum.StrEnum):
    answer = "answer"  # as usual
    refuse = "refuse"  # a number we do not serve: the advisers' contact (if not sent today), nothing else
    notice = "notice"  # over the limit: the one notice, now
    silent = "silent"  # over the limit, and told already


@dataclass(frozen=True)
class Admission:
    gate: Gate
    reply: str | None = None  # what is answered instead of the dialogue's replies

    @property
    def limited(self) -> bool:
        return self.gate in (Gate.notice, Gate.silent)


ANSWER = Admission(Gate.answer)


def shared_phone_served(ctx: Context, inbound: Inbound) -> Inbound:
    """A number shared on Telegram that we do not serve is not kept: we would never write to it nor call it."""
    phone = inbound.shared_phone
    if phone is None or unserved(phone, countries=ctx.settings.served_countries) is None:
        return inbound
    return replace(inbound, shared_phone=None)


def lock_name(inbound: Inbound) -> str:
    """The lock that makes messages from one address wait for each other (``storage.turns.open_turn`` takes it)."""
    return f"address:{inbound.channel}:{inbound.address}"


def refused(ctx: Context, inbound: Inbound) -> bool:
    """A number we do not serve: it gets the advisers' contact, at most once a day, and nothing else."""
    return (
        inbound.channel == Channel.sms
        and unserved(inbound.address, countries=ctx.settings.served_countries) is not None
    )


def counted_within(ctx: Context, *, refused: bool) -> timedelta:
    """How far back the replies to the address are counted: a day for a number we do not serve, the limit's
    window otherwise."""
    return REFUSAL_INTERVAL if refused else ctx.settings.reply_limit.window


def admission_of(ctx: Context, recent: RecentReplies, *, refused: bool) -> Admission:
    """The decision, from the replies to the address counted since ``counted_within`` (``NOTICE_MARKER`` marks
    the notices and refusals among them)."""
    if refused:
        return Admission(Gate.refuse, None if recent.total else say.number_not_served(ctx.territory.contact.phone))
    if recent.total < ctx.settings.reply_limit.count:
        return ANSWER
    if recent.marked:
        return Admission(Gate.silent)
    return Admission(Gate.notice, say.too_many_messages())
