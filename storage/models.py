"""SQLAlchemy models for every entity of SPEC §4.

Times are timezone-aware and stored in UTC (``UtcDateTime``), so that SQLite, which has no time zone type,
gives back the same aware datetimes as PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.enums import CallKind, Channel, EnrolmentStatus, Level, MessageKind, MessageStatus, WorkshopStatus

__all__ = [
    "CallKind",
    "Channel",
    "EnrolmentStatus",
    "Level",
    "MessageKind",
    "MessageStatus",
    "WorkshopStatus",
]


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; naive values are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite gives naive values back: they were stored as UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings (no native ENUM type) so that adding a value is not a PostgreSQL migration.
    return Enum(kind, name=name, native_enum=False, length=20, values_callable=lambda k: [m.value for m in k])


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Commune(Base):
    __tablename__ = "communes"

    insee: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    postcode: Mapped[str] = mapped_column(String(5), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class Venue(Base):
    __tablename__ = "venues"
    __table_args__ = (UniqueConstraint("commune_insee", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    commune_insee: Mapped[str] = mapped_column(ForeignKey("communes.insee"))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)

    commune: Mapped[Commune] = relationship(lazy="joined")


class Adviser(Base):
    __tablename__ = "advisers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # the console's login: an e-mail address, stored lower-case
    login: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))  # argon2id, never the password
    role: Mapped[str] = mapped_column(String(20), default="adviser")  # "admin": may add advisers, reset passwords
    # INSEE codes of the communes this adviser covers; empty means the whole territory.
    communes: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Workshop(Base):
    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    level: Mapped[Level] = mapped_column(_enum(Level, "level"))
    topic: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer, default=6)
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("advisers.id"))
    status: Mapped[WorkshopStatus] = mapped_column(
        _enum(WorkshopStatus, "workshop_status"), default=WorkshopStatus.planned
    )
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    venue: Mapped[Venue] = relationship(lazy="joined")
    adviser: Mapped[Adviser | None] = relationship(lazy="joined")


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)  # E.164
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    commune_insee: Mapped[str | None] = mapped_column(ForeignKey("communes.insee"))
    level: Mapped[Level | None] = mapped_column(_enum(Level, "level"))
    interests: Mapped[list[str]] = mapped_column(default=list)
    consent_at: Mapped[datetime | None]
    # how consent was given: "sms", "telegram", "console", or "phone" when an adviser enrolled them by phone
    consent_channel: Mapped[str | None] = mapped_column(String(20))
    # the channel the resident last wrote from: notices go there first ("through their own channel")
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    opted_out_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_telegram: Mapped[bool] = mapped_column(Boolean, default=False)
    # a landline or a number the carrier refuses: SMS cannot reach them, an adviser must phone
    sms_unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    telegram_contact_offered: Mapped[bool] = mapped_column(Boolean, default=False)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Two people, one phone ("on sera deux avec mon mari"): the second person is a resident of their own (their
    # seat, their attendance, their cancellation), with no phone or chat; everything about them goes to the
    # resident whose phone it is, named here.
    companion_of_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)

    commune: Mapped[Commune | None] = relationship(lazy="joined")
    companion_of: Mapped[Resident | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)


class ErasedIdentity(Base):
    """A keyed hash of an erased resident's number: no later import or broadcast contacts them by mistake."""

    __tablename__ = "erased_identities"

    identity_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("resident_id", "workshop_id"),
        Index("ix_enrolments_workshop_status", "workshop_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"))
    status: Mapped[EnrolmentStatus] = mapped_column(_enum(EnrolmentStatus, "enrolment_status"))
    position: Mapped[int | None] = mapped_column(Integer)  # place in the waiting list, 1 = next
    # the answer to the reminder: True = coming (OUI), False = not coming (NON), None = no answer yet
    confirmed: Mapped[bool | None] = mapped_column(Boolean)
    enrolled_by_adviser_id: Mapped[int | None] = mapped_column(ForeignKey("advisers.id"))
    promoted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    resident: Mapped[Resident] = relationship(lazy="joined")
    workshop: Mapped[Workshop] = relationship(lazy="joined")


