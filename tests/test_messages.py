"""Every sentence rendered as an SMS with the longest real values: one segment for a question (issue 13, item 16),
two at most for the seat with its address, never above three."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import DEFAULT_TERRITORY
from bot.conversation import texts as say
from bot.conversation.gsm7 import count_segments, is_gsm7, render_sms
from bot.conversation.understanding.names import first_name_of
from bot.territory import load_territory
from tests.helpers.clock import PARIS

TERRITORY = load_territory(DEFAULT_TERRITORY)
INTEREST_LABELS = tuple(i.label for i in TERRITORY.interests)
LONGEST_COMMUNE = max((c.name for c in TERRITORY.communes), key=len)
LONGEST_VENUE = max(TERRITORY.venues, key=lambda v: len(v.name) + len(v.address))
LONGEST_SUBJECT = max(INTEREST_LABELS, key=len)
FIRST_NAME = "Jean-Christophe"
# The longest way a date is written: "mercredi 30 septembre à 14 h 30".
START = datetime(2026, 9, 30, 12, 30, tzinfo=UTC)
PHONE = TERRITORY.contact.phone
SHARED_POSTCODE = sorted((c.name for c in TERRITORY.communes if c.postcode == "03410"), key=len, reverse=True)
# Three workshops on long dates, in the three longest communes, on different subjects.
LONG_COMMUNES = sorted((c.name for c in TERRITORY.communes), key=len, reverse=True)[:3]
SUBJECTS = sorted(INTEREST_LABELS, key=len, reverse=True)[:3]
THREE = [(START - timedelta(days=7 * i), LONG_COMMUNES[i], SUBJECTS[i]) for i in range(3)]
SAME_SUBJECT = [(START - timedelta(days=7 * i), LONG_COMMUNES[i], LONGEST_SUBJECT) for i in range(3)]


def listed(header: say.Header, items: list[tuple[datetime, str, str]]) -> tuple[str, tuple[str, ...]]:
    return say.fitting_lines(header, items, PARIS)


ONE_SEGMENT: list[tuple[str, str, tuple[str, ...]]] = [
    ("welcome and the name question", *(say.welcome_and(TERRITORY.name, say.ask_name())[0], ())),
    ("ask name", say.ask_name(), ()),
    ("ask the name of the person registered", say.ask_name(for_someone=True), ()),
    ("name not understood", say.name_not_understood(), ()),
    ("ask the second person's name", say.ask_companion(), ()),
    ("second name not understood", say.companion_not_understood(), ()),
    ("ask commune", say.ask_commune(), ()),
    ("ask commune of someone else", say.ask_commune(about=FIRST_NAME), ()),
    ("commune not found", say.ask_commune_again(), ()),
    ("pick commune", say.pick_commune(), tuple(SHARED_POSTCODE)),
    ("outside the territory", say.outside_territory("Villefranche-d'Allier", TERRITORY.name, PHONE), ()),
    ("outside, a postcode", say.outside_territory(None, TERRITORY.name, PHONE), ()),
    ("ask level", say.ask_level(), say.LEVEL_CHOICES),
    ("ask level of someone else", say.ask_level(about=FIRST_NAME), say.LEVEL_CHOICES),
    ("level not understood", say.level_not_understood(), say.LEVEL_CHOICES),
    ("ask interests", say.ask_interests(), INTEREST_LABELS),
    ("interests not understood", say.interests_not_understood(), INTEREST_LABELS),
    ("offer three workshops", *listed(lambda s: say.offer_header("", s), THREE)),
    ("offer three of one subject", *listed(lambda s: say.offer_header("", s), SAME_SUBJECT)),
    ("offer after a note", *listed(lambda s: say.offer_header(say.nothing_that_day("le mercredi"), s), THREE)),
    ("offer again", *listed(lambda _: say.offer_again_header(), THREE)),
    ("offer to move", *listed(lambda _: say.move_header(START, PARIS, say.full_workshop()), THREE)),
    ("the one workshop offered", say.offer_single(START, PARIS, LONGEST_VENUE.name, LONGEST_SUBJECT), say.YES_NO),
    ("confirm workshop", say.ask_confirm_workshop(START, PARIS, LONGEST_VENUE.name, LONGEST_SUBJECT), say.YES_NO),
    (
        "confirm workshop for two",
        say.ask_confirm_workshop(START, PARIS, LONGEST_VENUE.name, LONGEST_SUBJECT, two=True),
        say.YES_NO,
    ),
    (
        "confirmation not understood",
        say.confirm_not_understood(START, PARIS, LONGEST_VENUE.name, LONGEST_SUBJECT),
        say.YES_NO,
    ),
    (
        "confirm a move",
        say.ask_confirm_move(START, START, PARIS, LONGEST_VENUE.name, LONGEST_SUBJECT),
        say.YES_NO,
    ),
    ("waiting list offer", say.offer_waiting_list(START, PARIS, LONGEST_VENUE.name), say.YES_NO),
    (
        "waiting list of a full workshop",
        say.offer_waiting_list(START, PARIS, LONGEST_VENUE.name, note=say.full_workshop()),
        say.YES_NO,
    ),
    ("confirm cancel", say.ask_confirm_cancel(START, PARIS, LONGEST_VENUE.name), say.YES_NO),
    ("confirm cancel, someone else", say.ask_confirm_cancel(START, PARIS, LONGEST_VENUE.name, FIRST_NAME), ()),
    ("cancel not understood", say.cancel_not_understood(START, PARIS, LONGEST_VENUE.name, FIRST_NAME), ()),
    ("which to cancel", *listed(lambda _: (say.ask_which_to_cancel(),), [(d, c, "") for d, c, _ in THREE])),
    ("who does not come", say.ask_who_cancels(START, PARIS), (FIRST_NAME, FIRST_NAME, "Tous les deux")),
    ("which to move", *listed(lambda _: (say.ask_which_to_move(),), [(d, c, "") for d, c, _ in THREE])),
    ("confirm forget", say.ask_confirm_forget(), say.YES_NO),
    ("forget not understood", say.forget_not_understood(), say.YES_NO),
    ("menu", say.menu(FIRST_NAME), say.MENU_CHOICES),
    ("not understood, menu", say.not_understood_idle(FIRST_NAME), say.MENU_CHOICES),
    ("choose by number", say.choose_by_number(3), ()),
    ("help", say.help_text(PHONE), ()),
    ("stopped", say.stopped(), ()),
    ("stopped with a seat", say.stopped(seats=True), ()),
    ("started again", say.started_again(), ()),
    ("cancelled", say.cancelled_enrolment(START, PARIS), ()),
    ("cancelled, someone else", say.cancelled_enrolment(START, PARIS, who=FIRST_NAME), ()),
    ("cancel kept", say.cancel_kept(), ()),
    ("nothing to cancel", say.nothing_to_cancel(), ()),
    ("nothing to move", say.nothing_to_move(), ()),
    ("nothing to move to", say.nothing_to_move_to(), ()),
    ("move failed", say.move_failed(), ()),
    ("signup stopped", say.signup_stopped(), ()),
    ("goodbye", say.goodbye(), ()),
    ("you are welcome", say.you_are_welcome(), ()),
    ("confirmed coming", say.confirmed_coming(START, PARIS), ()),
    ("callback", say.callback_requested(has_phone=True), ()),
    ("callback, no phone", say.callback_requested(has_phone=False), ()),
    ("phone not understood", say.phone_not_understood(), ()),
    ("phone not callable", say.phone_not_callable(), ()),
    ("number not served", say.number_not_served(PHONE), ()),
    ("too many messages", say.too_many_messages(), ()),
    ("callback digest", say.callback_digest(10_000), ()),
    ("forgotten", say.forgotten(), ()),
    ("not enrolled", say.not_enrolled_ok(), ()),
    ("no workshop", say.no_workshop_at_all(PHONE), ()),
    ("my workshops: none", say.my_workshops_none(), ()),
    ("where exactly", say.where_exactly(LONGEST_VENUE.name, LONGEST_VENUE.address), ()),
    *((f"answer: {entry.key}", entry.answer, ()) for entry in TERRITORY.faq),
]

AT_MOST_TWO = [
    ("unenrolled by an adviser", say.unenrolled_by_adviser(START, PARIS, LONGEST_COMMUNE, waiting=True)),
    (
        "moved by an adviser",
        say.moved_by_adviser(START, START, PARIS, LONGEST_VENUE.name, LONGEST_VENUE.address, position=None),
    ),
    (
        "moved by an adviser onto a waiting list",
        say.moved_by_adviser(START, START, PARIS, LONGEST_VENUE.name, LONGEST_VENUE.address, position=12),
    ),
    ("waiting", say.waiting(FIRST_NAME, 12, START, PARIS, LONGEST_VENUE.name)),
    (
        "seated, no reminder",
        say.seated(FIRST_NAME, START, PARIS, LONGEST_VENUE.name, LONGEST_VENUE.address, reminded=False),
    ),
    (
        "seated, two people, a subject",
        say.seated(
            say.names_fr([FIRST_NAME, FIRST_NAME]),
            START,
            PARIS,
            LONGEST_VENUE.name,
            LONGEST_VENUE.address,
            subject=LONGEST_SUBJECT,
            two=True,
        ),
    ),
    ("moved", say.moved(FIRST_NAME, START, START, PARIS, LONGEST_VENUE.name, LONGEST_VENUE.address)),
    (
        "callback notice with a reason",
        say.callback_notice("Jean-Christophe Dupont-Lamartine", LONGEST_COMMUNE, "+33612345678", "x" * 40),
    ),
]

AT_MOST_THREE = [
    ("my workshops", say.my_workshops([say.my_workshop_line(START, PARIS, LONGEST_VENUE.name, 3)] * 3)),
    (
        "callback notice, the longest reason",
        say.callback_notice("Jean Dupont", LONGEST_COMMUNE, "+33612345678", "x" * 300),
    ),
]


@pytest.mark.parametrize(("label", "text", "choices"), ONE_SEGMENT, ids=[row[0] for row in ONE_SEGMENT])
def test_questions_and_answers_fit_one_segment(label: str, text: str, choices: tuple[str, ...]) -> None:
    sms = render_sms(text, choices)
    assert is_gsm7(sms), label
    assert count_segments(sms) == 1, f"{label}: {len(sms)} characters\n{sms}"


@pytest.mark.parametrize(("label", "text"), AT_MOST_TWO, ids=[row[0] for row in AT_MOST_TWO])
def test_the_seat_with_its_address_fits_two_segments(label: str, text: str) -> None:
    assert count_segments(render_sms(text)) <= 2, f"{label}\n{render_sms(text)}"


@pytest.mark.parametrize(("label", "text"), AT_MOST_THREE, ids=[row[0] for row in AT_MOST_THREE])
def test_longer_messages_stay_within_three_segments(label: str, text: str) -> None:
    assert count_segments(render_sms(text)) <= 3, f"{label}\n{render_sms(text)}"


# The test must fail on any question over one segment: rows that would not fit, caught.
TOO_LONG: list[tuple[str, Callable[[], tuple[str, tuple[str, ...]]]]] = [
    ("a question of 161 characters", lambda: ("x" * 159 + " ?", ())),
    ("a short question with long choices", lambda: ("Lequel ?", ("y" * 80, "z" * 80))),
    (
        "four long choices",
        lambda: ("Lequel ?", tuple("mercredi 30 septembre à 14 h 30, Saint-Victor" for _ in range(4))),
    ),
]


@pytest.mark.parametrize("row", TOO_LONG, ids=[row[0] for row in TOO_LONG])
def test_the_segment_check_catches_a_long_question(row: tuple[str, Callable[[], tuple[str, tuple[str, ...]]]]) -> None:
    text, choices = row[1]()
    assert count_segments(render_sms(text, choices)) > 1


def test_workshop_lines_stay_distinct_when_only_the_day_differs() -> None:
    weekly = [(START + timedelta(days=7 * i), "Saint-Victor", "Premiers pas") for i in range(3)]
    _, lines = listed(lambda s: say.offer_header("", s), weekly)
    assert len(set(lines)) == 3
    assert all("Saint-Victor" in line for line in lines)


def test_dates_are_written_out_in_french() -> None:
    assert say.when_fr(datetime(2026, 4, 14, 12, 0, tzinfo=UTC), PARIS) == "mardi 14 avril à 14 h"
    assert say.when_fr(datetime(2026, 12, 1, 8, 30, tzinfo=UTC), PARIS) == "mardi 1er décembre à 9 h 30"


@pytest.mark.parametrize(
    ("venue", "commune", "label"),
    [
        ("Mairie de Domérat", "Domérat", "Mairie de Domérat"),
        ("Salle des fêtes", "Domérat", "Salle des fêtes (Domérat)"),
        ("salle polyvalente de domerat", "Domérat", "salle polyvalente de domerat"),
        ("Mairie de Saint Victor", "Saint-Victor", "Mairie de Saint Victor"),
    ],
)
def test_a_venue_says_which_village_it_is_in(venue: str, commune: str, label: str) -> None:
    assert say.venue_label(venue, commune) == label


@pytest.mark.parametrize(
    ("commune", "short"),
    [("Saint-Victor", "St-Victor"), ("Marcillat-en-Combraille", "Marcillat"), ("Domérat", "Domérat")],
)
def test_short_commune_names(commune: str, short: str) -> None:
    assert say.short_commune(commune) == short


def test_reminders_name_both_people_sharing_a_phone() -> None:
    body = say.reminder_body(START, PARIS, LONGEST_VENUE.name, asks_confirmation=True, who="Colette et Bernard")
    assert body.startswith("Rappel pour Colette et Bernard :")
    assert count_segments(render_sms(body, say.YES_NO)) == 1
    assert first_name_of("Colette Renaud") == "Colette"


NAMES = [
    ("nobody", say.and_fr, [], ""),
    ("one", say.and_fr, ["n°3"], "n°3"),
    ("two", say.and_fr, ["n°3", "n°4"], "n°3 et n°4"),
    ("three: commas, then et", say.and_fr, ["n°3", "n°4", "n°5"], "n°3, n°4 et n°5"),
    ("first names, the unknown left out", say.names_fr, ["Colette", "", "Bernard"], "Colette et Bernard"),
    ("one first name known", say.names_fr, ["", "Colette"], "Colette"),
]


@pytest.mark.parametrize(("join", "items", "written"), [row[1:] for row in NAMES], ids=[row[0] for row in NAMES])
def test_people_named_one_after_the_other(join: Callable[[list[str]], str], items: list[str], written: str) -> None:
    assert join(items) == written
