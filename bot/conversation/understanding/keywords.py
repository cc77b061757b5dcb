"""Keywords (AIDE, STOP, ANNULER…) and yes / no, as residents write them."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.conversation.understanding.text import (
    SHORT_ANSWER_CHARS,
    WORD_RE,
    normalize,
    pad_words,
    phrase_search,
    pipe,
    squeeze,
    strip_politeness,
)


class Keyword(StrEnum):
    HELP = "help"
    CANCEL = "cancel"
    MY_WORKSHOPS = "my_workshops"
    ADVISER = "adviser"
    STOP = "stop"
    START = "start"
    SIGNUP = "signup"
    FORGET = "forget"
    RESTART = "restart"


# Whole messages (once politeness is removed) that are keywords. Typos are tolerated by distance, below.
_KEYWORD_PHRASES: dict[Keyword, tuple[str, ...]] = {
    Keyword.HELP: pipe(
        "aide|aider|aidez moi|aide moi|help|sos|au secours|besoin d aide|j ai besoin d aide|je ne comprends pas"
        "|je comprends pas|comment ca marche|comment faire|menu"
    ),
    Keyword.CANCEL: pipe(
        "annuler|annulation|annule|annulez|desinscrire|me desinscrire|desinscription|desinscrivez moi"
        "|je me desinscris|annuler mon inscription|annuler l inscription|annuler inscription|annuler mon atelier"
        "|annuler l atelier|annuler atelier|annuler ma place|annuler mon rendez vous|annuler rdv|comment annuler"
        "|savoir comment annuler|comment annuler mon inscription|savoir comment annuler mon inscription"
    ),
    Keyword.MY_WORKSHOPS: pipe(
        "mes ateliers|mes atelier|mon atelier|mes inscriptions|mon inscription|mes rendez vous|mon rendez vous"
        "|mes rdv|mon rdv|voir mes ateliers|c est quand|quand|c est quand mon atelier|quand est mon atelier"
        "|mes cours|mon cours"
    ),
    Keyword.ADVISER: pipe(
        "conseiller|conseillere|conseillers|un conseiller|une conseillere|parler a un conseiller"
        "|parler a une conseillere|parler a quelqu un|rappel|rappel moi|rappelez moi|rappelle moi|rappeler moi"
        "|me rappeler|appelez moi|appelle moi|appeler moi|m appeler|etre rappele|etre rappelee|telephonez moi"
        "|qu un conseiller me rappelle|que le conseiller me rappelle|que la conseillere me rappelle"
        "|qu une conseillere me rappelle|qu on me rappelle"
    ),
    # Conservative on purpose: a false STOP silences someone for good, a missed one is answered next time.
    Keyword.STOP: pipe(
        "stop|stopp|stopper|arret|arrete|arretez|stop sms|stop messages|stop message|arret sms|arret des sms"
        "|arretez les sms|arretez les messages|plus de sms|plus de messages|je ne veux plus de sms"
        "|je ne veux plus de messages|ne plus recevoir|ne plus recevoir de sms|ne plus recevoir de messages"
        "|je ne veux plus recevoir|je ne veux plus rien recevoir|je ne veux plus recevoir de messages"
        "|je ne veux plus recevoir de sms|desabonner"
        "|me desabonner|desabonnez moi|desabonnement|unsubscribe|arretez de m envoyer des messages"
        "|arretez de m envoyer des sms|arretez de m ecrire|ne m envoyez plus de messages|ne m envoyez plus rien"
        "|ne m envoyez plus de sms|je ne veux plus de vos messages|arretez de m envoyer"
        # Twilio's own opt-out words: Twilio blocks the number on them, so they must stop us too
        # (https://help.twilio.com/articles/223134027).
        "|stopall|stop all|end|cancel|quit|optout|opt out|revoke"
    ),
    Keyword.START: pipe(
        "start|unstop|start sms|demarrer|reabonner|me reabonner|reabonnement|reactiver|reprendre les sms"
        "|reprendre les messages|reprendre|retour|revenir|je reviens|me revoila|je veux revenir|recevoir a nouveau"
    ),
    Keyword.SIGNUP: pipe(
        "inscription|inscriptions|m inscrire|minscrire|inscrire|s inscrire|je m inscris|inscris moi|inscrivez moi"
        "|nouvelle inscription|reinscription|me reinscrire|inscription atelier|un atelier|atelier|ateliers"
        "|des ateliers|un cours|des cours|participer|participer a un atelier|une formation|une place"
        "|m inscrire a un atelier|m inscrire aux ateliers|s inscrire a un atelier|inscription a un atelier"
        "|inscription aux ateliers|un autre atelier|venir a un atelier|aller a un atelier"
    ),
    Keyword.FORGET: pipe(
        "oublier|oubliez moi|oublie moi|oubliez|effacer|supprimer|supprimer mes donnees|effacer mes donnees"
        "|supprimer mes informations|effacer mes informations|supprimer mes coordonnees|effacer mes coordonnees"
        "|supprimer mon compte|effacer mon compte|droit a l oubli|rgpd"
    ),
    Keyword.RESTART: pipe(
        "recommencer|recommence|on recommence|tout recommencer|recommencer depuis le debut"
        "|reprendre depuis le debut|reprendre au debut|depuis le debut|retour au debut|reinitialiser|restart"
        "|reset|je me suis trompe|je me suis trompee|corriger"
    ),
}

# "je voudrais annuler", "pouvez-vous me rappeler": a request in front of a keyword. Not for STOP/START/SIGNUP:
# "je voudrais m'inscrire" is an ordinary first message, and STOP must be said plainly.
_REQUESTS = tuple(
    tuple(p.split())
    for p in pipe("je veux|je voudrais|je souhaite|je souhaiterais|j aimerais|je desire|pouvez vous|pourriez vous")
    + pipe("vous pouvez|merci de")
)
_REQUESTABLE = frozenset(
    {
        Keyword.HELP,
        Keyword.CANCEL,
        Keyword.MY_WORKSHOPS,
        Keyword.ADVISER,
        Keyword.FORGET,
        Keyword.RESTART,
        Keyword.SIGNUP,  # "je voudrais un atelier", "je voudrais m'inscrire"
    }
)
_KEYWORD_OF: dict[str, Keyword] = {phrase: kw for kw, phrases in _KEYWORD_PHRASES.items() for phrase in phrases}
_KEYWORD_KEYS: tuple[str, ...] = tuple(_KEYWORD_OF)
_MAX_KEYWORD_CHARS = 60


def _keyword_allowance(phrase: str, keyword: Keyword) -> int:
    """Typos allowed for a phrase: none for short words ("stop" vs "stp" which is politeness), one from 7 letters
    ("anuler", "oublie"), two from 10 ("recomencer"). STOP phrases get one at most, only from 8 letters
    ("desabonner", "stop sms")."""
    size = len(phrase)
    if keyword is Keyword.STOP:
        return 1 if size >= 8 else 0
    if size >= 10:
        return 2
    return 1 if size >= 7 else 0


def _match_keyword(core: str, allowed: frozenset[Keyword] | None) -> Keyword | None:
    exact = _KEYWORD_OF.get(core)
    if exact is not None:
        return exact if allowed is None or exact in allowed else None
    if not core or any(map(str.isdigit, core)):
        return None
    best: int | None = None
    found: set[Keyword] = set()
    for phrase, distance, _ in process.extract(
        core, _KEYWORD_KEYS, scorer=Levenshtein.distance, score_cutoff=2, limit=None
    ):
        keyword = _KEYWORD_OF[phrase]
        if (allowed is not None and keyword not in allowed) or distance > _keyword_allowance(phrase, keyword):
            continue
        if best is None or distance < best:
            best, found = distance, {keyword}
        elif distance == best:
            found.add(keyword)
    # Two keywords equally close: better to ask than to guess.
    return found.pop() if len(found) == 1 else None


def detect_keyword(text: str) -> Keyword | None:
    """The keyword the whole message is, if it is one: "STOP!", "Aide ?", "?", "aide svp", "anuler",
    "mes ateliers", "je voudrais annuler". Ordinary answers ("Martine Stopa", "domerat", "oui", "2",
    "je voudrais m'inscrire") give None."""
    if len(text) > 4 * _MAX_KEYWORD_CHARS:
        return None
    return _keyword_in(text)


# Several readers of a turn ask whether the same message is a keyword (the entry, is_greeting, looks_like_name):
# the answer is kept for the most recent messages, as their normalized form is (``text.normalize``).
@lru_cache(maxsize=256)
def _keyword_in(text: str) -> Keyword | None:
    normalized = normalize(text)
    if normalized and set(normalized) <= {"?", " "}:
        return Keyword.HELP
    tokens = strip_politeness(WORD_RE.findall(normalized))
    core = " ".join(tokens)
    if not core or len(core) > _MAX_KEYWORD_CHARS:
        return None
    keyword = _match_keyword(core, None)
    if keyword is not None:
        return keyword
    for request in _REQUESTS:
        if tuple(tokens[: len(request)]) == request and len(tokens) > len(request):
            return _match_keyword(" ".join(tokens[len(request) :]), _REQUESTABLE)
    return None


YES_WORDS = frozenset(
    squeeze(w)
    for w in pipe(
        "oui|o|ouais|ouai|ouaip|ouep|oue|voui|ui|oiu|wi|ok|okay|okey|oki|dac|dak|daccord|dacc|yes|yep|si|parfait"
        "|volontiers|present|presente|confirme|entendu|exact|absolument|evidemment|certainement|super|top|genial"
    )
)
NO_WORDS = frozenset(squeeze(w) for w in pipe("non|n|nan|no|nope|nn|niet|impossible"))
_YES_PHRASES = pipe(
    "d accord|d acc|d ac|bien sur|c est bon|c est ok|ca marche|ca me va|je viens|je viendrai|je serai la|je serais la"
    "|je serai present|je serai presente|j y serai|on sera la|nous serons la|nous viendrons|je confirme|c est note"
    "|avec plaisir|tout a fait|tres bien|pas de souci|pas de soucis|pas de probleme|pas de pb|sans probleme"
    "|sans souci|pourquoi pas"
)
# Checked before the yes phrases: "je viens pas" contains "je viens".
_NO_PHRASES = pipe(
    "non merci|pas possible|peux pas|pourrai pas|pourrais pas|viendrai pas|viens pas|serai pas|serais pas"
    "|pas dispo|pas disponible|indisponible|empeche|empechee|empechement|pas venir|ne viendrai|ne pourrai|ne peux"
    "|que non|c est non"
)
_FINAL_YES = frozenset(pipe("oui|ouais|ok|okay"))
_FINAL_NO = frozenset(pipe("non|nan"))
_YES_WITH_PAS = tuple(p for p in _YES_PHRASES if "pas" in p.split())
_says_yes, _says_no, _says_yes_with_pas = map(phrase_search, (_YES_PHRASES, _NO_PHRASES, _YES_WITH_PAS))
_YES_EMOJI = frozenset("👍✅👌✔☑🆗🙂😊😀😃👏💯🙏")
_NO_EMOJI = frozenset("👎❌✖🚫⛔")
_YES_NO_TOKENS = 60


def _emoji_answer(normalized: str) -> bool | None:
    yes = any(ch in _YES_EMOJI for ch in normalized)
    no = any(ch in _NO_EMOJI for ch in normalized)
    return yes if yes != no else None


def parse_yes_no(text: str) -> bool | None:
    """True for oui, o, ok, d'accord, bien sûr, 👍, "oui merci", "je viens", "oui mais …"; False for non, n,
    pas possible, je ne peux pas, "non merci", "je ne viendrai pas", 👎; None for anything else. The first word
    decides when it is a yes or a no word; then negative phrases win over positive ones ("je viens pas")."""
    normalized = normalize(text[:SHORT_ANSWER_CHARS])
    plain = WORD_RE.findall(normalized)[:_YES_NO_TOKENS]
    if not plain:
        return _emoji_answer(normalized)
    padded = pad_words(plain)
    if _says_yes_with_pas(padded) and squeeze(plain[0]) not in NO_WORDS:
        return True
    core = [squeeze(t) for t in (strip_politeness(plain) or plain)]
    # A lone "n" or "o" is an answer; in "n'importe" or "o." followed by words it is not.
    first = core[0] if len(core[0]) > 1 or len(core) == 1 else ""
    if first in NO_WORDS:
        return False
    if first in YES_WORDS:
        return True
    if _says_no(padded):
        return False
    if _says_yes(padded):
        return True
    # "malheureusement non", "je crois que oui"
    if core[-1] in _FINAL_NO:
        return False
    if core[-1] in _FINAL_YES:
        return True
    return _emoji_answer(normalized)
