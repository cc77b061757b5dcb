"""The values shared by the conversation, the service and storage: levels, statuses, kinds, channels.

Standard library only, so that pure modules (``bot/conversation``, ``bot/scheduler/planning.py``) can use them
without importing SQLAlchemy, even indirectly. ``storage.models`` stores them as plain strings.
"""

from __future__ import annotations

import enum


class Channel(enum.StrEnum):
    """How a message reaches a resident (or an adviser)."""

    sms = "sms"
    telegram = "telegram"
    voice = "voice"  # a spoken phone call (Twilio Voice): residents with a landline


class Level(enum.StrEnum):
    beginner = "beginner"
    intermediate = "intermediate"
    advanced = "advanced"


class WorkshopStatus(enum.StrEnum):
    planned = "planned"
    cancelled = "cancelled"


class EnrolmentStatus(enum.StrEnum):
    seated = "seated"
    waiting = "waiting"
    cancelled = "cancelled"
    attended = "attended"
    absent = "absent"


class MessageStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    failed = "failed"
    cancelled = "cancelled"
    expired = "expired"


class MessageKind(enum.StrEnum):
    reply = "reply"
    reminder = "reminder"
    change_notice = "change_notice"
    broadcast = "broadcast"
    promotion = "promotion"
    confirmation = "confirmation"
    adviser_notice = "adviser_notice"
    callback_digest = "callback_digest"  # to an adviser: how many call-back requests wait (at most every 30 min)


class CallKind(enum.StrEnum):
    """Why an adviser should phone someone (the "to call" list). Data, not code: a later channel (voice calls to
    landlines) adds its own kinds."""

    callback = "callback"  # they asked to be called back (CONSEILLER)
    promotion = "promotion"  # a seat freed up for them and no message can tell them
    change_notice = "change_notice"  # their workshop was cancelled or moved and no message can tell them
    broadcast = "broadcast"  # an adviser's message to many did not reach them
    unanswered_reminder = "unanswered_reminder"  # seated soon, asked to confirm, no answer
    unanswered_call = "unanswered_call"  # the automatic calls to their landline went unanswered (or failed)
    noted = "noted"  # a call an adviser made or took outside the list, noted on the person's record (done at once)
