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
    topic: str = "Premiers pas"


SAINT_VICTOR, DOMERAT, QUINSSAINES, MARCILLAT, DESERTINES = "03262", "03101", "03212", "03161", "03098"
LAVAULT, MONTLUCON, PREMILHAT = "03140", "03185", "03213"

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
    # Weekly workshops: the same weekday, time and village, three weeks running (the most common planning).
    "weekly": (
        WorkshopSpec("sv-1", SAINT_VICTOR, 7, 14, "beginner"),
        WorkshopSpec("sv-2", SAINT_VICTOR, 14, 14, "beginner"),
        WorkshopSpec("sv-3", SAINT_VICTOR, 21, 14, "beginner"),
    ),
    # A planning with topics, mornings and afternoons, a full workshop at Lavault and one on the 31st.
    "planning": (
        WorkshopSpec("sv-tab", SAINT_VICTOR, 3, 14, "beginner", topic="Premiers pas sur la tablette"),
        WorkshopSpec("dom-imp", DOMERAT, 4, 9, "beginner", topic="Déclarer ses impôts en ligne"),
        WorkshopSpec("des-vid", DESERTINES, 8, 14, "beginner", topic="Appels vidéo avec la famille"),
        WorkshopSpec("sv-mail", SAINT_VICTOR, 10, 10, "beginner", topic="Envoyer et recevoir des e-mails"),
        WorkshopSpec("lav-ph", LAVAULT, 9, 14, "beginner", capacity=2, taken=2, topic="Trier ses photos"),
        WorkshopSpec("mon-31", MONTLUCON, 29, 14, "beginner", topic="Premiers pas sur le smartphone"),
        WorkshopSpec("qui-int", QUINSSAINES, 4, 14, "intermediate", topic="Banque en ligne en sécurité"),
    ),
    # Two people, one phone: two seats in Saint-Victor.
    "single_two": (WorkshopSpec("sv-beg", SAINT_VICTOR, 3, 14, "beginner", capacity=2),),
    # Moving a seat: the first workshop has one seat (taken by the resident, someone waits for it).
    "move": (
        WorkshopSpec("sv-beg", SAINT_VICTOR, 3, 14, "beginner", capacity=1),
        WorkshopSpec("des-beg", DESERTINES, 8, 14, "beginner"),
    ),
}


