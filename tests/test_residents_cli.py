"""``atelier residents find|show|unenrol|move`` in-process against a real database, both backends: what an adviser
does when someone phones. A person is named by number, name or phone; several matches are listed, never guessed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from bot.interfaces.cli.residents import given_line
from bot.service.reminders import Promoted
from storage.models import Enrolment, EnrolmentStatus, MessageKind, OutboundMessage, Resident
from tests.helpers.cli import as_json
from tests.test_advisers_cli import atelier, count, enrol, in_db, ok, planned_workshop

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
    assert "Accord donné le" in shown and "par téléphone, à un conseiller" in shown  # the console's words too
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


# --- A seat given up goes to a pair (two people, one phone): both named -----------------------------------------


def pair_waiting(db_url: str, *, landline: bool) -> dict[str, int]:
    """Martine seated; one seat free (Paul left), not enough for the pair waiting at the head of the list:
    Colette, and Bernard who shares her phone. ``landline``: that phone cannot receive SMS."""
    first = planned_workshop(db_url, hours_ahead=72, capacity=2)
    second = planned_workshop(db_url, hours_ahead=96)
    martine = enrol(db_url, first, "Martine Dupont", "06 12 34 56 78")["resident_id"]
    paul = enrol(db_url, first, "Paul Dupont", "06 98 76 54 32")["resident_id"]

    async def query(session: Any) -> tuple[int, int]:
        colette = Resident(name="Colette Martin", phone="+33612349001", sms_unreachable=landline)
        session.add(colette)
        await session.flush()
        bernard = Resident(name="Bernard Martin", companion_of_id=colette.id)
        session.add(bernard)
        await session.flush()
        for position, person in enumerate((colette, bernard), start=1):
            waiting = EnrolmentStatus.waiting
            session.add(Enrolment(resident_id=person.id, workshop_id=first, status=waiting, position=position))
        return colette.id, bernard.id

    colette, bernard = in_db(db_url, query)
    ok(db_url, "residents", "unenrol", str(paul), "--yes")  # Paul's seat alone is not enough for the pair
    return {"first": first, "second": second, "martine": martine, "colette": colette, "bernard": bernard}


@dataclass(frozen=True)
class PairCommand:
    label: str
    command: str  # unenrol, or move (to the second workshop)
    landline: bool
    says: str  # who gets the seat ({colette}, {bernard}: their numbers)
    messages: str  # when the messages leave: Martine's, and each notice of the pair


PAIR_COMMANDS = [
    PairCommand("unenrol: the pair told by message", "unenrol", False,
                "Sa place va à Colette Martin (personne n°{colette}) et Bernard Martin (personne n°{bernard}), "
                "prévenues par message.", "Messages : 3 partent dès maintenant."),
    PairCommand("unenrol: the pair's phone a landline", "unenrol", True,
                "Sa place va à Colette Martin (personne n°{colette}) et Bernard Martin (personne n°{bernard}), "
                "à appeler (atelier calls list).", "Messages : 1 part dès maintenant."),
    PairCommand("move: the pair told by message", "move", False,
                "Sa place va à Colette Martin (personne n°{colette}) et Bernard Martin (personne n°{bernard}), "
                "prévenues par message.", "Messages : 3 partent dès maintenant."),
    PairCommand("move: the pair's phone a landline", "move", True,
                "Sa place va à Colette Martin (personne n°{colette}) et Bernard Martin (personne n°{bernard}), "
                "à appeler (atelier calls list).", "Messages : 1 part dès maintenant."),
]  # fmt: skip


def pair_command(world: dict[str, int], command: str) -> list[str]:
    martine = str(world["martine"])
    if command == "unenrol":
        return ["residents", "unenrol", martine, "--yes"]
    return ["residents", "move", martine, "--to", str(world["second"]), "--yes"]


@pytest.mark.parametrize("case", PAIR_COMMANDS, ids=lambda c: c.label)
def test_a_seat_given_to_a_pair_names_both(db_url: str, case: PairCommand) -> None:
    world = pair_waiting(db_url, landline=case.landline)
    done = ok(db_url, *pair_command(world, case.command)).stdout
    assert case.says.format(**world) in done
    assert case.messages in done


UNENROL_FIELDS = {"resident_id", "workshop_id", "was", "told", "channel", "message", "promoted", "departures"}
MOVE_FIELDS = UNENROL_FIELDS - {"workshop_id", "was"} | {"from_workshop_id", "to_workshop_id", "status", "position"}


@pytest.mark.parametrize("case", PAIR_COMMANDS, ids=lambda c: c.label)
def test_a_seat_given_to_a_pair_in_json(db_url: str, case: PairCommand) -> None:
    """``--json``: every person who got the seat in ``promoted`` (in order, each told or to call), and when the
    messages leave: Martine's, and each notice of the pair."""
    world = pair_waiting(db_url, landline=case.landline)
    done = as_json(ok(db_url, *pair_command(world, case.command), "--json"))
    assert set(done) == (UNENROL_FIELDS if case.command == "unenrol" else MOVE_FIELDS)
    told = not case.landline
    assert done["promoted"] == [
        {"resident_id": world["colette"], "name": "Colette Martin", "told": told},
        {"resident_id": world["bernard"], "name": "Bernard Martin", "told": told},
    ]
    assert (done["resident_id"], done["told"], done["channel"]) == (world["martine"], True, "sms")
    assert sum(group["count"] for group in done["departures"]) == (3 if told else 1)
    if case.command == "unenrol":
        assert (done["workshop_id"], done["was"]) == (world["first"], "seated")
    else:
        moved = (done["from_workshop_id"], done["to_workshop_id"], done["status"], done["position"])
        assert moved == (world["first"], world["second"], "seated", None)


COLETTE, BERNARD = Promoted(3, "Colette Martin", told=True), Promoted(4, "Bernard Martin", told=True)
UNTOLD_COLETTE, UNTOLD_BERNARD = Promoted(3, "Colette Martin", told=False), Promoted(4, "Bernard Martin", told=False)

# Each mix of people told and people to call; a pair shares one phone, so both are reached the same way today.
GIVEN = [
    ("nobody", (), None),
    ("one person told: as before", (COLETTE,), "Sa place va à Colette Martin (personne n°3), prévenue par message."),
    ("one person to call: as before", (UNTOLD_BERNARD,),
     "Sa place va à Bernard Martin (personne n°4), à appeler (atelier calls list)."),
    ("a pair told", (COLETTE, BERNARD),
     "Sa place va à Colette Martin (personne n°3) et Bernard Martin (personne n°4), prévenues par message."),
    ("a pair to call", (UNTOLD_COLETTE, UNTOLD_BERNARD),
     "Sa place va à Colette Martin (personne n°3) et Bernard Martin (personne n°4), à appeler (atelier calls list)."),
    ("a pair, one told and one to call", (COLETTE, UNTOLD_BERNARD),
     "Sa place va à Colette Martin (personne n°3), prévenue par message, et à Bernard Martin (personne n°4), à "
     "appeler (atelier calls list)."),
]  # fmt: skip


@pytest.mark.parametrize(("label", "promoted", "line"), GIVEN, ids=[row[0] for row in GIVEN])
def test_who_gets_the_seat_in_one_line(label: str, promoted: tuple[Promoted, ...], line: str | None) -> None:
    assert given_line(promoted) == line, label
