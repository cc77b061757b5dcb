"""One harness for the conversation transcripts, whatever carries them (service, SMS webhook, Telegram)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select

from storage.database import Database
from storage.models import (
    CallbackRequest,
    Enrolment,
    EnrolmentStatus,
    InboundMessage,
    Level,
    OutboundMessage,
    Resident,
    Venue,
    Workshop,
)
from tests.helpers.clock import PARIS, Clock
from tests.helpers.transcripts import SETUPS, Final, Say, Transcript, fold

PHONES = {"resident": "+33612345678", "other": "+33698765432"}


async def seed(db: Database, setup: str, now: datetime) -> dict[str, int]:
    """Create the setup's workshops (at the town hall of their commune) and fill the seats already taken."""
    ids: dict[str, int] = {}
    async with db.write() as session:
        for index, spec in enumerate(SETUPS[setup]):
            venue = (
                (await session.execute(select(Venue).where(Venue.commune_insee == spec.commune_insee)))
                .unique()
                .scalar_one()
            )
            day = (now + timedelta(days=spec.days_ahead)).astimezone(PARIS)
            start = day.replace(hour=spec.hour, minute=0, second=0, microsecond=0)
            workshop = Workshop(
                venue_id=venue.id,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                level=Level(spec.level),
                topic="Premiers pas",
                capacity=spec.capacity,
            )
            session.add(workshop)
            await session.flush()
            ids[spec.key] = workshop.id
            for seat in range(spec.taken):
                filler = Resident(phone=f"+336000{index:02d}{seat:03d}", name=f"Voisin {seat}")
                session.add(filler)
                await session.flush()
                session.add(Enrolment(resident_id=filler.id, workshop_id=workshop.id, status=EnrolmentStatus.seated))
    return ids


def check_turn(label: str, index: int, say: Say, replies: list[str]) -> None:
    where = f"{label!r}, message {index + 1} ({say.text[:30]!r})"
    if say.silent:
        assert replies == [], f"{where}: expected silence, got {replies}"
        return
    assert replies, f"{where}: no reply"
    folded = fold("\n".join(replies))
    for fragment in say.expect:
        assert fold(fragment) in folded, f"{where}: {fragment!r} not in {replies}"
    for fragment in say.refuse:
        assert fold(fragment) not in folded, f"{where}: {fragment!r} should not be in {replies}"


Send = Callable[[str, str], Awaitable[list[str]]]  # (who, text) -> the rendered replies


async def play(transcript: Transcript, *, send: Send, clock: Clock) -> None:
    for index, say in enumerate(transcript.turns):
        clock.advance(say.after)
        replies = await send(say.who, say.text)
        check_turn(transcript.label, index, say, replies)


async def check_final(
    db: Database, transcript: Transcript, phone: str, other_address: str, *, telegram_chat_id: int | None = None
) -> None:
    """``telegram_chat_id``: the resident wrote on Telegram, look them up by their chat rather than their number."""
    final: Final = transcript.final
    label = transcript.label
    whose = Resident.phone == phone if telegram_chat_id is None else Resident.telegram_chat_id == telegram_chat_id
    async with db.read() as session:
        resident = (await session.execute(select(Resident).where(whose))).unique().scalar_one_or_none()
        if final.erased is not None:
            erased = (await session.execute(select(func.count()).where(Resident.erased.is_(True)))).scalar_one()
            assert (erased == 1) is final.erased, f"{label}: erased={erased}"
            if final.erased:
                assert resident is None, f"{label}: the number is still stored"
                to_them = (
                    await session.execute(select(func.count()).where(OutboundMessage.to_address == phone))
                ).scalar_one()
                said = (
                    await session.execute(select(func.count()).where(InboundMessage.body.contains("Dupont")))
                ).scalar_one()
                assert (to_them, said) == (0, 0), f"{label}: erased, but {to_them} messages keep the number"

        if final.exists is not None:
            assert (resident is not None) is final.exists, label
        if final.other_told is not None:
            bodies = (
                await session.execute(select(OutboundMessage.body).where(OutboundMessage.to_address == other_address))
            ).scalars()
            assert any(fold(final.other_told) in fold(b) for b in bodies), f"{label}: the other resident was not told"
        if resident is None:
            return
        counts = {
            status: (
                await session.execute(
                    select(func.count()).where(Enrolment.resident_id == resident.id, Enrolment.status == status)
                )
            ).scalar_one()
            for status in EnrolmentStatus
        }
        expectations = [
            ("seated", final.seated, counts[EnrolmentStatus.seated]),
            ("waiting", final.waiting, counts[EnrolmentStatus.waiting]),
            ("cancelled", final.cancelled, counts[EnrolmentStatus.cancelled]),
            ("level", final.level, resident.level.value if resident.level else None),
            ("commune", final.commune, resident.commune.name if resident.commune else None),
            ("interests", final.interests, len(resident.interests or [])),
            ("opted_out", final.opted_out, resident.opted_out_sms or resident.opted_out_telegram),
        ]
        if final.confirmed is not None:
            confirmed = (
                await session.execute(select(Enrolment.confirmed).where(Enrolment.resident_id == resident.id))
            ).scalar_one()
            expectations.append(("confirmed", final.confirmed, confirmed))
        if final.callbacks is not None:
            callbacks = (
                await session.execute(select(func.count()).where(CallbackRequest.resident_id == resident.id))
            ).scalar_one()
            expectations.append(("callbacks", final.callbacks, callbacks))
        for name, expected, actual in expectations:
            if expected is not None:
                assert actual == expected, f"{label}: {name} is {actual!r}, expected {expected!r}"
