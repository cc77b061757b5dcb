"""Conversation transcripts as data: what residents say and what the assistant must answer.

The same rows run through the pure dialogue (tests/test_dialogue.py), the service on both databases
(tests/test_service_transcripts.py) and every channel adapter (SMS webhook, Telegram). Expected fragments are
compared accent- and case-insensitively, since SMS strips some accents (GSM-7).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta

# Workshops of the test world, relative to the test clock (Monday 2 March 2026, 09:00 in Paris).


@dataclass(frozen=True)
class WorkshopSpec:
    key: str
    commune_insee: str
    days_ahead: int
    hour: int
    level: str
    capacity: int = 6
    taken: int = 0  # seats already taken by other residents


SAINT_VICTOR, DOMERAT, QUINSSAINES, MARCILLAT, DESERTINES = "03262", "03101", "03212", "03161", "03098"

SETUPS: dict[str, tuple[WorkshopSpec, ...]] = {
    "default": (
        WorkshopSpec("sv-beg", SAINT_VICTOR, 3, 14, "beginner"),
        WorkshopSpec("dom-beg", DOMERAT, 5, 9, "beginner"),
        WorkshopSpec("des-beg", DESERTINES, 8, 14, "beginner"),
        WorkshopSpec("qui-int", QUINSSAINES, 4, 14, "intermediate"),
        WorkshopSpec("mar-adv", MARCILLAT, 6, 10, "advanced"),
    ),
    "full": (
        WorkshopSpec("sv-beg", SAINT_VICTOR, 3, 14, "beginner", capacity=2, taken=2),
        WorkshopSpec("dom-beg", DOMERAT, 5, 9, "beginner", capacity=1, taken=1),
    ),
    "single": (WorkshopSpec("sv-beg", SAINT_VICTOR, 3, 14, "beginner", capacity=1),),
    "last-seats": (
        WorkshopSpec("sv-beg", SAINT_VICTOR, 3, 14, "beginner"),
        WorkshopSpec("dom-beg", DOMERAT, 5, 9, "beginner"),
        WorkshopSpec("des-beg", DESERTINES, 8, 14, "beginner", capacity=3, taken=2),
    ),
    "none": (),
}


@dataclass(frozen=True)
class Say:
    text: str
    expect: tuple[str, ...] = ()  # fragments that must appear in the replies (text and choices)
    refuse: tuple[str, ...] = ()  # fragments that must not appear
    silent: bool = False  # no reply at all
    who: str = "resident"  # "other": a second resident, from another number
    after: timedelta = timedelta()  # the clock moves on before this message


@dataclass(frozen=True)
class Final:
    """What the database must hold for the resident at the end (None: not checked)."""

    seated: int | None = None
    waiting: int | None = None
    cancelled: int | None = None
    level: str | None = None
    commune: str | None = None
    interests: int | None = None
    opted_out: bool | None = None
    erased: bool | None = None
    confirmed: bool | None = None
    callbacks: int | None = None
    exists: bool | None = None
    other_told: str | None = None  # a message queued for the other resident contains this


@dataclass(frozen=True)
class Transcript:
    label: str
    turns: tuple[Say, ...]
    setup: str = "default"
    final: Final = field(default_factory=Final)


def fold(text: str) -> str:
    """Lowercase without accents, apostrophes unified: how fragments are compared."""
    text = text.replace("’", "'").replace("œ", "oe")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


SIGNUP = (
    Say("Bonjour", expect=("prénom", "STOP")),
    Say("Martine Dupont", expect=("Martine", "commune")),
    Say("st victor", expect=("Saint-Victor, c'est noté", "Je débute", "Je me débrouille")),
    Say("1", expect=("apprendre",)),
    Say("1 3", expect=("Saint-Victor",)),
    Say("1", expect=("OUI ou NON", "Mairie de Saint-Victor")),
    Say("oui", expect=("C'est noté, Martine", "ANNULER")),
)

TRANSCRIPTS: tuple[Transcript, ...] = (
    Transcript(
        "happy path",
        SIGNUP,
        final=Final(seated=1, level="beginner", commune="Saint-Victor", interests=2, exists=True),
    ),
    Transcript(
        "chatty, misspelled, no accents",
        (
            Say("bjr je voudrais minscrire pr l atelier", expect=("prénom",)),
            Say("je m'appelle jean-pierre martin", expect=("Jean-Pierre", "commune")),
            Say("j'habite a domerat", expect=("débute",)),
            Say("je debute", expect=("apprendre",)),
            Say("je sais pas", expect=("Domérat",)),
            Say("le 1", expect=("OUI ou NON",)),
            Say("OUI MERCI", expect=("C'est noté",)),
        ),
        final=Final(seated=1, commune="Domérat", interests=0),
    ),
    Transcript(
        "all caps",
        (
            Say("BONJOUR", expect=("prénom",)),
            Say("MARTINE DUPONT", expect=("Martine",)),
            Say("SAINT VICTOR", expect=("débute",)),
            Say("1", expect=("apprendre",)),
            Say("2", expect=("Saint-Victor",)),
            Say("1", expect=("OUI ou NON",)),
            Say("OK", expect=("C'est noté",)),
        ),
        final=Final(seated=1),
    ),
    Transcript(
        "another number at the confirmation offers that workshop instead",
        (
            *SIGNUP[:6],
            Say("2", expect=("OUI ou NON", "Mairie de Désertines"), refuse=("Mairie de Saint-Victor",)),
            Say("oui", expect=("C'est noté, Martine", "Mairie de Désertines")),
        ),
        final=Final(seated=1, commune="Saint-Victor"),
    ),
    Transcript(
        "another commune at the list of workshops corrects the commune",
        (
            *SIGNUP[:5],
            Say("non j'habite à Quinssaines", expect=("Quinssaines, c'est noté", "Lequel"), refuse=("je ne vous",)),
            Say("1", expect=("OUI ou NON",)),
            Say("oui", expect=("C'est noté, Martine",)),
        ),
        final=Final(seated=1, commune="Quinssaines"),
    ),
    Transcript(
        "the commune of a workshop offered chooses that workshop",
        (*SIGNUP[:5], Say("domerat", expect=("OUI ou NON", "Mairie de Domérat"))),
        final=Final(commune="Saint-Victor"),
    ),
    Transcript(
        "thumbs up confirms",
        (*SIGNUP[:6], Say("👍", expect=("C'est noté",))),
        final=Final(seated=1),
    ),
    Transcript(
        "postcode shared by several communes",
        (
            Say("Bonjour"),
            Say("Paul Durand"),
            Say("03410", expect=("Plusieurs communes", "Domérat", "Saint-Victor", "Prémilhat")),
            Say("domerat", expect=("débute",)),
        ),
    ),
    Transcript(
        "a number off the list of communes shows the list again",
        (
            Say("Bonjour"),
            Say("Paul Durand"),
            Say("03410", expect=("Plusieurs communes",)),
            Say("9", expect=("Répondez par un numéro", "Domérat", "Saint-Victor")),
            Say("domerat", expect=("débute",)),
        ),
    ),
    Transcript(
        "MES ATELIERS in the middle of the sign-up answers and carries on",
        (
            Say("Bonjour"),
            Say("Paul Durand"),
            Say("domerat", expect=("débute",)),
            Say("MES ATELIERS", expect=("pas encore d'atelier", "débute")),
            Say("1", expect=("apprendre",)),
        ),
        final=Final(level=None),
    ),
    Transcript(
        "CONSEILLER in the middle of the sign-up keeps what was said",
        (
            Say("Bonjour"),
            Say("Lucienne Roux"),
            Say("domerat", expect=("débute",)),
            Say("CONSEILLER", expect=("rappel",)),
        ),
        final=Final(callbacks=1, commune="Domérat", exists=True),
    ),
    Transcript(
        "postcode of one commune",
        (Say("Bonjour"), Say("Paul Durand"), Say("03630", expect=("débute",))),
    ),
    Transcript(
        "commune outside the territory",
        (
            Say("Bonjour"),
            Say("Paul Durand"),
            Say("commentry", expect=("ne fait pas partie", "04 65 71 00 00")),
            Say("Montluçon", expect=("débute",)),
        ),
    ),
    Transcript(
        "unknown commune",
        (Say("Bonjour"), Say("Paul Durand"), Say("zzzkkk", expect=("pas trouvé",))),
    ),
    Transcript(
        "level in words",
        (
            Say("Bonjour"),
            Say("Paul Durand"),
            Say("quinssaines"),
            Say("je me debrouille un peu", expect=("apprendre",)),
            Say("rien", expect=("Quinssaines", "OUI ou NON")),
            Say("oui", expect=("C'est noté",)),
        ),
        final=Final(seated=1, level="intermediate"),
    ),
    Transcript(
        "every nearby workshop full: waiting list",
        (
            *SIGNUP[:4],
            Say("1 3", expect=("complet", "attendre", "Saint-Victor")),
            Say("oui", expect=("liste d'attente",)),
        ),
        setup="full",
        final=Final(seated=0, waiting=1),
    ),
    Transcript(
        "waiting list declined",
        (*SIGNUP[:4], Say("1", expect=("complet",)), Say("non", expect=("je ne vous inscris pas",))),
        setup="full",
        final=Final(seated=0, waiting=0, level="beginner"),
    ),
    Transcript(
        "no workshop planned for the level",
        (*SIGNUP[:4], Say("1", expect=("pas encore d'atelier", "04 65 71 00 00"))),
        setup="none",
        final=Final(level="beginner", seated=0),
    ),
    Transcript(
        "STOP in the middle, then silence",
        (
            Say("Bonjour"),
            Say("Martine Dupont"),
            Say("STOP", expect=("plus de messages", "START")),
            Say("st victor", silent=True),
            Say("aide", silent=True),
        ),
        final=Final(opted_out=True),
    ),
    Transcript(
        "STOP then START",
        (
            Say("Bonjour"),
            Say("STOP", expect=("plus de messages",)),
            Say("bonjour", silent=True),
            Say("START", expect=("de nouveau",)),
        ),
        final=Final(opted_out=False),
    ),
    Transcript(
        "ARRET stops", (Say("Bonjour"), Say("ARRÊT", expect=("plus de messages",))), final=Final(opted_out=True)
    ),
    Transcript("STOP SMS stops", (Say("stop sms", expect=("plus de messages",)),), final=Final(opted_out=True)),
    Transcript(
        "Twilio's STOPALL stops, even where a name is expected",
        (Say("Bonjour"), Say("STOPALL", expect=("plus de messages",), refuse=("Merci",))),
        final=Final(opted_out=True),
    ),
    Transcript(
        "INSCRIPTION after STOP resumes",
        (Say("STOP"), Say("INSCRIPTION", expect=("de nouveau",))),
        final=Final(opted_out=False),
    ),
    Transcript(
        "AIDE in the middle keeps the question",
        (
            Say("Bonjour"),
            Say("Martine Dupont"),
            Say("AIDE", expect=("MES ATELIERS", "04 65 71 00 00", "commune")),
            Say("st victor", expect=("débute",)),
        ),
    ),
    Transcript("AIDE first", (Say("aide svp", expect=("ANNULER", "04 65 71 00 00")),)),
    Transcript(
        "MES ATELIERS after signing up",
        (*SIGNUP, Say("mes ateliers", expect=("Vos ateliers", "Saint-Victor"))),
    ),
    Transcript("MES ATELIERS with none", (Say("MES ATELIERS", expect=("aucun atelier",)),)),
    Transcript(
        "ANNULER then OUI",
        (
            *SIGNUP,
            Say("ANNULER", expect=("Annuler votre inscription", "OUI ou NON")),
            Say("oui", expect=("vous ne venez pas",)),
        ),
        final=Final(seated=0, cancelled=1),
    ),
    Transcript(
        "ANNULER then NON keeps the seat",
        (*SIGNUP, Say("annuler"), Say("non", expect=("gardée",))),
        final=Final(seated=1, cancelled=0),
    ),
    Transcript("ANNULER with nothing to cancel", (Say("ANNULER", expect=("pas d'inscription",)),)),
    Transcript(
        "ANNULER during sign-up stops it",
        (
            Say("Bonjour"),
            Say("Martine Dupont"),
            Say("annuler", expect=("j'arrête",)),
            Say("st victor", expect=("prénom",)),
        ),
    ),
    Transcript(
        "typo: anuler",
        (*SIGNUP, Say("anuler", expect=("Annuler votre inscription",)), Say("oui", expect=("vous ne venez pas",))),
        final=Final(seated=0),
    ),
    Transcript(
        "cancelling gives the seat to the first person waiting, who is told",
        (
            *SIGNUP[:4],
            Say("1 3", expect=("OUI ou NON",)),
            Say("oui", expect=("C'est noté",)),
            Say("Bonjour", who="other"),
            Say("Paul Durand", who="other"),
            Say("saint-victor", who="other"),
            Say("1", who="other"),
            Say("rien", who="other", expect=("complet",)),
            Say("oui", who="other", expect=("liste d'attente",)),
            Say("ANNULER"),
            Say("OUI", expect=("vous ne venez pas",)),
        ),
        setup="single",
        final=Final(seated=0, cancelled=1, other_told="place"),
    ),
    Transcript(
        "the last seat taken by someone else meanwhile: told so, offered its waiting list",
        (
            *SIGNUP[:4],
            Say("1 3", expect=("OUI ou NON",)),
            Say("Bonjour", who="other"),
            Say("Paul Durand", who="other"),
            Say("saint-victor", who="other"),
            Say("1", who="other"),
            Say("rien", who="other", expect=("OUI ou NON",)),
            Say("oui", who="other", expect=("C'est noté",)),
            Say(
                "oui",
                expect=("la dernière place vient d'être prise", "Attendre une place", "OUI ou NON"),
                refuse=("n'est plus proposé", "annulé"),
            ),
            Say("oui", expect=("liste d'attente",)),
        ),
        setup="single",
        final=Final(seated=0, waiting=1),
    ),
    Transcript(
        "the last seat taken by someone else meanwhile: other workshops offered",
        (
            *SIGNUP[:5],
            Say("desertines", expect=("OUI ou NON", "Desertines")),
            Say("Bonjour", who="other"),
            Say("Paul Durand", who="other"),
            Say("desertines", who="other"),
            Say("1", who="other"),
            Say("rien", who="other"),
            Say("desertines", who="other", expect=("OUI ou NON", "Desertines")),
            Say("oui", who="other", expect=("C'est noté",)),
            Say(
                "oui",
                expect=("la dernière place vient d'être prise", "Saint-Victor", "Domérat"),
                refuse=("n'est plus proposé", "Désertines", "Attendre"),
            ),
            Say("1", expect=("OUI ou NON", "Saint-Victor")),
        ),
        setup="last-seats",
        final=Final(seated=0, waiting=0),
    ),
    Transcript(
        "OUBLIER then OUI erases",
        (*SIGNUP, Say("OUBLIER", expect=("Effacer", "OUI ou NON")), Say("oui", expect=("effacées",))),
        final=Final(erased=True),
    ),
    Transcript(
        "OUBLIER then NON keeps everything",
        (*SIGNUP, Say("oublier"), Say("non", expect=("rien n'est effacé",))),
        final=Final(erased=False, seated=1),
    ),
    Transcript(
        "RECOMMENCER",
        (
            Say("Bonjour"),
            Say("Martine Dupont"),
            Say("st victor"),
            Say("RECOMMENCER", expect=("on recommence", "prénom")),
            Say("Paul Durand", expect=("Paul", "commune")),
        ),
    ),
    Transcript(
        "typo: recomencer",
        (Say("Bonjour"), Say("Martine Dupont"), Say("recomencer", expect=("on recommence",))),
    ),
    Transcript(
        "idle for a day starts again politely",
        (
            Say("Bonjour"),
            Say("Martine Dupont"),
            Say("st victor", after=timedelta(hours=25), expect=("Reprenons", "prénom")),
        ),
    ),
    Transcript("emoji first", (Say("👍", expect=("prénom",)),)),
    Transcript("emoji as a name", (Say("Bonjour"), Say("😀😀", expect=("pas compris votre nom",)))),
    Transcript("1,600 characters as a name", (Say("Bonjour"), Say("a" * 1600, expect=("pas compris votre nom",)))),
    Transcript("empty body first", (Say("", expect=("prénom",)),)),
    Transcript("empty body as a commune", (Say("Bonjour"), Say("Martine Dupont"), Say("   ", expect=("pas trouvé",)))),
    Transcript(
        "HTML as a name",
        (Say("Bonjour"), Say("<script>alert(1)</script>", expect=("pas compris votre nom",), refuse=("<script>",))),
    ),
    Transcript(
        "control characters in a name",
        (Say("Bonjour"), Say("Martine\x00 \x07Dupont", expect=("Martine", "commune"))),
    ),
    Transcript("another language", (Say("مرحبا", expect=("prénom",)), Say("مرحبا كيف حالك", expect=("pas compris",)))),
    Transcript(
        "OUI to the reminder confirms",
        (*SIGNUP, Say("oui", expect=("Merci", "noté"))),
        final=Final(seated=1, confirmed=True),
    ),
    Transcript(
        "NON that answers no reminder asks before cancelling",
        (
            *SIGNUP,
            Say("non je peux pas", expect=("Annuler votre inscription", "OUI ou NON"), refuse=("vous ne venez pas",)),
            Say("oui", expect=("vous ne venez pas", "merci de nous avoir prévenus")),
        ),
        final=Final(seated=0, cancelled=1),
    ),
    Transcript(
        "CONSEILLER",
        (*SIGNUP, Say("CONSEILLER", expect=("conseiller va vous rappeler",))),
        final=Final(callbacks=1),
    ),
    Transcript(
        "CONSEILLER from someone new",
        (Say("conseiller svp", expect=("conseiller",)),),
        final=Final(callbacks=1, exists=True),
    ),
    Transcript("typo: conseiler", (Say("conseiler", expect=("conseiller",)),), final=Final(callbacks=1)),
    Transcript(
        "choosing a workshop with 'le 2'",
        (*SIGNUP[:5], Say("le 2", expect=("Désertines", "OUI ou NON")), Say("oui")),
        final=Final(seated=1),
    ),
    Transcript(
        "a number out of range",
        (*SIGNUP[:5], Say("9", expect=("Répondez par un numéro",))),
    ),
    Transcript(
        "correcting the commune at the level question",
        (
            Say("Bonjour"),
            Say("Martine Dupont"),
            Say("st victor"),
            Say("Domérat", expect=("débute",)),
            Say("1"),
            Say("rien", expect=("Domérat",)),
        ),
    ),
    Transcript(
        "a known resident says hello: the menu",
        (*SIGNUP, Say("bonjour", expect=("Bonjour, Martine", "inscrire")), Say("2", expect=("Vos ateliers",))),
    ),
    Transcript(
        "NON to the menu cancels nothing",
        (*SIGNUP, Say("bonjour", expect=("Que voulez-vous faire",)), Say("non merci", expect=("D'accord",))),
        final=Final(seated=1, cancelled=0),
    ),
    Transcript(
        "menu: another workshop",
        (*SIGNUP, Say("bonjour"), Say("1", expect=("Domérat",))),
    ),
    Transcript(
        "saying no to the proposed workshop offers the others",
        (*SIGNUP[:5], Say("1"), Say("non", expect=("Domérat",))),
    ),
    Transcript(
        "interests not understood twice still goes on",
        (*SIGNUP[:4], Say("blabla", expect=("pas compris",)), Say("blabla", expect=("Saint-Victor",))),
    ),
)
