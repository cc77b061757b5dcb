"""Free text to meaning: keywords, yes/no, numbers, choices, communes, names, interests.

Residents write short, misspelled, unaccented, all-caps or chatty messages ("bjr je voudrais minscrire pr l
atelier", "st victor", "03410", "le 2", "OUI MERCI", "👍"). Everything here is pure (no I/O), total (any text,
even empty, 1,600 characters, emoji, control characters, HTML or another script, returns a value and never
raises) and fast: it runs on every inbound message.

Being conservative is a feature: a wrong meaning (a false STOP, a wrong commune) is worse than a question
asked again, so ambiguous text gives ``None`` / "several" and the dialogue asks.

Suggested order for the dialogue: ``detect_keyword`` first (at any step), then the step's own parser. At the
name step call ``looks_like_name`` before ``is_greeting`` ("Bonjour, je m'appelle Martine Dupont" is both).

Fuzzy matching uses rapidfuzz (https://rapidfuzz.github.io/RapidFuzz/): Levenshtein/OSA distances on
normalized text, with allowances that grow with the length of the word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from bot.territory import CommuneInfo, Neighbour, Territory

# Longer input is cut before any analysis: SMS concatenation stops at 1,600 characters and Telegram at 4,096;
# nothing meaningful to us is that long, and the cut keeps every function fast on hostile input.
MAX_INPUT = 4096
# A short answer (a commune, a choice, yes/no) is found in the first words of a message.
_SHORT_ANSWER_CHARS = 400


def _pipe(text: str) -> tuple[str, ...]:
    """ "a|b c" -> ("a", "b c"): the vocabulary lists below, written compactly."""
    return tuple(item.strip() for item in text.split("|") if item.strip())


def _set(text: str) -> frozenset[str]:
    """ "a b c" -> {"a", "b", "c"}: word sets written compactly."""
    return frozenset(text.split())


# --------------------------------------------------------------------------------------------------------------
# Normalization

# HTML is not what residents write, but a pasted snippet must not read as words: tags go, scripts and styles too.
_TAG = re.compile(r"<(script|style)\b[^<>]{0,200}>[^<]{0,2000}</\1\s*>|</?[A-Za-z][^<>]{0,200}>", re.IGNORECASE)
_FOLD = str.maketrans(
    {"’": "'", "‘": "'", "‚": "'", "‛": "'", "`": "'", "´": "'", "′": "'"}
    | {"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "″": '"'}
    | {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
_ASCII_CONTROLS = str.maketrans({chr(i): " " for i in [*range(32), 127]})
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff]")
_WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    """Lowercase, accents stripped, HTML tags and control characters removed, curly quotes made straight,
    whitespace collapsed. Letters, digits, punctuation and emoji are kept ("Aide ?" -> "aide ?")."""
    text = _TAG.sub("", text[:MAX_INPUT]).lower()
    if text.isascii():
        return " ".join(text.translate(_ASCII_CONTROLS).split())
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text.translate(_FOLD)):
        category = unicodedata.category(ch)
        if category in ("Mn", "Me", "Cf", "Cs", "Co", "Cn"):
            # Accents, the emoji variation selector and keycap ("3️⃣" -> "3"), zero-width joiners, soft hyphens.
            continue
        out.append(" " if category[0] in "CZ" else ch)
    return " ".join(_SKIN_TONES.sub("", "".join(out).translate(_FOLD)).split())


def words(text: str) -> list[str]:
    """The Latin letters-and-digits words of the normalized text: "N°2, l'atelier!" -> ["n", "2", "l", "atelier"]."""
    return _WORD.findall(normalize(text))


def _squeeze(word: str) -> str:
    """ "ouiii" -> "oui", "okk" -> "ok": letters repeated, as typed on a phone."""
    return re.sub(r"(.)\1+", r"\1", word)


def _has(padded: str, phrase: str) -> bool:
    """Whole-word containment: ``padded`` is " word word ... " (see ``_pad``)."""
    return f" {phrase} " in padded


def _pad(tokens: Iterable[str]) -> str:
    return f" {' '.join(tokens)} "


# Politeness that may surround a keyword or an answer: "aide svp", "stop merci", "bonjour, annuler".
_POLITENESS = tuple(
    tuple(p.split())
    for p in _pipe(
        "s il vous plait|s il te plait|sil vous plait|merci beaucoup|merci bien|bonne journee|bonne soiree|svp merci"
        "|svp|stp|svpl|merci|mci|bonjour|bjr|bonsoir|salut|slt|coucou|hello|please|pls|cordialement|cdlt|madame"
        "|monsieur"
    )
)
_POLITENESS_WORDS = frozenset(word for phrase in _POLITENESS for word in phrase)


def _strip_politeness(tokens: list[str]) -> list[str]:
    """Remove politeness from both ends of the token list, as often as it appears (longest phrases first)."""
    changed = True
    while changed and tokens:
        changed = False
        for phrase in _POLITENESS:
            size = len(phrase)
            if tuple(tokens[:size]) == phrase:
                tokens, changed = tokens[size:], True
                break
            if len(tokens) >= size and tuple(tokens[-size:]) == phrase:
                tokens, changed = tokens[:-size], True
                break
    return tokens


# --------------------------------------------------------------------------------------------------------------
# Keywords


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
    Keyword.HELP: _pipe(
        "aide|aider|aidez moi|aide moi|help|sos|au secours|besoin d aide|j ai besoin d aide|je ne comprends pas"
        "|je comprends pas|comment ca marche|comment faire|menu"
    ),
    Keyword.CANCEL: _pipe(
        "annuler|annulation|annule|annulez|desinscrire|me desinscrire|desinscription|desinscrivez moi"
        "|je me desinscris|annuler mon inscription|annuler l inscription|annuler inscription|annuler mon atelier"
        "|annuler l atelier|annuler atelier|annuler ma place|annuler mon rendez vous|annuler rdv|comment annuler"
        "|savoir comment annuler|comment annuler mon inscription|savoir comment annuler mon inscription"
    ),
    Keyword.MY_WORKSHOPS: _pipe(
        "mes ateliers|mes atelier|mon atelier|mes inscriptions|mon inscription|mes rendez vous|mon rendez vous"
        "|mes rdv|mon rdv|voir mes ateliers|c est quand|quand|c est quand mon atelier|quand est mon atelier"
        "|mes cours|mon cours"
    ),
    Keyword.ADVISER: _pipe(
        "conseiller|conseillere|conseillers|un conseiller|une conseillere|parler a un conseiller"
        "|parler a une conseillere|parler a quelqu un|rappel|rappel moi|rappelez moi|rappelle moi|rappeler moi"
        "|me rappeler|appelez moi|appelle moi|appeler moi|m appeler|etre rappele|etre rappelee|telephonez moi"
        "|qu un conseiller me rappelle|que le conseiller me rappelle|que la conseillere me rappelle"
        "|qu une conseillere me rappelle|qu on me rappelle"
    ),
    # Conservative on purpose: a false STOP silences someone for good, a missed one is answered next time.
    Keyword.STOP: _pipe(
        "stop|stopp|stopper|arret|arrete|arretez|stop sms|stop messages|stop message|arret sms|arret des sms"
        "|arretez les sms|arretez les messages|plus de sms|plus de messages|je ne veux plus de sms"
        "|je ne veux plus de messages|ne plus recevoir|ne plus recevoir de sms|ne plus recevoir de messages"
        "|je ne veux plus recevoir|je ne veux plus rien recevoir|je ne veux plus recevoir de messages"
        "|je ne veux plus recevoir de sms|desabonner"
        "|me desabonner|desabonnez moi|desabonnement|unsubscribe"
        # Twilio's own opt-out words: Twilio blocks the number on them, so they must stop us too
        # (https://help.twilio.com/articles/223134027).
        "|stopall|stop all|end|cancel|quit|optout|opt out|revoke"
    ),
    Keyword.START: _pipe(
        "start|unstop|start sms|demarrer|reabonner|me reabonner|reabonnement|reactiver|reprendre les sms"
        "|reprendre les messages"
    ),
    Keyword.SIGNUP: _pipe(
        "inscription|inscriptions|m inscrire|minscrire|inscrire|s inscrire|je m inscris|inscris moi|inscrivez moi"
        "|nouvelle inscription|reinscription|me reinscrire|inscription atelier"
    ),
    Keyword.FORGET: _pipe(
        "oublier|oubliez moi|oublie moi|oubliez|effacer|supprimer|supprimer mes donnees|effacer mes donnees"
        "|supprimer mes informations|effacer mes informations|supprimer mes coordonnees|effacer mes coordonnees"
        "|supprimer mon compte|effacer mon compte|droit a l oubli|rgpd"
    ),
    Keyword.RESTART: _pipe(
        "recommencer|recommence|on recommence|tout recommencer|recommencer depuis le debut"
        "|reprendre depuis le debut|reprendre au debut|depuis le debut|retour au debut|reinitialiser|restart"
        "|reset|je me suis trompe|je me suis trompee|corriger"
    ),
}

# "je voudrais annuler", "pouvez-vous me rappeler": a request in front of a keyword. Not for STOP/START/SIGNUP:
# "je voudrais m'inscrire" is an ordinary first message, and STOP must be said plainly.
_REQUESTS = tuple(
    tuple(p.split())
    for p in _pipe("je veux|je voudrais|je souhaite|je souhaiterais|j aimerais|je desire|pouvez vous|pourriez vous")
    + _pipe("vous pouvez|merci de")
)
_REQUESTABLE = frozenset(
    {Keyword.HELP, Keyword.CANCEL, Keyword.MY_WORKSHOPS, Keyword.ADVISER, Keyword.FORGET, Keyword.RESTART}
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
    if not core or any(ch.isdigit() for ch in core):
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
    normalized = normalize(text)
    if normalized and set(normalized) <= {"?", " "}:
        return Keyword.HELP
    tokens = _strip_politeness(_WORD.findall(normalized))
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


# --------------------------------------------------------------------------------------------------------------
# Yes / no

_YES_WORDS = frozenset(
    _squeeze(w)
    for w in _pipe(
        "oui|o|ouais|ouai|ouaip|ouep|oue|voui|ui|oiu|wi|ok|okay|okey|oki|dac|dak|daccord|dacc|yes|yep|si|parfait"
        "|volontiers|present|presente|confirme|entendu|exact|absolument|evidemment|certainement|super|top|genial"
    )
)
_NO_WORDS = frozenset(_squeeze(w) for w in _pipe("non|n|nan|no|nope|nn|niet|impossible"))
_YES_PHRASES = _pipe(
    "d accord|bien sur|c est bon|c est ok|ca marche|ca me va|je viens|je viendrai|je serai la|je serais la"
    "|je serai present|je serai presente|j y serai|on sera la|nous serons la|nous viendrons|je confirme|c est note"
    "|avec plaisir|tout a fait|tres bien|pas de souci|pas de soucis|pas de probleme|pas de pb|sans probleme"
    "|sans souci|pourquoi pas"
)
# Checked before the yes phrases: "je viens pas" contains "je viens".
_NO_PHRASES = _pipe(
    "non merci|pas possible|peux pas|pourrai pas|pourrais pas|viendrai pas|viens pas|serai pas|serais pas"
    "|pas dispo|pas disponible|indisponible|empeche|empechee|empechement|pas venir|ne viendrai|ne pourrai|ne peux"
    "|que non|c est non"
)
_FINAL_YES = frozenset(_pipe("oui|ouais|ok|okay"))
_FINAL_NO = frozenset(_pipe("non|nan"))
_YES_WITH_PAS = tuple(p for p in _YES_PHRASES if "pas" in p.split())
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
    normalized = normalize(text[:_SHORT_ANSWER_CHARS])
    plain = _WORD.findall(normalized)[:_YES_NO_TOKENS]
    if not plain:
        return _emoji_answer(normalized)
    padded = _pad(plain)
    if any(_has(padded, p) for p in _YES_WITH_PAS) and _squeeze(plain[0]) not in _NO_WORDS:
        return True
    core = [_squeeze(t) for t in (_strip_politeness(plain) or plain)]
    # A lone "n" or "o" is an answer; in "n'importe" or "o." followed by words it is not.
    first = core[0] if len(core[0]) > 1 or len(core) == 1 else ""
    if first in _NO_WORDS:
        return False
    if first in _YES_WORDS:
        return True
    if any(_has(padded, p) for p in _NO_PHRASES):
        return False
    if any(_has(padded, p) for p in _YES_PHRASES):
        return True
    # "malheureusement non", "je crois que oui"
    if core[-1] in _FINAL_NO:
        return False
    if core[-1] in _FINAL_YES:
        return True
    return _emoji_answer(normalized)


# --------------------------------------------------------------------------------------------------------------
# Numbers and choices

_NUMBER_WORDS: dict[str, int] = {
    word: value
    for value, spellings in enumerate(
        (
            "",
            "un|une|premier|premiere",
            "deux|deus|second|seconde|deuxieme",
            "trois|troi|troisieme",
            "quatre|quatrieme",
            "cinq|cinquieme",
            "six|sixieme",
            "sept|septieme",
            "huit|huitieme",
            "neuf|neuvieme",
            "dix|dixieme",
            "onze|onzieme",
            "douze|douzieme",
        )
    )
    for word in _pipe(spellings)
}
_ORDINAL = re.compile(r"(\d{1,3})(?:er|ere|re|e|eme|em|nd|nde|ieme|o)?")
# Words that may surround a chosen number without changing it: "le 2", "n°2", "choix 3", "je prends le 2 merci".
# Negations, dates and units are absent on purpose: "pas le 2", "le 2 avril", "2 personnes" are not choices.
_NUMBER_FILLERS = _set(
    "le la les l n no nr nro num numero choix option reponse c est ca ce sera serait je j prends prend "
    "prendrai prendrais choisis choisi veux voudrais prefere plutot alors donc euh eh ben bah bon svp stp "
    "merci ok oui d accord bonjour bjr celui celle ci pour moi mon ma atelier chiffre va me convient qui que "
    "tres bien parfait"
)
_LIST_SEPARATORS = _set("et aussi puis ainsi ou plus avec")


def _number_of(token: str) -> int | None:
    if token in _NUMBER_WORDS:
        return _NUMBER_WORDS[token]
    match = _ORDINAL.fullmatch(token)
    if match is None:
        return None
    digits = match.group(1)
    # "03410" is a postcode, not choice 3410; "02" may well be 2.
    if len(digits) > 2 and digits.startswith("0"):
        return None
    return int(digits)


def _scan_numbers(text: str) -> tuple[list[tuple[str, int]], list[str]]:
    numbers: list[tuple[str, int]] = []
    others: list[str] = []
    for token in words(text[:_SHORT_ANSWER_CHARS]):
        value = _number_of(token)
        if value is None:
            others.append(token)
        else:
            numbers.append((token, value))
    return numbers, others


def parse_number(text: str, maximum: int) -> int | None:
    """One choice among 1..maximum: "2", "le 2", "n°2", "numero 2", "2.", "deux", "le deuxieme", "1er", "choix 3",
    "3️⃣". None for anything else, for several numbers ("2 3"), for a postcode ("03410") and for a number among
    words that are not mere filler ("2 personnes", "pas le 2", "le 2 avril")."""
    numbers, others = _scan_numbers(text)
    if not numbers or any(word not in _NUMBER_FILLERS for word in others):
        return None
    values = {value for _, value in numbers}
    if len(values) != 1:
        return None
    value = values.pop()
    return value if 1 <= value <= maximum else None


def _digits_typed_together(token: str, maximum: int) -> list[int] | None:
    """ "13" for choices 1 and 3 when there are at most nine choices and 13 is not one of them."""
    if maximum > 9 or len(token) < 2 or not token.isdigit() or len(set(token)) != len(token):
        return None
    digits = [int(d) for d in token]
    return digits if all(1 <= d <= maximum for d in digits) else None


def parse_numbers(text: str, maximum: int) -> list[int]:
    """Several choices among 1..maximum: "1 3", "1,3", "1 et 3", "un et trois", "la 1 et la 3" -> [1, 3]
    (sorted, without repeats); "13" typed without a space also gives [1, 3] when there are at most nine choices.
    An empty list when there is no number, when a number is out of range, or when other words are mixed in."""
    numbers, others = _scan_numbers(text)
    if not numbers or any(word not in _NUMBER_FILLERS and word not in _LIST_SEPARATORS for word in others):
        return []
    values: set[int] = set()
    for token, value in numbers:
        together = None if 1 <= value <= maximum else _digits_typed_together(token, maximum)
        if together is not None:
            values.update(together)
        elif 1 <= value <= maximum:
            values.add(value)
        else:
            return []
    return sorted(values)


_CHOICE_STOPWORDS = _set(
    "je j me m un une le la les l de du des d a au aux et ou en sur suis ai n est c ca sa son ses mon ma mes "
    "tu il elle on nous vous ils y que qui ce cette pour par avec dans plus tres bien deja"
)
_NEGATIONS = _set("pas jamais aucun aucune rien ni")


def _similar(word: str, other: str) -> float:
    """1 for the same word; 0.9 for the same stem ("debutant" ~ "debute"); 0.85 for a one-letter typo."""
    if word == other:
        return 1.0
    shortest = min(len(word), len(other))
    if shortest < 5:
        return 0.0
    prefix = 0
    for a, b in zip(word, other, strict=False):
        if a != b:
            break
        prefix += 1
    if prefix >= 5 and prefix >= 0.7 * shortest:
        return 0.9
    return 0.85 if OSA.distance(word, other, score_cutoff=1) <= 1 else 0.0


def _content(tokens: Iterable[str]) -> list[str]:
    return [t for t in tokens if t not in _CHOICE_STOPWORDS]


@lru_cache(maxsize=256)
def _vocabulary(choice: str, aliases: tuple[str, ...]) -> frozenset[str]:
    found = set(_content(words(choice)))
    for alias in aliases:
        found.update(_content(words(alias)))
    return frozenset(found)


def match_choice(text: str, choices: Sequence[str], *, aliases: Sequence[Sequence[str]] | None = None) -> int | None:
    """The 1-based index of the choice the resident answered, by its number ("2", "le deuxieme") or by its words
    ("debutant", "je debute"), when one choice clearly wins; else None. ``aliases[i]`` may add words that also
    mean choice i+1 (e.g. "nul" for the beginners' level). A negation the choice does not have ("pas a l'aise")
    rules that choice out."""
    number = parse_number(text, len(choices))
    if number is not None:
        return number
    answer = _content(words(text[:_SHORT_ANSWER_CHARS]))
    meaningful = [a for a in answer if a not in _NEGATIONS]
    if not meaningful or len(answer) > 30:
        return None
    negated = len(meaningful) < len(answer)
    scores: list[float] = []
    for index, choice in enumerate(choices):
        extra = tuple(aliases[index]) if aliases is not None and index < len(aliases) else ()
        vocabulary = _vocabulary(choice, extra)
        if negated and not vocabulary & _NEGATIONS:
            scores.append(0.0)
            continue
        total = sum(max((_similar(a, v) for v in vocabulary), default=0.0) for a in meaningful)
        scores.append(total / len(meaningful))
    ranked = sorted(scores, reverse=True)
    if not ranked:
        return None
    runner_up = ranked[1] if len(ranked) > 1 else 0.0
    if ranked[0] >= 0.6 and ranked[0] - runner_up >= 0.25:
        return scores.index(ranked[0]) + 1
    return None


# --------------------------------------------------------------------------------------------------------------
# Communes

Place = CommuneInfo | Neighbour
MatchKind = Literal["exact", "several", "outside", "none"]

_ARTICLES = frozenset({"la", "le", "les", "l"})
_CONNECTORS = frozenset({"en", "sur", "sous", "les", "lez", "d", "de", "du", "des", "la", "le", "aux"})
_SAINTS = frozenset({"saint", "sainte"})
# Words too common to stand for a commune on their own ("ça marche", "petite-fille", "les bains", "Anne").
_GENERIC = _set(
    "anne bains allier cher loire marche petite petit grand grande bourg ville village eglise mont pont bois haut "
    "bas vieux neuf vieille neuve"
)
# Words around a commune name: "j'habite à St Victor", "je suis de Domérat", "à Quinssaines".
_PLACE_FILLERS = _set(
    "j je habite habites habitons vis vit vivons suis sommes reside residons resident domicile domicilie "
    "domiciliee a au aux de d du des sur dans en commune village ville pres proche cote vers chez moi bourg c "
    "est mon ma on nous hameau lieu dit lieudit i live in from the ici la le les l juste"
)
_POSTCODE = re.compile(r"(?<!\d)(\d{2}) ?(\d{3})(?!\d)")
_MAX_PLACE_TOKENS = 40
RANK_FULL, RANK_SHORT, RANK_WORD = 3, 2, 1


def _place_tokens(text: str) -> list[str]:
    """Words of a place name, "st"/"ste" read as "saint"/"sainte"; hyphens, apostrophes and spaces alike."""
    return ["saint" if t == "st" else "sainte" if t == "ste" else t for t in words(text)]


def _head(body: list[str]) -> list[str]:
    """The usual short name: the part before a connector ("marcillat en combraille" -> "marcillat", "saint
    marcel en marcillat" -> "saint marcel", "neris les bains" -> "neris"), before an inner saint ("lavault sainte
    anne" -> "lavault"), else the first word of a compound ("teillet argenty" -> "teillet"). "Saint-Victor" has
    none shorter."""
    for index in range(1, len(body)):
        token = body[index]
        if token in _CONNECTORS or (token in _SAINTS and body[0] not in _SAINTS):
            return body[:index]
    return body if body[0] in _SAINTS else body[:1]


def _aliases(name: str) -> list[tuple[str, int]]:
    """The ways a resident may name a place, compacted ("saintvictor"), with how sure a hit is: the full name;
    the usual short names ("petite marche", "marcillat", "saint marcel", "teillet", "neris", "sainte anne"); a
    distinctive word of the name alone ("victor", "argenty", "combraille"), the weakest."""
    tokens = _place_tokens(name)
    if not tokens:
        return []
    found: list[tuple[str, int]] = [("".join(tokens), RANK_FULL)]
    if tokens[0] in _ARTICLES and len(tokens) > 1:
        # "La Petite-Marche" -> "petite marche"; its first word alone would be far too common.
        body = tokens[1:]
        found.append(("".join(body), RANK_SHORT))
    else:
        body = tokens
        head = _head(body)
        if head != body and not (len(head) == 1 and (head[0] in _GENERIC or len(head[0]) < 4)):
            found.append(("".join(head), RANK_SHORT))
    for index, token in enumerate(body):
        if token in _SAINTS and 0 < index < len(body) - 1:
            found.append((token + body[index + 1], RANK_SHORT))
        elif index > 0 and len(token) >= 5 and token not in _GENERIC | _CONNECTORS | _SAINTS:
            found.append((token, RANK_WORD))
    return found


def _name_key(name: str) -> str:
    return " ".join(words(name))


@dataclass(frozen=True)
class CommuneIndex:
    """Precomputed keys for matching communes: build once per territory (``CommuneIndex.build``), or let
    ``match_commune`` do it through ``commune_index``."""

    communes: tuple[CommuneInfo, ...]
    neighbours: tuple[Neighbour, ...]
    by_postcode: dict[str, tuple[CommuneInfo, ...]] = field(repr=False)
    neighbours_by_postcode: dict[str, tuple[Neighbour, ...]] = field(repr=False)
    # compact key ("saintvictor") -> the places it may mean, each with the rank of that meaning
    aliases: dict[str, tuple[tuple[Place, int], ...]] = field(repr=False)
    fuzzy_keys: tuple[str, ...] = field(repr=False)
    saints: tuple[CommuneInfo, ...] = field(repr=False)
    max_tokens: int = 5

    @classmethod
    def build(cls, territory: Territory) -> CommuneIndex:
        communes = tuple(sorted(territory.communes, key=lambda c: _name_key(c.name)))
        aliases: dict[str, dict[Place, int]] = {}
        max_tokens = 1
        places: tuple[Place, ...] = (*communes, *territory.neighbours)
        for place in places:
            max_tokens = max(max_tokens, len(_place_tokens(place.name)))
            for key, rank in _aliases(place.name):
                targets = aliases.setdefault(key, {})
                targets[place] = max(rank, targets.get(place, 0))
        by_postcode: dict[str, list[CommuneInfo]] = {}
        for commune in communes:
            by_postcode.setdefault(commune.postcode, []).append(commune)
        neighbours_by_postcode: dict[str, list[Neighbour]] = {}
        for neighbour in territory.neighbours:
            neighbours_by_postcode.setdefault(neighbour.postcode, []).append(neighbour)
        return cls(
            communes=communes,
            neighbours=territory.neighbours,
            by_postcode={k: tuple(v) for k, v in by_postcode.items()},
            neighbours_by_postcode={k: tuple(v) for k, v in neighbours_by_postcode.items()},
            aliases={k: tuple(v.items()) for k, v in aliases.items()},
            # Typos are looked for only against names and usual short names, never against a lone word.
            fuzzy_keys=tuple(k for k, v in aliases.items() if len(k) >= 5 and max(v.values()) >= RANK_SHORT),
            saints=tuple(c for c in communes if _place_tokens(c.name)[:1] in (["saint"], ["sainte"])),
            max_tokens=max_tokens + 1,
        )


@dataclass(frozen=True)
class CommuneMatch:
    """What a resident's answer to "which commune?" means.

    - ``exact``: one commune of the territory (``communes[0]``, also ``commune``); ``approximate`` when it was
      found despite a typo or from a single word of its name, so the dialogue may say the name back.
    - ``several``: a shared postcode or an ambiguous name; ``communes`` sorted by name, to offer as choices.
    - ``outside``: a neighbouring village (``neighbour`` is its name) or a postcode that is not the territory's
      (``postcode``; ``neighbour`` is None when the postcode belongs to no single known neighbour).
    - ``none``: not understood.
    """

    kind: MatchKind
    communes: tuple[CommuneInfo, ...] = ()
    neighbour: str | None = None
    postcode: str | None = None
    approximate: bool = False

    @property
    def commune(self) -> CommuneInfo | None:
        return self.communes[0] if self.kind == "exact" else None


_NO_COMMUNE = CommuneMatch("none")
_INDEX_CACHE: dict[int, tuple[Territory, CommuneIndex]] = {}


def commune_index(territory: Territory) -> CommuneIndex:
    """The index of a territory, built on first use and kept while that same territory object is used."""
    cached = _INDEX_CACHE.get(id(territory))
    if cached is not None and cached[0] is territory:
        return cached[1]
    index = CommuneIndex.build(territory)
    if len(_INDEX_CACHE) >= 16:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[id(territory)] = (territory, index)
    return index


def _typo_allowance(size: int) -> int:
    if size >= 12:
        return 3
    if size >= 8:
        return 2
    return 1 if size >= 5 else 0


def _windows(tokens: Sequence[str], longest: int) -> Iterable[list[str]]:
    for start in range(len(tokens)):
        for size in range(1, min(longest, len(tokens) - start) + 1):
            yield list(tokens[start : start + size])


def _compact_variants(key: str) -> tuple[str, ...]:
    # "stvictor" typed as one word.
    if key.startswith("ste") and not key.startswith("sainte"):
        return (key, "sainte" + key[3:])
    if key.startswith("st") and not key.startswith("saint"):
        return (key, "saint" + key[2:])
    return (key,)


def _exact_hits(index: CommuneIndex, tokens: Sequence[str]) -> dict[Place, int]:
    hits: dict[Place, int] = {}
    for window in _windows(tokens, index.max_tokens):
        for variant in _compact_variants("".join(window)):
            for place, rank in index.aliases.get(variant, ()):
                hits[place] = max(rank, hits.get(place, 0))
    return hits


def _fuzzy_hits(index: CommuneIndex, tokens: Sequence[str]) -> dict[Place, int]:
    """Places within a few typos of a window of the message, at the smallest distance found."""
    best: int | None = None
    found: dict[Place, int] = {}
    for window in _windows(tokens, index.max_tokens):
        key = "".join(window)
        if window[0] in _PLACE_FILLERS or window[-1] in _PLACE_FILLERS or len(key) < 5:
            continue
        for variant in _compact_variants(key):
            for alias, distance, _ in process.extract(
                variant, index.fuzzy_keys, scorer=Levenshtein.distance, score_cutoff=_typo_allowance(len(key))
            ):
                if distance > _typo_allowance(len(alias)) or (best is not None and distance > best):
                    continue
                if best is None or distance < best:
                    best, found = distance, {}
                for place, rank in index.aliases[alias]:
                    found[place] = max(rank, found.get(place, 0))
    return found


def _decide(hits: dict[Place, int], *, approximate: bool) -> CommuneMatch | None:
    inside = {p: r for p, r in hits.items() if isinstance(p, CommuneInfo)}
    outside = {p: r for p, r in hits.items() if isinstance(p, Neighbour)}
    best_inside = max(inside.values(), default=0)
    best_outside = max(outside.values(), default=0)
    # A single word of the name ("victor", "marcel") may be a person's name: say the commune back to be sure.
    approximate = approximate or max(best_inside, best_outside) == RANK_WORD
    if best_inside and best_inside >= best_outside:
        chosen = sorted((p for p, r in inside.items() if r == best_inside), key=lambda c: _name_key(c.name))
        kind: MatchKind = "exact" if len(chosen) == 1 else "several"
        return CommuneMatch(kind, tuple(chosen), approximate=approximate)
    if best_outside:
        names = sorted(p.name for p, r in outside.items() if r == best_outside)
        return CommuneMatch("outside", neighbour=names[0] if len(names) == 1 else None, approximate=approximate)
    return None


def _by_postcode(index: CommuneIndex, postcode: str) -> CommuneMatch:
    inside = index.by_postcode.get(postcode, ())
    if inside:
        return CommuneMatch("exact" if len(inside) == 1 else "several", inside, postcode=postcode)
    neighbours = index.neighbours_by_postcode.get(postcode, ())
    if len(neighbours) == 1:
        return CommuneMatch("outside", neighbour=neighbours[0].name, postcode=postcode)
    if neighbours or "01" <= postcode[:2] <= "98":
        # Any other French postcode is somewhere else than the territory.
        return CommuneMatch("outside", postcode=postcode)
    return _NO_COMMUNE


def _saints_only(index: CommuneIndex, content: list[str]) -> CommuneMatch:
    """ "st" or "ste" alone: the communes whose name starts with Saint/Sainte (or Sainte only), to choose from."""
    saints = tuple(c for c in index.saints if "saint" in content or _place_tokens(c.name)[0] == "sainte")
    if len(saints) == 1:
        return CommuneMatch("exact", saints, approximate=True)
    return CommuneMatch("several", saints) if saints else _NO_COMMUNE


def match_commune(text: str, territory: Territory | CommuneIndex) -> CommuneMatch:
    """Which commune the resident means: "st victor", "SAINT-VICTOR", "domerat", "j'habite à Quinssaines",
    "la petite marche", "teillet", "03410" (shared: several), "commentry" (outside), garbage (none).

    A name beats a postcode when both are given; a commune of the territory beats a neighbour named as surely.
    "marcillat" alone is Marcillat-en-Combraille, its usual name (Saint-Marcel-en-Marcillat's residents say
    "Saint-Marcel"). "st" alone lists the communes whose name starts with Saint/Sainte. Typos are tolerated
    (``approximate``), never when two places are equally close (then "several").
    """
    index = territory if isinstance(territory, CommuneIndex) else commune_index(territory)
    normalized = normalize(text[:_SHORT_ANSWER_CHARS])
    tokens = _place_tokens(normalized)[:_MAX_PLACE_TOKENS]
    if not tokens:
        return _NO_COMMUNE
    named = _decide(_exact_hits(index, tokens), approximate=False)
    if named is not None:
        return named
    postcode = _POSTCODE.search(normalized)
    if postcode is not None:
        return _by_postcode(index, postcode.group(1) + postcode.group(2))
    content = [t for t in tokens if t not in _PLACE_FILLERS and t not in _POLITENESS_WORDS]
    if content and set(content) <= _SAINTS:
        return _saints_only(index, content)
    fuzzy = _decide(_fuzzy_hits(index, tokens), approximate=True)
    return fuzzy if fuzzy is not None else _NO_COMMUNE


# --------------------------------------------------------------------------------------------------------------
# Greetings and names

_GREETINGS = frozenset(_pipe("bonjour|bjr|bjour|bonjours|bsr|bonsoir|salut|slt|coucou|cc|hello|hi|hey|allo|yo|hola"))
_SIGNUP_PREFIXES = ("inscri", "minscri", "sinscri", "jminscri", "reinscri")
_SIGNUP_WORDS = frozenset(
    _pipe("atelier|ateliers|info|infos|information|informations|renseignement|renseignements|start")
)


def is_greeting(text: str) -> bool:
    """A message that only opens the conversation: "bonjour", "bjr", "salut", "coucou", "bjr je voudrais
    minscrire pr l atelier", "je veux m'inscrire", "inscription". Not a keyword such as "mes ateliers"."""
    tokens = words(text[:_SHORT_ANSWER_CHARS])
    if not tokens:
        return False
    keyword = detect_keyword(text)
    if keyword is not None and keyword not in (Keyword.SIGNUP, Keyword.START):
        return False
    first = _squeeze(tokens[0])
    if tokens[0] in _GREETINGS or first in _GREETINGS:
        return True
    if len(first) >= 6 and min(Levenshtein.distance(first, g) for g in ("bonjour", "bonsoir")) <= 1:
        return True
    return any(t.startswith(_SIGNUP_PREFIXES) or t in _SIGNUP_WORDS for t in tokens)


_NAME_INTROS = frozenset(
    _pipe(
        "bonjour|bjr|bonsoir|salut|slt|coucou|hello|je m appelle|je m apelle|je mappelle|je mapelle|jm appelle"
        "|moi c est|c est|mon nom est|mon nom c est|mon nom|mon prenom est|mon nom et prenom|nom et prenom"
        "|nom prenom|prenom nom|nom|prenom|je suis|ici|voici"
    )
)
_NAME_OUTROS = frozenset(_pipe("merci|svp|stp|cordialement|merci beaucoup|bonne journee|cdlt"))
# Where a name stops in "Jeanne Roche j'habite à Prémilhat": what follows is not part of it.
_NAME_ENDS = frozenset(_pipe("j habite|habite|je vis|je reside|domicilie|domiciliee|demeurant|et j habite"))
_NOT_NAME_WORDS = _set(
    "inscrire minscrire inscription inscriptions atelier ateliers voudrais veux aide stop comment pourquoi quoi "
    "quand http https www com fr oui non ok merci numero rien"
)
_PARTICLES = frozenset({"de", "du", "des", "d", "van", "von", "der", "den", "di", "da", "et"})
_TITLES = {"mme": "Mme", "mr": "M.", "m": "M.", "mlle": "Mlle", "madame": "Madame", "monsieur": "Monsieur"}
_NOT_NAME_CHARS = re.compile(r"[^\w\s'\-.]|[\d_]")
_APOSTROPHES = str.maketrans("’‘`´", "''''")
_MAX_NAME = 60


def _drop_phrases(items: list[str], phrases: frozenset[str], *, from_end: bool) -> list[str]:
    changed = True
    while changed and items:
        changed = False
        for size in range(min(5, len(items)), 0, -1):
            part = items[-size:] if from_end else items[:size]
            if " ".join(words(" ".join(part))) in phrases:
                items = items[:-size] if from_end else items[size:]
                changed = True
                break
    return items


def _capitalize_part(part: str, *, first: bool) -> str:
    lower = part.lower()
    if first and lower.rstrip(".") in _TITLES:
        return _TITLES[lower.rstrip(".")]
    if lower in _PARTICLES and not first:
        return lower
    if part in (lower, part.upper()):
        return part[:1].upper() + part[1:].lower()
    return part  # "McDonald", "DeGaulle": written that way on purpose


def _capitalize_word(word: str, *, first: bool) -> str:
    pieces = re.split(r"([\-'])", word)
    return "".join(
        piece if piece in ("-", "'") else _capitalize_part(piece, first=first and i == 0)
        for i, piece in enumerate(pieces)
    )


def _cut_at(items: list[str], phrases: frozenset[str]) -> list[str]:
    """The items before the first phrase of ``phrases`` (one or two items long)."""
    for index in range(len(items)):
        for size in (1, 2):
            if " ".join(words(" ".join(items[index : index + size]))) in phrases:
                return items[:index]
    return items


def first_name_of(name: str) -> str:
    """What a reply calls the person: the first name ("Martine Dupont" → "Martine", "Mme Martine Dupont" →
    "Martine"), or title and surname when that is all they gave ("Mme Dupont" stays "Mme Dupont", never "Mme")."""
    parts = name.split()
    if len(parts) > 1 and parts[0].lower().rstrip(".") in _TITLES:
        if len(parts) == 2 or parts[1].lower() == "et":  # "Mme Dupont", "M. et Mme Bernard": all of it
            return " ".join(parts)
        return parts[1]
    return parts[0] if parts else ""


def clean_name(text: str) -> str:
    """The name in a message, tidied: "MARTINE DUPONT" -> "Martine Dupont", "je m'appelle jean-pierre martin" ->
    "Jean-Pierre Martin", "c'est Mme Durand" -> "Mme Durand". Greetings and "je m'appelle" are removed; emoji,
    digits and symbols dropped; accents kept (they are part of the name). May be empty."""
    text = unicodedata.normalize("NFC", _TAG.sub(" ", text[: 4 * _MAX_NAME])).translate(_APOSTROPHES)
    items = [w.strip("-'.") for w in _NOT_NAME_CHARS.sub(" ", text).split()]
    items = _drop_phrases([w for w in items if w], _NAME_INTROS, from_end=False)
    items = _drop_phrases(_cut_at(items, _NAME_ENDS), _NAME_OUTROS, from_end=True)
    return " ".join(_capitalize_word(word, first=position == 0) for position, word in enumerate(items))


def _latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN")


def looks_like_name(text: str) -> bool:
    """Whether the message is plausibly a person's name (once "je m'appelle", greetings and politeness are
    removed): no digits, not emoji only, not a greeting alone, not a keyword, not a sentence, at most 60
    characters, in Latin letters (an SMS can carry nothing else back; the dialogue asks again)."""
    if len(text) > 4 * _MAX_NAME or any(ch.isdigit() for ch in text) or "@" in text:
        return False
    name = clean_name(text)
    if not name or len(name) > _MAX_NAME or len(name.split()) > 6:
        return False
    letters = [ch for ch in name if ch.isalpha()]
    if len(letters) < 2 or not all(_latin(ch) for ch in letters):
        return False
    tokens = words(name)
    if not tokens or any(t in _NOT_NAME_WORDS for t in tokens):
        return False
    if all(t in _GREETINGS or t in _POLITENESS_WORDS or t in _YES_WORDS or t in _NO_WORDS for t in tokens):
        return False
    return detect_keyword(name) is None and not is_greeting(name)


# --------------------------------------------------------------------------------------------------------------
# Interests

# What residents ask to learn, with the words they use for it. Labels are very short: all seven are listed under
# the question in one SMS, which must stay within one 160-character segment.
INTERESTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Santé, Ameli",
        _pipe("ameli|sante|medecin|doctolib|carte vitale|mutuelle|cpam|ordonnance|remboursement|pharmacie|hopital"),
    ),
    ("Impôts", _pipe("impots|impot|declaration|taxe|fisc|fiscal")),
    ("Banque", _pipe("banque|compte|virement|bancaire|releve|paiement|payer|achat")),
    ("E-mail", _pipe("mail|email|e mail|courriel|messagerie|gmail|boite mail|mel")),
    (
        "Appels vidéo",
        _pipe("video|whatsapp|skype|visio|petits enfants|petit enfant|famille|facetime|messenger|zoom"),
    ),
    ("Photos", _pipe("photo|photos|image|images|album")),
    (
        "Démarches",
        _pipe(
            "ants|caf|retraite|demarche|demarches|administratif|administration|carte grise|permis|passeport"
            "|carte d identite|france connect|franceconnect|msa|papiers|france travail"
        ),
    ),
)
INTEREST_LABELS: tuple[str, ...] = tuple(label for label, _ in INTERESTS)

