"""Offering workshops: the best ones for a resident (three at most, one SMS), one to confirm, or a waiting
list when all are full. What is carried from one offer to the next is kept in the state's data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.channels import Reply
from bot.conversation import texts as say
from bot.conversation.dialogue.common import commune_name, workshop_by_id
from bot.conversation.offers import MAX_OFFERED, fitting, listed, ranked, subject_of
from bot.conversation.turns import ResidentView, State, Step, Turn, WorkshopOption, World
from bot.conversation.understanding.when import Wish

# Carried from one offer to the next: how many come, the second person, when they would like it, a booking being
# moved, the workshops already shown.
CARRIED = ("party", "companion", "wish", "moving", "seen", "said", "declined", "from")


def wish_data(wish: Wish) -> dict[str, Any]:
    """When they would like to come, as stored between messages (places and subjects are read anew)."""
    return {
        "weekdays": sorted(wish.weekdays),
        "days": sorted(wish.days),
        "months": sorted(wish.months),
        "part": wish.part,
        "hour": wish.hour,
        "soonest": wish.soonest,
    }


def wish_of(data: dict[str, Any]) -> Wish:
    stored = data.get("wish") or {}
    return Wish(
        weekdays=frozenset(stored.get("weekdays", ())),
        days=frozenset(stored.get("days", ())),
        months=frozenset(stored.get("months", ())),
        part=stored.get("part"),
        hour=stored.get("hour"),
        soonest=bool(stored.get("soonest")),
    )


def party_of(data: dict[str, Any]) -> int:
    return 2 if data.get("party") == 2 else 1


def offer_or_companion(resident: ResidentView, world: World, data: dict[str, Any]) -> Turn:
    """An offer to someone known; when two will come, the second person's name first."""
    if party_of(data) == 2 and not data.get("companion"):
        return Turn(state=State(Step.COMPANION, data), replies=(Reply(say.ask_companion()),))
    return offer(resident, world, data)


def _excluded(resident: ResidentView, world: World, moving: Sequence[int] = ()) -> list[int]:
    """Workshops not to offer: those already booked, and those at the same time as one (nobody can be in two
    villages at once); the booking being moved does not count."""
    held = [b for b in resident.bookings if b.enrolment_id not in moving]
    booked = {b.workshop.id for b in held}
    busy = {w.id for w in world.workshops for b in held if w.overlaps(b.workshop)}
    return sorted(booked | busy)


def offer(
    resident: ResidentView,
    world: World,
    data: dict[str, Any] | None = None,
    *,
    exclude: Sequence[int] = (),
    note: str = "",
) -> Turn:
    """The best workshops for them (three at most, one SMS), or the waiting list when all are full."""
    assert resident.commune_insee is not None and resident.level is not None  # noqa: S101 - registered residents only
    data = {k: v for k, v in (data or {}).items() if k in CARRIED}
    party, wish = party_of(data), wish_of(data)
    order = ranked(
        world,
        commune_insee=resident.commune_insee,
        level=resident.level,
        interests=resident.interests,
        exclude=[*exclude, *_excluded(resident, world), *data.get("seen", ())],
        wish=wish,
    )
    if wish.specific and not fitting(wish, order, world):
        note = note or nothing_for(wish, world)
    data.pop("wish", None)
    return present(order, party, data, world, note=note)


def present(order: Sequence[WorkshopOption], party: int, data: dict[str, Any], world: World, *, note: str) -> Turn:
    with_seats = [w for w in order if w.free_seats >= party][:MAX_OFFERED]
    if not with_seats:
        full = [w for w in order if w.free_seats < party]
        if not full:
            replies = (Reply(note),) if note else ()
            return Turn(state=None, replies=(*replies, Reply(say.no_workshop_at_all(world.phone))))
        return offer_waiting_list(full[0], data, world, note=note)
    if len(with_seats) == 1:
        return ask_confirm(with_seats[0], {**data, "offered": [with_seats[0].id]}, world, note=note, single=True)
    text, labels = listed(with_seats, world, lambda subject: say.offer_header(note, subject))
    ids = [w.id for w in with_seats]
    state = State(Step.WORKSHOP, {**data, "offered": ids, "labels": list(labels), "seen": seen_with(data, ids)})
    return Turn(state=state, replies=(Reply(text, labels),))


