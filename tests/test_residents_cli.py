"""``atelier residents find|show|unenrol|move`` in-process against a real database, both backends: what an adviser
does when someone phones. A person is named by number, name or phone; several matches are listed, never guessed."""

from __future__ import annotations

from typing import Any

from storage.models import Enrolment, EnrolmentStatus, MessageKind, OutboundMessage
from tests.helpers.cli import as_json
from tests.test_advisers_cli import atelier, count, enrol, ok, planned_workshop

RECORD_FIELDS = {"resident", "upcoming", "past", "messages", "calls"}
BOOKING_FIELDS = {
    "enrolment_id", "workshop_id", "start", "end", "place", "level", "topic", "workshop_status", "status",
    "position", "confirmed", "by_adviser",
}  # fmt: skip


def two_people(db_url: str) -> dict[str, Any]:
    first = planned_workshop(db_url, hours_ahead=72, capacity=1)
    second = planned_workshop(db_url, hours_ahead=96)
    martine = enrol(db_url, first, "Martine Dupont", "06 12 34 56 78")["resident_id"]
    paul = enrol(db_url, first, "Paul Dupont", "06 98 76 54 32")["resident_id"]  # waiting
    return {"first": first, "second": second, "martine": martine, "paul": paul}


def test_find_and_show(db_url: str) -> None:
    world = two_people(db_url)
    found = as_json(ok(db_url, "residents", "find", "DUPONT", "--json"))
    assert [r["id"] for r in found] == [world["martine"], world["paul"]]
    listed = atelier(db_url, "residents", "find", "56 78", columns=80).stdout
    assert "Martine Dupont" in listed and "06 12 34 56 78" in listed and "Paul" not in listed
    shown = ok(db_url, "residents", "show", "martine").stdout
    assert f"Personne n°{world['martine']} : Martine Dupont" in shown
    assert f"n°{world['first']}" in shown and "une place" in shown
    assert "Accord donné le" in shown and "par téléphone" in shown
    record = as_json(ok(db_url, "residents", "show", "06 98 76 54 32", "--json"))
    assert set(record) == RECORD_FIELDS
    [waiting] = record["upcoming"]
    assert set(waiting) == BOOKING_FIELDS
    assert (waiting["status"], waiting["position"], waiting["by_adviser"]) == ("waiting", 1, False)
    assert [m["kind"] for m in record["messages"]] == ["confirmation"]


def test_a_name_several_people_have_is_not_guessed(db_url: str) -> None:
    two_people(db_url)
    result = atelier(db_url, "residents", "unenrol", "dupont", "--yes")
    assert result.exit_code == 1
    assert "2 personnes correspondent à « dupont »" in result.stderr and "Donnez son numéro" in result.stderr
    assert "Rien n'a été changé" in result.stderr
    unknown = atelier(db_url, "residents", "show", "durand")
    assert unknown.exit_code == 1 and "personne ne correspond à « durand »" in unknown.stderr
    assert "Rien n'a été changé" not in unknown.stderr  # looking changes nothing: nothing to reassure about


def test_unenrol_someone_who_phoned(db_url: str) -> None:
    world = two_people(db_url)
    refused = atelier(db_url, "residents", "unenrol", "martine")  # no terminal, no --yes
    assert refused.exit_code == 1 and "pas de terminal" in refused.stderr
    done = ok(db_url, "residents", "unenrol", "Martine", "--yes", "--as", "Julie").stdout
    assert f"Martine Dupont ne vient plus à l'atelier n°{world['first']}" in done
    assert f"Sa place va à Paul Dupont (personne n°{world['paul']}), prévenue par message." in done
    assert "Messages : 2 partent dès maintenant." in done
    seated = count(
        db_url, Enrolment, Enrolment.resident_id == world["paul"], Enrolment.status == EnrolmentStatus.seated
    )
    assert seated == 1
    promotions = count(db_url, OutboundMessage, OutboundMessage.kind == MessageKind.promotion)
    assert promotions == 1
    again = atelier(db_url, "residents", "unenrol", "martine", "--yes")
    assert again.exit_code == 1 and "n'est inscrite à aucun atelier à venir" in again.stderr


def test_move_someone_who_phoned(db_url: str) -> None:
    world = two_people(db_url)
    done = ok(db_url, "residents", "move", str(world["martine"]), "--to", str(world["second"]), "--yes").stdout
    assert f"quitte l'atelier n°{world['first']} et a une place à l'atelier n°{world['second']}" in done
    record = as_json(ok(db_url, "residents", "show", str(world["martine"]), "--json"))
    assert [(b["workshop_id"], b["status"]) for b in record["upcoming"]] == [
        (world["first"], "cancelled"),
        (world["second"], "seated"),
    ]
    same = atelier(db_url, "residents", "move", "paul", "--to", str(world["first"]), "--yes")
    assert same.exit_code == 1 and "c'est le même atelier" in same.stderr  # Paul got Martine's seat there
