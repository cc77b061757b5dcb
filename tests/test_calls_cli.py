"""``atelier calls list|done`` in-process against a real database, both backends: the list an adviser reads in an
80-column terminal, its JSON (SPEC §6: ``--json`` on every listing), and marking a call done."""

from __future__ import annotations

from typer.testing import Result

from tests.helpers.cli import as_json
from tests.test_advisers_cli import atelier, enrol, ok, planned_workshop

CALL_FIELDS = {
    "id", "kind", "reason", "resident_id", "name", "phone", "telegram_chat_id", "commune", "workshop_id",
    "workshop_start", "workshop_place", "adviser", "what_to_say", "created_at", "done_at", "done_by", "outcome",
}  # fmt: skip


def narrow(db_url: str, *args: str) -> Result:
    result = atelier(db_url, *args, columns=80)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def test_a_cancellation_that_cannot_reach_someone_puts_them_on_the_list(db_url: str) -> None:
    assert "Personne à appeler." in narrow(db_url, "calls", "list").stdout
    workshop = planned_workshop(db_url, hours_ahead=72)
    landline = enrol(db_url, workshop, "Jeanne Martin", "04 70 05 12 34")["resident_id"]
    enrol(db_url, workshop, "Paul Petit", "06 12 00 00 02")
    ok(db_url, "advisers", "add", "--name", "Julie Martin", "--phone", "06 11 22 33 44")
    ok(db_url, "workshops", "cancel", str(workshop), "--reason", "salle fermée", "--yes")
    listing = narrow(db_url, "calls", "list").stdout
    assert "À appeler : 1 personne(s)." in listing
    assert "Jeanne Martin — 04 70 05 12 34 — Saint-Victor" in listing
    assert "Atelier changé : numéro fixe ou refusé par l'opérateur" in listing
    assert "n'aura pas lieu (salle fermée)" in " ".join(listing.split())
    assert all(len(line) <= 80 for line in listing.splitlines()), listing
    [call] = as_json(ok(db_url, "calls", "list", "--json"))
    assert set(call) == CALL_FIELDS
    assert (call["kind"], call["reason"], call["resident_id"], call["phone"], call["workshop_id"]) == (
        "change_notice",
        "sms_unreachable",
        landline,
        "+33470051234",
        workshop,
    )
    done = ok(db_url, "calls", "done", str(call["id"]), "--outcome", "prévenue, vient jeudi", "--as", "julie")
    assert "Appel n°" in done.stdout and "par Julie Martin" in done.stdout  # "julie" is the registered adviser
    assert as_json(ok(db_url, "calls", "list", "--json")) == []
    [made] = as_json(ok(db_url, "calls", "list", "--all", "--json"))
    assert (made["done_by"], made["outcome"]) == ("Julie Martin", "prévenue, vient jeudi")
    assert made["done_at"] is not None and made["done_at"].endswith(("+01:00", "+02:00"))
    again = atelier(db_url, "calls", "done", str(call["id"]), "--outcome", "ok")
    assert again.exit_code == 1 and "déjà noté, par Julie Martin" in again.stderr


def test_calls_done_refuses_kindly(db_url: str) -> None:
    unknown = atelier(db_url, "calls", "done", "99999", "--outcome", "ok")
    assert unknown.exit_code == 1 and "l'appel n°99999 n'existe pas" in unknown.stderr
    missing = atelier(db_url, "calls", "done", "1")
    assert missing.exit_code == 2 and "il manque l'option --outcome" in missing.stderr
