"""ANNULER: which booking, the confirmation, and what is said once it is done — about the resident ("vous ne
venez pas"), never "c'est annulé", which reads as the workshop."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.conversation.texts.writing import (
    NOT_UNDERSTOOD,
    first_in_one_sms,
    when_fr,
)


def ask_which_to_cancel() -> str:
    return "Quel atelier voulez-vous annuler ? Répondez par le numéro."


def ask_who_cancels(start: datetime, tz: tzinfo, *, again: bool = False) -> str:
    """Two people share the phone and the workshop: which of them will not come."""
    head = f"{NOT_UNDERSTOOD} " if again else ""
    return f"{head}Qui ne viendra pas le {when_fr(start, tz)} ? Répondez par le numéro."


def ask_confirm_cancel(start: datetime, tz: tzinfo, venue: str, who: str = "") -> str:
    return _cancel_question(start, tz, venue, who, head="", answer="Répondez OUI ou NON.")


def cancel_not_understood(start: datetime, tz: tzinfo, venue: str, who: str = "") -> str:
    return _cancel_question(start, tz, venue, who, head=f"{NOT_UNDERSTOOD} ", answer="OUI ou NON.")


def _cancel_question(start: datetime, tz: tzinfo, venue: str, who: str, *, head: str, answer: str) -> str:
    """ "Annuler votre inscription du mardi 14 avril à 14 h, Mairie de Saint-Victor ? Répondez OUI ou NON." (``who``:
    the companion whose seat it is)."""
    whose = f"l'inscription de {who}" if who else "votre inscription"
    when = when_fr(start, tz)
    return first_in_one_sms(
        f"{head}Annuler {whose} du {when}, {venue} ? {answer}", f"{head}Annuler {whose} du {when} ? {answer}"
    )


def cancelled_enrolment(start: datetime, tz: tzinfo, *, waiting: bool = False, who: str = "") -> str:
    """Worded about the resident ("vous ne venez pas"), never "c'est annulé", which reads as the workshop."""
    subject = f"{who} ne vient pas" if who else "vous ne venez pas"
    done = (
        f"vous quittez la liste d'attente du {when_fr(start, tz)}"
        if waiting and not who
        else f"{subject} le {when_fr(start, tz)}"
    )
    return first_in_one_sms(
        f"C'est noté : {done}. Merci de nous avoir prévenus. Pour un autre atelier, écrivez INSCRIPTION.",
        f"C'est noté : {done}. Merci de nous avoir prévenus.",
    )


def cancel_kept() -> str:
    return "D'accord, votre inscription est gardée."


def nothing_to_cancel() -> str:
    return "Vous n'avez pas d'inscription à annuler. Pour choisir un atelier, écrivez INSCRIPTION."


def signup_stopped() -> str:
    return "D'accord, j'arrête l'inscription. Pour reprendre plus tard, écrivez INSCRIPTION."
