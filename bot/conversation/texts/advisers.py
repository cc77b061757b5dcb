"""What advisers receive: call-back requests, the people to phone, the digest of requests."""

from __future__ import annotations


def callback_notice(name: str, commune: str, phone: str, reason: str = "") -> str:
    said = f" Motif : {' '.join(reason.split())[:200]}." if reason else ""
    return (
        f"Demande de rappel : {name}, {commune}, {phone}.{said} Liste : atelier callbacks list, ou /rappels sur "
        "Telegram."
    )


def calls_notice(lines: list[str]) -> str:
    """To the adviser in charge: people no message can reach, to phone (one line each, at most five)."""
    shown = lines[:5]
    more = f" Et {len(lines) - len(shown)} autre(s)." if len(lines) > len(shown) else ""
    return f"À appeler : {' ; '.join(shown)}.{more} Liste : atelier calls list, ou /appels sur Telegram."


def callback_digest(waiting: int) -> str:
    """What advisers get about requests from people not known yet: how many wait, never who (a stranger's words
    and number do not go out by SMS)."""
    asks = "demande de rappel attend" if waiting == 1 else "demandes de rappel attendent"
    return f"{waiting} {asks}. Liste : atelier callbacks list, ou /rappels sur Telegram."
