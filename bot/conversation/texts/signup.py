"""The sign-up's questions, from the welcome (consent and privacy in one line) to the interests.

Every question fits one SMS segment once made GSM-7 (tests/test_messages.py renders them with the longest commune,
venue and topic names); where a long name would not fit, a shorter wording is chosen (``first_within``). Choices are
separate from the text: numbered lines in an SMS, buttons on Telegram. No question shows an example answer: a
resident copies it ("par exemple : 1 3")."""

from __future__ import annotations

from bot.conversation.texts.writing import (
    NOT_UNDERSTOOD,
    first_fitting,
    first_in_one_sms,
)

LEVEL_CHOICES = ("Je débute", "Je me débrouille un peu", "Je suis à l'aise")


def _welcomes(territory_name: str) -> tuple[str, ...]:
    """The first reply: who we are, what the answers are for (consent), how to stop; shorter forms after."""
    return (
        f"Bonjour ! Ici les ateliers numériques gratuits de {territory_name}. Vos réponses servent seulement à "
        "vous inscrire. STOP pour arrêter.",
        f"Bonjour ! Ateliers numériques gratuits de {territory_name}. Vos réponses servent seulement à vous "
        "inscrire. STOP pour arrêter.",
        "Bonjour ! Ici les ateliers numériques gratuits. Vos réponses servent seulement à vous inscrire. STOP pour "
        "arrêter.",
    )


def welcome(territory_name: str) -> str:
    return first_in_one_sms(*_welcomes(territory_name))


def ask_name(*, for_someone: bool = False) -> str:
    if for_someone:
        return "Quel est le prénom et le nom de la personne à inscrire ?"
    return "Votre prénom et votre nom ?"


def welcome_and(territory_name: str, question: str, choices: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The welcome and the first question: in one SMS when a wording of the welcome lets them fit together, else
    the welcome, then the question."""
    together = first_fitting([text + "\n" + question for text in _welcomes(territory_name)], choices)
    return (together,) if together is not None else (welcome(territory_name), question)


def name_not_understood() -> str:
    return f"{NOT_UNDERSTOOD} Écrivez seulement votre prénom et votre nom."


def noted(*parts: str) -> str:
    """ "Merci Josette ! Domérat, c'est noté." — what was understood, said back before the next question."""
    return " ".join(p for p in parts if p)


def thanks_name(first_name: str) -> str:
    return f"Merci {first_name} !" if first_name else "Merci !"


def commune_noted(commune: str) -> str:
    return f"{commune}, c'est noté."


def ask_companion() -> str:
    return "Quel est le prénom et le nom de la personne qui vient avec vous ?"


def companion_not_understood() -> str:
    return f"{NOT_UNDERSTOOD} Écrivez le prénom et le nom de la personne qui vient avec vous."


def ask_commune(*, about: str = "") -> str:
    """``about``: the first name of the person registered by someone else."""
    return f"Dans quelle commune habite {about} ?" if about else "Dans quelle commune habitez-vous ?"


def ask_commune_again() -> str:
    return "Je n'ai pas trouvé cette commune. Écrivez son nom en entier, ou son code postal."


def pick_commune() -> str:
    return "Plusieurs communes possibles. Laquelle est la bonne ? Répondez par le numéro."


def outside_territory(commune: str | None, territory_name: str, phone: str) -> str:
    """A place outside the territory, named properly ("Vichy"), or "Votre commune" for a postcode several share."""
    who = commune or "Votre commune"
    return first_in_one_sms(
        f"{who} ne fait pas partie de {territory_name}, désolé. Un conseiller peut vous orienter : {phone}. "
        "Sinon, écrivez une commune proche de chez vous.",
        f"{who} ne fait pas partie de {territory_name}. Un conseiller peut vous orienter : {phone}. "
        "Sinon, écrivez une commune proche.",
        f"{who} n'est pas dans notre territoire. Un conseiller peut vous orienter : {phone}. "
        "Sinon, écrivez une commune proche.",
    )


def ask_level(*, about: str = "") -> str:
    """``about``: the first name of the person registered by someone else."""
    who = f"{about} dirait" if about else "vous diriez"
    return f"Avec un téléphone, une tablette ou un ordinateur, {who} :"


def level_not_understood() -> str:
    return f"{NOT_UNDERSTOOD} Répondez 1, 2 ou 3 :"


def starting_as_beginner() -> str:
    return "On commence avec les débutants."


def ask_interests() -> str:
    return "Qu'aimeriez-vous apprendre ? Un ou plusieurs numéros :"


def interests_not_understood() -> str:
    return f"{NOT_UNDERSTOOD} Un ou plusieurs numéros, ou RIEN :"


def restart_after_idle() -> str:
    return "Bonjour ! Reprenons depuis le début."


def restarted() -> str:
    return "D'accord, on recommence."