_NO_PREFERENCE = _pipe(
    "rien|non|aucun|aucune|pas d idee|pas d idees|aucune idee|je ne sais pas|je sais pas|sais pas|jsp|nsp"
    "|peu importe|n importe|pas de preference|pas specialement|pas vraiment|on verra|comme vous voulez|passer"
    "|suivant|plus tard|0"
)
_EVERYTHING = _pipe("tout|tous|toutes|de tout|un peu de tout|tout m interesse|tout ca")
_PARTS = re.compile(r"\bet\b|[,;+/&]|\bpuis\b")


@lru_cache(maxsize=64)
def _synonyms(choices: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """For each choice: the words that mean it (INTERESTS' synonyms for a known label) and the label's own
    distinctive words ("photos", "banque"; not "ligne", which two labels share)."""
    known = {_name_key(label): synonyms for label, synonyms in INTERESTS}
    own = [set(_content(words(c))) for c in choices]
    result = []
    for index, choice in enumerate(choices):
        shared = set().union(*(own[i] for i in range(len(choices)) if i != index))
        distinctive = tuple(w for w in sorted(own[index]) if len(w) >= 4 and w not in shared)
        result.append(tuple(known.get(_name_key(choice), ())) + distinctive)
    return tuple(result)


def _mentions(tokens: Sequence[str], padded: str, synonym: str) -> bool:
    if " " in synonym:
        return _has(padded, synonym)
    stem = synonym.rstrip("sx")
    for token in tokens:
        if token == synonym or token.rstrip("sx") == stem:
            return True
        if len(synonym) >= 6 and len(token) >= 5 and Levenshtein.distance(token, synonym, score_cutoff=1) <= 1:
            return True
    return False


def parse_interests(text: str, choices: Sequence[str]) -> list[str] | None:
    """The labels (from ``choices``, in their order) the resident chose, by numbers ("1 3"), by words ("impots et
    banque"), or both ("1 et banque"). ``[]`` for an explicit "nothing in particular" ("rien", "non", "je ne sais
    pas"); every choice for "tout"; ``None`` when nothing was understood."""
    text = text[:_SHORT_ANSWER_CHARS]
    tokens = words(text)
    if not tokens:
        return None
    numbers = parse_numbers(text, len(choices))
    if numbers:
        return [choices[n - 1] for n in numbers]
    chosen = {n - 1 for part in _PARTS.split(normalize(text)) if (n := parse_number(part, len(choices)))}
    padded = _pad(tokens)
    for index, synonyms in enumerate(_synonyms(tuple(choices))):
        if any(_mentions(tokens, padded, synonym) for synonym in synonyms):
            chosen.add(index)
    if chosen:
        return [choices[i] for i in sorted(chosen)]
    core = _pad(_strip_politeness(tokens))
    if any(_has(core, phrase) for phrase in _NO_PREFERENCE):
        return []
    if core.strip() and any(_has(core, phrase) for phrase in _EVERYTHING):
        return list(choices)
    return None
