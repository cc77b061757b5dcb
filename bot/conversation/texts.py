"""Every French sentence Atelier sends, in one place, written for people who have never used a computer.

Short sentences, the date written out, numbered choices, no links needed to act. Pure: no I/O; times are
converted with the time zone passed in. SMS-specific transliteration and segment counting live in
``bot.conversation.gsm7``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime, tzinfo
from functools import lru_cache

from babel.dates import format_date

from bot.conversation.gsm7 import count_segments, render_sms, to_gsm7
from storage.enums import Channel, Level

LOCALE = "fr_FR"


def venue_label(venue: str, commune: str) -> str:
    """A venue as residents read it: "Mairie de Domérat" says where it is; "Salle des fêtes" alone does not (every
    village has one), so it becomes "Salle des fêtes (Domérat)"."""
    if _folded(commune) in _folded(venue):
        return venue
    return f"{venue} ({commune})"


@lru_cache(maxsize=4096)  # venues and communes: a few hundred names, folded for every workshop offered
def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("-", " "))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _weekday(local: datetime) -> str:
    """lundi, mardi… of a local time."""
    return _date_word(local.date(), "EEEE")


def _month(local: datetime) -> str:
    """janvier, février… of a local time."""
    return _date_word(local.date(), "MMMM")


@lru_cache(maxsize=1024)  # the days of the workshops offered: the same few, written many times over
def _date_word(day: date, pattern: str) -> str:
    return str(format_date(day, pattern, locale=LOCALE))


def clock_fr(moment: datetime) -> str:
    """14 h, 14 h 30 — how a time is said in French, not 14:00."""
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def day_fr(start: datetime, tz: tzinfo) -> str:
    """mardi 14 avril; mardi 1er décembre (the first of the month is said "premier")."""
    local = start.astimezone(tz)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{_weekday(local)} {day} {_month(local)}"


def when_fr(start: datetime, tz: tzinfo) -> str:
    """mardi 14 avril à 14 h"""
    local = start.astimezone(tz)
    return f"{day_fr(local, tz)} à {clock_fr(local)}"


LEVEL_NAMES = {
    Level.beginner: "débutant",
    Level.intermediate: "intermédiaire",
    Level.advanced: "confirmé",
}
CHANNEL_NAMES: dict[str, str] = {Channel.sms: "SMS", Channel.telegram: "Telegram", Channel.voice: "appel"}


def channel_name(channel: str) -> str:
    """A channel as advisers read it: SMS, Telegram."""
    return CHANNEL_NAMES.get(channel, channel)


# --- The sign-up conversation ------------------------------------------------------------------------------
# Every question fits one SMS segment once made GSM-7 (tests/test_messages.py renders them with the longest
# commune, venue and topic names); where a long name would not fit, a shorter wording is chosen (``_fitting``).
# Choices are separate from the text: numbered lines in an SMS, buttons on Telegram. No question shows an example
# answer: a resident copies it ("par exemple : 1 3").

LEVEL_CHOICES = ("Je débute", "Je me débrouille un peu", "Je suis à l'aise")
YES_NO = ("OUI", "NON")
MENU_CHOICES = ("M'inscrire à un atelier", "Mes ateliers", "Parler à un conseiller")
NOT_UNDERSTOOD = "Je n'ai pas compris."


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
    return _one_sms(*_welcomes(territory_name))


def ask_name(*, for_someone: bool = False) -> str:
    if for_someone:
        return "Quel est le prénom et le nom de la personne à inscrire ?"
    return "Votre prénom et votre nom ?"


def welcome_and(territory_name: str, question: str, choices: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The welcome and the first question: in one SMS when a wording of the welcome lets them fit together, else
    the welcome, then the question."""
    for text in _welcomes(territory_name):
        if sms_segments(text + "\n" + question, choices) == 1:
            return (text + "\n" + question,)
    return (welcome(territory_name), question)


def name_not_understood() -> str:
    return f"{NOT_UNDERSTOOD} Écrivez seulement votre prénom et votre nom."


def noted(*parts: str) -> str:
    """ "Merci Josette ! Domérat, c'est noté." — what was understood, said back before the next question."""
    return " ".join(p for p in parts if p)


def thanks_name(first_name: str) -> str:
    return f"Merci {first_name} !" if first_name else "Merci !"


def commune_noted(commune: str) -> str:
    return f"{commune}, c'est noté."


