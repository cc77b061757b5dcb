"""Which channel and address reach a resident: their own channel first, never one they opted out of; and, for
whom none does, why — the adviser phones them.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.enums import Channel
from storage.models import Resident


def reachable_channels(resident: Resident, *, calls: bool = False) -> list[tuple[Channel, str]]:
    """(channel, address) pairs that may be used, the resident's preferred channel first. Someone who shares
    another resident's phone (``companion_of``) is reached through that resident's channels.

    ``calls``: the voice channel is on (``Settings.calls_enabled``); then someone whose number cannot receive SMS
    (a landline, or SMS refused as such by the carrier) and whom nothing else reaches is phoned. A STOP is a STOP:
    it stops calls too."""
    if resident.erased:
        return []
    if resident.companion_of is not None:
        return reachable_channels(resident.companion_of, calls=calls)
    options: list[tuple[Channel, str]] = []
    if resident.phone and not resident.opted_out_sms and not resident.sms_unreachable:
        options.append((Channel.sms, resident.phone))
    if resident.telegram_chat_id is not None and not resident.opted_out_telegram:
        options.append((Channel.telegram, str(resident.telegram_chat_id)))
    options.sort(key=lambda option: option[0] != resident.preferred_channel)
    if calls and not options and resident.phone and resident.sms_unreachable and not resident.opted_out_sms:
        options.append((Channel.voice, resident.phone))
    return options


def address_of(resident: Resident, *, calls: bool = False) -> tuple[Channel, str] | None:
    options = reachable_channels(resident, calls=calls)
    return options[0] if options else None


def speaks_for(resident: Resident, others: set[int]) -> bool:
    """The resident shares the phone of one of ``others`` (resident ids), who is told for both: one message to
    that phone, not two."""
    return resident.companion_of_id is not None and resident.companion_of_id in others


def why_unreachable(resident: Resident) -> str:
    """Why no channel reaches this resident: ``opted_out`` (STOP on every channel they have), ``sms_unreachable``
    (their number cannot receive SMS: a landline), or ``no_channel`` (neither a number nor Telegram). Someone who
    shares another resident's phone: that resident's reason."""
    if resident.companion_of is not None:
        return why_unreachable(resident.companion_of)
    stops: list[bool] = []  # per channel they have: did they opt out of it?
    if resident.phone:
        stops.append(resident.opted_out_sms)
    if resident.telegram_chat_id is not None:
        stops.append(resident.opted_out_telegram)
    if stops and all(stops):
        return "opted_out"
    if resident.phone and resident.sms_unreachable and not resident.opted_out_sms:
        return "sms_unreachable"
    return "opted_out" if any(stops) else "no_channel"


# Why someone is to be phoned, as the adviser reads it (command line, Telegram, console).
TO_PHONE_REASON_FR = {
    "no_channel": "ni mobile ni Telegram",
    "sms_unreachable": "numéro fixe ou refusé par l'opérateur",
    "opted_out": "a demandé STOP",
    "failed": "échec d'envoi",
    "expired": "message expiré sans partir",
    "cancelled": "message retiré avant l'envoi",
}


@dataclass(frozen=True)
class ToPhone:
    """Someone a message should have reached and did not (or cannot): the adviser phones them (full number)."""

    resident_id: int
    name: str | None
    phone: str | None
    # why_unreachable's reasons; for a broadcast, also what became of the message: failed, expired, cancelled
    reason: str
    status: str | None = None  # a change's notice: their enrolment (seated or waiting)


def person_to_phone(resident: Resident, *, reason: str | None = None, status: str | None = None) -> ToPhone:
    """The resident to phone, for ``reason`` (by default: why no channel reaches them)."""
    phone = resident.phone or (resident.companion_of.phone if resident.companion_of is not None else None)
    return ToPhone(resident.id, resident.name, phone, reason or why_unreachable(resident), status)
