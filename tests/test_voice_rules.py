"""The voice channel's pure rules, as tables: when a call may ring, what the keys of each menu do, how dates, times,
places and numbers are said, and the screening of a due call (call hours, one call at a time per number)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pytest

from bot.conversation import texts as say
from bot.conversation.keypad import KEYS, Action, CallMenu, Menu, action_for, menu_of
from bot.scheduler.planning import (
    call_allowed_at,
    last_call_at,
    next_call_at,
    parse_call_hours,
    parse_quiet_hours,
    parse_reminders,
    reminder_times,
)
from bot.scheduler.screening import Action as Verdict
from bot.scheduler.screening import screen
from storage.enums import Channel
from storage.models import MessageKind
from storage.outbox.claiming import DueMessage, Facts
from tests.helpers.clock import PARIS, paris

HOURS = parse_call_hours("09:30-12:00,14:00-19:00")
QUIET = parse_quiet_hours("20:00-08:30")

# --- When a call may ring ----------------------------------------------------------------------------------------
# December 2026: Saturday 5, Sunday 6, Monday 7; Friday 25 is Christmas. Clocks go forward on Sunday 28 March 2027.


@pytest.mark.parametrize(
    ("label", "moment", "allowed", "next_moment"),
    [
        ("a weekday morning", paris(2026, 12, 7, 10, 0), True, paris(2026, 12, 7, 10, 0)),
        ("before the call hours", paris(2026, 12, 7, 8, 45), False, paris(2026, 12, 7, 9, 30)),
        ("lunch", paris(2026, 12, 7, 12, 30), False, paris(2026, 12, 7, 14, 0)),
        ("the evening", paris(2026, 12, 7, 19, 15), False, paris(2026, 12, 8, 9, 30)),
        ("Saturday afternoon", paris(2026, 12, 5, 15, 0), True, paris(2026, 12, 5, 15, 0)),
        ("Saturday evening: Monday morning", paris(2026, 12, 5, 19, 30), False, paris(2026, 12, 7, 9, 30)),
        ("Sunday", paris(2026, 12, 6, 10, 0), False, paris(2026, 12, 7, 9, 30)),
        ("Christmas", paris(2026, 12, 25, 10, 0), False, paris(2026, 12, 26, 9, 30)),
        ("Christmas Eve evening: over Christmas", paris(2026, 12, 24, 19, 0), False, paris(2026, 12, 26, 9, 30)),
        (
            "clocks go forward on Easter Sunday, then Easter Monday",
            paris(2027, 3, 27, 23, 0),
            False,
            paris(2027, 3, 30, 9, 30),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_call_hours(label: str, moment: datetime, allowed: bool, next_moment: datetime) -> None:
    assert call_allowed_at(moment, hours=HOURS, quiet_hours=QUIET, tz=PARIS) is allowed, label
    assert next_call_at(moment, hours=HOURS, quiet_hours=QUIET, tz=PARIS) == next_moment, label


def test_quiet_hours_none_switches_the_call_hours_off_too() -> None:
    sunday_night = paris(2026, 12, 6, 23, 0)
    assert call_allowed_at(sunday_night, hours=HOURS, quiet_hours=None, tz=PARIS)
    assert next_call_at(sunday_night, hours=HOURS, quiet_hours=None, tz=PARIS) == sunday_night


def test_quiet_hours_inside_the_call_hours_still_hold() -> None:
    lunch_quiet = parse_quiet_hours("11:00-15:00")
    assert not call_allowed_at(paris(2026, 12, 7, 11, 30), hours=HOURS, quiet_hours=lunch_quiet, tz=PARIS)
    assert next_call_at(paris(2026, 12, 7, 10, 45), hours=HOURS, quiet_hours=lunch_quiet, tz=PARIS) == paris(
        2026, 12, 7, 10, 45
    )
    assert next_call_at(paris(2026, 12, 7, 11, 15), hours=HOURS, quiet_hours=lunch_quiet, tz=PARIS) == paris(
        2026, 12, 7, 15, 0
    )
    assert last_call_at(paris(2026, 12, 7, 14, 30), hours=HOURS, quiet_hours=lunch_quiet, tz=PARIS) == paris(
        2026, 12, 7, 10, 59
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [("9h-12h", "time of day"), ("12:00-09:00", "after they start"), ("", "written"), ("25:00-26:00", "time of day")],
)
def test_call_hours_are_read_or_refused(value: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_call_hours(value)


@pytest.mark.parametrize(
    ("label", "start", "expected"),
    [
        # -1d@10:00 keeps its hour; -3h before a 14:00 workshop is 11:00, inside the hours
        ("a Tuesday 14:00", paris(2026, 12, 8, 14, 0), [paris(2026, 12, 7, 10, 0), paris(2026, 12, 8, 11, 0)]),
        # -3h before 9:30 is 6:30: no call then; the last moment a call may ring is the evening before at 18:59
        ("a Tuesday 9:30", paris(2026, 12, 8, 9, 30), [paris(2026, 12, 7, 10, 0), paris(2026, 12, 7, 18, 59)]),
        # the day before is Sunday: its reminder moves to Saturday; -3h (11:00) stays
        ("a Monday 14:00", paris(2026, 12, 7, 14, 0), [paris(2026, 12, 5, 18, 59), paris(2026, 12, 7, 11, 0)]),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_reminder_calls_keep_to_the_call_hours(label: str, start: datetime, expected: list[datetime]) -> None:
    planned = reminder_times(
        starts_at=start, rules=parse_reminders("-1d@10:00,-3h"), quiet_hours=QUIET, tz=PARIS,
        now=paris(2026, 12, 1, 9, 0), call_hours=HOURS,
    )  # fmt: skip
    assert [p.due_at.astimezone(PARIS) for p in planned] == expected, label


# --- What the keys do --------------------------------------------------------------------------------------------

KEY_CASES = [
    (Menu.coming, "1", Action.confirm),
    (Menu.coming, "2", Action.give_up),
    (Menu.coming, "3", Action.replay),
    (Menu.coming, "9", None),
    (Menu.coming, "", None),
    (Menu.coming, "21", Action.give_up),  # the first key counts
    (Menu.waiting, "1", None),
    (Menu.waiting, "2", Action.give_up),
    (Menu.offer, "1", Action.enrol),
    (Menu.offer, "2", None),
    (Menu.listen, "1", None),
    (Menu.listen, "3", Action.replay),
    (Menu.welcome, "1", Action.callback),
    (Menu.welcome, "2", Action.next_workshop),
    (Menu.welcome, "3", Action.cancel_next),
    (Menu.cancel_next, "1", Action.give_up),
    (Menu.cancel_next, "2", Action.keep),
]


@pytest.mark.parametrize(("menu", "digits", "action"), KEY_CASES, ids=[f"{m}-{d or 'none'}" for m, d, _ in KEY_CASES])
def test_keys(menu: Menu, digits: str, action: Action | None) -> None:
    assert action_for(menu, digits) == action


def test_every_menu_is_said_and_says_only_its_keys() -> None:
    for menu, keys in KEYS.items():
        prompt = say.KEYS_PROMPTS[menu]
        assert set(re.findall(r"tapez (\d)", prompt)) == set(keys), menu


@pytest.mark.parametrize(
    ("stored", "menu"),
    [
        (("coming",), CallMenu(Menu.coming)),
        (("offer", "12"), CallMenu(Menu.offer, 12)),
        (("OUI", "NON"), CallMenu(Menu.listen)),  # an SMS's choices: nothing to press but 3
        ((), CallMenu(Menu.listen)),
        (("offer", "x"), CallMenu(Menu.offer)),
    ],
)
def test_a_menu_is_stored_on_its_row(stored: tuple[str, ...], menu: CallMenu) -> None:
    assert menu_of(stored) == menu
    if menu.menu != Menu.listen or stored:
        assert menu_of(menu.stored()) == menu


# --- How things are said -----------------------------------------------------------------------------------------

SPOKEN_CASES = [
    ("a date and a time", say.when_spoken(paris(2026, 12, 7, 14, 0), PARIS), "lundi 7 décembre, à 14 heures"),
    ("half past", say.when_spoken(paris(2026, 12, 8, 9, 30), PARIS), "mardi 8 décembre, à 9 heures 30"),
    ("the first of the month", say.when_spoken(paris(2026, 12, 1, 12, 0), PARIS), "mardi premier décembre, à midi"),
    ("one o'clock", say.clock_spoken(paris(2026, 12, 1, 13, 0).replace(hour=1)), "1 heure"),
    ("a town hall", say.place_spoken("Mairie de Saint-Victor", "Saint-Victor"), "à la mairie de Saint-Victor"),
    ("a hall", say.place_spoken("Salle des fêtes", "Domérat"), "à la salle des fêtes, à Domérat"),
    ("the bus", say.place_spoken("Bus numérique", "Lamaids"), "au bus numérique, à Lamaids"),
    ("a space", say.place_spoken("Espace France Services", "Montluçon"), "à l'espace France Services, à Montluçon"),
    ("an unknown kind of place", say.place_spoken("Le Fournil", "Ronnet"), "au lieu : Le Fournil, à Ronnet"),
    ("St written short", say.place_spoken("Mairie de St-Genest", "Saint-Genest"), "à la mairie de Saint-Genest"),
    ("an address", say.unabbreviated("2 r. de la Mairie, bd Foch, av. Jaurès"),
     "2 rue de la Mairie, boulevard Foch, avenue Jaurès"),
    ("a sentence's last word keeps its dot", say.unabbreviated("Venez avec votre tablette."),
     "Venez avec votre tablette."),
    ("times written short", say.unabbreviated("RDV à 14h, ou 9 h 30, ou 16H15"),
     "rendez-vous à 14 heures, ou 9 heures 30, ou 16 heures 15"),
    ("a number in pairs", say.phone_spoken("04 65 71 00 00"), "04, 65, 71, 00, 00"),
    ("an E.164 number", say.phone_spoken("+33470051234"), "04, 70, 05, 12, 34"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "said", "expected"), SPOKEN_CASES, ids=[c[0] for c in SPOKEN_CASES])
def test_said_in_full(label: str, said: str, expected: str) -> None:
    assert said == expected, label


SAID_FOR_THE_EAR = [
    say.reminder_spoken(paris(2026, 12, 7, 14, 0), PARIS, "à la mairie de Saint-Victor"),
    say.promotion_spoken(paris(2026, 12, 7, 9, 30), PARIS, "à la salle des fêtes, à Domérat"),
    say.seated_spoken(paris(2026, 12, 7, 14, 0), PARIS, "à la mairie de Saint-Victor", reminded=True),
    say.waiting_spoken(2, paris(2026, 12, 7, 14, 0), PARIS, "à la mairie de Saint-Victor"),
    say.cancelled_spoken(paris(2026, 12, 7, 14, 0), PARIS, "St-Victor", "conseillère malade", offer=None),
    say.moved_spoken(
        old_start=paris(2026, 12, 7, 14, 0), old_commune="Saint-Victor", new_start=paris(2026, 12, 9, 10, 0),
        tz=PARIS, new_place="à la mairie de Domérat", seated=True,
    ),
    say.broadcast_spoken("RDV à la salle des fêtes, r. de la Gare, à 14h."),
    say.machine_spoken("Montluçon Communauté", "Un message.", "04 65 71 00 00"),
    *say.KEYS_PROMPTS.values(),
]  # fmt: skip
WRITTEN_SHORT = re.compile(r"\d\s?h\b|\d:\d|\bSt\b|\bn°|\d{1,2}/\d{1,2}|\br\.|\bbd\b|\bav\.")


@pytest.mark.parametrize("text", SAID_FOR_THE_EAR, ids=[t[:40] for t in SAID_FOR_THE_EAR])
def test_nothing_written_short_is_said(text: str) -> None:
    assert WRITTEN_SHORT.findall(text) == [], text
    assert len(text) < 400, text  # short: each is said twice


# --- Screening a due call ----------------------------------------------------------------------------------------


def due_call(**changes: object) -> DueMessage:
    message = DueMessage(
        id=7, channel=Channel.voice, to_address="+33470051234", body="Nous vous rappelons…", choices=("coming",),
        kind=MessageKind.reminder, urgent=False, due_at=paris(2026, 12, 7, 10, 0), expires_at=None, attempts=0,
        resident_id=None, adviser_id=None, enrolment_id=None, workshop_id=None, broadcast_id=None, inbound_id=None,
        ask_contact=False,
    )  # fmt: skip
    return replace(message, **changes)  # type: ignore[arg-type]  # each test changes fields of their own type


@pytest.mark.parametrize(
    ("label", "message", "now", "lines", "verdict", "later"),
    [
        ("in the call hours", due_call(), paris(2026, 12, 7, 10, 0), {}, Verdict.send, None),
        ("lunch", due_call(), paris(2026, 12, 7, 12, 10), {}, Verdict.defer, paris(2026, 12, 7, 14, 0)),
        ("an urgent notice still waits for the call hours", due_call(urgent=True), paris(2026, 12, 7, 21, 0), {},
         Verdict.defer, paris(2026, 12, 8, 9, 30)),
        ("Sunday", due_call(), paris(2026, 12, 6, 11, 0), {}, Verdict.defer, paris(2026, 12, 7, 9, 30)),
        ("the line rang a moment ago for another message", due_call(), paris(2026, 12, 7, 10, 0),
         {"+33470051234": {5}}, Verdict.defer, paris(2026, 12, 7, 10, 1)),
        ("its own earlier ring is no reason to wait", due_call(), paris(2026, 12, 7, 10, 0),
         {"+33470051234": {7}}, Verdict.send, None),
        ("another number's call", due_call(), paris(2026, 12, 7, 10, 0), {"+33470059999": {5}}, Verdict.send, None),
        ("past the call hours and its deadline", due_call(expires_at=paris(2026, 12, 7, 20, 0)),
         paris(2026, 12, 7, 19, 30), {}, Verdict.expire, None),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_screening_a_call(
    label: str, message: DueMessage, now: datetime, lines: dict[str, set[int]], verdict: Verdict, later: datetime | None
) -> None:
    found = screen(
        message, facts=Facts(lines=lines), now=now, quiet_hours=QUIET, tz=PARIS, daily_cap=4, sent_today=0,
        call_hours=HOURS,
    )  # fmt: skip
    assert found.action == verdict, f"{label}: {found}"
    assert found.due_at == later, label