class Conversation(Base):
    """Where a resident is in the dialogue, per channel address, so any server instance can answer."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(40))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "provider_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    body: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author: Mapped[str] = mapped_column(String(200))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("advisers.id"))
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    skipped_opted_out: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallbackRequest(Base):
    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    # a number given in the conversation (Telegram residents): kept here only, never as the resident's identity,
    # since anyone can type anyone's number
    phone: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)  # what the resident said they need ("pas de voiture")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[str | None] = mapped_column(String(200))

    resident: Mapped[Resident] = relationship(lazy="joined")


class OutboundMessage(Base):
    """The outbox: every message that leaves the system is a row here first."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_due", "status", "due_at"),
        # cancelling a person's or an enrolment's pending messages, and the daily cap, look rows up by these
        Index("ix_outbound_resident", "resident_id"),
        Index("ix_outbound_about_resident", "about_resident_id"),
        # the replies to one number in the last minutes (the cap per number), an adviser's last digest
        Index("ix_outbound_address", "to_address", "due_at"),
        Index("ix_outbound_adviser", "adviser_id", "kind"),
        Index("ix_outbound_enrolment", "enrolment_id"),
        # the dispatcher claims per channel, answers first, then urgent notices, then the rest, oldest first
        Index("ix_outbound_claim", "status", "channel", "priority", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("advisers.id"))
    # The resident a message speaks about when it goes to someone else (an adviser's call-back notice) or to an
    # address no longer theirs (the goodbye after OUBLIER): erased with them, or once sent.
    about_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20))
    to_address: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[str]] = mapped_column(default=list)
    ask_contact: Mapped[bool] = mapped_column(Boolean, default=False)  # Telegram: offer the "share my number" button
    kind: Mapped[MessageKind] = mapped_column(_enum(MessageKind, "message_kind"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # claim order: 0 answers to the resident, 1 urgent notices, 2 everything else (set by queueing.enqueue)
    priority: Mapped[int] = mapped_column(Integer, default=2)
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus, "message_status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]  # a claimed row whose lease ran out is due again (crashed worker)
    claimed_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id"))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    # a change notice: the change it announces, as data (where and when the workshop was said to be before it)
    change: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Call(Base):
    """Someone an adviser should phone, why, and what to tell them; done once someone called (who, when, outcome).

    Added by the operation that finds the need (a promotion or a notice that no message can carry, a CONSEILLER
    request) or by the sweep that looks at failed deliveries and unanswered reminders; ``key`` makes each need one
    call however many times it is found."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_open", "done_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[CallKind] = mapped_column(_enum(CallKind, "call_kind"))
    # why no message reached them: no_channel, sms_unreachable, opted_out, failed, expired (None: not a message)
    reason: Mapped[str | None] = mapped_column(String(20))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id"))
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"), index=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    callback_request_id: Mapped[int | None] = mapped_column(ForeignKey("callback_requests.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # a number given for this call (E.164), else theirs
    what_to_say: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))
    done_by_adviser_id: Mapped[int | None] = mapped_column(ForeignKey("advisers.id"))
    outcome: Mapped[str | None] = mapped_column(Text)

    resident: Mapped[Resident] = relationship(lazy="joined")
    workshop: Mapped[Workshop | None] = relationship(lazy="joined")
    callback_request: Mapped[CallbackRequest | None] = relationship(lazy="joined")  # what they asked, in their words


class VoiceCall(Base):
    """One phone call, placed by the voice channel (an outbox row read aloud) or received on the territory's number.

    What Twilio told us of it (status, who answered, how long: the cost is per started minute) and what the person
    did with their keys. No phone number here: the outbox row or the resident holds it, and erasure clears those.
    """

    __tablename__ = "voice_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)  # Twilio's CallSid
    direction: Mapped[str] = mapped_column(String(10))  # "outbound" (we called) or "inbound" (they called us)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    # Twilio's CallStatus (queued, ringing, in-progress, completed, busy, no-answer, failed, canceled)
    status: Mapped[str] = mapped_column(String(20))
    answered_by: Mapped[str | None] = mapped_column(String(30))  # machine detection: human, machine_end_beep…
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(40))  # what the keys did: confirmed, cancelled, callback…
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class InstanceSecret(Base):
    """Secrets generated once per installation (the key of the erased-number hash when none is configured)."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class WorldVersion(Base):
    """One row whose number every change of a workshop, a venue or a seat moves on, in the same transaction
    (database triggers, ``storage/world.py``): processes that keep the workshops open for sign-up in memory read
    it to know whether what they keep is still current."""

    __tablename__ = "world_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class SendPace(Base):
    """The next free sending slot of each channel, shared by every process on the database.

    The provider's rate limit is per account, not per process: the dispatchers of several ``atelier serve``
    processes reserve their sending slots here (under a row lock), so that together they keep to the one rate.
    """

    __tablename__ = "send_pace"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_at: Mapped[datetime]


class ConsoleSession(Base):
    """A signed-in browser of the web console. The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the table opens no session. Deleting the row (logout, password change) ends the session at once."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("advisers.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginFailure(Base):
    """A failed console login, counted per account and per address to slow down password guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300))  # "account:<e-mail>" or "address:<ip>"
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who changed what, when, from which interface (console, command line, Telegram).

    ``summary`` names workshops and people by number only: an erasure must leave no name or phone number here.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_workshop", "workshop_id", "at"),
        Index("ix_audit_resident", "resident_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    interface: Mapped[str] = mapped_column(String(20))
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("advisers.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(Text)
    workshop_id: Mapped[int | None] = mapped_column(ForeignKey("workshops.id", ondelete="SET NULL"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
