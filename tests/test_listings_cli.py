"""What advisers read on the command line (issue 14, item 5), in-process against a real database, both backends:
listings that stay readable in an 80-column terminal, phone numbers as advisers dial them, "annulé" for a
cancelled workshop, ``messages list`` filtered with the French words the table shows, attendance refused before
any question when the workshop has not started, and the waiting-list SMS that reads naturally."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.conversation import texts as say
from bot.conversation.gsm7 import to_gsm7
from bot.interfaces.cli import common
from storage.models import Workshop
from tests.helpers.cli import as_json
from tests.test_advisers_cli import atelier, enrol, in_db, ok, planned_workshop

PARIS = ZoneInfo("Europe/Paris")
LONG_NAME = "Marie-Thérèse Dupont-Lajoinie de la Fontaine"


@pytest.fixture
def world(db_url: str) -> dict[str, int]:
    """A workshop with a long topic in the territory's longest commune name, two people (one on a landline), a
    cancelled workshop, an adviser, a message of each kind the listings show."""
    workshop = planned_workshop(db_url, hours_ahead=72, capacity=1)
    cancelled = planned_workshop(db_url, hours_ahead=96)

    async def long_topic(session: Any) -> None:
        found = await session.get(Workshop, workshop)
        found.topic = "Premiers pas sur la tablette et le téléphone, pour les grands débutants"

    in_db(db_url, long_topic)
    first = enrol(db_url, workshop, LONG_NAME, "06 12 34 56 78")["resident_id"]
    landline = enrol(db_url, workshop, "Jean Roux", "04 70 05 12 34")["resident_id"]  # waiting: one seat
    enrol(db_url, cancelled, "Paul Petit", "06 98 76 54 32")
    enrol(db_url, cancelled, "Jean Roux", "04 70 05 12 34")  # no SMS reaches him: a call when it is cancelled
    ok(db_url, "advisers", "add", "--name", "Julie Martin", "--phone", "06 11 22 33 44", "--commune", "arpheuilles")
    ok(db_url, "workshops", "cancel", str(cancelled), "--reason", "neige", "--yes")
    return {"workshop": workshop, "cancelled": cancelled, "first": first, "landline": landline}


LISTINGS = [
    ("workshops list", ("workshops", "list", "--all"), ("annulé", "1/1 +1")),
    ("workshops roster", ("workshops", "roster", "{workshop}"), ("06 12 34 56 78", "04 70 05 12 34")),
    ("residents list", ("residents", "list"), ("06 12 34 56 78", "04 70 05 12 34", "06 98 76 54 32")),
    ("advisers list", ("advisers", "list"), ("06 11 22 33 44",)),
    ("messages list", ("messages", "list"), ("06 12 34 56 78", "confirmation", "changement")),
    ("calls list", ("calls", "list"), ("04 70 05 12 34",)),
    ("stats", ("stats",), ("Saint-Victor",)),
]


@pytest.mark.parametrize(("label", "args", "whole"), LISTINGS, ids=[row[0] for row in LISTINGS])
def test_listings_fit_80_columns_with_numbers_whole(
    db_url: str, world: dict[str, int], label: str, args: tuple[str, ...], whole: tuple[str, ...]
) -> None:
    result = atelier(db_url, *(a.format(**world) for a in args), columns=80)
    assert result.exit_code == 0, (label, result.stderr)
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), (label, [line for line in lines if len(line) > 80])
    for value in whole:  # on one line, never cut or folded
        assert any(value in line for line in lines), (label, value, result.stdout)
    assert "+33" not in result.stdout, label  # as advisers dial them


def test_a_cancelled_workshop_shows_annule_not_its_seats(db_url: str, world: dict[str, int]) -> None:
    table = atelier(db_url, "workshops", "list", "--all", columns=80).stdout
    [row] = [line for line in table.splitlines() if line.split()[:1] == [str(world["cancelled"])]]
    assert "annulé" in row and "0/6" not in row and "1/6" not in row


MESSAGE_FILTERS = [
    ("a French kind", ("--kind", "rappel"), {"reminder"}),
    ("a French kind without its accent", ("--kind", "place liberee"), set()),
    (
        "a French status with its accent",
        ("--status", "à envoyer"),
        {"confirmation", "reminder", "change_notice", "adviser_notice"},
    ),
    ("a French status without it", ("--status", "a envoyer", "--kind", "CHANGEMENT"), {"change_notice"}),
    ("the English names still work", ("--kind", "change_notice"), {"change_notice"}),
    ("a message withdrawn before it left", ("--status", "retiré"), {"confirmation", "reminder"}),
    ("the same by the word the command line used to show", ("--status", "annulé"), {"confirmation", "reminder"}),
]


@pytest.mark.parametrize(("label", "args", "kinds"), MESSAGE_FILTERS, ids=[row[0] for row in MESSAGE_FILTERS])
def test_messages_list_understands_the_french_words_it_shows(
    db_url: str, world: dict[str, int], label: str, args: tuple[str, ...], kinds: set[str]
) -> None:
    found = as_json(ok(db_url, "messages", "list", *args, "--json"))
    assert {m["kind"] for m in found} == kinds, label


def test_messages_json_keeps_the_english_values_whatever_word_chose_them(db_url: str, world: dict[str, int]) -> None:
    """SPEC §6: ``--json`` carries the enum values, never the French words of the table."""
    for said in ("retiré", "annulé", "cancelled"):
        found = as_json(ok(db_url, "messages", "list", "--status", said, "--json"))
        assert found and {m["status"] for m in found} == {"cancelled"}, said
        assert {m["kind"] for m in found} == {"confirmation", "reminder"}, said


def test_messages_list_refuses_an_unknown_word_in_french(db_url: str) -> None:
    refused = atelier(db_url, "messages", "list", "--status", "parti")
    assert refused.exit_code == 1
    assert "statut inconnu « parti » : à envoyer, en cours, envoyé, reçu, échec, retiré, expiré" in refused.stderr


def test_attendance_is_refused_before_any_question_when_the_workshop_has_not_started(
    db_url: str, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "is_terminal", lambda: True)
    result = atelier(db_url, "workshops", "attendance", str(world["workshop"]), stdin="o\no\n")
    assert result.exit_code == 1
    assert "n'a pas encore commencé" in result.stderr and "était là ?" not in result.stdout


def test_attendance_asks_only_those_who_held_a_seat(
    db_url: str, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "is_terminal", lambda: True)

    async def start_it(session: Any) -> None:
        found = await session.get(Workshop, world["workshop"])
        found.starts_at = datetime.now(UTC).replace(microsecond=0)

    in_db(db_url, start_it)
    asked = ok(db_url, "workshops", "attendance", str(world["workshop"]), stdin="o\n\n").stdout
    assert f"{LONG_NAME} était là ?" in asked and "Jean Roux était là" not in asked  # Jean was waiting


@pytest.mark.parametrize("position", [1, 2, 12])
def test_the_waiting_list_sms_reads_naturally(position: int) -> None:
    sms = to_gsm7(say.waiting("Martine", position, datetime(2026, 12, 14, 13, tzinfo=UTC), PARIS, "Mairie"))
    assert f"en position {position} sur la liste" in sms and "no1" not in sms and "n°" not in sms
    line = to_gsm7(say.my_workshop_line(datetime(2026, 12, 14, 13, tzinfo=UTC), PARIS, "Mairie", position))
    assert f"liste d'attente, position {position}" in line and "n°" not in line


@pytest.mark.parametrize(("position", "reads"), [(1, "1re"), (2, "2e"), (12, "12e")])
def test_advisers_read_a_rank(position: int, reads: str) -> None:
    assert say.rank_fr(position) == reads
