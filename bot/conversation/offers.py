"""Which workshops to offer, in what order, and which one a resident's answer chooses. Pure.

Ranking: a workshop near home, on what the resident asked to learn, soon, comes first. Each kilometre from the
resident's town hall counts one point, a workshop on another subject than those they asked for counts
``OTHER_SUBJECT_KM`` more, each day of waiting ``DAY_KM``: a workshop on taxes 12 km away beats a general one next
door for someone who asked for taxes, but not one 30 km away (the territory is about 30 km across).

Choosing: the label of a line (a Telegram button sends exactly it) picks that line before anything else; then
its number; then what the answer says of the day, date, place, time or subject (``understanding.when``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from bot.conversation import texts as say
from bot.conversation.turns import WorkshopOption, World
from bot.conversation.understanding.choices import match_choice
from bot.conversation.understanding.interests import topic_subjects
from bot.conversation.understanding.keywords import parse_yes_no
from bot.conversation.understanding.numbers import parse_number
from bot.conversation.understanding.text import normalize, words
from bot.conversation.understanding.when import Wish, read_wish
from bot.territory import Interest, distance_km
from storage.enums import Level

MAX_OFFERED = 3
OTHER_SUBJECT_KM = 15.0
DAY_KM = 0.2
MAX_SUBJECT_LABEL = 18


def _subject(topic: str, interests: tuple[Interest, ...]) -> str:
    found = topic_subjects(topic, interests)
    if found:
        return found[0]
    return topic if len(topic) <= MAX_SUBJECT_LABEL else ""


def subject_of(option: WorkshopOption, world: World) -> str:
    """What the workshop is about, as short as the list of interests says it ("Impôts"); its own topic when that
    is short and matches none; "" otherwise."""
    return _subject(option.topic.strip(), world.territory.interests)


def subjects_of(option: WorkshopOption, world: World) -> tuple[str, ...]:
    return topic_subjects(option.topic, world.territory.interests)


def ranked(
    world: World,
    *,
    commune_insee: str,
    level: Level,
    interests: Sequence[str] = (),
    exclude: Sequence[int] = (),
    wish: Wish | None = None,
) -> list[WorkshopOption]:
    """Upcoming workshops of that level, best first (see the module's note); those that fit ``wish`` before the
    others."""
    home = world.territory.commune(commune_insee)
    wanted = set(interests)
    candidates = [w for w in world.workshops if w.level == level and w.id not in exclude]

    def score(option: WorkshopOption) -> tuple[bool, float, float]:
        fits = wish is not None and wish.specific and not _fits(wish, option, world)
        km = _km(home.latitude, home.longitude, option.latitude, option.longitude) if home else 0.0
        other = bool(wanted) and not wanted & set(subjects_of(option, world))
        days = (option.starts_at - world.now).total_seconds() / 86400
        return fits, round(km + (OTHER_SUBJECT_KM if other else 0.0) + DAY_KM * days, 1), option.starts_at.timestamp()

    return sorted(candidates, key=score)


@lru_cache(maxsize=4096)  # from a town hall to a venue: the same few pairs for every workshop ranked, every turn
def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return distance_km(lat1, lon1, lat2, lon2)


def nearest_workshops(
    *, world: World, commune_insee: str, level: Level, exclude: Sequence[int] = ()
) -> list[WorkshopOption]:
    """Upcoming workshops of that level, best first for someone who asked for nothing in particular."""
    return ranked(world, commune_insee=commune_insee, level=level, exclude=exclude)


def _fits(wish: Wish, option: WorkshopOption, world: World) -> bool:
    return wish.fits(option.starts_at, world.tz, option.commune_insee, subjects_of(option, world))


def fitting(wish: Wish, options: Sequence[WorkshopOption], world: World) -> list[WorkshopOption]:
    return [o for o in options if _fits(wish, o, world)]


def listed(options: Sequence[WorkshopOption], world: World, header: say.Header) -> tuple[str, tuple[str, ...]]:
    """The question and the numbered lines of these workshops, in the plainest words that fit one SMS."""
    items = [(o.starts_at, o.commune, subject_of(o, world)) for o in options]
    return say.fitting_lines(header, items, world.tz)


# --- Which one the answer chooses ---------------------------------------------------------------------------


class Pick(StrEnum):
    ONE = "one"  # ``options[0]`` is chosen
    ELSEWHERE = "elsewhere"  # what was said fits none of those offered: look further (``wish``)
    OTHERS = "others"  # "autre", "pas d'autres dates ?"
    DECLINED = "declined"  # "non"
    UNCLEAR = "unclear"  # a yes to a list of several, or nothing understood


@dataclass(frozen=True)
class Chosen:
    pick: Pick
    options: tuple[WorkshopOption, ...] = ()
    wish: Wish | None = None


def _same(text: str, label: str) -> bool:
    """ "lundi 7 décembre à 14 h, Saint-Victor", as a button sends it or as typed (accents, case, "1 " before)."""
    typed, line = " ".join(words(text)), " ".join(words(label))
    return bool(line) and (typed == line or typed.split(" ", 1)[-1] == line)


def _leading_number(text: str, count: int) -> int | None:
    """ "le 1 a domerat", "2 pour nous deux": a choice number said first, the rest adding to it."""
    tokens = words(text)
    head = [t for t in tokens[:2] if t not in ("le", "la", "n", "no", "numero", "choix")]
    if not head or not head[0].isdigit() or len(tokens) < 2:
        return None
    following = tokens[tokens.index(head[0]) + 1 :]
    if following[:1] and following[0] in ("personnes", "personne", "places", "place", "h", "heures"):
        return None  # "2 personnes" is how many come, "14 h" a time
    return parse_number(head[0], count)


def choose(
    text: str,
    options: Sequence[WorkshopOption | None],
    labels: Sequence[str],
    world: World,
) -> Chosen:
    """What the answer to a numbered list of workshops chooses. ``options[i]`` is None when the workshop of
    line i+1 is no longer open (the numbers the resident saw still count)."""
    count = len(labels)
    open_options = [o for o in options if o is not None]
    for index, label in enumerate(labels):
        if _same(text, label):
            return _one(options, index)
    number = parse_number(text, 99)
    if number is not None and number <= count:
        return _one(options, number - 1)
    leading = _leading_number(text, count)
    if leading is not None:
        return _one(options, leading - 1)
    # A number alone beyond the list is a date ("17"), when it cannot be a slip of the finger ("9").
    bare_day = number is not None and number >= 10
    wish = read_wish(text, communes=world.communes, interests=world.territory.interests, bare_day=bare_day)
    if wish.specific:
        found = fitting(wish, open_options, world)
        if wish.soonest and found:
            found = [min(found, key=lambda o: o.starts_at)]
        if found:
            # The best of those that fit (the list is in order): asked to confirm, a "non" shows the others.
            return Chosen(Pick.ONE, (found[0],))
        return Chosen(Pick.ELSEWHERE, wish=wish)
    if wish.soonest and open_options:
        return Chosen(Pick.ONE, (min(open_options, key=lambda o: o.starts_at),))
    if wish.anything and open_options:
        return Chosen(Pick.ONE, (open_options[0],))
    if wish.others:
        return Chosen(Pick.OTHERS)
    if number is not None:
        return Chosen(Pick.UNCLEAR)  # a number off the list is no choice (nor the "9" of "9 h")
    answer = parse_yes_no(text)
    if answer is False:
        return Chosen(Pick.DECLINED)
    if answer is True and len(open_options) == 1:
        return Chosen(Pick.ONE, (open_options[0],))
    fuzzy = match_choice(normalize(text), [normalize(label) for label in labels]) if answer is None else None
    if fuzzy is not None:
        return _one(options, fuzzy - 1)
    return Chosen(Pick.UNCLEAR)


def _one(options: Sequence[WorkshopOption | None], index: int) -> Chosen:
    chosen = options[index] if 0 <= index < len(options) else None
    return Chosen(Pick.ONE, (chosen,)) if chosen is not None else Chosen(Pick.ONE)
