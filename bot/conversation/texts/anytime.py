"""What a resident may ask at any time: AIDE, the menu, MES ATELIERS, STOP and START, OUBLIER, CONSEILLER;
and the words that end a conversation politely."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.conversation.texts.writing import (
    NOT_UNDERSTOOD,
    first_in_one_sms,
    when_fr,
)

MENU_CHOICES = ("M'inscrire à un atelier", "Mes ateliers", "Parler à un conseiller")


def help_text(phone: str) -> str:
    return first_in_one_sms(
        "Écrivez : INSCRIPTION, MES ATELIERS, ANNULER, RECOMMENCER, CONSEILLER pour être rappelé, OUBLIER pour "
        f"effacer vos données, STOP. Une question ? {phone}",
        "Écrivez : INSCRIPTION, MES ATELIERS, ANNULER, RECOMMENCER, CONSEILLER (être rappelé), OUBLIER (effacer "
        f"vos données), STOP. {phone}",
    )


def menu(first_name: str) -> str:
    return f"Bonjour, {first_name} ! Que voulez-vous faire ?"


def not_understood_idle(first_name: str) -> str:
    return f"Je n'ai pas compris, {first_name}. Que voulez-vous faire ?"


def nothing_then() -> str:
    return "D'accord. Écrivez AIDE si vous avez besoin de nous."


def my_workshops_none(*, signing_up: bool = False) -> str:
    if signing_up:
        return "Vous n'avez pas encore d'atelier : continuons votre inscription."
    return "Vous n'avez aucun atelier prévu. Écrivez INSCRIPTION pour en choisir un."


def no_workshop_yet() -> str:
    """To someone new who asks for their workshops: they have none, and the sign-up starts."""
    return "Vous n'avez pas encore d'atelier."


def my_workshop_line(start: datetime, tz: tzinfo, venue: str, position: int | None, who: str = "") -> str:
    wait = f" (liste d'attente, position {position})" if position else ""
    person = f" ({who})" if who else ""
    return f"- {when_fr(start, tz)}, {venue}{person}{wait}"


def my_workshops(lines: list[str]) -> str:
    return "Vos ateliers :\n" + "\n".join(lines) + "\nPour annuler ou changer, écrivez ANNULER."


def confirmed_coming(start: datetime, tz: tzinfo) -> str:
    return f"Merci, c'est noté. À {when_fr(start, tz)} !"


def where_exactly(venue: str, address: str) -> str:
    return first_in_one_sms(f"L'atelier a lieu : {venue}, {address}.", f"Adresse : {address}.")


def goodbye() -> str:
    return "D'accord, au revoir ! Si vous changez d'avis, écrivez INSCRIPTION."


def you_are_welcome() -> str:
    return "Avec plaisir ! À bientôt."


def stopped(*, seats: bool = False) -> str:
    """STOP: what happens to a booked seat (kept, without reminders) and how to come back."""
    if seats:
        return (
            "C'est noté, vous ne recevrez plus de messages. Votre place à l'atelier est gardée, sans rappel. "
            "Pour revenir, écrivez START."
        )
    return "C'est noté, vous ne recevrez plus de messages. Pour revenir, écrivez START."


def started_again() -> str:
    return "Content de vous revoir ! Vous recevrez de nouveau nos messages."


def ask_confirm_forget() -> str:
    return "Effacer votre nom, votre numéro et vos inscriptions ? C'est définitif. Répondez OUI ou NON."


def forget_not_understood() -> str:
    return f"{NOT_UNDERSTOOD} Effacer votre nom, votre numéro et vos inscriptions ? OUI ou NON."


def forgotten() -> str:
    return "Vos données sont effacées. Au revoir, et à bientôt peut-être !"


def forget_kept() -> str:
    return "D'accord, rien n'est effacé."


def callback_requested(*, has_phone: bool) -> str:
    if has_phone:
        return "C'est noté : un conseiller va vous rappeler dans les prochains jours."
    return "Pour qu'un conseiller vous rappelle, quel est votre numéro de téléphone ?"


def no_callback(phone: str) -> str:
    return f"D'accord, pas de rappel. Vous pouvez appeler les conseillers au {phone}."


def callback_phone_noted() -> str:
    return "Merci, un conseiller va vous rappeler dans les prochains jours."


def phone_not_callable() -> str:
    """A callback number advisers will not call: premium rate, shared cost, abroad…"""
    return (
        "Nos conseillers ne peuvent pas appeler ce numéro. Donnez un numéro de portable ou de fixe, "
        "par exemple : 06 12 34 56 78"
    )


def phone_not_understood() -> str:
    return f"{NOT_UNDERSTOOD} Écrivez votre numéro de téléphone, avec ses 10 chiffres."
