"""One harness for the conversation transcripts, whatever carries them (service, SMS webhook, Telegram)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.conversation.gsm7 import count_segments, render_sms
from storage.database import Database
from storage.models import (
    CallbackRequest,
    Enrolment,
    EnrolmentStatus,
    InboundMessage,
    Level,
    MessageKind,
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
                topic=spec.topic,
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


# What a reply shows: its text and the choices it offers (numbered lines by SMS, buttons on Telegram).
Shown = tuple[str, tuple[str, ...]]
_NUMBERED = re.compile(r"^(\d+) (.+)$")


def sms_shown(sms: str) -> Shown:
    """An SMS as received, split into its text and its numbered choices (the last lines, "1 …" to "n …")."""
    lines = sms.split("\n")
    choices: list[str] = []
    while len(lines) > 1 and (match := _NUMBERED.match(lines[-1])):
        number = int(match.group(1))
        choices.insert(0, match.group(2))
        lines.pop()
        if number == 1:
            break
    numbered = [int(m.group(1)) for line in sms.split("\n")[len(lines) :] if (m := _NUMBERED.match(line))]
    if numbered != list(range(1, len(choices) + 1)):
        return sms, ()  # numbers inside the text, not a list of choices
    return "\n".join(lines), tuple(choices)


def is_question(shown: Shown) -> bool:
    text, choices = shown
    return bool(choices) or "?" in text


def check_turn(label: str, index: int, say: Say, replies: list[Shown], *, sms: bool = True) -> None:
    """The replies satisfy the row; by SMS, every question fits one segment (SPEC §2, issue 13 item 16)."""
    where = f"{label!r}, message {index + 1} ({(say.text or f'choice {say.choice}')[:30]!r})"
    if say.silent:
        assert replies == [], f"{where}: expected silence, got {replies}"
        return
    assert replies, f"{where}: no reply"
    folded = fold("\n".join(text + "\n" + "\n".join(choices) for text, choices in replies))
    for fragment in say.expect:
        assert fold(fragment) in folded, f"{where}: {fragment!r} not in {replies}"
    for fragment in say.refuse:
        assert fold(fragment) not in folded, f"{where}: {fragment!r} should not be in {replies}"
    if sms:
        for shown in replies:
            rendered = render_sms(*shown)
            if is_question(shown):
                assert count_segments(rendered) == 1, f"{where}: a question over one SMS\n{rendered}"
            assert count_segments(rendered) <= 3, f"{where}: more than three SMS\n{rendered}"


Send = Callable[[str, str], Awaitable[list[Shown]]]  # (who, text) -> what they received


def words_of_choice(say: Say, last: list[Shown]) -> str:
    """The text a row sends: its own, or the words of choice N of the last reply that offered choices."""
    if say.choice is None:
        return say.text
    offered = [choices for _, choices in last if choices]
    assert offered, f"choice {say.choice}: the last reply offered no choice ({last})"
    return offered[-1][say.choice - 1]


async def play(transcript: Transcript, *, send: Send, clock: Clock, sms: bool = True) -> None:
    last: dict[str, list[Shown]] = {}
    for index, say in enumerate(transcript.turns):
        clock.advance(say.after)
        replies = await send(say.who, words_of_choice(say, last.get(say.who, [])))
        check_turn(transcript.label, index, say, replies, sms=sms)
        last[say.who] = replies


async def check_final(
    db: Database,
    transcript: Transcript,
    phone: str,
    other_address: str,
    *,
    telegram_chat_id: int | None = None,
    ids: dict[str, int] | None = None,
) -> None:
    """``telegram_chat_id``: the resident wrote on Telegram, look them up by their chat rather than their number.
    ``ids``: the setup's workshops (key → id), as ``seed`` returned them."""
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
        expectations: list[tuple[str, object, object]] = [
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
        expectations.append(("name", final.name, resident.name))
        if final.seated_in is not None:
            assert ids is not None, label
            keys = {workshop_id: key for key, workshop_id in ids.items()}
            seated_in = (
                await session.scalars(
                    select(Enrolment.workshop_id).where(
                        Enrolment.resident_id == resident.id, Enrolment.status == EnrolmentStatus.seated
                    )
                )
            ).all()
            expectations.append(
                ("seated in", tuple(sorted(final.seated_in)), tuple(sorted(keys[w] for w in seated_in)))
            )
        if final.household_seated is not None:
            household = select(Resident.id).where(
                (Resident.id == resident.id) | (Resident.companion_of_id == resident.id)
            )
            seats = (
                await session.execute(
                    select(func.count()).where(
                        Enrolment.resident_id.in_(household), Enrolment.status == EnrolmentStatus.seated
                    )
                )
            ).scalar_one()
            expectations.append(("household seats", final.household_seated, seats))
        if final.reminder_says is not None:
            reminders = (
                await session.scalars(
                    select(OutboundMessage.body).where(
                        OutboundMessage.kind == MessageKind.reminder, OutboundMessage.status == "pending"
                    )
                )
            ).all()
            assert reminders, f"{label}: no reminder planned"
            assert all(fold(final.reminder_says) in fold(b) for b in reminders), f"{label}: reminders {reminders}"
        if final.callback_reason is not None:
            reasons = list(
                (
                    await session.scalars(
                        select(CallbackRequest.reason).where(CallbackRequest.resident_id == resident.id)
                    )
                ).all()
            )
            assert any(fold(final.callback_reason) in fold(r or "") for r in reasons), f"{label}: reasons {reasons}"
        for name, expected, actual in expectations:
            if expected is not None:
                assert actual == expected, f"{label}: {name} is {actual!r}, expected {expected!r}"