def two_noted(first_name: str, companion_first: str) -> str:
    return f"Merci {first_name} et {companion_first} !"


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
    return _one_sms(
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


# --- Workshops offered -------------------------------------------------------------------------------------

MONTHS_SHORT = ("janv.", "févr.", "mars", "avril", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")


def short_commune(commune: str) -> str:
    """Saint-Victor → St-Victor; Marcillat-en-Combraille → Marcillat: how the name is said, when space is short."""
    short = commune.replace("Saint-", "St-").replace("Sainte-", "Ste-")
    for link in ("-en-", "-sur-", "-sous-", "-lès-", "-les-", "-lez-", "-d'", "-de-", "-du-", "-des-"):
        if link in short and len(short) > 14:
            short = short.split(link)[0]
    return short


def clock_short(moment: datetime) -> str:
    """14h, 9h30"""
    return f"{moment.hour}h" if moment.minute == 0 else f"{moment.hour}h{moment.minute:02d}"


def workshop_line(start: datetime, tz: tzinfo, commune: str, subject: str = "", style: int = 0) -> str:
    """One workshop of a list, from the plainest (style 0: "mardi 14 avril à 14 h, Saint-Victor : Impôts") to the
    most compact (style 4: "mar. 14/4 14h St-Victor : Impôts"); from style 5 on the subject is left out."""
    local = start.astimezone(tz)
    weekday = _weekday(local)
    day = "1er" if local.day == 1 else str(local.day)
    month = _month(local)
    about = f" : {subject}" if subject and style < 5 else ""
    shape = style % 5 if style < 10 else 4
    if shape == 0:
        return f"{weekday} {day} {month} à {clock_fr(local)}, {commune}{about}"
    if shape == 1:
        return f"{weekday} {day} {month} {clock_short(local)}, {commune}{about}"
    if shape == 2:
        return f"{weekday} {day} {month} {clock_short(local)}, {short_commune(commune)}{about}"
    if shape == 3:
        return f"{weekday} {day} {MONTHS_SHORT[local.month - 1]} {clock_short(local)}, {short_commune(commune)}{about}"
    return f"{weekday[:3]}. {local.day}/{local.month} {clock_short(local)} {short_commune(commune)}{about}"


Header = Callable[[str], tuple[str, ...]]  # the common subject of the lines ("" if none) → wordings, longest first


def fitting_lines(header: Header, items: list[tuple[datetime, str, str]], tz: tzinfo) -> tuple[str, tuple[str, ...]]:
    """The question and one line per (start, commune, subject), in the plainest style that fits one SMS with them
    (the subject is dropped last of all). Lines stay different from each other: a button's label is its choice.
    When every workshop has the same subject, it is said once, in the question."""
    subjects = {subject for _, _, subject in items}
    common = subjects.pop() if len(subjects) == 1 and len(items) > 1 else ""
    if common:
        items = [(start, commune, "") for start, commune, _ in items]
    variants = header(common)
    for style in range(10):
        for text in variants:
            lines = tuple(workshop_line(start, tz, commune, subject, style) for start, commune, subject in items)
            if sms_segments(text, lines) == 1 and len(set(lines)) == len(lines):
                return text, lines
    return variants[-1], tuple(workshop_line(start, tz, commune, "", 9) for start, commune, _ in items)


def offer_header(note: str = "", subject: str = "") -> tuple[str, ...]:
    """Above the numbered workshops (several; one alone is offered with ``offer_single``), after what to say first
    (a correction noted, "no workshop that day"); shorter forms for long lists."""
    head = f"{note} " if note else ""
    if subject:
        return (
            f"{head}Atelier {subject} : quelle date vous convient ? Répondez par son numéro :",
            f"{head}Atelier {subject} : quelle date vous convient ? Son numéro :",
            f"{head}Atelier {subject} : laquelle ? Son numéro :",
            f"{head}Laquelle ? Son numéro :",
        )
    return (
        f"{head}Quel atelier vous convient ? Répondez par son numéro :",
        f"{head}Lequel vous convient ? Répondez par son numéro :",
        f"{head}Lequel vous convient ? Son numéro :",
        f"{head}Lequel ? Son numéro :",
    )


def offer_again_header() -> tuple[str, ...]:
    return f"{NOT_UNDERSTOOD} Répondez par un numéro :", f"{NOT_UNDERSTOOD} Un numéro :", "Un numéro :"


def nothing_that_day(when: str = "") -> str:
    """ "Pas d'atelier de votre niveau le jeudi." (``when``: what they asked for, as said back)"""
    return f"Pas d'atelier de votre niveau {when}." if when else "Pas d'atelier de votre niveau à ce moment-là."


def nothing_on(subject: str) -> str:
    return f"Pas d'atelier {subject} pour votre niveau."


def nothing_else() -> str:
    return "Il n'y a pas d'autre atelier de votre niveau pour le moment."


def _about(subject: str) -> str:
    return f"Atelier {subject}" if subject else "Atelier"


def offer_single(start: datetime, tz: tzinfo, venue: str, subject: str = "", note: str = "") -> str:
    head = f"{note} " if note else ""
    when = when_fr(start, tz)
    return _one_sms(
        f"{head}L'atelier le plus proche : {_about(subject).lower()} le {when}, {venue}. Je vous inscris ? "
        "Répondez OUI ou NON.",
        f"{head}{_about(subject)} le {when}, {venue}. Je vous inscris ? Répondez OUI ou NON.",
        f"{head}{_about(subject)} le {when}. Je vous inscris ? Répondez OUI ou NON.",
        f"{head}Atelier le {when}. Je vous inscris ? OUI ou NON.",
    )


def ask_confirm_workshop(
    start: datetime, tz: tzinfo, venue: str, subject: str = "", *, two: bool = False, note: str = ""
) -> str:
    head = f"{note} " if note else ""
    who = "vous inscris tous les deux" if two else "vous inscris"
    when = when_fr(start, tz)
    return _one_sms(
        f"{head}{_about(subject)} le {when}, {venue}. Je {who} ? Répondez OUI ou NON.",
        f"{head}{_about(subject)} le {when}, {venue}. Je {who} ? OUI ou NON.",
        f"{head}{_about(subject)} le {when}. Je {who} ? OUI ou NON.",
        f"{head}Atelier le {when}. Je {who} ? OUI ou NON.",
    )


def confirm_not_understood(start: datetime, tz: tzinfo, venue: str, subject: str = "", *, two: bool = False) -> str:
    return ask_confirm_workshop(start, tz, venue, subject, two=two, note=NOT_UNDERSTOOD)


def no_workshop_at_all(phone: str) -> str:
    return (
        "Il n'y a pas encore d'atelier prévu pour votre niveau. Écrivez INSCRIPTION dans quelques semaines pour "
        f"voir les nouveaux, ou appelez le {phone}."
    )


def offer_waiting_list(start: datetime, tz: tzinfo, venue: str, *, note: str = "") -> str:
    head = f"{note} " if note else "Tout est complet. "
    when = when_fr(start, tz)
    return _one_sms(
        f"{head}Attendre une place le {when}, {venue} ? On vous prévient si elle se libère. OUI ou NON ?",
        f"{head}Attendre une place le {when} ? On vous prévient si elle se libère. OUI ou NON ?",
        f"{head}Attendre une place le {when} ? OUI ou NON ?",
    )


def full_workshop() -> str:
    return "Cet atelier est complet."


def names_fr(first_names: list[str]) -> str:
    """ "Colette", "Colette et Bernard" """
    return " et ".join(n for n in first_names if n)


def street_of(venue: str, address: str) -> str:
    """The address without its postcode and commune when the venue's name already says the commune ("Mairie de
    Saint-Victor", "7 rue André-Gide"): shorter, and just as easy to find."""
    street, _, town = address.rpartition(",")
    commune = town.strip().split(" ", 1)[-1].removesuffix(" cedex").removesuffix(" CEDEX")
    return street.strip() if street and commune and _folded(commune) in _folded(venue) else address


def seated(
    first_name: str,
    start: datetime,
    tz: tzinfo,
    venue: str,
    address: str,
    *,
    reminded: bool = True,
    subject: str = "",
    two: bool = False,
) -> str:
    """The seat, with the address: one SMS when the words allow it, two at most. ``reminded``: a reminder is
    planned (not when the workshop is too close for one to leave in time)."""
    after = "Un rappel vous sera envoyé avant." if reminded else "Pensez à noter la date."
    what = f"Atelier {subject}" if subject else "Atelier"
    seats = " Deux places réservées." if two else ""
    when = when_fr(start, tz)
    street = street_of(venue, address)
    tail = f"{after} Pour annuler, écrivez ANNULER."
    short = f"{'On vous le rappellera.' if reminded else 'Notez bien la date.'} Pour annuler : ANNULER."
    head = f"C'est noté, {first_name} !{seats}"
    for text in (
        f"{head} {what} le {when}, {venue}, {address}. {tail}",
        f"{head} {what} le {when}, {venue}, {street}. {tail}",
        f"{head} {what} le {when}, {venue}, {street}. {short}",
        f"{head} Atelier le {when}, {venue}, {street}. {short}",
    ):
        if sms_segments(text) == 1:
            return text
    return _fitting(
        2,
        (),
        f"{head} {what} le {when}, {venue}, {address}. {tail}",
        f"{head} {what} le {when}, {venue}, {address}. {after}",
    )


def rank_fr(position: int) -> str:
    """1re, 2e, 3e: a place on the waiting list as an adviser reads it ("2e position"), never "n°2", which an SMS
    writes "no2"."""
    return "1re" if position == 1 else f"{position}e"


def waiting(first_name: str, position: int, start: datetime, tz: tzinfo, venue: str, *, two: bool = False) -> str:
    who = "vous êtes" if not two else "vous êtes tous les deux"
    when = when_fr(start, tz)
    return _fitting(
        1,
        (),
        f"C'est noté, {first_name} : {who} en position {position} sur la liste d'attente du {when}, {venue}. "
        "Si une place se libère, on vous prévient.",
        f"C'est noté, {first_name} : {who} en position {position} sur la liste d'attente du {when}. Si une place "
        "se libère, on vous prévient.",
    )


def workshop_just_filled() -> str:
    return "Désolé, la dernière place vient d'être prise."


def workshop_no_longer_offered() -> str:
    return "Désolé, cet atelier n'est plus proposé : il a été annulé ou il commence trop tôt."


def not_enrolled_ok() -> str:
    return "D'accord, je ne vous inscris pas. Écrivez INSCRIPTION quand vous voudrez choisir un atelier."


def choose_by_number(count: int) -> str:
    return f"{NOT_UNDERSTOOD} Répondez par un numéro, de 1 à {count}." if count > 1 else "Répondez OUI ou NON."


def restart_after_idle() -> str:
    return "Bonjour ! Reprenons depuis le début."


def restarted() -> str:
    return "D'accord, on recommence."


def help_text(phone: str) -> str:
    return _one_sms(
        "Écrivez : INSCRIPTION, MES ATELIERS, ANNULER, RECOMMENCER, CONSEILLER pour être rappelé, OUBLIER pour "
        f"effacer vos données, STOP. Une question ? {phone}",
        "Écrivez : INSCRIPTION, MES ATELIERS, ANNULER, RECOMMENCER, CONSEILLER (être rappelé), OUBLIER (effacer "
        f"vos données), STOP. {phone}",
    )


def menu(first_name: str) -> str:
    return f"Bonjour, {first_name} ! Que voulez-vous faire ?"


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


def ask_which_to_cancel() -> str:
    return "Quel atelier voulez-vous annuler ? Répondez par le numéro."


def ask_who_cancels(start: datetime, tz: tzinfo, *, again: bool = False) -> str:
    """Two people share the phone and the workshop: which of them will not come."""
    head = f"{NOT_UNDERSTOOD} " if again else ""
    return f"{head}Qui ne viendra pas le {when_fr(start, tz)} ? Répondez par le numéro."


def ask_which_to_move() -> str:
    return "Quel atelier voulez-vous changer ? Répondez par le numéro."


def ask_confirm_cancel(start: datetime, tz: tzinfo, venue: str, who: str = "") -> str:
    whose = f"l'inscription de {who}" if who else "votre inscription"
    when = when_fr(start, tz)
    return _one_sms(
        f"Annuler {whose} du {when}, {venue} ? Répondez OUI ou NON.",
        f"Annuler {whose} du {when} ? Répondez OUI ou NON.",
    )


def cancel_not_understood(start: datetime, tz: tzinfo, venue: str, who: str = "") -> str:
    whose = f"l'inscription de {who}" if who else "votre inscription"
    when = when_fr(start, tz)
    return _one_sms(
        f"{NOT_UNDERSTOOD} Annuler {whose} du {when}, {venue} ? OUI ou NON.",
        f"{NOT_UNDERSTOOD} Annuler {whose} du {when} ? OUI ou NON.",
    )


def cancelled_enrolment(start: datetime, tz: tzinfo, *, waiting: bool = False, who: str = "") -> str:
    """Worded about the resident ("vous ne venez pas"), never "c'est annulé", which reads as the workshop."""
    subject = f"{who} ne vient pas" if who else "vous ne venez pas"
    done = (
        f"vous quittez la liste d'attente du {when_fr(start, tz)}"
        if waiting and not who
        else f"{subject} le {when_fr(start, tz)}"
    )
    return _one_sms(
        f"C'est noté : {done}. Merci de nous avoir prévenus. Pour un autre atelier, écrivez INSCRIPTION.",
        f"C'est noté : {done}. Merci de nous avoir prévenus.",
    )


def cancel_kept() -> str:
    return "D'accord, votre inscription est gardée."


def nothing_to_cancel() -> str:
    return "Vous n'avez pas d'inscription à annuler. Pour choisir un atelier, écrivez INSCRIPTION."


def nothing_to_move() -> str:
    return "Vous n'avez pas d'inscription à changer. Pour choisir un atelier, écrivez INSCRIPTION."


def signup_stopped() -> str:
    return "D'accord, j'arrête l'inscription. Pour reprendre plus tard, écrivez INSCRIPTION."


def goodbye() -> str:
    return "D'accord, au revoir ! Si vous changez d'avis, écrivez INSCRIPTION."


def you_are_welcome() -> str:
    return "Avec plaisir ! À bientôt."


def confirmed_coming(start: datetime, tz: tzinfo) -> str:
    return f"Merci, c'est noté. À {when_fr(start, tz)} !"


def ask_confirm_move(old_start: datetime, start: datetime, tz: tzinfo, venue: str, subject: str = "") -> str:
    old = day_fr(old_start, tz)
    when = when_fr(start, tz)
    what = f" (atelier {subject})" if subject else ""
    return _one_sms(
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
    return _fitting(
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


def nothing_then() -> str:
    return "D'accord. Écrivez AIDE si vous avez besoin de nous."


def not_understood_idle(first_name: str) -> str:
    return f"Je n'ai pas compris, {first_name}. Que voulez-vous faire ?"


def number_not_served(phone: str) -> str:
    """To a number we do not serve (a special number, or another country's): once a day at most, and nothing
    else — no sign-up, no reminder."""
    return f"Bonjour. Ce service ne peut pas répondre à ce numéro. Pour les ateliers numériques, appelez le {phone}."


def too_many_messages() -> str:
    """Sent once when a number passed its replies for now; silence after it until the window has passed."""
    return "Trop de messages. Réessayez plus tard."


def where_exactly(venue: str, address: str) -> str:
    return _one_sms(f"L'atelier a lieu : {venue}, {address}.", f"Adresse : {address}.")


def fits_one_sms(text: str, choices: Sequence[str] = ()) -> bool:
    return sms_segments(text, choices) == 1


# --- Advisers ----------------------------------------------------------------------------------------------


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


# --- Channels ----------------------------------------------------------------------------------------------


def technical_problem() -> str:
    """Answered by a webhook when handling a message failed: nothing was changed, the resident may write again."""
    return "Désolé, un problème technique. Réessayez dans quelques minutes."


def contact_buttons() -> tuple[str, str]:
    """Telegram: the button that shares the resident's number (offered once, never required), and the one that
    declines it."""
    return "Partager mon numéro", "Non merci"


# --- Reminders and promotions (scheduler) ------------------------------------------------------------------


def _one_sms(*variants: str) -> str:
    """The first wording that fits one SMS once written in GSM-7 (long venue names get the shorter ones)."""
    for text in variants:
        if count_segments(to_gsm7(text)) == 1:
            return text
    return variants[-1]


def reminder_body(start: datetime, tz: tzinfo, venue: str, *, asks_confirmation: bool, who: str = "") -> str:
    """Rappel : atelier numérique mardi 14 avril à 14 h, Mairie de Saint-Victor. Vous venez ? Répondez OUI ou NON.

    The date is always written out (never "demain"): a reminder may leave on another day than planned. ``who``:
    whom it is for, on a phone two people share ("Colette et Bernard")."""
    when = when_fr(start, tz)
    head = f"Rappel pour {who}" if who else "Rappel"
    if asks_confirmation:
        come = "Vous venez ? Répondez OUI ou NON."
        return _one_sms(
            f"{head} : atelier numérique {when}, {venue}. {come}",
            f"{head} : atelier {when}, {venue}. {come}",
            f"{head} : atelier {when}. {come}",
        )
    return _one_sms(
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
    return _one_sms(
        f"Bonne nouvelle : une place s'est libérée, elle est {whom} ! Atelier {when}, {venue}. "
        "Vous venez ? Répondez OUI ou NON.",
        f"Une place s'est libérée, elle est {whom} : atelier {when}, {venue}. Vous venez ? Répondez OUI ou NON.",
        f"Une place s'est libérée {whom} : atelier {when}. Vous venez ? Répondez OUI ou NON.",
    )


# --- Changes to a workshop, broadcasts, enrolment by phone (advisers) ----------------------------------------
# A change notice names the workshop by the date and commune the resident knows, says what changed (old → new),
# and is worded about the WORKSHOP ("l'atelier … n'aura pas lieu"), never about the resident's enrolment, so that
# nobody reads a cancelled workshop as "you were struck off" (or the reverse). Numbered offers are separate choices.


def sms_segments(body: str, choices: Sequence[str] = ()) -> int:
    """Segments of the SMS as a resident receives it: the text, then "1 choice" lines, in GSM-7."""
    return count_segments(render_sms(body, choices))


def _fitting(limit: int, choices: tuple[str, ...], *variants: str) -> str:
    """The first wording that fits ``limit`` SMS segments with its choices; the last one otherwise."""
    for text in variants:
        if sms_segments(text, choices) <= limit:
            return text
    return variants[-1]


def workshop_cancelled_notice(
    start: datetime, tz: tzinfo, commune: str, reason: str, *, offers: tuple[str, ...], phone: str
) -> str:
    """Désolé : l'atelier du mardi 14 avril à 14 h à Saint-Victor n'aura pas lieu, il est annulé (conseiller
    malade). Pour aller à un autre atelier, répondez par son numéro :"""
    what = f"l'atelier du {when_fr(start, tz)} à {commune} n'aura pas lieu, il est annulé"
    if offers:
        after = "Pour aller à un autre atelier, répondez par son numéro :"
        short_after = "Autre atelier ? Répondez par son numéro :"
    else:
        after = f"Pour un autre atelier plus tard, écrivez INSCRIPTION. Une question ? Appelez le {phone}"
        short_after = "Pour un autre atelier plus tard, écrivez INSCRIPTION."
    reason = " ".join(reason.split())
    short_reason = reason if len(reason) <= 40 else reason[:39].rstrip() + "…"
    return _fitting(
        2 if offers else 1,
        offers,
        f"Désolé : {what} ({reason}). {after}",
        f"Désolé : {what} ({short_reason}). {after}",
        f"Désolé : {what} ({short_reason}). {short_after}",
        f"Désolé : {what}. {short_after}",
    )


def _place_fr(venue: str, address: str) -> str:
    return f"{venue}, {address}" if address else venue


def workshop_moved_notice(
    *,
    old_start: datetime,
    old_commune: str,
    new_start: datetime,
    new_end: datetime,
    old_end: datetime,
    tz: tzinfo,
    new_venue: str,
    new_address: str,
    place_changed: bool,
    seated: bool,
    answer_non: bool,
) -> str:
    """L'atelier du mardi 14 avril à 14 h à Saint-Victor est déplacé au jeudi 16 avril à 14 h, même lieu. Votre
    place est gardée. Si ce n'est plus possible pour vous, répondez NON.

    ``answer_non``: NON cancels this seat (it is the resident's next one); otherwise they are told to write
    ANNULER, which asks which workshop."""
    old = f"L'atelier du {when_fr(old_start, tz)} à {old_commune}"
    start_moved = old_start != new_start
    if start_moved and place_changed:
        change = f"{old} est déplacé au {when_fr(new_start, tz)}, {_place_fr(new_venue, new_address)}."
        short = f"{old} est déplacé au {when_fr(new_start, tz)}, {new_venue}."
    elif start_moved:
        change = short = f"{old} est déplacé au {when_fr(new_start, tz)}, même lieu."
    elif place_changed:
        change = f"{old} change de lieu : {_place_fr(new_venue, new_address)}. Même jour, même heure."
        short = f"{old} change de lieu : {new_venue}. Même jour, même heure."
    else:  # only the end moved
        change = short = (
            f"{old} finira à {clock_fr(new_end.astimezone(tz))} au lieu de {clock_fr(old_end.astimezone(tz))}."
        )
    if not seated:
        tail = "Vous restez sur la liste d'attente."
    elif answer_non:
        tail = "Votre place est gardée. Si ce n'est plus possible pour vous, répondez NON."
    else:
        tail = "Votre place est gardée. Si vous ne pouvez plus venir, écrivez ANNULER."
    return _fitting(2, (), f"{change} {tail}", f"{short} {tail}")


def unenrolled_by_adviser(start: datetime, tz: tzinfo, commune: str, *, waiting: bool) -> str:
    """An adviser took the person off a workshop at their request (they phoned): said about them, never as "the
    workshop is cancelled"."""
    what = "vous quittez la liste d'attente" if waiting else "vous ne venez pas à l'atelier"
    return (
        f"C'est noté, comme convenu avec le conseiller : {what} du {when_fr(start, tz)} à {commune}. "
        "Pour un autre atelier, écrivez INSCRIPTION."
    )


def moved_by_adviser(
    old_start: datetime, new_start: datetime, tz: tzinfo, venue: str, address: str, *, position: int | None
) -> str:
    """An adviser moved the person to another workshop at their request: where and when they are now expected."""
    where = f"{venue}, {address}" if address else venue
    if position is None:
        now = f"vous êtes inscrit(e) à celui du {when_fr(new_start, tz)}, {where}"
        after = "Pour annuler, écrivez ANNULER."
    else:
        now = f"vous êtes en position {position} sur la liste d'attente de celui du {when_fr(new_start, tz)}"
        after = "Si une place se libère, on vous prévient. Pour annuler, écrivez ANNULER."
    return (
        f"C'est noté, comme convenu avec le conseiller : au lieu de l'atelier du {when_fr(old_start, tz)}, {now}. "
        f"{after}"
    )


def phone_enrolment_intro(territory_name: str) -> str:
    """Prefixed to the first SMS of someone an adviser enrolled by phone: they have never written to us."""
    return f"Bonjour, ici les ateliers numériques de {territory_name}, suite à votre appel."


def phone_enrolment_waiting_hint() -> str:
    return "Pour annuler, écrivez ANNULER."


# --- Spoken: the voice channel (calls to landlines, and the territory's number answering) ----------------------
# Written for the ear: short sentences, the date and the time said in full ("lundi 7 décembre, à 14 heures"), the
# place as people say it ("à la mairie de Saint-Victor"), no abbreviation, no symbol. The message of a call is said
# twice; then the keys. Numbers are written in digits: the text-to-speech voice says them right in French.

# Written short in venue names and addresses, said in full.
SPOKEN_WORDS = {
    "st": "Saint",
    "ste": "Sainte",
    "r": "rue",
    "av": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "pl": "place",
    "rte": "route",
    "ch": "chemin",
    "imp": "impasse",
    "n°": "numéro",
    "mjc": "M J C",
    "ccas": "C C A S",
    "rdv": "rendez-vous",
    "tél": "téléphone",
    "tel": "téléphone",
}
_CLOCK_WRITTEN = re.compile(r"\b([01]?\d|2[0-3]) ?[hH](?: ?([0-5]\d))?\b")  # 14h, 14 h 30, 9H30
# How a place's first word is introduced: "à la mairie", "au centre social", "à l'espace numérique".
PLACE_ARTICLES = {
    "mairie": "à la",
    "salle": "à la",
    "médiathèque": "à la",
    "bibliothèque": "à la",
    "maison": "à la",
    "école": "à l'",
    "espace": "à l'",
    "hôtel": "à l'",
    "centre": "au",
    "foyer": "au",
    "bus": "au",
    "local": "au",
    "point": "au",
    "tiers-lieu": "au",
}


def unabbreviated(text: str) -> str:
    """ "St Victor, 2 r. de la Mairie, à 14h" → "Saint Victor, 2 rue de la Mairie, à 14 heures": every word written
    short, in full."""
    text = _CLOCK_WRITTEN.sub(lambda m: f"{m.group(1)} heures" + (f" {m.group(2)}" if m.group(2) else ""), text)
    words = []
    for word in text.split():
        core = word.rstrip(",.;:!?")
        tail = word[len(core) :]
        prefix, _, rest = core.partition("-")
        spoken = SPOKEN_WORDS.get(core.casefold())
        if spoken is None and rest and prefix.casefold() in SPOKEN_WORDS:  # "St-Victor"
            spoken = f"{SPOKEN_WORDS[prefix.casefold()]}-{rest}"
        if spoken is not None and tail.startswith("."):  # "r." → "rue": the dot marked the abbreviation
            tail = tail[1:]
        words.append((spoken or core) + tail)
    return " ".join(words)


def clock_spoken(moment: datetime) -> str:
    """14 heures, 9 heures 30, midi, 1 heure: never "14 h" nor "14:00"."""
    if moment.hour == 12 and moment.minute == 0:
        return "midi"
    hours = "1 heure" if moment.hour == 1 else f"{moment.hour} heures"
    return hours if moment.minute == 0 else f"{hours} {moment.minute}"


def day_spoken(start: datetime, tz: tzinfo) -> str:
    """lundi 7 décembre; mardi premier décembre."""
    local = start.astimezone(tz)
    day = "premier" if local.day == 1 else str(local.day)
    return f"{_weekday(local)} {day} {_month(local)}"


def when_spoken(start: datetime, tz: tzinfo) -> str:
    """lundi 7 décembre, à 14 heures"""
    local = start.astimezone(tz)
    return f"{day_spoken(local, tz)}, à {clock_spoken(local)}"


def place_spoken(venue: str, commune: str) -> str:
    """ "Mairie de Saint-Victor" → "à la mairie de Saint-Victor"; "Salle des fêtes" in Domérat → "à la salle des
    fêtes, à Domérat"; a name we cannot introduce is said as it is written, with its commune."""
    name = unabbreviated(venue).strip()
    first, _, rest = name.partition(" ")
    article = PLACE_ARTICLES.get(first.casefold())
    if article is None:
        place = f"au lieu : {name}"
    else:
        joined = f"{article}{first.casefold()}" if article.endswith("'") else f"{article} {first.casefold()}"
        place = f"{joined} {rest}".strip()
    if _folded(commune) not in _folded(name):
        place = f"{place}, à {unabbreviated(commune)}"
    return place


def phone_spoken(phone: str) -> str:
    """ "04 65 71 00 00" → "04, 65, 71, 00, 00": said in pairs, with a pause between them."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("+33") and len(digits) == 11:
        digits = "0" + digits[2:]
    return ", ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def call_intro(territory_name: str) -> str:
    """Said once, first: who is calling (the number is not one they know)."""
    return f"Bonjour. Ici les ateliers numériques de {territory_name}."


def reminder_spoken(start: datetime, tz: tzinfo, place: str) -> str:
    return f"Nous vous rappelons votre atelier numérique : le {when_spoken(start, tz)}, {place}."


def promotion_spoken(start: datetime, tz: tzinfo, place: str) -> str:
    return (
        f"Bonne nouvelle : une place s'est libérée pour vous. L'atelier numérique a lieu le {when_spoken(start, tz)}, "
        f"{place}."
    )


def seated_spoken(start: datetime, tz: tzinfo, place: str, *, reminded: bool) -> str:
    """Worded without "inscrit" / "inscrite": we do not know whom we speak to."""
    after = " Nous vous appellerons avant, pour vous le rappeler." if reminded else ""
    return f"Votre place est réservée à l'atelier numérique du {when_spoken(start, tz)}, {place}.{after}"


def waiting_spoken(position: int, start: datetime, tz: tzinfo, place: str) -> str:
    rank = "la première personne" if position == 1 else f"numéro {position}"
    return (
        f"L'atelier numérique du {when_spoken(start, tz)}, {place}, est complet. Vous êtes {rank} sur la liste "
        "d'attente. Si une place se libère, nous vous appellerons."
    )


def cancelled_spoken(start: datetime, tz: tzinfo, commune: str, reason: str, *, offer: str | None) -> str:
    """The workshop, not the person's enrolment: "n'aura pas lieu". ``offer``: another workshop with a seat, said
    as ``when_spoken``, place included."""
    reason = unabbreviated(" ".join(reason.split()))
    text = (
        f"L'atelier numérique du {when_spoken(start, tz)}, à {unabbreviated(commune)}, n'aura pas lieu. "
        f"Il est annulé. La raison : {reason}."
    )
    if offer:
        text += f" Un autre atelier a encore de la place : le {offer}."
    return text


def moved_spoken(
    *, old_start: datetime, old_commune: str, new_start: datetime, tz: tzinfo, new_place: str, seated: bool
) -> str:
    old = f"L'atelier numérique du {when_spoken(old_start, tz)}, à {unabbreviated(old_commune)},"
    if old_start != new_start:
        change = f"{old} est déplacé. Il aura lieu le {when_spoken(new_start, tz)}, {new_place}."
    else:
        change = f"{old} change de lieu. Il aura lieu le même jour, à la même heure, {new_place}."
    tail = "Votre place est gardée." if seated else "Vous restez sur la liste d'attente."
    return f"{change} {tail}"


def broadcast_spoken(text: str) -> str:
    return f"Voici un message des conseillers numériques. {unabbreviated(' '.join(text.split()))}"


# The keys: what each menu offers, said after the message. The wording for a seat, word for word.
KEYS_PROMPTS = {
    "coming": "Si vous venez, tapez 1. Si vous ne pouvez pas venir, tapez 2. Pour réécouter, tapez 3.",
    "waiting": "Si vous ne voulez plus attendre de place, tapez 2. Pour réécouter, tapez 3.",
    "offer": "Pour vous inscrire à cet autre atelier, tapez 1. Pour réécouter, tapez 3.",
    "listen": "Pour réécouter, tapez 3.",
    "welcome": (
        "Pour être rappelé par un conseiller, tapez 1. Pour connaître votre prochain atelier, tapez 2. "
        "Pour annuler votre prochain atelier, tapez 3."
    ),
    "cancel_next": "Pour confirmer l'annulation, tapez 1. Pour ne rien changer, tapez 2.",
}


def repeat_spoken(message: str) -> str:
    return f"Je répète. {message}"


def no_key_spoken(phone: str) -> str:
    return (
        f"Je n'ai pas entendu de réponse. Pour toute question, appelez les conseillers au {phone_spoken(phone)}. "
        "Au revoir."
    )


def wrong_key_spoken() -> str:
    return "Ce n'est pas une touche prévue."


def machine_spoken(territory_name: str, message: str, phone: str) -> str:
    """Left once on an answering machine: who called, the message, and the advisers' number (said twice)."""
    number = phone_spoken(phone)
    return (
        f"{call_intro(territory_name)} {message} Pour toute question, appelez les conseillers au {number}. "
        f"Je répète : {number}. Au revoir."
    )


def confirmed_spoken(start: datetime, tz: tzinfo) -> str:
    return f"Merci, c'est noté : vous venez le {when_spoken(start, tz)}. À bientôt. Au revoir."


def seat_given_up_spoken(start: datetime, tz: tzinfo, *, waiting: bool, passed_on: bool) -> str:
    """What was done after "2": the seat is given up, and goes to the next person when someone waited."""
    if waiting:
        return f"C'est noté : vous quittez la liste d'attente de l'atelier du {when_spoken(start, tz)}. Au revoir."
    after = (
        "Votre place est donnée à une personne qui attendait."
        if passed_on
        else "Votre place est libérée pour une autre personne."
    )
    return (
        f"C'est noté : vous ne venez pas à l'atelier du {when_spoken(start, tz)}. {after} Merci de nous avoir "
        "prévenus. Au revoir."
    )


def enrolled_spoken(start: datetime, tz: tzinfo, place: str, *, seated: bool) -> str:
    if seated:
        return f"C'est noté : votre place est réservée à l'atelier du {when_spoken(start, tz)}, {place}. Au revoir."
    return (
        "Cet atelier vient d'être complet. Vous êtes sur sa liste d'attente : si une place se libère, nous vous "
        "appellerons. Au revoir."
    )


def already_changed_spoken(phone: str) -> str:
    return (
        "Cette inscription a changé entre-temps : rien n'est modifié. Pour toute question, appelez les conseillers "
        f"au {phone_spoken(phone)}. Au revoir."
    )


def callback_spoken() -> str:
    return "C'est noté : un conseiller va vous rappeler à ce numéro dans les prochains jours. Au revoir."


def hidden_number_spoken(phone: str) -> str:
    return (
        "Votre numéro est masqué : nous ne pouvons pas vous reconnaître ni vous rappeler. Appelez les conseillers au "
        f"{phone_spoken(phone)}. Au revoir."
    )


def next_workshop_spoken(start: datetime, tz: tzinfo, place: str, position: int | None) -> str:
    if position:
        return (
            f"Vous êtes sur la liste d'attente de l'atelier du {when_spoken(start, tz)}, {place}, en position "
            f"{position}."
        )
    return f"Votre prochain atelier : le {when_spoken(start, tz)}, {place}."


def no_workshop_spoken() -> str:
    return "Nous n'avons pas d'atelier prévu pour ce numéro."


def ask_cancel_next_spoken(start: datetime, tz: tzinfo, place: str) -> str:
    return f"Vous voulez annuler votre atelier du {when_spoken(start, tz)}, {place}."


def kept_spoken() -> str:
    return "D'accord, votre inscription est gardée. Au revoir."


def goodbye_spoken() -> str:
    return "Au revoir."
