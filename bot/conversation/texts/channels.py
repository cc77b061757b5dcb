"""What a channel or the gate before the dialogue answers instead of it: a technical problem, the Telegram
contact buttons, a number we do not serve, too many messages."""

from __future__ import annotations


def technical_problem() -> str:
    """Answered by a webhook when handling a message failed: nothing was changed, the resident may write again."""
    return "Désolé, un problème technique. Réessayez dans quelques minutes."


def contact_buttons() -> tuple[str, str]:
    """Telegram: the button that shares the resident's number (offered once, never required), and the one that
    declines it."""
    return "Partager mon numéro", "Non merci"


def number_not_served(phone: str) -> str:
    """To a number we do not serve (a special number, or another country's): once a day at most, and nothing
    else — no sign-up, no reminder."""
    return f"Bonjour. Ce service ne peut pas répondre à ce numéro. Pour les ateliers numériques, appelez le {phone}."


def too_many_messages() -> str:
    """Sent once when a number passed its replies for now; silence after it until the window has passed."""
    return "Trop de messages. Réessayez plus tard."
