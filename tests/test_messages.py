"""Every sentence rendered as an SMS with the longest real values: one segment for a question, never above three."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import DEFAULT_TERRITORY
from bot.conversation import texts as say
from bot.conversation.dialogue import INTEREST_LABELS
from bot.conversation.gsm7 import count_segments, is_gsm7, render_sms
from bot.territory import load_territory
from tests.helpers.clock import PARIS

TERRITORY = load_territory(DEFAULT_TERRITORY)
LONGEST_COMMUNE = max((c.name for c in TERRITORY.communes), key=len)
LONGEST_VENUE = max(TERRITORY.venues, key=lambda v: len(v.name) + len(v.address))
FIRST_NAME = "Jean-Christophe"
# The longest way a date is written: "mercredi 30 septembre à 14 h 30".
START = datetime(2026, 9, 30, 12, 30, tzinfo=UTC)
PHONE = TERRITORY.contact.phone
SHARED_POSTCODE = sorted((c.name for c in TERRITORY.communes if c.postcode == "03410"), key=len, reverse=True)
THREE_WORKSHOPS = tuple(say.workshop_line(START, PARIS, LONGEST_COMMUNE) for _ in range(3))

ONE_SEGMENT = [
    ("ask name", say.ask_name(), ()),
    ("name not understood", say.name_not_understood(), ()),
    ("ask commune", say.ask_commune(FIRST_NAME), ()),
    ("commune not found", say.ask_commune_again(), ()),
    ("ask level", say.ask_level(LONGEST_COMMUNE), say.LEVEL_CHOICES),
    ("level not understood", say.level_not_understood(), say.LEVEL_CHOICES),
    ("ask interests", say.ask_interests(), INTEREST_LABELS),
    ("interests not understood", say.interests_not_understood(), INTEREST_LABELS),
    ("confirm workshop", say.ask_confirm_workshop(START, PARIS, LONGEST_VENUE.name), say.YES_NO),
    ("the one workshop offered", say.offer_single(START, PARIS, LONGEST_VENUE.name), say.YES_NO),
    ("waiting list offer", say.offer_waiting_list(START, PARIS, LONGEST_VENUE.name), say.YES_NO),
    ("confirm cancel", say.ask_confirm_cancel(START, PARIS, LONGEST_VENUE.name), say.YES_NO),
    ("confirm forget", say.ask_confirm_forget(), say.YES_NO),
    ("menu", say.menu(FIRST_NAME), say.MENU_CHOICES),
    ("not understood, menu", say.not_understood_idle(FIRST_NAME), say.MENU_CHOICES),
    ("choose by number", say.choose_by_number(3), ()),
    ("stopped", say.stopped(), ()),
    ("started again", say.started_again(), ()),
    ("cancelled", say.cancelled_enrolment(START, PARIS), ()),
    ("cancel kept", say.cancel_kept(), ()),
    ("nothing to cancel", say.nothing_to_cancel(), ()),
    ("signup stopped", say.signup_stopped(), ()),
    ("confirmed coming", say.confirmed_coming(START, PARIS), ()),
    ("callback", say.callback_requested(has_phone=True), ()),
    ("callback, no phone", say.callback_requested(has_phone=False), ()),
    ("phone not understood", say.phone_not_understood(), ()),
    ("forgotten", say.forgotten(), ()),
    ("not enrolled", say.not_enrolled_ok(), ()),
    ("my workshops: none", say.my_workshops_none(), ()),
]

AT_MOST_THREE = [
    ("welcome", say.welcome(TERRITORY.name) + "\n" + say.ask_name(), ()),
    ("outside the territory", say.outside_territory("Villefranche-d'Allier", TERRITORY.name, PHONE), ()),
    ("pick commune", say.pick_commune(), tuple(SHARED_POSTCODE)),
    ("which to cancel", say.ask_which_to_cancel(), THREE_WORKSHOPS),
    ("offer three workshops", say.offer_workshops(), THREE_WORKSHOPS),
    (
        "seated, no reminder",
        say.seated(FIRST_NAME, START, PARIS, LONGEST_VENUE.name, LONGEST_VENUE.address, reminded=False),
        (),
    ),
    ("seated", say.seated(FIRST_NAME, START, PARIS, LONGEST_VENUE.name, LONGEST_VENUE.address), ()),
    ("waiting", say.waiting(FIRST_NAME, 12, START, PARIS, LONGEST_VENUE.name), ()),
    ("no workshop", say.no_workshop_at_all(PHONE), ()),
    ("help", say.help_text(PHONE), ()),
    ("my workshops", say.my_workshops([say.my_workshop_line(START, PARIS, LONGEST_VENUE.name, 3)] * 3), ()),
    ("callback notice", say.callback_notice("Jean-Christophe Dupont-Lamartine", LONGEST_COMMUNE, "+33612345678"), ()),
    ("unenrolled by an adviser", say.unenrolled_by_adviser(START, PARIS, LONGEST_COMMUNE, waiting=True), ()),
    (
        "moved by an adviser",
        say.moved_by_adviser(START, START, PARIS, LONGEST_VENUE.name, LONGEST_VENUE.address, position=None),
        (),
    ),
    (
        "moved by an adviser onto a waiting list",
        say.moved_by_adviser(START, START, PARIS, LONGEST_VENUE.name, LONGEST_VENUE.address, position=12),
        (),
    ),
]


@pytest.mark.parametrize(("label", "text", "choices"), ONE_SEGMENT, ids=[row[0] for row in ONE_SEGMENT])
def test_questions_fit_one_segment(label: str, text: str, choices: tuple[str, ...]) -> None:
    sms = render_sms(text, choices)
    assert is_gsm7(sms), label
    assert count_segments(sms) == 1, f"{label}: {len(sms)} characters\n{sms}"


@pytest.mark.parametrize(("label", "text", "choices"), AT_MOST_THREE, ids=[row[0] for row in AT_MOST_THREE])
def test_longer_messages_stay_within_three_segments(label: str, text: str, choices: tuple[str, ...]) -> None:
    sms = render_sms(text, choices)
    assert is_gsm7(sms), label
    assert count_segments(sms) <= 3, f"{label}: {count_segments(sms)} segments\n{sms}"


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
