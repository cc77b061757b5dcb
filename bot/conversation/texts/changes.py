"""Changes to a workshop made by advisers, and enrolments by phone.

A change notice names the workshop by the date and commune the resident knows, says what changed (old → new), and
is worded about the WORKSHOP ("l'atelier … n'aura pas lieu"), never about the resident's enrolment, so that nobody
reads a cancelled workshop as "you were struck off" (or the reverse). Numbered offers are separate choices."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.conversation.texts.writing import (
    clock_fr,
    first_within,
    when_fr,
)


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
    return first_within(
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
    return first_within(2, (), f"{change} {tail}", f"{short} {tail}")


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
