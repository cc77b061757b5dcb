"""The workshops offered, one line each in the plainest style that fits one SMS; the one to confirm, the
waiting list, and the words once a seat is taken or a place on the waiting list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import lru_cache

from bot.conversation.texts.writing import (
    NOT_UNDERSTOOD,
    clock_fr,
    first_fitting,
    first_in_one_sms,
    first_within,
    month_fr,
    street_of,
    weekday_fr,
    when_fr,
)

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


@lru_cache(maxsize=4096)  # the workshops offered are the same for every resident: each line is written once
def workshop_line(start: datetime, tz: tzinfo, commune: str, subject: str = "", style: int = 0) -> str:
    """One workshop of a list, from the plainest (style 0: "mardi 14 avril à 14 h, Saint-Victor : Impôts") to the
    most compact (style 4: "mar. 14/4 14h St-Victor : Impôts"); from style 5 on the subject is left out."""
    local = start.astimezone(tz)
    weekday = weekday_fr(local)
    day = "1er" if local.day == 1 else str(local.day)
    month = month_fr(local)
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
        lines = tuple(workshop_line(start, tz, commune, subject, style) for start, commune, subject in items)
        if len(set(lines)) < len(lines):  # two alike in this style: as choices, they could not be told apart
            continue
        text = first_fitting(variants, lines)
        if text is not None:
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
    return first_in_one_sms(
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
    return first_in_one_sms(
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
    return first_in_one_sms(
        f"{head}Attendre une place le {when}, {venue} ? On vous prévient si elle se libère. OUI ou NON ?",
        f"{head}Attendre une place le {when} ? On vous prévient si elle se libère. OUI ou NON ?",
        f"{head}Attendre une place le {when} ? OUI ou NON ?",
    )


def full_workshop() -> str:
    return "Cet atelier est complet."


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
    one_sms = first_fitting(
        (
            f"{head} {what} le {when}, {venue}, {address}. {tail}",
            f"{head} {what} le {when}, {venue}, {street}. {tail}",
            f"{head} {what} le {when}, {venue}, {street}. {short}",
            f"{head} Atelier le {when}, {venue}, {street}. {short}",
        )
    )
    if one_sms is not None:
        return one_sms
    return first_within(
        2,
        (),
        f"{head} {what} le {when}, {venue}, {address}. {tail}",
        f"{head} {what} le {when}, {venue}, {address}. {after}",
    )


def waiting(first_name: str, position: int, start: datetime, tz: tzinfo, venue: str, *, two: bool = False) -> str:
    who = "vous êtes" if not two else "vous êtes tous les deux"
    when = when_fr(start, tz)
    return first_within(
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
