"""Moving a booking to another workshop: which one, the confirmation, the result."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.conversation.texts.writing import (
    day_fr,
    first_in_one_sms,
    first_within,
    street_of,
    when_fr,
)


def ask_which_to_move() -> str:
    return "Quel atelier voulez-vous changer ? Répondez par le numéro."


def nothing_to_move() -> str:
    return "Vous n'avez pas d'inscription à changer. Pour choisir un atelier, écrivez INSCRIPTION."


def ask_confirm_move(old_start: datetime, start: datetime, tz: tzinfo, venue: str, subject: str = "") -> str:
    old = day_fr(old_start, tz)
    when = when_fr(start, tz)
    what = f" (atelier {subject})" if subject else ""
    return first_in_one_sms(
        f"Je change votre inscription du {old} pour le {when}, {venue}{what} ? Répondez OUI ou NON.",
        f"Je change votre inscription du {old} pour le {when}, {venue} ? OUI ou NON.",
        f"Je change votre inscription du {old} pour le {when} ? OUI ou NON.",
    )


def move_header(old_start: datetime, tz: tzinfo, note: str = "") -> tuple[str, ...]:
    old = day_fr(old_start, tz)
    head = f"{note} " if note else ""
    return (
        f"{head}Au lieu du {old}, lequel vous convient ? Répondez par son numéro :",
        f"{head}Au lieu du {old}, lequel vous convient ? Son numéro :",
        f"{head}Lequel vous convient ? Son numéro :",
        f"{head}Lequel ? Son numéro :",
    )


def moved(first_name: str, old_start: datetime, start: datetime, tz: tzinfo, venue: str, address: str) -> str:
    when, old = when_fr(start, tz), day_fr(old_start, tz)
    street = street_of(venue, address)
    return first_within(
        1,
        (),
        f"C'est noté, {first_name} : atelier le {when}, {venue}, {street}. Votre place du {old} est libérée.",
        f"C'est noté, {first_name} : atelier le {when}, {venue}. Votre place du {old} est libérée.",
        f"C'est noté : atelier le {when}. Votre place du {old} est libérée.",
    )


def move_failed() -> str:
    return "Désolé, cet atelier vient d'être complet. Votre inscription est gardée."


def nothing_to_move_to() -> str:
    return "Il n'y a pas d'autre atelier de votre niveau pour le moment. Votre inscription est gardée."
