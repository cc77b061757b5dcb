"""Which channel and address reach a resident: their own channel first, never one they opted out of."""

from __future__ import annotations

from bot.channels import SMS, TELEGRAM
from storage.models import Resident


def reachable_channels(resident: Resident) -> list[tuple[str, str]]:
    """(channel, address) pairs that may be used, the resident's preferred channel first."""
    if resident.erased:
        return []
    options: list[tuple[str, str]] = []
    if resident.phone and not resident.opted_out_sms and not resident.sms_unreachable:
        options.append((SMS, resident.phone))
    if resident.telegram_chat_id is not None and not resident.opted_out_telegram:
        options.append((TELEGRAM, str(resident.telegram_chat_id)))
    options.sort(key=lambda option: option[0] != resident.preferred_channel)
    return options


def address_of(resident: Resident) -> tuple[str, str] | None:
    options = reachable_channels(resident)
    return options[0] if options else None


def opted_out_everywhere(resident: Resident) -> bool:
    """True when the resident has a channel but refused all of them (counted apart in broadcast reports)."""
    has_any = resident.phone is not None or resident.telegram_chat_id is not None
    return has_any and not reachable_channels(resident)


def why_unreachable(resident: Resident) -> str:
    """Why no channel reaches this resident: ``opted_out`` (STOP on every channel they have), ``sms_unreachable``
    (their number cannot receive SMS: a landline), or ``no_channel`` (neither a number nor Telegram)."""
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
