"""Reminders before a workshop and the promotion from the waiting list (sent by the scheduler)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.conversation.texts.writing import (
    first_in_one_sms,
    when_fr,
)


def reminder_body(start: datetime, tz: tzinfo, venue: str, *, asks_confirmation: bool, who: str = "") -> str:
    """Rappel : atelier numérique mardi 14 avril à 14 h, Mairie de Saint-Victor. Vous venez ? Répondez OUI ou NON.

    The date is always written out (never "demain"): a reminder may leave on another day than planned. ``who``:
    whom it is for, on a phone two people share ("Colette et Bernard")."""
    when = when_fr(start, tz)
    head = f"Rappel pour {who}" if who else "Rappel"
    if asks_confirmation:
        come = "Vous venez ? Répondez OUI ou NON."
        return first_in_one_sms(
            f"{head} : atelier numérique {when}, {venue}. {come}",
            f"{head} : atelier {when}, {venue}. {come}",
            f"{head} : atelier {when}. {come}",
        )
    return first_in_one_sms(
        f"{head} : atelier numérique {when}, {venue}. À bientôt ! Vous ne pouvez pas venir ? Écrivez ANNULER.",
        f"{head} : atelier {when}, {venue}. À bientôt ! Vous ne pouvez pas venir ? Écrivez ANNULER.",
        f"{head} : atelier {when}, {venue}. À bientôt !",
        f"{head} : atelier {when}. À bientôt !",
    )


def promotion_body(start: datetime, tz: tzinfo, venue: str, *, who: str = "") -> str:
    """A seat freed up for someone on the waiting list: they now have it, and may still say NON. ``who``: the
    person it is for, on a phone two people share."""
    when = when_fr(start, tz)
    whom = f"pour {who}" if who else "pour vous"
    return first_in_one_sms(
        f"Bonne nouvelle : une place s'est libérée, elle est {whom} ! Atelier {when}, {venue}. "
        "Vous venez ? Répondez OUI ou NON.",
        f"Une place s'est libérée, elle est {whom} : atelier {when}, {venue}. Vous venez ? Répondez OUI ou NON.",
        f"Une place s'est libérée {whom} : atelier {when}. Vous venez ? Répondez OUI ou NON.",
    )
