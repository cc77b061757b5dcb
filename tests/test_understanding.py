"""Free text to meaning, as tables: what residents really write, and what it must (and must not) mean."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.conversation.gsm7 import GSM7
from bot.conversation.understanding.choices import INTEREST_LABELS, match_choice, parse_interests
from bot.conversation.understanding.communes import CommuneIndex, match_commune
from bot.conversation.understanding.keywords import Keyword, detect_keyword, parse_yes_no
from bot.conversation.understanding.names import clean_name, first_name_of, is_greeting, looks_like_name
from bot.conversation.understanding.numbers import parse_number, parse_numbers
from bot.conversation.understanding.text import normalize
from bot.territory import Territory

LONG = ("Bonjour, je voudrais savoir comment ça marche pour les ateliers. " * 30)[:1600]
HOSTILE = {
    "empty": "",
    "spaces": "   \n\t ",
    "1600-chars": LONG,
    "emoji-only": "😀🎉🔥" * 10,
    "control-chars": "\x00\x01\x07\x1b[31mSTOP\x1b[0m\x7f",
    "html": "<script>alert('x')</script><b>oui</b>",
    "html-bold": "<p><b>OUI</b></p>",
    "arabic": "مرحبا، أريد التسجيل",
    "chinese": "你好，我想报名",
    "lone-surrogate": "oui \ud800",
    "zero-width": "s\u200bt\u200bo\u200bp",
}

NORMALIZE = [
    pytest.param("  Bonjour   Martine  ", "bonjour martine", id="collapse-spaces"),
    pytest.param("DOMÉRAT", "domerat", id="caps-and-accent"),
    pytest.param("l’atelier", "l'atelier", id="curly-apostrophe"),
    pytest.param("«oui»", '"oui"', id="guillemets"),
    pytest.param("Aide ?", "aide ?", id="punctuation-kept"),
    pytest.param("a\x00b\nc", "a b c", id="control-chars"),
    pytest.param("<b>Stop</b>", "stop", id="html-tags"),
    pytest.param("Œuf", "oeuf", id="oe"),
    pytest.param("3️⃣", "3", id="keycap"),
    pytest.param("👍🏽", "👍", id="skin-tone"),
    pytest.param("", "", id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), NORMALIZE)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


KEYWORDS = [
    pytest.param("AIDE", Keyword.HELP, id="help-caps"),
    pytest.param("aide", Keyword.HELP, id="help-lower"),
    pytest.param("Aide ?", Keyword.HELP, id="help-question"),
    pytest.param("aide svp", Keyword.HELP, id="help-politeness"),
    pytest.param("?", Keyword.HELP, id="help-question-mark"),
    pytest.param("??", Keyword.HELP, id="help-question-marks"),
    pytest.param("help", Keyword.HELP, id="help-english"),
    pytest.param("ANNULER", Keyword.CANCEL, id="cancel-caps"),
    pytest.param("anuler", Keyword.CANCEL, id="cancel-typo"),
    pytest.param("annulation", Keyword.CANCEL, id="cancel-noun"),
    pytest.param("désinscrire", Keyword.CANCEL, id="cancel-desinscrire"),
    pytest.param("je voudrais annuler", Keyword.CANCEL, id="cancel-request"),
    pytest.param("Bonjour, annuler svp", Keyword.CANCEL, id="cancel-surrounded"),
    pytest.param("MES ATELIERS", Keyword.MY_WORKSHOPS, id="my-workshops-caps"),
    pytest.param("mes inscriptions", Keyword.MY_WORKSHOPS, id="my-workshops-inscriptions"),
    pytest.param("mon atelier", Keyword.MY_WORKSHOPS, id="my-workshops-singular"),
    pytest.param("mes ateleirs", Keyword.MY_WORKSHOPS, id="my-workshops-typo"),
    pytest.param("CONSEILLER", Keyword.ADVISER, id="adviser-caps"),
    pytest.param("conseiler", Keyword.ADVISER, id="adviser-typo"),
    pytest.param("rappel moi", Keyword.ADVISER, id="adviser-rappel-moi"),
    pytest.param("appelez-moi", Keyword.ADVISER, id="adviser-appelez-moi"),
    pytest.param("être rappelé", Keyword.ADVISER, id="adviser-etre-rappele"),
    pytest.param("STOP", Keyword.STOP, id="stop-caps"),
    pytest.param("STOP!", Keyword.STOP, id="stop-exclamation"),
    pytest.param("stop merci", Keyword.STOP, id="stop-politeness"),
    pytest.param("ARRET", Keyword.STOP, id="stop-arret"),
    pytest.param("ARRÊT", Keyword.STOP, id="stop-arret-accent"),
    pytest.param("STOP SMS", Keyword.STOP, id="stop-sms"),
    pytest.param("désabonner", Keyword.STOP, id="stop-desabonner"),
    # Twilio's own opt-out and opt-in words: Twilio acts on them, so must we.
    pytest.param("STOPALL", Keyword.STOP, id="stop-twilio-stopall"),
    pytest.param("STOP ALL", Keyword.STOP, id="stop-twilio-stop-all"),
    pytest.param("END", Keyword.STOP, id="stop-twilio-end"),
    pytest.param("Cancel", Keyword.STOP, id="stop-twilio-cancel"),
    pytest.param("quit", Keyword.STOP, id="stop-twilio-quit"),
    pytest.param("ne plus recevoir", Keyword.STOP, id="stop-ne-plus-recevoir"),
    pytest.param("je ne veux plus recevoir de messages merci", Keyword.STOP, id="stop-sentence-politeness"),
    pytest.param("je voudrais savoir comment annuler mon inscription svp", Keyword.CANCEL, id="cancel-how-to"),
    pytest.param("Bonjour je voudrais que le conseiller me rappelle svp", Keyword.ADVISER, id="adviser-sentence"),
    pytest.param("UNSTOP", Keyword.START, id="start-twilio-unstop"),
    pytest.param("START", Keyword.START, id="start-caps"),
    pytest.param("/start", Keyword.START, id="start-telegram-command"),
    pytest.param("INSCRIPTION", Keyword.SIGNUP, id="signup-inscription"),
    pytest.param("m'inscrire", Keyword.SIGNUP, id="signup-m-inscrire"),
    pytest.param("OUBLIER", Keyword.FORGET, id="forget-caps"),
    pytest.param("oublie", Keyword.FORGET, id="forget-typo"),
    pytest.param("supprimer mes données", Keyword.FORGET, id="forget-supprimer"),
    pytest.param("effacer", Keyword.FORGET, id="forget-effacer"),
    pytest.param("RECOMMENCER", Keyword.RESTART, id="restart-caps"),
    pytest.param("recomencer", Keyword.RESTART, id="restart-typo"),
    pytest.param("reprendre depuis le début", Keyword.RESTART, id="restart-depuis-le-debut"),
    # must NOT fire
    pytest.param("Martine Stopa", None, id="not-name-stopa"),
    pytest.param("Stopa", None, id="not-stopa-alone"),
    pytest.param("stp", None, id="not-stp-politeness"),
    pytest.param("je voudrais m'inscrire", None, id="not-signup-sentence"),
    pytest.param("je voudrais stop", None, id="not-stop-with-request"),
    pytest.param("domerat", None, id="not-commune"),
    pytest.param("st victor", None, id="not-commune-st"),
    pytest.param("oui", None, id="not-yes"),
    pytest.param("2", None, id="not-number"),
    pytest.param("stop 2", None, id="not-stop-with-number"),
    pytest.param("Annie", None, id="not-annie"),
    pytest.param("je ne peux pas venir, annulez mon atelier de mardi et celui de jeudi", None, id="not-sentence"),
    pytest.param("merci", None, id="not-politeness-alone"),
]


@pytest.mark.parametrize(("text", "expected"), KEYWORDS)
def test_detect_keyword(text: str, expected: Keyword | None) -> None:
    assert detect_keyword(text) == expected


YES_NO = [
    *(
        pytest.param(text, True, id=f"yes-{text}")
        for text in [
            "oui",
            "o",
            "ouais",
            "ouai",
            "ok",
            "okay",
            "d'accord",
            "dac",
            "bien sur",
            "bien sûr",
            "volontiers",
            "👍",
            "✅",
            "oui merci",
            "OUI MERCI",
            "c'est bon",
            "parfait",
            "je viens",
            "je serai là",
            "présent",
            "ouiii",
            "Oui !",
            "oui mais je serai en retard",
            "pas de souci",
            "merci, oui",
            "👍🏻",
            "je crois que oui",
            "OK 👍",
        ]
    ),
    *(
        pytest.param(text, False, id=f"no-{text}")
        for text in [
            "non",
            "n",
            "nan",
            "NON",
            "pas possible",
            "je ne peux pas",
            "je peux pas",
            "non merci",
            "impossible",
            "je ne viendrai pas",
            "empêché",
            "👎",
            "❌",
            "non je peux pas",
            "je viens pas",
            "non, désolée",
            "malheureusement non",
            "bien sûr que non",
            "c'est non",
        ]
    ),
    pytest.param("2", None, id="none-number"),
    pytest.param("Martine Dupont", None, id="none-name"),
    pytest.param("merci", None, id="none-thanks"),
    pytest.param("qui", None, id="none-qui"),
    pytest.param("👍👎", None, id="none-mixed-emoji"),
    pytest.param("n'importe", None, id="none-elided-n"),
    pytest.param("je ne sais pas", None, id="none-dont-know"),
]


@pytest.mark.parametrize(("text", "expected"), YES_NO)
def test_parse_yes_no(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


NUMBER = [
    pytest.param("2", 3, 2, id="digit"),
    pytest.param("le 2", 3, 2, id="le-2"),
    pytest.param("n°2", 3, 2, id="n-degree-2"),
    pytest.param("numero 2", 3, 2, id="numero-2"),
    pytest.param("2.", 3, 2, id="digit-dot"),
    pytest.param("deux", 3, 2, id="word-deux"),
    pytest.param("le deuxieme", 3, 2, id="le-deuxieme"),
    pytest.param("le deuxième", 3, 2, id="le-deuxieme-accent"),
    pytest.param("premier", 3, 1, id="premier"),
    pytest.param("1er", 3, 1, id="1er"),
    pytest.param("la 3", 3, 3, id="la-3"),
    pytest.param("choix 3", 3, 3, id="choix-3"),
    pytest.param("3️⃣", 3, 3, id="keycap-3"),
    pytest.param("je prends le 2 merci", 3, 2, id="chatty"),
    pytest.param("10", 12, 10, id="two-digits"),
    pytest.param("4", 3, None, id="above-maximum"),
    pytest.param("0", 3, None, id="zero"),
    pytest.param("03410", 3, None, id="postcode"),
    pytest.param("2 3", 3, None, id="two-numbers"),
    pytest.param("un et trois", 3, None, id="two-number-words"),
    pytest.param("2 personnes", 3, None, id="unit-word"),
    pytest.param("le 2 avril", 3, None, id="date"),
    pytest.param("pas le 2", 3, None, id="negation"),
    pytest.param("oui", 3, None, id="no-number"),
]


@pytest.mark.parametrize(("text", "maximum", "expected"), NUMBER)
def test_parse_number(text: str, maximum: int, expected: int | None) -> None:
    assert parse_number(text, maximum) == expected


NUMBERS = [
    pytest.param("1 3", 7, [1, 3], id="space"),
    pytest.param("1,3", 7, [1, 3], id="comma"),
    pytest.param("1 et 3", 7, [1, 3], id="et"),
    pytest.param("un et trois", 7, [1, 3], id="words"),
    pytest.param("la 1 et la 3", 7, [1, 3], id="articles"),
    pytest.param("3 1 3", 7, [1, 3], id="dedup-sorted"),
    pytest.param("13", 7, [1, 3], id="typed-together"),
    pytest.param("2", 7, [2], id="single"),
    pytest.param("1 9", 7, [], id="out-of-range"),
    pytest.param("impots", 7, [], id="no-number"),
    pytest.param("", 7, [], id="empty"),
    pytest.param("03410", 7, [], id="postcode"),
]


@pytest.mark.parametrize(("text", "maximum", "expected"), NUMBERS)
def test_parse_numbers(text: str, maximum: int, expected: list[int]) -> None:
    assert parse_numbers(text, maximum) == expected


LEVELS = (
    "Je débute : je n'ai jamais utilisé d'ordinateur",
    "Je me débrouille un peu",
    "Je suis à l'aise",
)
CHOICE = [
    pytest.param("debutant", 1, id="debutant"),
    pytest.param("je débute", 1, id="je-debute"),
    pytest.param("DEBUTANTE", 1, id="debutante-caps"),
    pytest.param("je me debrouille", 2, id="debrouille"),
    pytest.param("un peu", 2, id="un-peu"),
    pytest.param("a l'aise", 3, id="a-l-aise"),
    pytest.param("2", 2, id="number"),
    pytest.param("le troisième", 3, id="ordinal"),
    pytest.param("pas à l'aise", None, id="negated"),
    pytest.param("je", None, id="stopword-only"),
    pytest.param("banane", None, id="unrelated"),
    pytest.param("", None, id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), CHOICE)
def test_match_choice(text: str, expected: int | None) -> None:
    assert match_choice(text, LEVELS) == expected


def test_match_choice_aliases() -> None:
    assert match_choice("nul", LEVELS) is None
    assert match_choice("nul", LEVELS, aliases=[["nul", "zero"], [], []]) == 1


@dataclass(frozen=True)
class CommuneRow:
    text: str
    kind: str
    communes: tuple[str, ...] = ()
    neighbour: str | None = None
    approximate: bool = False


SAINTS = ("Saint-Fargeol", "Saint-Genest", "Saint-Marcel-en-Marcillat", "Saint-Victor", "Sainte-Thérence")
COMMUNES = [
    pytest.param(CommuneRow("st victor", "exact", ("Saint-Victor",)), id="st-victor"),
    pytest.param(CommuneRow("saint-victor", "exact", ("Saint-Victor",)), id="saint-victor-hyphen"),
    pytest.param(CommuneRow("SAINT VICTOR", "exact", ("Saint-Victor",)), id="saint-victor-caps"),
    pytest.param(CommuneRow("stvictor", "exact", ("Saint-Victor",)), id="stvictor-one-word"),
    pytest.param(CommuneRow("S<sup>t</sup> Victor", "exact", ("Saint-Victor",)), id="st-superscript-html"),
    pytest.param(CommuneRow("Sᵗ Victor", "exact", ("Saint-Victor",)), id="st-superscript-char"),
    pytest.param(CommuneRow("domerat", "exact", ("Domérat",)), id="domerat"),
    pytest.param(CommuneRow("Domérat", "exact", ("Domérat",)), id="domerat-accent"),
    pytest.param(CommuneRow("montlucon", "exact", ("Montluçon",)), id="montlucon"),
    pytest.param(CommuneRow("la petite marche", "exact", ("La Petite-Marche",)), id="la-petite-marche"),
    pytest.param(CommuneRow("petite marche", "exact", ("La Petite-Marche",)), id="petite-marche"),
    pytest.param(CommuneRow("marcillat", "exact", ("Marcillat-en-Combraille",)), id="marcillat-usual-name"),
    pytest.param(CommuneRow("saint marcel", "exact", ("Saint-Marcel-en-Marcillat",)), id="saint-marcel"),
    pytest.param(CommuneRow("lavault ste anne", "exact", ("Lavault-Sainte-Anne",)), id="lavault-ste-anne"),
    pytest.param(CommuneRow("teillet argenty", "exact", ("Teillet-Argenty",)), id="teillet-argenty"),
    pytest.param(CommuneRow("teillet", "exact", ("Teillet-Argenty",)), id="teillet"),
    pytest.param(CommuneRow("ste thérence", "exact", ("Sainte-Thérence",)), id="ste-therence"),
    pytest.param(CommuneRow("Saint-Genest", "exact", ("Saint-Genest",)), id="saint-genest"),
    pytest.param(CommuneRow("st fargeol", "exact", ("Saint-Fargeol",)), id="st-fargeol"),
    pytest.param(CommuneRow("j'habite à st victor", "exact", ("Saint-Victor",)), id="phrase-j-habite"),
    pytest.param(CommuneRow("je suis de domerat", "exact", ("Domérat",)), id="phrase-je-suis-de"),
    pytest.param(CommuneRow("a quinssaines", "exact", ("Quinssaines",)), id="phrase-a"),
    pytest.param(CommuneRow("domera", "exact", ("Domérat",), approximate=True), id="typo-domera"),
    pytest.param(CommuneRow("monluçon", "exact", ("Montluçon",), approximate=True), id="typo-monlucon"),
    pytest.param(CommuneRow("lingerolles", "exact", ("Lignerolles",), approximate=True), id="typo-swap"),
    pytest.param(CommuneRow("je suis a quinsaine", "exact", ("Quinssaines",), approximate=True), id="typo-phrase"),
    pytest.param(CommuneRow("victor", "exact", ("Saint-Victor",), approximate=True), id="saint-name-alone"),
    pytest.param(
        CommuneRow("03410", "several", ("Domérat", "Lignerolles", "Prémilhat", "Saint-Victor", "Teillet-Argenty")),
        id="postcode-shared-03410",
    ),
    pytest.param(CommuneRow("03100", "several", ("Lavault-Sainte-Anne", "Montluçon")), id="postcode-shared-03100"),
    pytest.param(
        CommuneRow("03 410", "several", ("Domérat", "Lignerolles", "Prémilhat", "Saint-Victor", "Teillet-Argenty")),
        id="postcode-with-space",
    ),
    pytest.param(CommuneRow("03630", "exact", ("Désertines",)), id="postcode-single"),
    pytest.param(CommuneRow("03410 domerat", "exact", ("Domérat",)), id="postcode-and-name"),
    pytest.param(CommuneRow("st", "several", SAINTS), id="st-alone-lists-saints"),
    pytest.param(CommuneRow("domerat ou montlucon", "several", ("Domérat", "Montluçon")), id="two-communes"),
    pytest.param(CommuneRow("commentry", "outside", neighbour="Commentry"), id="neighbour-commentry"),
    pytest.param(CommuneRow("Néris les bains", "outside", neighbour="Néris-les-Bains"), id="neighbour-neris"),
    pytest.param(CommuneRow("neris", "outside", neighbour="Néris-les-Bains"), id="neighbour-short-name"),
    pytest.param(CommuneRow("j'habite à Huriel", "outside", neighbour="Huriel"), id="neighbour-phrase"),
    pytest.param(CommuneRow("03600", "outside"), id="neighbour-postcode-not-inside"),
    pytest.param(CommuneRow("75015", "outside"), id="far-away-postcode"),
    pytest.param(CommuneRow("garbage xyz", "none"), id="garbage"),
    pytest.param(CommuneRow("Martine Dupont", "none"), id="a-name"),
    pytest.param(CommuneRow("ça marche", "none"), id="common-word-marche"),
    pytest.param(CommuneRow("oui", "none"), id="yes"),
    pytest.param(CommuneRow("", "none"), id="empty"),
    pytest.param(CommuneRow("😀", "none"), id="emoji"),
]


@pytest.mark.parametrize("row", COMMUNES)
def test_match_commune(row: CommuneRow, territory: Territory) -> None:
    match = match_commune(row.text, territory)
    assert match.kind == row.kind
    assert tuple(c.name for c in match.communes) == row.communes
    assert match.neighbour == row.neighbour
    assert match.approximate is row.approximate
    assert (match.commune is not None) is (row.kind == "exact")


def test_match_commune_accepts_a_prebuilt_index(territory: Territory) -> None:
    index = CommuneIndex.build(territory)
    by_index = match_commune("st victor", index)
    assert by_index == match_commune("st victor", territory)
    assert by_index.commune is not None and by_index.commune.insee == "03262"
    outside = match_commune("03600", index)
    assert (outside.kind, outside.postcode) == ("outside", "03600")


NAMES = [
    pytest.param("MARTINE DUPONT", "Martine Dupont", True, id="all-caps"),
    pytest.param("martine dupont", "Martine Dupont", True, id="all-lower"),
    pytest.param("martine DUPONT", "Martine Dupont", True, id="surname-caps"),
    pytest.param("je m'appelle jean-pierre martin", "Jean-Pierre Martin", True, id="je-m-appelle-hyphen"),
    pytest.param("c'est Mme Durand", "Mme Durand", True, id="c-est-madame"),
    pytest.param("Bonjour, je m'appelle Martine Dupont", "Martine Dupont", True, id="greeting-then-name"),
    pytest.param("Hélène d'Artagnan", "Hélène d'Artagnan", True, id="accent-and-particle"),
    pytest.param(
        "Bonjour je m'appelle Jeanne Roche j'habite a Premilhat", "Jeanne Roche", True, id="name-then-where-they-live"
    ),
    pytest.param("Paul Durand, je vis à Domérat", "Paul Durand", True, id="name-then-je-vis"),
    pytest.param("MR ET MME BERNARD", "M. et Mme Bernard", True, id="a-couple"),
    pytest.param("McDonald", "McDonald", True, id="mixed-case-kept"),
    pytest.param("Martine Stopa", "Martine Stopa", True, id="name-close-to-stop"),
    pytest.param("<b>Paul</b> Durand", "Paul Durand", True, id="html"),
    pytest.param("Martine 👍", "Martine", True, id="emoji-dropped"),
    pytest.param("12345", "", False, id="digits-only"),
    pytest.param("Martine 2", "Martine", False, id="digit-inside"),
    pytest.param("👍", "", False, id="emoji-only"),
    pytest.param("bonjour", "", False, id="greeting-bonjour"),
    pytest.param("bjr", "", False, id="greeting-bjr"),
    pytest.param("salut", "", False, id="greeting-salut"),
    pytest.param("coucou", "", False, id="greeting-coucou"),
    pytest.param("oui", "Oui", False, id="yes"),
    pytest.param("Aide", "Aide", False, id="keyword"),
    pytest.param("je voudrais m'inscrire", "Je Voudrais M'Inscrire", False, id="signup-sentence"),
    pytest.param("x" * 70, "X" + "x" * 69, False, id="too-long"),
    pytest.param("محمد", "محمد", False, id="not-latin-script"),
]


@pytest.mark.parametrize(("text", "cleaned", "plausible"), NAMES)
def test_names(text: str, cleaned: str, plausible: bool) -> None:
    assert clean_name(text) == cleaned
    assert looks_like_name(text) is plausible


@pytest.mark.parametrize(
    ("name", "called"),
    [
        ("Martine Dupont", "Martine"),
        ("Mme Dupont", "Mme Dupont"),
        ("Madame Martine Dupont", "Martine"),
        ("M. Durand", "M. Durand"),
        ("M. et Mme Bernard", "M. et Mme Bernard"),
        ("Martine", "Martine"),
        ("", ""),
    ],
)
def test_what_a_reply_calls_the_person(name: str, called: str) -> None:
    assert first_name_of(name) == called


GREETINGS = [
    *(
        pytest.param(text, True, id=f"greeting-{text}")
        for text in [
            "bonjour",
            "Bonjour !",
            "bjr",
            "bonsoir",
            "salut",
            "coucou",
            "hello",
            "bonjoue",
            "bjr je voudrais minscrire pr l atelier",
            "je veux m'inscrire",
            "inscription",
            "/start",
        ]
    ),
    pytest.param("mes ateliers", False, id="not-keyword-my-workshops"),
    pytest.param("STOP", False, id="not-stop"),
    pytest.param("Martine Dupont", False, id="not-name"),
    pytest.param("oui", False, id="not-yes"),
    pytest.param("", False, id="not-empty"),
]


@pytest.mark.parametrize(("text", "expected"), GREETINGS)
def test_is_greeting(text: str, expected: bool) -> None:
    assert is_greeting(text) is expected


HEALTH, TAXES, BANK, MAIL, VIDEO, PHOTOS, PAPERS = INTEREST_LABELS
INTERESTS_ROWS = [
    pytest.param("1 3", [HEALTH, BANK], id="numbers"),
    pytest.param("2", [TAXES], id="one-number"),
    pytest.param("impots et banque", [TAXES, BANK], id="words"),
    pytest.param("IMPÔTS", [TAXES], id="caps-accent"),
    pytest.param("1 et banque", [HEALTH, BANK], id="number-and-word"),
    pytest.param("les mails", [MAIL], id="plural"),
    pytest.param("parler avec mes petits enfants", [VIDEO], id="multiword-synonym"),
    pytest.param("whatsap", [VIDEO], id="typo"),
    pytest.param("carte vitale", [HEALTH], id="carte-vitale"),
    pytest.param("ma retraite et la CAF", [PAPERS], id="papers"),
    pytest.param("photos", [PHOTOS], id="label-word"),
    pytest.param("rien", [], id="rien"),
    pytest.param("non", [], id="non"),
    pytest.param("pas d'idée", [], id="pas-d-idee"),
    pytest.param("je ne sais pas", [], id="je-ne-sais-pas"),
    pytest.param("tout", list(INTEREST_LABELS), id="everything"),
    pytest.param("banane", None, id="not-understood"),
    pytest.param("👍", None, id="emoji"),
    pytest.param("", None, id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), INTERESTS_ROWS)
def test_parse_interests(text: str, expected: list[str] | None) -> None:
    assert parse_interests(text, INTEREST_LABELS) == expected


def test_interest_labels_are_short_and_gsm_friendly() -> None:
    # Seven numbered lines under a question must fit one SMS segment with the question.
    assert sum(len(f"\n{n} {label}") for n, label in enumerate(INTEREST_LABELS, 1)) <= 80
    for label in INTEREST_LABELS:
        # é, è, à, ù are GSM-7; "Impôts" loses only its circumflex by SMS.
        assert set(label) - GSM7 <= {"ô"}


# Every function, on every hostile input: a value of the right type, never an exception.
FUNCTIONS: dict[str, tuple[Callable[..., Any], type | tuple[type, ...]]] = {
    "normalize": (normalize, str),
    "detect_keyword": (detect_keyword, (Keyword, type(None))),
    "parse_yes_no": (parse_yes_no, (bool, type(None))),
    "parse_number": (lambda t: parse_number(t, 5), (int, type(None))),
    "parse_numbers": (lambda t: parse_numbers(t, 5), list),
    "match_choice": (lambda t: match_choice(t, LEVELS), (int, type(None))),
    "is_greeting": (is_greeting, bool),
    "looks_like_name": (looks_like_name, bool),
    "clean_name": (clean_name, str),
    "parse_interests": (lambda t: parse_interests(t, INTEREST_LABELS), (list, type(None))),
}


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_total_on_hostile_input(function: str, hostile: str) -> None:
    call, expected_type = FUNCTIONS[function]
    assert isinstance(call(HOSTILE[hostile]), expected_type)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_match_commune_total_on_hostile_input(hostile: str, territory: Territory) -> None:
    assert match_commune(HOSTILE[hostile], territory).kind in ("exact", "several", "outside", "none")


HOSTILE_MEANINGS = [
    # Zero-width spaces are invisible: the resident's phone shows "stop", so it is STOP.
    pytest.param(detect_keyword, "zero-width", Keyword.STOP, id="zero-width-stop-reads-stop"),
    # An ANSI colour sequence glues letters to "STOP": not a plain STOP, so not one.
    pytest.param(detect_keyword, "control-chars", None, id="ansi-stop-is-not-stop"),
    pytest.param(detect_keyword, "1600-chars", None, id="long-text-no-keyword"),
    pytest.param(parse_yes_no, "html-bold", True, id="html-oui-is-oui"),
    pytest.param(parse_yes_no, "html", True, id="script-dropped-oui-remains"),
    pytest.param(normalize, "html", "oui", id="script-and-tags-dropped"),
    pytest.param(parse_yes_no, "lone-surrogate", True, id="surrogate-ignored"),
    pytest.param(parse_yes_no, "arabic", None, id="other-script-no-answer"),
    pytest.param(is_greeting, "1600-chars", True, id="long-bonjour-is-greeting"),
    pytest.param(looks_like_name, "1600-chars", False, id="long-text-no-name"),
]


@pytest.mark.parametrize(("function", "hostile", "expected"), HOSTILE_MEANINGS)
def test_hostile_input_meaning(function: Callable[[str], Any], hostile: str, expected: Any) -> None:
    assert function(HOSTILE[hostile]) == expected


@settings(max_examples=200, database=None, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_understood_without_error(text: str) -> None:
    for call, expected_type in FUNCTIONS.values():
        assert isinstance(call(text), expected_type)


@settings(max_examples=100, database=None, deadline=None)
@given(st.text(max_size=200))
def test_any_text_matches_a_commune_without_error(territory: Territory, text: str) -> None:
    match = match_commune(text, territory)
    assert match.kind in ("exact", "several", "outside", "none")
    assert (match.kind in ("exact", "several")) is bool(match.communes)
