"""Which channel and address reach a resident: their own channel first, never one they opted out of."""

from __future__ import annotations

from bot.channels import SMS, TELEGRAM
from storage.models import Resident


def reachable_channels(resident: Resident) -> list[tuple[str, str]]:
    """(channel, address) pairs that may be used, the resident's preferred channel first. Someone who shares
    another resident's phone (``companion_of``) is reached through that resident's channels."""
    if resident.erased:
        return []
    if resident.companion_of is not None:
        return reachable_channels(resident.companion_of)
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
    if resident.companion_of is not None:
        return opted_out_everywhere(resident.companion_of)
    has_any = resident.phone is not None or resident.telegram_chat_id is not None
    return has_any and not reachable_channels(resident)


def speaks_for(resident: Resident, others: set[int]) -> bool:
    """The resident shares the phone of one of ``others`` (resident ids), who is told for both: one message to
    that phone, not two."""
    return resident.companion_of_id is not None and resident.companion_of_id in others
