"""Which channel and address reach a resident: their own channel first, never one they opted out of."""

from __future__ import annotations

from storage.enums import Channel
from storage.models import Resident


def reachable_channels(resident: Resident) -> list[tuple[Channel, str]]:
    """(channel, address) pairs that may be used, the resident's preferred channel first."""
    if resident.erased:
        return []
    options: list[tuple[Channel, str]] = []
    if resident.phone and not resident.opted_out_sms and not resident.sms_unreachable:
        options.append((Channel.sms, resident.phone))
    if resident.telegram_chat_id is not None and not resident.opted_out_telegram:
        options.append((Channel.telegram, str(resident.telegram_chat_id)))
    options.sort(key=lambda option: option[0] != resident.preferred_channel)
    return options


def address_of(resident: Resident) -> tuple[Channel, str] | None:
    options = reachable_channels(resident)
    return options[0] if options else None


def opted_out_everywhere(resident: Resident) -> bool:
    """True when the resident has a channel but refused all of them (counted apart in broadcast reports)."""
    has_any = resident.phone is not None or resident.telegram_chat_id is not None
    return has_any and not reachable_channels(resident)