@dataclass(frozen=True)
class Say:
    text: str = ""
    expect: tuple[str, ...] = ()  # fragments that must appear in the replies (text and choices)
    refuse: tuple[str, ...] = ()  # fragments that must not appear
    silent: bool = False  # no reply at all
    who: str = "resident"  # "other": a second resident, from another number
    after: timedelta = timedelta()  # the clock moves on before this message
    # Send the words of choice N of the last reply instead of ``text``: a tap on that button on Telegram, the
    # line's words typed out by SMS.
    choice: int | None = None


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
    seated_in: tuple[str, ...] | None = None  # the setup keys of the workshops the resident is seated in
    name: str | None = None  # the resident's name as stored
    household_seated: int | None = None  # seats held by the resident and the people sharing their phone
    reminder_says: str | None = None  # a reminder planned for the resident contains this
    callback_reason: str | None = None  # the callback request records this reason


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
            Say("non j'habite à Quinssaines", expect=("Quinssaines, c'est noté", "numéro"), refuse=("je ne vous",)),
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
    Transcript(
        "MES ATELIERS from someone new: no workshop yet, and the sign-up starts",
        (Say("MES ATELIERS", expect=("pas encore d'atelier", "prénom")),),
    ),
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
    Transcript("emoji as a name", (Say("Bonjour"), Say("😀😀", expect=("pas compris", "votre nom")))),
    Transcript("1,600 characters as a name", (Say("Bonjour"), Say("a" * 1600, expect=("pas compris", "votre nom")))),
    Transcript("empty body first", (Say("", expect=("prénom",)),)),
    Transcript("empty body as a commune", (Say("Bonjour"), Say("Martine Dupont"), Say("   ", expect=("pas trouvé",)))),
    Transcript(
        "HTML as a name",
        (Say("Bonjour"), Say("<script>alert(1)</script>", expect=("pas compris", "nom"), refuse=("<script>",))),
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


# --- Issue 13: what residents write, and what they must get --------------------------------------------------
# Each defect and each way of speaking named in the issue, as rows; the wording of the examples is theirs.

SEATED = (*SIGNUP,)  # Martine Dupont, Saint-Victor, beginner, seated on Thursday 5 March at 14 h (setup "default")
TO_THE_LIST = (*SIGNUP[:4], Say("rien", expect=("Saint-Victor",)))

ISSUE_13: tuple[Transcript, ...] = (
    # 1. Buttons always select their workshop; by SMS the words of a line pick that line.
    Transcript(
        "1. weekly workshops: a tapped button picks its own workshop",
        (
            *SIGNUP[:4],
            Say("rien", expect=("lundi 9 mars", "lundi 16 mars", "lundi 23 mars")),
            Say(choice=2, expect=("lundi 16 mars", "OUI ou NON"), refuse=("Répondez par un numéro",)),
            Say("oui", expect=("C'est noté, Martine", "16 mars")),
        ),
        setup="weekly",
        final=Final(seated=1, seated_in=("sv-2",)),
    ),
    Transcript(
        "1. weekly workshops: the third button, then OUI",
        (*SIGNUP[:4], Say("rien"), Say(choice=3, expect=("23 mars",)), Say("OUI", expect=("23 mars",))),
        setup="weekly",
        final=Final(seated_in=("sv-3",)),
    ),
    Transcript(
        "1. by SMS, a line's words differing only by the day of the month pick that line",
        (*SIGNUP[:4], Say("rien"), Say("lundi 16 mars", expect=("16 mars", "OUI ou NON")), Say("oui")),
        setup="weekly",
        final=Final(seated_in=("sv-2",)),
    ),
    # 2. A cancellation in plain words, wherever the conversation stands.
    Transcript(
        "2. je suis malade je viendrai pas jeudi, at the menu",
        (
            *SEATED,
            Say("bonjour", expect=("Que voulez-vous faire",)),
            Say("je suis malade je viendrai pas jeudi", expect=("Annuler votre inscription du jeudi 5 mars",)),
            Say("oui", expect=("vous ne venez pas",)),
        ),
        final=Final(seated=0, cancelled=1),
    ),
    Transcript(
        "2. je ne pourrai pas venir",
        (*SEATED, Say("je ne pourrai pas venir", expect=("Annuler votre inscription du jeudi 5 mars", "OUI ou NON"))),
        final=Final(seated=1),
    ),
    Transcript(
        "2. empêché, after the seat",
        (*SEATED, Say("empêché", expect=("Annuler votre inscription",)), Say("OUI")),
        final=Final(seated=0, cancelled=1),
    ),
    Transcript(
        "2. annuler samedi picks the Saturday workshop of two",
        (
            *SEATED,
            Say("je voudrais un autre atelier", expect=("Domérat",)),
            Say("samedi", expect=("samedi 7 mars", "OUI ou NON")),
            Say("oui", expect=("C'est noté",)),
            Say("annuler samedi", expect=("Annuler votre inscription du samedi 7 mars",), refuse=("jeudi",)),
            Say("oui", expect=("vous ne venez pas le samedi 7 mars",)),
        ),
        final=Final(seated=1, cancelled=1, seated_in=("sv-beg",)),
    ),
    # 3. Moving one's own booking: one operation, after one confirmation.
    Transcript(
        "3. je voudrais changer de date pour le 10",
        (
            *SEATED,
            Say(
                "je voudrais changer de date pour le 10",
                expect=("Je change votre inscription du jeudi 5 mars pour le mardi 10 mars", "OUI ou NON"),
            ),
            Say("oui", expect=("mardi 10 mars", "libérée")),
            Say("mes ateliers", expect=("mardi 10 mars",), refuse=("jeudi 5 mars",)),
        ),
        final=Final(seated=1, cancelled=1, seated_in=("des-beg",)),
    ),
    Transcript(
        "3. moving gives the old seat to the first person waiting, who is told",
        (
            *SIGNUP[:4],
            Say("rien", expect=("jeudi 5 mars",)),
            Say("1", expect=("OUI ou NON",)),
            Say("oui", expect=("C'est noté",)),
            Say("Bonjour", who="other"),
            Say("Paul Durand", who="other"),
            Say("saint-victor", who="other"),
            Say("1", who="other"),
            Say("rien", who="other"),
            Say("jeudi", who="other", expect=("complet", "Attendre")),
            Say("oui", who="other", expect=("liste d'attente",)),
            Say("je voudrais changer de date", expect=("mardi 10 mars", "OUI ou NON")),
            Say("oui", expect=("libérée",)),
        ),
        setup="move",
        final=Final(seated=1, cancelled=1, seated_in=("des-beg",), other_told="place"),
    ),
    Transcript(
        "3. a move declined keeps the seat",
        (*SEATED, Say("je voudrais changer de jour", expect=("Domérat", "Désertines")), Say("non", expect=("gardée",))),
        final=Final(seated=1, seated_in=("sv-beg",)),
    ),
    # 4. A new person is always welcomed into the sign-up.
    Transcript(
        "4. Bonjour je voudrais un atelier, from someone new",
        (Say("Bonjour je voudrais un atelier", expect=("Bonjour", "STOP", "prénom"), refuse=("aucun atelier",)),),
    ),
    # 5. Names without the extra words.
    Transcript(
        "5. Yvette Morel Point (dictated)",
        (Say("Bonjour"), Say("Yvette Morel Point", expect=("Merci Yvette", "commune"), refuse=("Point",))),
    ),
    Transcript(
        "5. Jeanine Lefebvre de Marcillat gives the name and the commune",
        (
            Say("Bonjour"),
            Say(
                "Jeanine Lefebvre de Marcillat",
                expect=("Marcillat-en-Combraille", "vous diriez"),
                refuse=("commune ?",),
            ),
            Say("1"),
            Say("rien"),
        ),
        final=Final(name="Jeanine Lefebvre", commune="Marcillat-en-Combraille"),
    ),
    Transcript(
        "5. Mme Lucienne Aubert",
        (Say("Bonjour"), Say("Mme Lucienne Aubert", expect=("Merci Lucienne",)), Say("domerat"), Say("1"), Say("0")),
        final=Final(name="Lucienne Aubert"),
    ),
    Transcript(
        "5. c'est pour ma grand mere Raymonde Petit: the name is the participant's",
        (
            Say("Bonjour"),
            Say("c'est pour ma grand mere Raymonde Petit", expect=("Raymonde", "habite Raymonde"), refuse=("Pour",)),
            Say("premilhat", expect=("Raymonde dirait",)),
            Say("1"),
            Say("rien"),
        ),
        final=Final(name="Raymonde Petit"),
    ),
    Transcript(
        "5. a relative registers someone: the name asked is the participant's",
        (
            Say("bonjour c'est pour inscrire ma grand-mère", expect=("personne à inscrire",)),
            Say("Raymonde Petit", expect=("habite Raymonde",)),
        ),
    ),
    # 6. Every French commune is known; outside the territory, the kind answer names it properly.
    Transcript(
        "6. Moulins is outside, named",
        (Say("Bonjour"), Say("Paul Durand"), Say("Moulins", expect=("Moulins ne fait pas partie", "04 65 71 00 00"))),
    ),
    Transcript(
        "6. Vichy is outside, named",
        (Say("Bonjour"), Say("Paul Durand"), Say("j'habite à Vichy", expect=("Vichy ne fait pas partie",))),
    ),
    Transcript(
        "6. 03200 vichy is named Vichy, not the raw words",
        (
            Say("Bonjour"),
            Say("Paul Durand"),
            Say("03200 vichy", expect=("Vichy ne fait pas partie",), refuse=("03200 vichy",)),
            Say("Domérat", expect=("vous diriez",)),
        ),
    ),
    # 7. Interests rank the offers, and the topic is named in the offer and the confirmation.
    Transcript(
        "7. an interest ranks its workshop first, named in the offer and the seat",
        (
            Say("Bonjour c'est Josette Martin de Domerat", expect=("Josette", "vous diriez")),
            Say("je debute"),
            Say("la declaration d'impots", expect=("Impôts",)),
            Say("1", expect=("Atelier Impôts", "vendredi 6 mars")),
            Say("oui", expect=("Atelier Impôts", "vendredi 6 mars")),
        ),
        setup="planning",
        final=Final(seated_in=("dom-imp",), interests=1),
    ),
    Transcript(
        "7. lequel est sur les impots ?",
        (
            Say("Bonjour"),
            Say("Gisèle Bonnet"),
            Say("st victor"),
            Say("1"),
            Say("rien"),
            Say("lequel est sur les impots ?", expect=("Atelier Impôts", "vendredi 6 mars", "OUI ou NON")),
            Say("oui"),
        ),
        setup="planning",
        final=Final(seated_in=("dom-imp",)),
    ),
    # 8. No example that can be copied as an answer.
    Transcript(
        "8. the interests question shows no example to copy",
        (*SIGNUP[:3], Say("1", expect=("apprendre",), refuse=("par exemple", "1 3"))),
    ),
    # 9. Several answers in one SMS; nothing asked again.
    Transcript(
        "9. cest josette martin de domerat: name and commune",
        (
            Say("bjr"),
            Say(
                "cest josette martin de domerat",
                expect=("Merci Josette", "Domérat", "vous diriez"),
                refuse=("commune ?",),
            ),
            Say("3 je suis a l aise", expect=("apprendre",)),
        ),
    ),
    Transcript(
        "9. the whole sign-up in one SMS",
        (
            Say(
                "Bonjour je m'appelle Josette Martin j'habite Domerat je debute et je voudrais apprendre whatsapp",
                expect=("Appels vidéo", "Désertines"),
            ),
            Say("1", expect=("Désertines", "OUI ou NON")),
            Say("oui", expect=("C'est noté, Josette", "Désertines")),
        ),
        setup="planning",
        final=Final(seated_in=("des-vid",), level="beginner", commune="Domérat"),
    ),
    Transcript(
        "9. le 1 a domerat",
        (*SIGNUP[:4], Say("rien"), Say("le 1 a domerat", expect=("OUI ou NON", "Saint-Victor")), Say("oui")),
        final=Final(seated_in=("sv-beg",)),
    ),
    Transcript(
        "9. 2 pour nous deux: the second person's name, then both seated",
        (
            *SIGNUP[:4],
            Say("rien"),
            Say("2 pour nous deux", expect=("personne qui vient avec vous",)),
            Say("Bernard Dupont", expect=("tous les deux", "OUI ou NON")),
            Say("oui", expect=("Martine et Bernard", "Deux places")),
        ),
        final=Final(household_seated=2, reminder_says="Martine et Bernard"),
    ),
    # 10. Levels in words.
    Transcript(
        "10. jai un portable mais je sais pas men servir",
        (
            Say("Bonjour"),
            Say("Paul Durand"),
            Say("domerat"),
            Say("jai un portable mais je sais pas men servir", expect=("apprendre",)),
            Say("rien"),
        ),
        final=Final(level="beginner"),
    ),
    Transcript(
        "10. Beginner",
        (Say("Bonjour"), Say("Paul Durand"), Say("domerat"), Say("Beginner", expect=("apprendre",)), Say("rien")),
        final=Final(level="beginner"),
    ),
    # 11. Interests in free text, through the territory's words.
    Transcript(
        "11. les photos des petits-enfants",
        (*SIGNUP[:4], Say("les photos des petits-enfants", expect=("Saint-Victor",))),
        final=Final(interests=1),
    ),
    Transcript(
        "11. doctolib et les arnaques",
        (*SIGNUP[:4], Say("doctolib et les arnaques", expect=("Saint-Victor",))),
        final=Final(interests=2),
    ),
    # 12. Choosing a workshop the way people speak.
    Transcript(
        "12. MARDI CEST MIEUX",
        (*TO_THE_LIST, Say("MARDI CEST MIEUX", expect=("mardi 10 mars", "OUI ou NON")), Say("oui")),
        final=Final(seated_in=("des-beg",)),
    ),
    Transcript(
        "12. le 7 ca ira",
        (*TO_THE_LIST, Say("le 7 ca ira", expect=("samedi 7 mars", "OUI ou NON")), Say("oui")),
        final=Final(seated_in=("dom-beg",)),
    ),
    Transcript(
        "12. st victor picks the Saint-Victor workshop",
        (*TO_THE_LIST, Say("st victor", expect=("jeudi 5 mars", "OUI ou NON")), Say("oui")),
        final=Final(seated_in=("sv-beg",)),
    ),
    Transcript(
        "12. celui de lavault ma soeur habite la bas: a place none of the three has is looked for further",
        (
            Say("Bonjour"),
            Say("Gisèle Bonnet"),
            Say("st victor"),
            Say("1"),
            Say("rien"),
            Say("celui de lavault ma soeur habite la bas", expect=("Lavault-Sainte-Anne", "complet")),
        ),
        setup="planning",
    ),
    Transcript(
        "12. l apres midi",
        (
            Say("Bonjour"),
            Say("Gisèle Bonnet"),
            Say("domerat"),
            Say("1"),
            Say("impots"),
            Say("l apres midi", expect=("14",), refuse=("9 h",)),
        ),
        setup="planning",
    ),
    Transcript(
        "12. n importe lequel",
        (*TO_THE_LIST, Say("n importe lequel", expect=("jeudi 5 mars", "OUI ou NON")), Say("oui")),
        final=Final(seated_in=("sv-beg",)),
    ),
    Transcript(
        "12. le plus tot",
        (*TO_THE_LIST, Say("le plus tot", expect=("jeudi 5 mars", "OUI ou NON"))),
    ),
    Transcript(
        "12. ya pas d autres dates shows the next ones",
        (
            Say("Bonjour"),
            Say("Gisèle Bonnet"),
            Say("st victor"),
            Say("1"),
            Say("rien", expect=("jeudi 5 mars",)),
            Say("ya pas d autres dates ?", expect=("31 mars",), refuse=("jeudi 5 mars",)),
        ),
        setup="planning",
    ),
    Transcript(
        "12. a date none of the three has: le 31 is looked for in the planning",
        (
            Say("Bonjour"),
            Say("Gisèle Bonnet"),
            Say("st victor"),
            Say("1"),
            Say("rien"),
            Say("le 31", expect=("mardi 31 mars", "OUI ou NON")),
            Say("oui"),
        ),
        setup="planning",
        final=Final(seated_in=("mon-31",)),
    ),
    # 13. Questions anywhere get an answer, then the same question again; polite exits.
    Transcript(
        "13. c'est payant ? at the commune question",
        (
            Say("Bonjour"),
            Say("Paul Durand"),
            Say("c'est payant ?", expect=("gratuit", "commune"), refuse=("pas compris", "pas trouvé")),
            Say("domerat", expect=("vous diriez",)),
        ),
    ),
    Transcript(
        "13. what to bring, at the level question",
        (
            Say("Bonjour"),
            Say("Paul Durand"),
            Say("domerat"),
            Say("qu'est ce que je dois apporter ?", expect=("lunettes", "vous diriez"), refuse=("pas compris",)),
        ),
    ),
    Transcript(
        "13. c'est ou exactement ? at the confirmation: the address",
        (
            *SIGNUP[:6],
            Say("c'est ou exactement ?", expect=("7 rue André-Gide", "OUI ou NON"), refuse=("pas compris",)),
            Say("oui"),
        ),
        final=Final(seated=1),
    ),
    Transcript(
        "13. je n'ai pas de voiture, then CONSEILLER keeps that reason",
        (
            *SIGNUP[:3],
            Say("je n'ai pas de voiture", expect=("CONSEILLER", "vous diriez")),
            Say("CONSEILLER", expect=("rappeler",)),
        ),
        final=Final(callbacks=1, callback_reason="pas de voiture"),
    ),
    Transcript(
        "13. is this a scam?",
        (Say("Bonjour"), Say("c'est une arnaque ?", expect=("Pas d'arnaque", "prénom"))),
    ),
    Transcript(
        "13. merci au revoir ends kindly",
        (Say("Bonjour"), Say("Paul Durand"), Say("merci au revoir", expect=("au revoir",), refuse=("pas compris",))),
    ),
    Transcript(
        "13. non merci finalement, at the offer",
        (*TO_THE_LIST, Say("non merci finalement", expect=("au revoir",))),
        final=Final(seated=0),
    ),
    Transcript(
        "13. bon tant pis",
        (*SIGNUP[:3], Say("bon tant pis", expect=("au revoir",))),
    ),
    Transcript(
        "13. effacez mon nom leads to OUBLIER's confirmation",
        (*SEATED, Say("effacez mon nom svp", expect=("Effacer votre nom", "OUI ou NON")), Say("oui")),
        final=Final(erased=True),
    ),
    # 14. A full workshop named by day or place: its waiting list.
    Transcript(
        "14. a full workshop named by place is offered with its waiting list",
        (
            Say("Bonjour"),
            Say("Gisèle Bonnet"),
            Say("st victor"),
            Say("1"),
            Say("rien"),
            Say("mercredi", expect=("complet", "Attendre une place le mercredi 11 mars")),
            Say("oui", expect=("liste d'attente",)),
        ),
        setup="planning",
        final=Final(waiting=1, seated=0),
    ),
    # 15. Two people, one phone.
    Transcript(
        "15. on sera deux avec mon mari: the second name, two seats, reminders naming both",
        (
            Say("Bonjour"),
            Say("Colette Renaud", expect=("Merci Colette",)),
            Say("on sera deux avec mon mari", expect=("personne qui vient avec vous",)),
            Say("Bernard Renaud", expect=("commune",)),
            Say("st victor"),
            Say("1"),
            Say("rien", expect=("tous les deux",)),
            Say("oui", expect=("Colette et Bernard", "Deux places")),
        ),
        setup="single_two",
        final=Final(household_seated=2, reminder_says="Colette et Bernard"),
    ),
    Transcript(
        "15. Colette et Bernard Renaud, then cancelling one of them",
        (
            Say("Bonjour"),
            Say("Colette et Bernard Renaud", expect=("Merci Colette", "commune")),
            Say("st victor"),
            Say("1"),
            Say("rien", expect=("tous les deux",)),
            Say("oui", expect=("Colette et Bernard",)),
            Say("ANNULER", expect=("Qui ne viendra pas", "Colette", "Bernard", "Tous les deux")),
            Say(choice=2, expect=("Annuler l'inscription de Bernard",)),
            Say("oui", expect=("Bernard ne vient pas",)),
        ),
        setup="single_two",
        final=Final(household_seated=1, seated=1, reminder_says="Rappel :"),
    ),
    # 17. STOP says what happens to the seat; START's French words; "not understood" said; AIDE; reasons.
    Transcript(
        "17. STOP with a seat says it is kept, and how to come back",
        (*SEATED, Say("STOP", expect=("gardée", "START"))),
        final=Final(opted_out=True, seated=1),
    ),
    Transcript(
        "17. REPRENDRE after STOP",
        (Say("Bonjour"), Say("STOP"), Say("REPRENDRE", expect=("de nouveau",))),
        final=Final(opted_out=False),
    ),
    Transcript(
        "17. RETOUR after STOP",
        (Say("STOP"), Say("retour", expect=("de nouveau",))),
        final=Final(opted_out=False),
    ),
    Transcript(
        "17. d'acc at the confirmation",
        (*SIGNUP[:6], Say("d'acc", expect=("C'est noté, Martine",))),
        final=Final(seated=1),
    ),
    Transcript(
        "17. words not understood at the confirmation say so before asking again",
        (*SIGNUP[:6], Say("bof bof", expect=("Je n'ai pas compris", "OUI ou NON"))),
    ),
    Transcript("17. AIDE lists RECOMMENCER", (Say("AIDE", expect=("RECOMMENCER", "CONSEILLER")),)),
    Transcript(
        "17. CONSEILLER keeps the reason given",
        (*SEATED, Say("CONSEILLER je n'ai pas de voiture", expect=("rappeler",))),
        final=Final(callbacks=1, callback_reason="pas de voiture"),
    ),
)

TRANSCRIPTS = TRANSCRIPTS + ISSUE_13
