"""Residents as they really write, with what they want: the figures of issue 13 are measured on them.

A persona is a goal and the messages they would write. They answer what they are asked: each step of the
conversation (the one stored after our reply) has their words for it, used in order (they say it again the last
way when asked again: people repeat themselves, or give up after ``MAX_MESSAGES``). They write as the retired
people of these villages do: capitals, no accents, phonetic spelling, several ideas in one SMS, questions in the
middle, a grandchild typing, voice dictation.

``run_personas`` plays each one through the service (``handle_inbound``, SMS, on a fresh SQLite database holding a
realistic planning: weekly workshops in the villages, four weeks) and measures:

- the share reaching their goal;
- the number of SMS they sent to get a seat, from a cold start (and when their first SMS gives name and village);
- the share of our replies that fit one SMS segment;
- the share of their messages answered "not understood".

Not a benchmark of speed: ``bench/personas.py`` prints the figures, ``tests/test_personas.py`` holds the targets.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.channels import Inbound
from bot.config import DEFAULT_TERRITORY, load_settings
from bot.context import Context
from bot.conversation.gsm7 import count_segments, render_sms
from bot.conversation.understanding.interests import topic_subjects
from bot.service.inbound import handle_inbound
from bot.service.places import sync_territory
from bot.territory import Territory, load_territory
from storage.database import Database
from storage.enums import Channel
from storage.migrate import upgrade
from storage.models import (
    CallbackRequest,
    Conversation,
    Enrolment,
    EnrolmentStatus,
    Level,
    Resident,
    Venue,
    Workshop,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 2 March 2026, 9:00 in Paris
MAX_MESSAGES = 15
PHONE = "+33611223344"
NOT_UNDERSTOOD = ("pas compris", "pas trouvé cette commune")

SV, DOMERAT, DESERTINES, MONTLUCON, QUINSSAINES = "03262", "03101", "03098", "03185", "03212"
LAVAULT, MARCILLAT, PREMILHAT, VILLEBRET, TEILLET = "03140", "03161", "03211", "03314", "03279"
SAINT_GENEST = "03233"
MON, TUE, WED, THU, FRI = range(5)

# --- The planning: weekly workshops, as advisers plan them ------------------------------------------------------

TABLET, VIDEO, PHONE_FIRST, MAIL = (
    "Premiers pas sur la tablette",
    "Appels vidéo avec la famille",
    "Premiers pas sur le smartphone",
    "Envoyer et recevoir des e-mails",
)
AMELI, TAXES, SCAMS, PHOTOS, BANK, PAPERS = (
    "Ameli et Doctolib",
    "Déclarer ses impôts en ligne",
    "Se protéger des arnaques en ligne",
    "Trier et partager ses photos",
    "Banque en ligne en sécurité",
    "Démarches en ligne avec FranceConnect",
)


@dataclass(frozen=True)
class Series:
    """A weekly workshop: one village, one weekday and time, one level; the topic changes every week."""

    commune: str
    weekday: int
    hour: int
    minute: int
    level: Level
    topics: tuple[str, ...]
    full_first: bool = False  # the first one is full (six people already)


SERIES = (
    Series(SV, MON, 14, 0, Level.beginner, (TABLET, VIDEO, PHONE_FIRST, MAIL)),
    Series(DOMERAT, TUE, 14, 0, Level.beginner, (TAXES, AMELI, SCAMS, PHOTOS, TABLET)),
    Series(DESERTINES, WED, 14, 0, Level.beginner, (MAIL, TABLET, VIDEO, PHONE_FIRST)),
    Series(MONTLUCON, MON, 9, 30, Level.intermediate, (AMELI, BANK, VIDEO, PHOTOS)),
    Series(MONTLUCON, THU, 9, 30, Level.beginner, (PHONE_FIRST, SCAMS, MAIL, AMELI)),
    Series(MONTLUCON, WED, 14, 0, Level.advanced, (TAXES, BANK, SCAMS, PAPERS)),
    Series(QUINSSAINES, TUE, 14, 0, Level.intermediate, (BANK, MAIL, PHOTOS, AMELI)),
    Series(LAVAULT, THU, 14, 0, Level.beginner, (PHOTOS, TABLET, VIDEO, MAIL), full_first=True),
    Series(MARCILLAT, THU, 14, 0, Level.beginner, (TABLET, PHONE_FIRST, VIDEO, AMELI)),
    Series(PREMILHAT, FRI, 14, 0, Level.beginner, (AMELI, MAIL, PHONE_FIRST, SCAMS)),
    Series(VILLEBRET, FRI, 9, 30, Level.beginner, (VIDEO, TABLET, PHOTOS, TAXES)),
    Series(TEILLET, TUE, 9, 30, Level.advanced, (BANK, PAPERS, SCAMS, TAXES)),
    Series(SAINT_GENEST, THU, 9, 30, Level.intermediate, (PHOTOS, AMELI, BANK, VIDEO)),
    Series(DOMERAT, FRI, 9, 30, Level.intermediate, (BANK, PHOTOS, AMELI, VIDEO)),
)


def planning_days(series: Series) -> list[date]:
    """Its dates: from tomorrow, for four weeks (five for the Tuesday series: the 31st of March is a Tuesday)."""
    first = NOW.astimezone(PARIS).date() + timedelta(days=1)
    days = [first + timedelta(days=d) for d in range(36)]
    dates = [d for d in days if d.weekday() == series.weekday]
    return dates[: len(series.topics)]


# --- Personas -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """What the persona wants. ``kind``: seat, wait, cancel, move, callback, stop, erase, told (something said)."""

    kind: str
    commune: str | None = None  # the workshop's commune (INSEE)
    weekday: int | None = None
    day: int | None = None  # day of the month
    subject: str | None = None  # an interest label the workshop is about
    afternoon: bool | None = None
    seats: int = 1  # 2: both people sharing the phone
    reason: str | None = None  # a callback's reason holds this
    hear: tuple[str, ...] = ()  # our replies must have said all of these (an answer, a kind refusal)


@dataclass(frozen=True)
class Persona:
    label: str
    goal: Goal
    says: Mapping[str, tuple[str, ...]]  # the step they are asked → their answers in order ("first", "idle")
    seated: tuple[tuple[str, int], ...] = ()  # already registered and seated: (commune, day of month) each
    level: Level = Level.beginner  # when already registered

    @property
    def cold(self) -> bool:
        return not self.seated


def p(label: str, goal: Goal, *, seated: tuple[tuple[str, int], ...] = (), **says: str | tuple[str, ...]) -> Persona:
    answers = {step: (said,) if isinstance(said, str) else said for step, said in says.items()}
    return Persona(label, goal, answers, seated)


SEAT = Goal("seat")
FIRST_SET: tuple[Persona, ...] = (
    # Signing up, from the first message.
    p(
        "all caps",
        SEAT,
        first="BONJOUR JE VOUDRAIS MINSCRIRE",
        name="MARTINE DUPONT",
        commune="ST VICTOR",
        level="1",
        interests="RIEN",
        workshop="1",
        confirm_workshop="OUI",
    ),
    p(
        "name and village in the first SMS",
        Goal("seat", commune=DOMERAT, subject="Impôts"),
        first="bjr cest josette martin de domerat je debute",
        interests="les impots",
        workshop="le 1",
        confirm_workshop="oui",
    ),
    p(
        "everything in one SMS",
        Goal("seat", subject="E-mail"),
        first="Bonjour je m'appelle Josiane Meunier j'habite a Villebret je debute et je voudrais apprendre les mails",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "name and village, all caps",
        SEAT,
        first="BONJOUR C EST ROBERT FAURE DE MONTLUCON",
        level="DEBUTANT",
        interests="TOUT",
        workshop="LE PREMIER",
        confirm_workshop="OUI MERCI",
    ),
    p(
        "name and village, no greeting",
        SEAT,
        first="Simone Aubert, Premilhat",
        level="je suis nulle",
        interests="ameli",
        workshop="1",
        confirm_workshop="ok",
    ),
    p(
        "voice dictation",
        Goal("seat", commune=DESERTINES),
        first="Bonjour point je m'appelle Raymond Garnier point j'habite à Désertines point",
        level="je suis débutant point",
        interests="les appels vidéo avec mes petits-enfants point",
        workshop="mercredi",
        confirm_workshop="oui d'accord",
    ),
    p(
        "dictated name",
        SEAT,
        first="Bonjour",
        name="Yvette Morel Point",
        commune="Villebret",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "a grandchild types for grandma",
        SEAT,
        first="Bonjour c'est pour ma grand-mère, elle a pas de portable à elle, elle s'appelle Raymonde Petit",
        commune="elle habite a Premilhat",
        level="elle debute completement",
        interests="whatsapp pour nous voir",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "a grandson registers Mme Roux",
        SEAT,
        first="Bonjour je suis le petit fils de Mme Jeanne Roux je l'inscris, elle habite Teillet",
        name="Jeanne Roux",
        commune="Teillet Argenty",
        level="elle sait juste telephoner",
        interests="les photos",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "a couple in the name",
        Goal("seat", seats=2),
        first="Bonjour",
        name="Colette et Bernard Renaud",
        commune="Saint Victor",
        level="on debute tous les deux",
        interests="1",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "with her husband",
        Goal("seat", seats=2),
        first="bonjour je voudrais m inscrire avec mon mari",
        name="Gisele Bonnet",
        companion="Robert Bonnet",
        commune="lavault",
        level="2",
        interests="la banque",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "two of us, said at the list",
        Goal("seat", seats=2),
        first="Bonjour",
        name="Lucienne Lemaire",
        commune="domerat",
        level="1",
        interests="rien",
        workshop="2 pour nous deux",
        companion="Bernard Lemaire",
        confirm_workshop="oui",
    ),
    p(
        "madame and a long first message",
        SEAT,
        first="Bonjour Madame, je me permets de vous écrire car ma voisine m'a parlé de vos ateliers",
        name="Moi c'est Germaine Lacroix",
        commune="je suis de Saint Genest",
        level="Je me débrouille un peu",
        interests="les photos de famille",
        workshop="1",
        confirm_workshop="oui merci",
    ),
    p(
        "MES ATELIERS from someone new",
        SEAT,
        first="MES ATELIERS",
        name="Henri Vidal",
        commune="Marcillat",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "AIDE first",
        SEAT,
        first="aide",
        idle="je veux m'inscrire",
        name="Louis Bertrand",
        commune="Desertines",
        level="1",
        interests="les mails",
        workshop="1",
        confirm_workshop="oui",
    ),
    # Levels in words.
    p(
        "a phone but cannot use it",
        SEAT,
        first="Bonjour",
        name="Marcelle Giraud",
        commune="Montlucon",
        level="jai un portable mais je sais pas men servir",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "a tablet given by the granddaughter",
        SEAT,
        first="bonjour",
        name="Jacqueline Moreau",
        commune="Villebret",
        level="ma petite fille m'a offert une tablette et je sais pas l allumer",
        interests="la tablette",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "only phone calls",
        SEAT,
        first="Bjr",
        name="Albert Roche",
        commune="Premilhat",
        level="je ne sais que telephoner",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "Beginner in English",
        SEAT,
        first="Hello",
        name="Mary Blanchard",
        commune="Domerat",
        level="Beginner",
        interests="nothing",
        workshop="1",
        confirm_workshop="yes",
    ),
    # Communes as written.
    p(
        "a postcode several share",
        SEAT,
        first="Bonjour",
        name="Pierre Lacroix",
        commune="03410",
        commune_pick="lignerolles",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "a typo in the commune",
        SEAT,
        first="Bonjour",
        name="Annie Vincent",
        commune="Domera",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "st marcel",
        SEAT,
        first="Bonjour",
        name="Claude Fournier",
        commune="st marcel",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "Moulins, outside",
        Goal("told", hear=("Moulins ne fait pas partie", "04 65 71 00 00")),
        first="Bonjour",
        name="Paul Durand",
        commune="Moulins",
    ),
    p(
        "Vichy and its postcode in the first SMS",
        Goal("told", hear=("Vichy ne fait pas partie",)),
        first="bonjour je suis de vichy 03200 est ce que je peux venir",
    ),
    p(
        "Commentry, a neighbour",
        Goal("told", hear=("Commentry ne fait pas partie",)),
        first="Bonjour",
        name="Lucien Faure",
        commune="commentry",
    ),
    # Interests in free text, and choosing the way people speak.
    p(
        "the doctor and doctolib",
        Goal("seat", subject="Santé, Ameli"),
        first="Bonjour",
        name="Yvonne Barbier",
        commune="Montlucon",
        level="1",
        interests="les rendez vous chez le docteur et doctolib",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "scams",
        Goal("seat", subject="Arnaques"),
        first="Bonjour",
        name="Roland Perret",
        commune="Montlucon",
        level="debutant",
        interests="me proteger des arnaques sur internet",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "lequel est sur les impots",
        Goal("seat", subject="Impôts"),
        first="Bonjour",
        name="Gilbert Marchal",
        commune="Desertines",
        level="1",
        interests="rien",
        workshop="lequel est sur les impots ?",
        confirm_workshop="oui",
    ),
    p(
        "MARDI CEST MIEUX",
        Goal("seat", weekday=TUE),
        first="Bonjour",
        name="Andre Morel",
        commune="st victor",
        level="debutant",
        interests="tout",
        workshop="MARDI CEST MIEUX",
        confirm_workshop="oui",
    ),
    p(
        "le 18 ca ira",
        Goal("seat", day=18),
        first="bonjour",
        name="Simone Girard",
        commune="desertines",
        level="1",
        interests="rien",
        workshop="le 18 ca ira",
        confirm_workshop="oui",
    ),
    p(
        "celui de lavault ma soeur habite la bas",
        Goal("seat", commune=LAVAULT),
        first="Bonjour",
        name="Odette Chevalier",
        commune="Montlucon",
        level="je suis nulle",
        interests="photos",
        workshop=("celui de lavault ma soeur habite la bas", "le premier"),
        confirm_workshop="oui",
        waitlist="non, un autre jour a lavault",
    ),
    p(
        "l apres midi",
        Goal("seat", afternoon=True),
        first="Bonjour",
        name="Lucette Marchand",
        commune="Villebret",
        level="1",
        interests="rien",
        workshop="l apres midi c est mieux",
        confirm_workshop="oui",
    ),
    p(
        "n importe lequel",
        SEAT,
        first="bonjour",
        name="Guy Lambert",
        commune="premilhat",
        level="1",
        interests="peu importe",
        workshop="n importe lequel",
        confirm_workshop="oui",
    ),
    p(
        "le plus tot",
        SEAT,
        first="Bonjour",
        name="Rene Collin",
        commune="Domerat",
        level="1",
        interests="rien",
        workshop="le plus tot possible",
        confirm_workshop="oui",
    ),
    p(
        "ya pas d autres dates",
        SEAT,
        first="Bonjour",
        name="Paulette Gauthier",
        commune="St Victor",
        level="1",
        interests="rien",
        workshop=("ya pas d autres dates ?", "1"),
        confirm_workshop="oui",
    ),
    p(
        "weekly: typing the line of the 16th",
        Goal("seat", day=16),
        first="Bonjour",
        name="Marthe Lebrun",
        commune="Saint-Victor",
        level="1",
        interests="rien",
        workshop="lundi 16 mars",
        confirm_workshop="oui",
    ),
    p(
        "a number off the list, then the right one",
        SEAT,
        first="Bonjour",
        name="Fernand Colas",
        commune="Domerat",
        level="1",
        interests="rien",
        workshop=("9", "2"),
        confirm_workshop="oui",
    ),
    p(
        "d'acc",
        SEAT,
        first="Bonjour",
        name="Ginette Roy",
        commune="Montlucon",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="d'acc",
    ),
    p(
        "a full workshop named: its waiting list",
        Goal("wait", commune=LAVAULT),
        first="Bonjour",
        name="Paulette Dumas",
        commune="Lavault Sainte Anne",
        level="1",
        interests="photos",
        workshop="jeudi 5",
        waitlist="oui",
    ),
    # Questions in the middle.
    p(
        "is it free",
        Goal("seat", hear=("gratuit",)),
        first="Bonjour c'est gratuit ?",
        name="Denise Roux",
        commune="Quinssaines",
        level="un peu",
        interests="rien de special",
        workshop="1",
        confirm_workshop="ok",
    ),
    p(
        "what to bring",
        Goal("seat", hear=("lunettes",)),
        first="bjr",
        name="Marcel Perrin",
        commune="domerat",
        level="je me debrouille",
        interests=("qu est ce qu il faut apporter ?", "les photos"),
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "is it a scam",
        Goal("seat", hear=("Pas d'arnaque",)),
        first="c'est quoi ce message ? c'est une arnaque ?",
        name="Yvonne Petit",
        commune="Domerat",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "no car, then CONSEILLER",
        Goal("callback", reason="voiture"),
        first="Bonjour",
        name="Henriette Blanc",
        commune="Lamaids",
        level="1",
        interests=("je n'ai pas de voiture", "CONSEILLER"),
    ),
    p(
        "a polite exit",
        Goal("told", hear=("au revoir",)),
        first="Bonjour",
        name="Roger Blanc",
        commune="Ronnet",
        level="finalement non merci je vais reflechir",
    ),
    # Already seated: cancelling, moving, asking.
    p(
        "sick, in plain words",
        Goal("cancel"),
        seated=((SV, 9),),
        first="bonjour je suis malade je viendrai pas lundi",
        cancel_confirm="oui",
    ),
    p(
        "EMPECHE",
        Goal("cancel"),
        seated=((DOMERAT, 3),),
        first="EMPECHE POUR MARDI DESOLE",
        cancel_confirm="OUI",
    ),
    p(
        "a funeral",
        Goal("cancel"),
        seated=((DESERTINES, 4),),
        first="je pourrai pas venir a latelier on a un enterrement",
        cancel_confirm="oui",
    ),
    p(
        "cancelling the Wednesday one of two",
        Goal("cancel", weekday=WED),
        seated=((SV, 9), (DESERTINES, 11)),
        first="annuler mercredi",
        cancel_confirm="oui",
        cancel_pick="mercredi",
    ),
    p(
        "changing the date for the 10th",
        Goal("move", day=10),
        seated=((DOMERAT, 3),),
        first="je voudrais changer de date pour le 10 svp",
        confirm_workshop="oui",
    ),
    p(
        "another day, rather Wednesday",
        Goal("move", weekday=WED),
        seated=((SV, 9),),
        first="est ce que je peux venir un autre jour plutot mercredi",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "where exactly",
        Goal("told", hear=("André-Gide",)),
        seated=((SV, 9),),
        first="c'est ou exactement l'atelier ?",
    ),
    p(
        "CONSEILLER with a reason",
        Goal("callback", reason="ameli"),
        seated=((SV, 9),),
        first="CONSEILLER je n arrive pas a me connecter a ameli",
    ),
    p(
        "effacez mon nom",
        Goal("erase"),
        seated=((SV, 9),),
        first="effacez mon nom de votre liste svp",
        forget_confirm="oui",
    ),
    p(
        "STOP",
        Goal("stop"),
        first="Bonjour",
        name="Marc Lefevre",
        commune="STOP",
    ),
)


# A second set, written after the first one had shaped the conversation, and measured as it came the first time
# (README: "Issue 13 figures"): how the conversation copes with writing it was not tuned on.
SECOND_SET: tuple[Persona, ...] = (
    p(
        "slt jveux",
        SEAT,
        first="slt jveux minscrire",
        name="jean claude BERNARD",
        commune="j'habite a montlucon quartier fontbouillant",
        level="pas tres doue avec ces trucs",
        interests="jsp",
        workshop="ok le 1",
        confirm_workshop="ouii",
    ),
    p(
        "a granddaughter with emoji",
        SEAT,
        first="Bonjour 😊 je suis la petite fille de Mme Colette Girard, elle voudrait participer 🙏",
        name="Colette Girard",
        commune="Domérat 03410",
        level="elle n'a jamais touché un ordi",
        interests="elle veut voir ses arrières petits enfants en visio",
        workshop="le premier",
        confirm_workshop="Oui merci beaucoup 😊",
    ),
    p(
        "dictated commas",
        SEAT,
        first="bonjour virgule je voudrais m'inscrire à un atelier point",
        name="Bernadette Faure point",
        commune="à Lignerolles",
        level="débutante",
        interests="les impôts et la banque",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "phonetic",
        SEAT,
        first="bjr je voudré minscrir",
        name="suzane lefevre",
        commune="st jenest",
        level="je debut",
        interests="les foto",
        workshop="1",
        confirm_workshop="ok",
    ),
    p(
        "several ideas and the price",
        SEAT,
        first="Bonjour, je m'appelle Lucien Mercier, j'habite à Quinssaines, je me débrouille un peu, c'est combien ?",
        interests="la banque en ligne",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "03420",
        SEAT,
        first="Bonjour",
        name="Raymonde Chatelain",
        commune="03420",
        commune_pick="marcillat",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "Neris les bains",
        Goal("told", hear=("Néris-les-Bains ne fait pas partie",)),
        first="Bonjour",
        name="Jacques Lemoine",
        commune="Neris les bains",
    ),
    p(
        "not coming on the 4th",
        Goal("cancel"),
        seated=((DESERTINES, 4),),
        first="bonjour je ne pourrai pas venir le 4 mars desolee",
        cancel_confirm="oui",
    ),
    p(
        "changing for Friday the 13th",
        Goal("move", day=13),
        seated=((PREMILHAT, 6),),
        first="est ce que je peux changer pour le vendredi 13",
        confirm_workshop="oui",
    ),
    p(
        "what are these workshops for",
        SEAT,
        first="c'est pour quoi ces ateliers ?",
        name="Maurice Blanc",
        commune="Teillet",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "a question at the confirmation",
        SEAT,
        first="Bonjour",
        name="Huguette Garnier",
        commune="Villebret",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop=("ca dure combien de temps ?", "oui"),
    ),
    p(
        "numbers in words",
        SEAT,
        first="Bonjour",
        name="Arlette Dumont",
        commune="Quinssaines",
        level="le deux",
        interests="2 et 5",
        workshop="le deuxieme",
        confirm_workshop="OUI OUI",
    ),
    p(
        "Madame and her full name",
        SEAT,
        first="Bonjour",
        name="Madame Paulette Renard",
        commune="Ronnet",
        level="1",
        interests="rien",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "stop sending me messages",
        Goal("stop"),
        first="arretez de m envoyer des messages",
    ),
    p(
        "husband and wife",
        Goal("seat", seats=2),
        first="nous voudrions nous inscrire mon epouse et moi",
        name="Michel Dubois",
        companion="Monique Dubois",
        commune="Villebret",
        level="debutants",
        interests="whatsapp",
        workshop="1",
        confirm_workshop="oui",
    ),
    p(
        "none of these suits me",
        SEAT,
        first="Bonjour",
        name="Yves Poirier",
        commune="Premilhat",
        level="1",
        interests="rien",
        workshop=("aucun ne me va", "1"),
        confirm_workshop="oui",
    ),
)

PERSONAS = FIRST_SET + SECOND_SET


# --- Running them -----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    persona: Persona
    reached: bool
    sent: int  # SMS the persona sent
    to_seat: int | None  # SMS sent when the goal's seat was taken (seat goals)
    replies: list[str] = field(default_factory=list)  # every SMS we sent them, as rendered
    not_understood: int = 0  # their messages answered "not understood"

    @property
    def one_segment(self) -> int:
        return sum(1 for sms in self.replies if count_segments(sms) == 1)


@dataclass(frozen=True)
class Figures:
    personas: int
    reached: int
    median_to_seat: float
    median_to_seat_given_name_and_village: float
    replies: int
    one_segment: int
    messages: int
    not_understood: int
    failed: tuple[str, ...]

    @property
    def reached_share(self) -> float:
        return self.reached / self.personas

    @property
    def one_segment_share(self) -> float:
        return self.one_segment / self.replies

    @property
    def not_understood_share(self) -> float:
        return self.not_understood / self.messages


# Their first SMS gives name and village: the shortest path is then five SMS (level, interests, choice, OUI).
NAME_AND_VILLAGE = (
    "name and village in the first SMS",
    "everything in one SMS",
    "name and village, all caps",
    "name and village, no greeting",
    "voice dictation",
    "several ideas and the price",
)


async def _seed(db: Database, territory: Territory) -> None:
    async with db.write() as session:
        venues = {v.commune_insee: v for v in (await session.scalars(select(Venue))).unique()}
        filler = 0
        for series in SERIES:
            venue = venues[series.commune]
            for week, day in enumerate(planning_days(series)):
                local = datetime(day.year, day.month, day.day, series.hour, series.minute, tzinfo=PARIS)
                workshop = Workshop(
                    venue_id=venue.id,
                    starts_at=local,
                    ends_at=local + timedelta(hours=2),
                    level=series.level,
                    topic=series.topics[week],
                    capacity=6,
                )
                session.add(workshop)
                await session.flush()
                if series.full_first and week == 0:
                    for seat in range(6):
                        filler += 1
                        neighbour = Resident(phone=f"+3360000{filler:04d}", name=f"Voisin {seat}", interests=[])
                        session.add(neighbour)
                        await session.flush()
                        session.add(
                            Enrolment(resident_id=neighbour.id, workshop_id=workshop.id, status=EnrolmentStatus.seated)
                        )


async def _template(directory: Path, territory: Territory) -> Path:
    path = directory / "template.db"
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db.engine)
        await sync_territory(db=db, territory=territory)
        await _seed(db, territory)
    finally:
        await db.dispose()
    return path


async def _seat_already(db: Database, persona: Persona) -> list[int]:
    """A registered resident, seated where the persona says; returns the enrolments."""
    ids = []
    async with db.write() as session:
        resident = Resident(
            phone=PHONE,
            name="Suzanne Martin",
            commune_insee=persona.seated[0][0],
            level=persona.level,
            interests=[],
            consent_at=NOW - timedelta(days=10),
            consent_channel=Channel.sms,
            created_at=NOW - timedelta(days=10),
            last_activity_at=NOW - timedelta(days=10),
        )
        session.add(resident)
        await session.flush()
        for commune, day in persona.seated:
            workshop = next(
                w
                for w in (await session.scalars(select(Workshop).order_by(Workshop.starts_at))).unique()
                if w.venue.commune_insee == commune and w.starts_at.astimezone(PARIS).day == day
            )
            enrolment = Enrolment(resident_id=resident.id, workshop_id=workshop.id, status=EnrolmentStatus.seated)
            session.add(enrolment)
            await session.flush()
            ids.append(enrolment.id)
    return ids


def _fits(goal: Goal, workshop: Workshop, territory: Territory) -> bool:
    local = workshop.starts_at.astimezone(PARIS)
    return (
        (goal.commune is None or workshop.venue.commune_insee == goal.commune)
        and (goal.weekday is None or local.weekday() == goal.weekday)
        and (goal.day is None or local.day == goal.day)
        and (goal.afternoon is None or (local.hour >= 12) == goal.afternoon)
        and (goal.subject is None or goal.subject in topic_subjects(workshop.topic, territory.interests))
    )


async def _reached(db: Database, persona: Persona, seated: list[int], heard: str, territory: Territory) -> bool:
    goal = persona.goal
    if goal.hear and not all(h.casefold() in heard.casefold() for h in goal.hear):
        return False
    async with db.read() as session:
        resident = (
            (await session.execute(select(Resident).where(Resident.phone == PHONE))).unique().scalar_one_or_none()
        )
        if goal.kind == "told":
            return True
        if goal.kind == "erase":
            erased = (await session.scalars(select(Resident.erased).where(Resident.id.is_not(None)))).all()
            return resident is None and any(erased)
        if resident is None:
            return False
        if goal.kind == "stop":
            return resident.opted_out_sms
        if goal.kind == "callback":
            reasons = (
                await session.scalars(select(CallbackRequest.reason).where(CallbackRequest.resident_id == resident.id))
            ).all()
            return any(goal.reason is None or goal.reason in (r or "").casefold() for r in reasons)
        companions = await session.scalars(select(Resident.id).where(Resident.companion_of_id == resident.id))
        household = [resident.id, *companions.all()]
        enrolments = list(
            (await session.scalars(select(Enrolment).where(Enrolment.resident_id.in_(household)))).unique()
        )
        if goal.kind == "cancel":
            cancelled = [e for e in enrolments if e.id in seated and e.status == EnrolmentStatus.cancelled]
            return any(_fits(goal, e.workshop, territory) for e in cancelled) and len(cancelled) == 1
        wanted = EnrolmentStatus.waiting if goal.kind == "wait" else EnrolmentStatus.seated
        fitting = [
            e for e in enrolments if e.status == wanted and e.id not in seated and _fits(goal, e.workshop, territory)
        ]
        if goal.kind == "move":
            gave_up = all(e.status == EnrolmentStatus.cancelled for e in enrolments if e.id in seated)
            return gave_up and len(fitting) >= 1
        by_workshop: dict[int, int] = {}
        for e in fitting:
            by_workshop[e.workshop_id] = by_workshop.get(e.workshop_id, 0) + 1
        return any(count >= goal.seats for count in by_workshop.values())


async def _step(db: Database) -> str:
    async with db.read() as session:
        conversation = (
            await session.execute(select(Conversation).where(Conversation.address == PHONE))
        ).scalar_one_or_none()
        return conversation.step if conversation is not None else "idle"


async def play_persona(persona: Persona, db: Database, territory: Territory) -> Outcome:
    settings = load_settings({"ATELIER_DATABASE_URL": "sqlite+aiosqlite://"})
    clock = Clock(NOW)
    ctx = Context(settings=settings, db=db, territory=territory, clock=clock)
    seated = await _seat_already(db, persona) if persona.seated else []
    outcome = Outcome(persona, reached=False, sent=0, to_seat=None)
    used: dict[str, int] = {}
    step = "first"
    heard = ""
    while outcome.sent < MAX_MESSAGES:
        answers = persona.says.get(step) or persona.says.get("idle" if step == "menu" else "")
        if not answers:
            break  # nothing to say to that: the persona gives up
        text = answers[min(used.get(step, 0), len(answers) - 1)]
        used[step] = used.get(step, 0) + 1
        clock.now += timedelta(minutes=2)
        inbound = Inbound(channel=Channel.sms, address=PHONE, text=text, provider_id=f"SM{outcome.sent:032d}")
        handled = await handle_inbound(ctx=ctx, inbound=inbound, inline=True)
        outcome.sent += 1
        rendered = [render_sms(reply.text, reply.choices) for reply in handled.replies]
        outcome.replies += rendered
        heard += "\n".join(rendered)
        if any(marker in sms for sms in rendered for marker in NOT_UNDERSTOOD):
            outcome.not_understood += 1
        if await _reached(db, persona, seated, heard, territory):
            outcome.reached = True
            if persona.goal.kind in ("seat", "wait"):
                outcome.to_seat = outcome.sent
            break
        step = await _step(db)
    return outcome


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def run_personas(personas: tuple[Persona, ...] = PERSONAS) -> tuple[Figures, list[Outcome]]:
    territory = load_territory(DEFAULT_TERRITORY)
    outcomes = []
    with tempfile.TemporaryDirectory() as directory:
        template = await _template(Path(directory), territory)
        for number, persona in enumerate(personas):
            path = Path(directory) / f"persona-{number}.db"
            shutil.copy(template, path)
            db = Database.from_url(f"sqlite+aiosqlite:///{path}")
            try:
                outcomes.append(await play_persona(persona, db, territory))
            finally:
                await db.dispose()
    return figures(outcomes), outcomes


def figures(outcomes: list[Outcome]) -> Figures:
    seats = [o.to_seat for o in outcomes if o.persona.cold and o.persona.goal.kind == "seat" and o.to_seat]
    given = [
        o.to_seat
        for o in outcomes
        if o.persona.label in NAME_AND_VILLAGE and o.to_seat and o.persona.goal.kind == "seat"
    ]
    replies = [sms for o in outcomes for sms in o.replies]
    return Figures(
        personas=len(outcomes),
        reached=sum(o.reached for o in outcomes),
        median_to_seat=statistics.median(seats) if seats else float("nan"),
        median_to_seat_given_name_and_village=statistics.median(given) if given else float("nan"),
        replies=len(replies),
        one_segment=sum(1 for sms in replies if count_segments(sms) == 1),
        messages=sum(o.sent for o in outcomes),
        not_understood=sum(o.not_understood for o in outcomes),
        failed=tuple(o.persona.label for o in outcomes if not o.reached),
    )
