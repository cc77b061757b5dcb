"""Free text to meaning, as tables: what residents really write, and what it must (and must not) mean."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from bot.config import DEFAULT_TERRITORY
from bot.context import france_index
from bot.conversation.gsm7 import GSM7
from bot.conversation.understanding.choices import match_choice
from bot.conversation.understanding.communes import CommuneIndex, match_commune
from bot.conversation.understanding.intents import (
    Intent,
    read_intent,
    read_party,
    read_question,
    reads_for_someone_else,
)
from bot.conversation.understanding.interests import (
    _vocabulary,
    _words_meant,
    mentioned_interests,
    parse_interests,
    topic_subjects,
)
from bot.conversation.understanding.keywords import Keyword, detect_keyword, parse_yes_no
from bot.conversation.understanding.levels import parse_level
from bot.conversation.understanding.names import (
    clean_name,
    first_name_of,
    is_greeting,
    looks_like_name,
    read_name,
)
from bot.conversation.understanding.numbers import parse_number, parse_numbers
from bot.conversation.understanding.text import (
    has_phrase,
    last_by_identity,
    normalize,
    pad_words,
    phrase_search,
    words,
)
from bot.conversation.understanding.when import read_wish
from bot.territory import Territory, load_territory

BUNDLED = load_territory(DEFAULT_TERRITORY)
INTERESTS = BUNDLED.interests
INTEREST_LABELS = tuple(i.label for i in INTERESTS)
INDEX = CommuneIndex.build(BUNDLED)

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


def test_normalize_cuts_long_input_before_it_is_kept() -> None:
    assert normalize("oui " * 2000) == normalize(("oui " * 2000)[:4096]) == " ".join(["oui"] * 1024)


def test_last_by_identity_builds_again_for_another_object() -> None:
    built: list[tuple[str, ...]] = []

    def build(key: tuple[str, ...]) -> int:
        built.append(key)
        return len(built)

    kept = last_by_identity(build)
    first, equal = ("a", "b"), tuple("ab")
    assert first == equal and first is not equal
    assert [kept(first), kept(first), kept(equal), kept(equal), kept(first)] == [1, 1, 2, 2, 3]
    assert built == [first, equal, first]


PHRASE_SEARCH = [
    pytest.param(("au revoir",), "merci au revoir", True, id="two-words"),
    pytest.param(("au revoir",), "au revoirs", False, id="whole-words-only"),
    pytest.param(("revoir",), "au revoir", True, id="last-word"),
    pytest.param(("tant pis", "malade"), "je suis malade", True, id="second-phrase"),
    pytest.param(("c.est",), "c est cest", False, id="dot-is-literal"),
    pytest.param(("a+",), "a a", False, id="plus-is-literal"),
    pytest.param((), "n importe quoi", False, id="no-phrase"),
    pytest.param(("oui",), "", False, id="empty-text"),
]


@pytest.mark.parametrize(("phrases", "text", "expected"), PHRASE_SEARCH)
def test_phrase_search(phrases: tuple[str, ...], text: str, expected: bool) -> None:
    padded = pad_words(words(text))
    assert phrase_search(phrases)(padded) is expected
    assert any(has_phrase(padded, p) for p in phrases) is expected


@settings(max_examples=200, database=None, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "ab", "c", "b c", "a.b"]), max_size=4), st.lists(st.sampled_from("abc")))
def test_phrase_search_is_any_has_phrase(phrases: list[str], tokens: list[str]) -> None:
    padded = pad_words(tokens)
    assert phrase_search(phrases)(padded) is any(has_phrase(padded, p) for p in phrases)


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
    pytest.param("REPRENDRE", Keyword.START, id="start-reprendre"),
    pytest.param("retour", Keyword.START, id="start-retour"),
    pytest.param("Bonjour je voudrais un atelier", Keyword.SIGNUP, id="signup-un-atelier-not-my-workshops"),
    pytest.param("je voudrais m'inscrire", Keyword.SIGNUP, id="signup-request"),
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
            "d'acc",
            "dacc",
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


# Words of the territory's places, and of a sentence around them.
VILLAGE_WORDS = sorted(
    {word for name in [c.name for c in BUNDLED.communes] + [n.name for n in BUNDLED.neighbours] for word in words(name)}
    | {"j", "habite", "a", "de", "je", "suis", "martine", "dupont", "victor", "marche"}
)
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


@pytest.mark.parametrize("row", COMMUNES)
def test_match_commune_without_typos_sets_aside_only_what_is_approximate(row: CommuneRow) -> None:
    # Readers that ignore approximate matches skip the typo search: they must get the same answer.
    exact, full = match_commune(row.text, INDEX, typos=False), match_commune(row.text, INDEX)
    assert exact == full or (full.approximate and exact.kind == "none")
    assert (exact == full) is not (row.approximate and exact.kind == "none")


@settings(max_examples=300, database=None, deadline=None)
@given(
    st.lists(st.sampled_from([*VILLAGE_WORDS, "domera", "monlucon", "quinsaine", "03410", "75015", "st"]), max_size=6)
)
def test_match_commune_without_typos_on_any_words(chosen: list[str]) -> None:
    text = " ".join(chosen)
    exact, full = match_commune(text, INDEX, typos=False), match_commune(text, INDEX)
    assert exact == full or (full.approximate and exact.kind == "none")


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


FIRST_STEPS, HEALTH, TAXES, BANK, MAIL, VIDEO, PHOTOS, PAPERS, SCAMS = INTEREST_LABELS
INTERESTS_ROWS = [
    pytest.param("1 3", [FIRST_STEPS, TAXES], id="numbers"),
    pytest.param("2", [HEALTH], id="one-number"),
    pytest.param("impots et banque", [TAXES, BANK], id="words"),
    pytest.param("IMPÔTS", [TAXES], id="caps-accent"),
    pytest.param("1 et banque", [FIRST_STEPS, BANK], id="number-and-word"),
    pytest.param("les mails", [MAIL], id="plural"),
    pytest.param("parler avec mes petits enfants", [VIDEO], id="multiword-synonym"),
    pytest.param("whatsap", [VIDEO], id="typo"),
    pytest.param("carte vitale", [HEALTH], id="carte-vitale"),
    pytest.param("ma retraite et la CAF", [PAPERS], id="papers"),
    pytest.param("photos", [PHOTOS], id="label-word"),
    pytest.param("Santé, Ameli", [HEALTH], id="a-button-label"),
    # 11. Interests in free text, through the territory's words.
    pytest.param("les photos des petits-enfants", [PHOTOS], id="photos-of-grandchildren-not-video"),
    pytest.param("la déclaration", [TAXES], id="declaration"),
    pytest.param("doctolib", [HEALTH], id="doctolib"),
    pytest.param("prendre rendez vous chez le docteur", [HEALTH], id="rendez-vous-chez-le-docteur"),
    pytest.param("whatsapp", [VIDEO], id="whatsapp"),
    pytest.param("les arnaques", [SCAMS], id="arnaques"),
    pytest.param("la tablette", [FIRST_STEPS], id="tablette"),
    pytest.param("les premiers pas", [FIRST_STEPS], id="premiers-pas"),
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
    assert parse_interests(text, INTERESTS) == expected


MENTIONED = [
    pytest.param("Josette Martin de Domérat, pour les impôts", [TAXES], id="after-pour"),
    pytest.param("je voudrais apprendre whatsapp", [VIDEO], id="after-apprendre"),
    pytest.param("jai une tablette mais je sais pas men servir", [], id="a-device-is-a-level-not-a-topic"),
    pytest.param("les impots", [], id="no-cue-outside-the-question"),
]


@pytest.mark.parametrize(("text", "expected"), MENTIONED)
def test_interests_mentioned_in_another_answer(text: str, expected: list[str]) -> None:
    assert mentioned_interests(text, INTERESTS) == expected


TOPICS = [
    pytest.param("Déclarer ses impôts en ligne", (TAXES,), id="taxes"),
    pytest.param("Banque en ligne en sécurité", (BANK, SCAMS), id="two-subjects-first-named-first"),
    pytest.param("Premiers pas sur la tablette", (FIRST_STEPS,), id="first-steps"),
    pytest.param("Trier et partager ses photos", (PHOTOS,), id="photos"),
    pytest.param("Atelier libre", (), id="none"),
]


@pytest.mark.parametrize(("topic", "expected"), TOPICS)
def test_workshop_topics_map_to_interests(topic: str, expected: tuple[str, ...]) -> None:
    assert topic_subjects(topic, INTERESTS) == expected


# ``_words_meant`` finds the interests' words a token may be by stem and by one typo search, instead of comparing
# the token with each word (``_same_word``, the rule as first written): both must say the same, for every word of
# the vocabulary.


def _same_word(token: str, word: str) -> bool:
    """Written out, not borrowed from the code under test: a plural (s or x) is the word, and a word of 6 letters
    or more is recognised with one typo in a token of 5 or more."""
    if token == word or token.rstrip("sx") == word.rstrip("sx"):
        return True
    return len(word) >= 6 and len(token) >= 5 and Levenshtein.distance(token, word) <= 1


VOCABULARY = _vocabulary(INTERESTS)
EVERY_WORD = sorted({word for phrase, _ in VOCABULARY.phrases for word in phrase})
TOKENS_MEANT = [
    pytest.param("impots", id="exact"),
    pytest.param("impot", id="without-its-s"),
    pytest.param("impotx", id="with-an-x"),
    pytest.param("impotsx", id="s-and-x"),
    pytest.param("inpots", id="one-typo-6-letters"),
    pytest.param("impos", id="one-typo-5-letters-token"),
    pytest.param("imp", id="too-short-for-a-typo"),
    pytest.param("declaraton", id="one-letter-missing"),
    pytest.param("decalration", id="two-typos"),
    pytest.param("photo", id="photo"),
    pytest.param("phots", id="short-word-no-typo-allowed"),
    pytest.param("whatsap", id="whatsapp-letter-missing"),
    pytest.param("s", id="a-lone-s"),
    pytest.param("xxxxxx", id="nothing"),
    pytest.param("en", id="a-small-word"),
]


@pytest.mark.parametrize("token", TOKENS_MEANT)
def test_words_a_token_may_be(token: str) -> None:
    assert {word for word in EVERY_WORD if _same_word(token, word)} == _words_meant(token, VOCABULARY)


@settings(max_examples=300, database=None)
@given(st.sampled_from(EVERY_WORD), st.integers(0, 20), st.sampled_from(["", "s", "x", "e", "a", "sx"]))
def test_words_a_misspelt_token_may_be(word: str, at: int, letters: str) -> None:
    for token in (word[:at] + letters + word[at + 1 :], word[:at] + letters + word[at:], word + letters):
        assert {w for w in EVERY_WORD if _same_word(token, w)} == _words_meant(token, VOCABULARY)


def test_interest_labels_are_short_and_gsm_friendly() -> None:
    # All the numbered lines under the question must fit one SMS segment with it (tests/test_messages.py).
    assert sum(len(f"\n{n} {label}") for n, label in enumerate(INTEREST_LABELS, 1)) <= 105
    for label in INTEREST_LABELS:
        # é, è, à, ù are GSM-7; "Impôts" loses only its circumflex by SMS.
        assert set(label) - GSM7 <= {"ô"}


# --- 5 and 9: a name inside a message ------------------------------------------------------------------------

NAME_ROWS = [
    # (message, expected, name, companion)
    pytest.param("Yvette Morel Point", True, "Yvette Morel", None, id="dictated-point"),
    pytest.param("Jeanine Lefebvre de Marcillat", True, "Jeanine Lefebvre", None, id="name-de-commune"),
    pytest.param("Mme Lucienne Aubert", True, "Lucienne Aubert", None, id="title-dropped"),
    pytest.param("Mme Dupont", True, "Mme Dupont", None, id="title-kept-without-first-name"),
    pytest.param("Colette et Bernard Renaud", True, "Colette Renaud", "Bernard Renaud", id="couple"),
    pytest.param("Colette Renaud et Bernard", True, "Colette Renaud", "Bernard Renaud", id="couple-surname-first"),
    pytest.param("MR ET MME BERNARD", True, "M. et Mme Bernard", None, id="couple-titles-one-name"),
    pytest.param("c'est pour ma grand mere Raymonde Petit", True, "Raymonde Petit", None, id="grandmother"),
    pytest.param("cest josette martin de domerat", True, "Josette Martin", None, id="cest-name-commune"),
    pytest.param("bjr je voudrais minscrire cest josette martin de domerat", True, "Josette Martin", None, id="chatty"),
    pytest.param("Josette Martin Domerat", True, "Josette Martin", None, id="commune-without-de"),
    pytest.param("Hélène d'Artagnan", True, "Hélène d'Artagnan", None, id="particle-kept"),
    pytest.param("Jean de la Fontaine", True, "Jean de La Fontaine", None, id="particle-article"),
    pytest.param("Bonjour Jeanne Roche j habite a Premilhat", True, "Jeanne Roche", None, id="then-where"),
    pytest.param("domerat", True, None, None, id="a-commune-is-no-name"),
    pytest.param("je suis nulle", True, None, None, id="a-level-is-no-name"),
    pytest.param("Bonjour je voudrais savoir les horaires", True, None, None, id="a-sentence-is-no-name"),
    pytest.param("jai 78 ans", True, None, None, id="an-age-is-no-name"),
    pytest.param("on sera deux avec mon mari", True, None, None, id="two-people-no-name"),
    pytest.param("Bonjour je voudrais un atelier", False, None, None, id="first-message-no-name"),
    pytest.param("Bonjour c'est Josette Martin", False, "Josette Martin", None, id="first-message-introduced"),
    pytest.param("Martine Dupont", False, "Martine Dupont", None, id="first-message-only-a-name"),
    pytest.param("merci pour tout", False, None, None, id="thanks-no-name"),
]


@pytest.mark.parametrize(("text", "expected", "name", "companion"), NAME_ROWS)
def test_a_name_inside_a_message(text: str, expected: bool, name: str | None, companion: str | None) -> None:
    reading = read_name(text, communes=INDEX, expected=expected)
    assert (reading.name, reading.companion) == (name, companion)


# --- 10: the level in words ----------------------------------------------------------------------------------

LEVEL_ROWS = [
    pytest.param("1", True, 1, id="number"),
    pytest.param("le 2", True, 2, id="le-2"),
    pytest.param("3 je suis a l aise", True, 3, id="number-and-words"),
    pytest.param("je debute", True, 1, id="je-debute"),
    pytest.param("je suis nul", True, 1, id="je-suis-nul"),
    pytest.param("jai un portable mais je sais pas men servir", True, 1, id="portable-sais-pas-men-servir"),
    pytest.param("je ne sais que telephoner", True, 1, id="que-telephoner"),
    pytest.param("ma petite fille m'a offert une tablette", True, 1, id="offert-une-tablette"),
    pytest.param("Beginner", True, 1, id="english"),
    pytest.param("pas à l'aise du tout", True, 1, id="pas-a-l-aise"),
    pytest.param("je me débrouille un peu", True, 2, id="the-button"),
    pytest.param("un peu", True, 2, id="un-peu-at-the-question"),
    pytest.param("Je suis à l'aise", True, 3, id="the-third-button"),
    pytest.param("je maitrise", True, 3, id="maitrise"),
    pytest.param("un peu", False, None, id="un-peu-elsewhere-is-nothing"),
    pytest.param("je debute", False, 1, id="je-debute-anywhere"),
    pytest.param("je debute mais je me debrouille un peu", True, None, id="two-levels-none"),
    pytest.param("domerat", True, None, id="a-commune"),
]


@pytest.mark.parametrize(("text", "at_question", "expected"), LEVEL_ROWS)
def test_parse_level(text: str, at_question: bool, expected: int | None) -> None:
    assert parse_level(text, at_question=at_question) == expected


# --- 12: which workshop, the way people say it ---------------------------------------------------------------

MONDAY, TUESDAY, THURSDAY = 0, 1, 3
WISH_ROWS = [
    # (message, bare_day, what the wish must hold)
    pytest.param("mardi", False, {"weekdays": {TUESDAY}}, id="mardi"),
    pytest.param("MARDI CEST MIEUX", False, {"weekdays": {TUESDAY}}, id="mardi-c-est-mieux"),
    pytest.param("le 8", False, {"days": {8}}, id="le-8"),
    pytest.param("le 17 ca ira", False, {"days": {17}}, id="le-17-ca-ira"),
    pytest.param("17", True, {"days": {17}}, id="a-date-alone"),
    pytest.param("17", False, {"days": set()}, id="a-number-alone-unless-said"),
    pytest.param("lundi 7 décembre", False, {"weekdays": {MONDAY}, "days": {7}, "months": {12}}, id="full-date"),
    pytest.param("celui de lavault ma soeur habite la bas", False, {"communes": ("03140",)}, id="lavault"),
    pytest.param("st victor", False, {"communes": ("03262",)}, id="st-victor"),
    pytest.param("l apres midi", False, {"part": "afternoon"}, id="apres-midi"),
    pytest.param("le matin de préférence", False, {"part": "morning"}, id="matin"),
    pytest.param("à 14h", False, {"hour": 14}, id="14h"),
    pytest.param("jeudi à 14 h", False, {"weekdays": {THURSDAY}, "hour": 14, "days": set()}, id="14-h-is-no-date"),
    pytest.param("lequel est sur les impots ?", False, {"subjects": (TAXES,)}, id="subject"),
    pytest.param("n importe lequel", False, {"anything": True}, id="n-importe-lequel"),
    pytest.param("le plus tot", False, {"soonest": True}, id="le-plus-tot"),
    pytest.param("autre", False, {"others": True}, id="autre"),
    pytest.param("ya pas d autres dates", False, {"others": True}, id="pas-d-autres-dates"),
    pytest.param("le sept", False, {"months": set()}, id="sept-is-a-number-not-september"),
]


@pytest.mark.parametrize(("text", "bare_day", "holds"), WISH_ROWS)
def test_read_wish(text: str, bare_day: bool, holds: dict[str, Any]) -> None:
    wish = read_wish(text, communes=INDEX, interests=INTERESTS, bare_day=bare_day)
    for field, value in holds.items():
        actual = getattr(wish, field)
        assert (set(actual) if isinstance(value, set) else actual) == value, field


# --- 2, 3, 13: what a sentence wants -------------------------------------------------------------------------

INTENT_ROWS = [
    pytest.param("je suis malade je viendrai pas mardi", Intent.CANCEL, id="malade"),
    pytest.param("je ne pourrai pas venir", Intent.CANCEL, id="je-ne-pourrai-pas-venir"),
    pytest.param("empêché", Intent.CANCEL, id="empeche"),
    pytest.param("annuler mardi", Intent.CANCEL, id="annuler-mardi"),
    pytest.param("je voudrais changer de date pour le 31", Intent.MOVE, id="changer-de-date"),
    pytest.param("on peut décaler à jeudi ?", Intent.MOVE, id="decaler"),
    pytest.param("merci au revoir", Intent.EXIT, id="merci-au-revoir"),
    pytest.param("non merci finalement", Intent.EXIT, id="non-merci-finalement"),
    pytest.param("bon tant pis", Intent.EXIT, id="tant-pis"),
    pytest.param("effacez mon nom", Intent.ERASE, id="effacez-mon-nom"),
    pytest.param("CONSEILLER je n'ai pas de voiture", Intent.CALLBACK, id="conseiller-with-reason"),
    pytest.param("pouvez vous me rappeler je n'ai pas de voiture", Intent.CALLBACK, id="rappeler-with-reason"),
    pytest.param("Bonjour je voudrais un atelier", Intent.WANT, id="un-atelier"),
    pytest.param("merci beaucoup", Intent.THANKS, id="thanks"),
    pytest.param("super merci bonne journée", Intent.THANKS, id="thanks-and-wishes"),
    pytest.param("Martine Dupont", None, id="a-name"),
    pytest.param("je ne suis pas intéressée par les impôts", None, id="not-interested-in-one-topic-is-no-exit"),
    pytest.param("", None, id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), INTENT_ROWS)
def test_read_intent(text: str, expected: Intent | None) -> None:
    assert read_intent(text) == expected


PARTY_ROWS = [
    pytest.param("on sera deux avec mon mari", 2, None, id="on-sera-deux"),
    pytest.param("2 pour nous deux", 2, None, id="pour-nous-deux"),
    pytest.param("avec mon mari Bernard", 2, "Bernard", id="with-the-name"),
    pytest.param("ma femme et moi", 2, None, id="ma-femme-et-moi"),
    pytest.param("avec mon téléphone", 1, None, id="a-phone-is-not-a-person"),
    pytest.param("c'est pour ma grand-mère", 1, None, id="for-someone-else-is-one-person"),
    pytest.param("Martine Dupont", 1, None, id="alone"),
]


@pytest.mark.parametrize(("text", "size", "companion"), PARTY_ROWS)
def test_read_party(text: str, size: int, companion: str | None) -> None:
    party = read_party(text)
    assert (party.size, party.companion) == (size, companion)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("c'est pour ma grand-mère", True),
        ("c'est pour ma grand mere Raymonde Petit", True),
        ("j'inscris ma mère", True),
        ("je suis sa petite fille", True),
        ("pour mamie", True),
        ("pour ma femme et moi", False),
        ("c'est pour mon inscription", False),
        ("Martine Dupont", False),
    ],
)
def test_someone_registers_someone_else(text: str, expected: bool) -> None:
    assert reads_for_someone_else(text) is expected


QUESTION_ROWS = [
    pytest.param("c'est payant ?", "price", id="payant"),
    pytest.param("c est gratuit ?", "price", id="gratuit-question"),
    pytest.param("je voudrais un atelier gratuit", None, id="gratuit-without-question-mark"),
    pytest.param("qu'est ce que je dois apporter ?", "bring", id="apporter"),
    pytest.param("c'est ou exactement ?", "where", id="ou-exactement"),
    pytest.param("je n'ai pas de voiture", "transport", id="voiture"),
    pytest.param("c'est une arnaque ?", "trust", id="arnaque"),
    pytest.param("pourquoi vous avez mon nom", "trust", id="why-my-name"),
    pytest.param("ça dure combien de temps ?", "duration", id="duration-not-price"),
    pytest.param("les arnaques", None, id="an-interest-is-no-question"),
    pytest.param("domerat", None, id="a-commune"),
]


@pytest.mark.parametrize(("text", "key"), QUESTION_ROWS)
def test_read_question(text: str, key: str | None) -> None:
    entry = read_question(text, BUNDLED.faq)
    assert (entry.key if entry else None) == key


# --- 6: every commune of France ------------------------------------------------------------------------------

FRANCE_ROWS = [
    pytest.param("Moulins", "Moulins", id="moulins-allier-among-homonyms"),
    pytest.param("vichy", "Vichy", id="vichy"),
    pytest.param("j'habite à Vichy", "Vichy", id="vichy-phrase"),
    pytest.param("03200 vichy", "Vichy", id="postcode-and-name"),
    pytest.param("03200", None, id="a-postcode-several-share-is-not-named"),
    pytest.param("st pourcain sur sioule", "Saint-Pourçain-sur-Sioule", id="st-for-saint"),
    pytest.param("Paris", "Paris", id="paris"),
    pytest.param("commentry", "Commentry", id="a-neighbour-from-the-territory-file"),
]


@pytest.mark.parametrize(("text", "named"), FRANCE_ROWS)
def test_a_commune_outside_is_named(text: str, named: str | None) -> None:
    found = match_commune(text, INDEX, france_index())
    assert (found.kind, found.neighbour) == ("outside", named)


@pytest.mark.parametrize("text", ["st victor", "domerat", "03410"])
def test_the_territory_wins_over_france(text: str) -> None:
    assert match_commune(text, INDEX, france_index()).kind in ("exact", "several")


@pytest.mark.parametrize("text", ["Nice", "Martine Dupont", "oui", "zzkkq"])
def test_everyday_words_are_no_commune_of_france(text: str) -> None:
    assert match_commune(text, INDEX, france_index()).kind == "none"


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
    "parse_interests": (lambda t: parse_interests(t, INTERESTS), (list, type(None))),
    "mentioned_interests": (lambda t: mentioned_interests(t, INTERESTS), list),
    "parse_level": (parse_level, (int, type(None))),
    "read_name": (lambda t: read_name(t, communes=INDEX).name, (str, type(None))),
    "read_wish": (lambda t: read_wish(t, communes=INDEX, interests=INTERESTS).specific, bool),
    "read_intent": (read_intent, (Intent, type(None))),
    "read_party": (lambda t: read_party(t).size, int),
    "read_question": (lambda t: read_question(t, BUNDLED.faq) is None, bool),
    "match_commune_france": (lambda t: match_commune(t, INDEX, france_index()).kind, str),
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
