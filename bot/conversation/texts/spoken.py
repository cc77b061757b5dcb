"""Spoken: the voice channel (calls to landlines, and the territory's number answering).

Written for the ear: short sentences, the date and the time said in full ("lundi 7 décembre, à 14 heures"), the
place as people say it ("à la mairie de Saint-Victor"), no abbreviation, no symbol. The message of a call is said
twice; then the keys. Numbers are written in digits: the text-to-speech voice says them right in French."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from bot.conversation.texts.writing import (
    folded,
    month_fr,
    weekday_fr,
)

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
    return f"{weekday_fr(local)} {day} {month_fr(local)}"


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
    if folded(commune) not in folded(name):
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
