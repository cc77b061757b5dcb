"""Every French sentence Atelier sends, in one place, written for people who have never used a computer.

Short sentences, the date written out, numbered choices, no links needed to act. Pure: no I/O; times are
converted with the time zone passed in. SMS-specific transliteration and segment counting live in
``bot.conversation.gsm7``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo

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


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("-", " "))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clock_fr(moment: datetime) -> str:
    """14 h, 14 h 30 — how a time is said in French, not 14:00."""
    return f"{moment.hour} h" if moment.minute == 0 else f"{moment.hour} h {moment.minute:02d}"


def day_fr(start: datetime, tz: tzinfo) -> str:
    """mardi 14 avril; mardi 1er décembre (the first of the month is said "premier")."""
    local = start.astimezone(tz)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{format_date(local, 'EEEE', locale=LOCALE)} {day} {format_date(local, 'MMMM', locale=LOCALE)}"


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
# Each question fits one SMS segment once made GSM-7 (tests/test_messages.py renders them with the longest
# commune and venue names). Choices are separate from the text: numbered lines in an SMS, buttons on Telegram.

LEVEL_CHOICES = ("Je débute", "Je me débrouille un peu", "Je suis à l'aise")
YES_NO = ("OUI", "NON")
NOTHING_IN_PARTICULAR = "Je ne sais pas encore"


def welcome(territory_name: str) -> str:
    return (
        f"Bonjour ! Ici les ateliers numériques gratuits de {territory_name}. "
        "Vos réponses servent seulement à organiser les ateliers. STOP pour ne plus rien recevoir."
    )


def ask_name() -> str:
    return "Pour vous inscrire, quel est votre prénom et votre nom ?"


def name_not_understood() -> str:
    return "Je n'ai pas compris votre nom. Écrivez votre prénom et votre nom, par exemple : Martine Dupont"


def ask_commune(first_name: str) -> str:
    return f"Merci {first_name} ! Dans quelle commune habitez-vous ?"


def ask_commune_again() -> str:
    return "Je n'ai pas trouvé cette commune. Écrivez son nom, par exemple : Saint-Victor, ou son code postal."


def pick_commune() -> str:
    return "Plusieurs communes possibles. Laquelle est la bonne ? Répondez par le numéro."


def outside_territory(commune: str, territory_name: str, phone: str) -> str:
    return (
        f"{commune} ne fait pas partie de {territory_name}, désolé. "
        f"Un conseiller peut vous orienter : {phone}. Sinon, écrivez une commune proche de chez vous."
    )


def commune_noted(commune: str) -> str:
    return f"{commune}, c'est noté."


def ask_level(commune: str = "") -> str:
    """The commune is said back: it was matched forgivingly ("st victor"), so the resident can correct it."""
    noted = f"{commune}, c'est noté. " if commune else ""
    return f"{noted}Avec un téléphone, une tablette ou un ordinateur, vous diriez :"


def level_not_understood() -> str:
    return "Répondez 1, 2 ou 3 :"


def ask_interests() -> str:
    return "Qu'aimeriez-vous apprendre ? Un ou plusieurs numéros, par exemple : 1 3"


def interests_not_understood() -> str:
    return "Je n'ai pas compris. Répondez par un ou plusieurs numéros, par exemple : 1 3"


def workshop_line(start: datetime, tz: tzinfo, commune: str) -> str:
    return f"{when_fr(start, tz)}, {commune}"


def offer_workshops() -> str:
    """Above the numbered workshops (several; one alone is offered with ``offer_single``)."""
    return "Les ateliers les plus proches de chez vous. Lequel vous convient ? Répondez par son numéro."


def offer_single(start: datetime, tz: tzinfo, venue: str) -> str:
    return f"L'atelier le plus proche : le {when_fr(start, tz)}, {venue}. Je vous inscris ? Répondez OUI ou NON."


def ask_confirm_workshop(start: datetime, tz: tzinfo, venue: str) -> str:
    return f"Je vous inscris à l'atelier du {when_fr(start, tz)}, {venue} ? Répondez OUI ou NON."


def no_workshop_at_all(phone: str) -> str:
    return (
        "Il n'y a pas encore d'atelier prévu pour votre niveau. Écrivez INSCRIPTION dans quelques semaines pour "
        f"voir les nouveaux. Une question ? Appelez le {phone}"
    )


def offer_waiting_list(start: datetime, tz: tzinfo, venue: str) -> str:
    return (
        f"Tout est complet. Attendre une place le {when_fr(start, tz)}, {venue} ? "
        "On vous prévient si elle se libère. OUI ou NON ?"
    )


def seated(first_name: str, start: datetime, tz: tzinfo, venue: str, address: str, *, reminded: bool = True) -> str:
    """``reminded``: a reminder is planned (not when the workshop is too close for one to leave in time)."""
    after = "Un rappel vous sera envoyé avant." if reminded else "Pensez à noter la date."
    return (
        f"C'est noté, {first_name} ! Atelier le {when_fr(start, tz)}, {venue}, {address}. "
        f"{after} Pour annuler, écrivez ANNULER."
    )


def rank_fr(position: int) -> str:
    """1re, 2e, 3e: a place on the waiting list as it is said ("vous êtes en 2e position"), not "n°2", which an
    SMS writes "no2"."""
    return "1re" if position == 1 else f"{position}e"


def waiting(first_name: str, position: int, start: datetime, tz: tzinfo, venue: str) -> str:
    return (
        f"C'est noté, {first_name} : vous êtes en {rank_fr(position)} position sur la liste d'attente du "
        f"{when_fr(start, tz)}, {venue}. Si une place se libère, on vous prévient."
    )


def workshop_just_filled() -> str:
    return "Désolé, la dernière place vient d'être prise."


def workshop_no_longer_offered() -> str:
    return "Désolé, cet atelier n'est plus proposé : il a été annulé ou il commence trop tôt."


def not_enrolled_ok() -> str:
    return "D'accord, je ne vous inscris pas. Écrivez INSCRIPTION quand vous voudrez choisir un atelier."


def choose_by_number(count: int) -> str:
    return f"Répondez par un numéro, de 1 à {count}." if count > 1 else "Répondez OUI ou NON."


def restart_after_idle() -> str:
    return "Bonjour ! Reprenons depuis le début."


def restarted() -> str:
    return "D'accord, on recommence."


def help_text(phone: str) -> str:
    return (
        "Vous pouvez écrire : INSCRIPTION, MES ATELIERS, ANNULER, CONSEILLER pour qu'on vous rappelle, OUBLIER "
        f"pour effacer vos données, STOP pour ne plus rien recevoir. Une question ? Appelez le {phone}"
    )


def menu(first_name: str) -> str:
    return f"Bonjour, {first_name} ! Que voulez-vous faire ?"


MENU_CHOICES = ("M'inscrire à un atelier", "Mes ateliers", "Parler à un conseiller")


def my_workshops_none(*, signing_up: bool = False) -> str:
    if signing_up:
        return "Vous n'avez pas encore d'atelier : continuons votre inscription."
    return "Vous n'avez aucun atelier prévu. Écrivez INSCRIPTION pour en choisir un."


def my_workshop_line(start: datetime, tz: tzinfo, venue: str, position: int | None) -> str:
    wait = f" (liste d'attente, {rank_fr(position)} position)" if position else ""
    return f"- {when_fr(start, tz)}, {venue}{wait}"


def my_workshops(lines: list[str]) -> str:
    return "Vos ateliers :\n" + "\n".join(lines) + "\nPour annuler, écrivez ANNULER."


def ask_which_to_cancel() -> str:
    return "Quel atelier voulez-vous annuler ? Répondez par le numéro."


def ask_confirm_cancel(start: datetime, tz: tzinfo, venue: str) -> str:
    return f"Annuler votre inscription du {when_fr(start, tz)}, {venue} ? Répondez OUI ou NON."


def cancelled_enrolment(start: datetime, tz: tzinfo, *, waiting: bool = False) -> str:
    """Worded about the resident ("vous ne venez pas"), never "c'est annulé", which reads as the workshop."""
    done = (
        f"vous quittez la liste d'attente du {when_fr(start, tz)}"
        if waiting
        else f"vous ne venez pas le {when_fr(start, tz)}"
    )
    return f"C'est noté : {done}. Merci de nous avoir prévenus. Pour un autre atelier, écrivez INSCRIPTION."


def cancel_kept() -> str:
    return "D'accord, votre inscription est gardée."


def nothing_to_cancel() -> str:
    return "Vous n'avez pas d'inscription à annuler. Pour choisir un atelier, écrivez INSCRIPTION."


def signup_stopped() -> str:
    return "D'accord, j'arrête l'inscription. Pour reprendre plus tard, écrivez INSCRIPTION."


def confirmed_coming(start: datetime, tz: tzinfo) -> str:
    return f"Merci, c'est noté. À {when_fr(start, tz)} !"


def callback_requested(*, has_phone: bool) -> str:
    if has_phone:
        return "C'est noté : un conseiller va vous rappeler dans les prochains jours."
    return "Pour qu'un conseiller vous rappelle, quel est votre numéro de téléphone ?"


def no_callback(phone: str) -> str:
    return f"D'accord, pas de rappel. Vous pouvez appeler les conseillers au {phone}."


def callback_phone_noted() -> str:
    return "Merci, un conseiller va vous rappeler dans les prochains jours."


def phone_not_understood() -> str:
    return "Je n'ai pas compris ce numéro. Écrivez-le par exemple ainsi : 06 12 34 56 78"


def stopped() -> str:
    return "C'est noté, vous ne recevrez plus de messages. Pour revenir, écrivez START."


def started_again() -> str:
    return "Content de vous revoir ! Vous recevrez de nouveau nos messages."


def ask_confirm_forget() -> str:
    return "Effacer votre nom, votre numéro et vos inscriptions ? C'est définitif. Répondez OUI ou NON."


def forgotten() -> str:
    return "Vos données sont effacées. Au revoir, et à bientôt peut-être !"


def forget_kept() -> str:
    return "D'accord, rien n'est effacé."


def nothing_then() -> str:
    return "D'accord. Écrivez AIDE si vous avez besoin de nous."


def not_understood_idle(first_name: str) -> str:
    return f"Je n'ai pas compris, {first_name}. Que voulez-vous faire ?"


# --- Advisers ----------------------------------------------------------------------------------------------


def callback_notice(name: str, commune: str, phone: str) -> str:
    return f"Demande de rappel : {name}, {commune}, {phone}. Liste : atelier callbacks list, ou /rappels sur Telegram."


def calls_notice(lines: list[str]) -> str:
    """To the adviser in charge: people no message can reach, to phone (one line each, at most five)."""
    shown = lines[:5]
    more = f" Et {len(lines) - len(shown)} autre(s)." if len(lines) > len(shown) else ""
    return f"À appeler : {' ; '.join(shown)}.{more} Liste : atelier calls list, ou /appels sur Telegram."


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


def reminder_body(start: datetime, tz: tzinfo, venue: str, *, asks_confirmation: bool) -> str:
    """Rappel : atelier numérique mardi 14 avril à 14 h, Mairie de Saint-Victor. Vous venez ? Répondez OUI ou NON.

    The date is always written out (never "demain"): a reminder may leave on another day than planned."""
    when = when_fr(start, tz)
    if asks_confirmation:
        return _one_sms(
            f"Rappel : atelier numérique {when}, {venue}. Vous venez ? Répondez OUI ou NON.",
            f"Rappel : atelier {when}, {venue}. Vous venez ? Répondez OUI ou NON.",
            f"Rappel : atelier {when}. Vous venez ? Répondez OUI ou NON.",
        )
    return _one_sms(
        f"Rappel : atelier numérique {when}, {venue}. À bientôt ! Vous ne pouvez pas venir ? Écrivez ANNULER.",
        f"Rappel : atelier {when}, {venue}. À bientôt ! Vous ne pouvez pas venir ? Écrivez ANNULER.",
        f"Rappel : atelier {when}, {venue}. À bientôt !",
    )


def promotion_body(start: datetime, tz: tzinfo, venue: str) -> str:
    """A seat freed up for someone on the waiting list: they now have it, and may still say NON."""
    when = when_fr(start, tz)
    return _one_sms(
        f"Bonne nouvelle : une place s'est libérée, elle est pour vous ! Atelier {when}, {venue}. "
        "Vous venez ? Répondez OUI ou NON.",
        f"Une place s'est libérée, elle est pour vous : atelier {when}, {venue}. Vous venez ? Répondez OUI ou NON.",
        f"Une place s'est libérée : atelier {when}. Vous venez ? Répondez OUI ou NON.",
    )


# --- Changes to a workshop, broadcasts, enrolment by phone (advisers) ----------------------------------------
# A change notice names the workshop by the date and commune the resident knows, says what changed (old → new),
# and is worded about the WORKSHOP ("l'atelier … n'aura pas lieu"), never about the resident's enrolment, so that
# nobody reads a cancelled workshop as "you were struck off" (or the reverse). Numbered offers are separate choices.


def sms_segments(body: str, choices: tuple[str, ...] | list[str] = ()) -> int:
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
        now = f"vous êtes en {rank_fr(position)} position sur la liste d'attente de celui du {when_fr(new_start, tz)}"
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
    return f"{format_date(local, 'EEEE', locale=LOCALE)} {day} {format_date(local, 'MMMM', locale=LOCALE)}"


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