def seen_with(data: dict[str, Any], ids: Sequence[int]) -> list[int]:
    return sorted({*data.get("seen", ()), *ids})


def offer_waiting_list(option: WorkshopOption, data: dict[str, Any], world: World, *, note: str = "") -> Turn:
    text = say.offer_waiting_list(option.starts_at, world.tz, option.venue, note=note)
    return Turn(state=State(Step.WAITLIST, {**data, "workshop": option.id}), replies=(Reply(text, say.YES_NO),))


def ask_confirm(
    option: WorkshopOption, data: dict[str, Any], world: World, *, note: str = "", single: bool = False
) -> Turn:
    """ "Atelier Impôts le mardi 14 avril à 14 h, Mairie de Saint-Victor. Je vous inscris ? OUI ou NON." — or,
    when a booking is being moved, "Je change votre inscription du … pour le … ?"."""
    data = {**data, "workshop": option.id}
    data.setdefault("offered", [option.id])
    subject = subject_of(option, world)
    old = data.get("from")
    old_option = workshop_by_id(world, int(old)) if old is not None else None
    if data.get("moving") and old_option is not None:
        text = say.ask_confirm_move(old_option.starts_at, option.starts_at, world.tz, option.venue, subject)
    elif single and party_of(data) == 1:
        text = say.offer_single(option.starts_at, world.tz, option.venue, subject, note=note)
    else:
        two = party_of(data) == 2
        text = say.ask_confirm_workshop(option.starts_at, world.tz, option.venue, subject, two=two, note=note)
    return Turn(state=State(Step.CONFIRM_WORKSHOP, data), replies=(Reply(text, say.YES_NO),))


def last_offered(state: State, world: World) -> tuple[list[WorkshopOption | None], list[str]]:
    """The workshops offered at the last question (None for one no longer open: the numbers shown still count)
    and their lines, as shown."""
    ids = [int(i) for i in state.data.get("offered", [])]
    options = [workshop_by_id(world, i) for i in ids]
    labels = list(state.data.get("labels") or [])
    if len(labels) != len(ids):  # an offer made elsewhere (a cancellation notice) lists them the plain way
        labels = [say.workshop_line(o.starts_at, world.tz, o.commune) if o else "" for o in options]
    return options, labels


def offerable(state: State, resident: ResidentView, world: World, wish: Wish | None = None) -> list[WorkshopOption]:
    """Every workshop that may be offered now, best first (all of them: full ones too)."""
    assert resident.commune_insee is not None and resident.level is not None  # noqa: S101 - registered
    moving = [int(i) for i in state.data.get("moving", [])]
    level = resident.level
    if moving:
        held = next((b for b in resident.bookings if b.enrolment_id in moving), None)
        level = held.workshop.level if held is not None else level
    return ranked(
        world,
        commune_insee=resident.commune_insee,
        level=level,
        interests=resident.interests,
        exclude=_excluded(resident, world, moving),
        wish=wish,
    )


def nothing_for(wish: Wish, world: World) -> str:
    """ "Pas d'atelier de votre niveau le jeudi." — what was asked for, said back."""
    parts = []
    if wish.days:
        parts.append("le " + " ou le ".join(str(d) for d in sorted(wish.days)))
    elif wish.weekdays:
        names = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        parts.append("le " + " ou le ".join(names[d] for d in sorted(wish.weekdays)))
    if wish.part:
        parts.append("le matin" if wish.part == "morning" else "l'après-midi")
    if wish.communes:
        parts.append("à " + " ou à ".join(commune_name(world, c) for c in wish.communes))
    if wish.subjects and not parts:
        return say.nothing_on(", ".join(wish.subjects))
    return say.nothing_that_day(" ".join(parts))
