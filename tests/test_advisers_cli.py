"""The advisers' commands in-process (typer's CliRunner) against a real database (SQLite; the registers only they reach
on PostgreSQL too): ``broadcast`` (and ``broadcast report``), ``callbacks``, ``advisers``, ``residents``, ``enrol``,
``stats``, and the notifying ``workshops cancel|move`` and ``workshops attendance``. JSON field names as SPEC §6; bad
input refused kindly with nothing changed.

The commands read the real clock, so the world is built relative to now. The tests are plain ``def``: each
command runs its own ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import click.testing
import pytest
import typer.testing
from sqlalchemy import func, select

from bot.interfaces.cli import common
from storage.database import Database
from storage.models import (
    Broadcast,
    CallbackRequest,
    Enrolment,
    EnrolmentStatus,
    Level,
    MessageKind,
    OutboundMessage,
    Resident,
    Venue,
    Workshop,
)
from tests.helpers import cli
from tests.helpers.cli import as_json

RESIDENT_FIELDS = {
    "id", "name", "phone", "telegram_chat_id", "commune", "level", "opted_out_sms", "opted_out_telegram", "created_at",
}  # fmt: skip
ADVISER_FIELDS = {"id", "name", "phone", "telegram_user_id", "communes", "role", "created_at", "email"}
CALLBACK_FIELDS = {
    "id", "resident_id", "name", "phone", "telegram_chat_id", "commune", "created_at", "handled_at", "handled_by",
    "reason",
}  # fmt: skip
REPORT_FIELDS = {
    "id", "author", "created_at", "body", "audience", "segments", "recipients", "by_channel", "sent", "delivered",
    "failed", "opted_out", "expired", "pending", "cancelled", "to_phone", "waiting",
}  # fmt: skip
PREVIEW_FIELDS = {"recipients", "by_channel", "skipped_opted_out", "unreachable", "segments", "estimated_cost"}
PREVIEW_FIELDS |= {"sms_text", "communes", "venues", "workshops", "sms_cost", "calls", "call_minutes", "call_cost"}
STATS_FIELDS = {"commune", "commune_insee", "level", "signed_up", "waiting", "seated", "confirmed", "came"}
STATS_FIELDS |= {"reminded", "answered", "answered_share"}
ENROL_FIELDS = {"resident_id", "enrolment_id", "workshop_id", "status", "position", "already", "new_resident"}
ENROL_FIELDS |= {"confirmation_channel", "notes"}


# The notices these commands queue leave at once, whatever the hour the tests run at.
atelier = partial(cli.atelier, quiet_hours="none")
ok = partial(cli.ok, quiet_hours="none")


def in_db(db_url: str, query: Any) -> Any:
    async def main() -> Any:
        db = Database.from_url(db_url)
        try:
            async with db.write() as session:
                return await query(session)
        finally:
            await db.dispose()

    return asyncio.run(main())


def count(db_url: str, model: Any, *where: Any) -> int:
    async def query(session: Any) -> int:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())

    return int(in_db(db_url, query))


def planned_workshop(db_url: str, *, hours_ahead: float, capacity: int = 6) -> int:
    """A beginners' workshop at the town hall of Saint-Victor, ``hours_ahead`` from now (negative: started)."""

    async def query(session: Any) -> int:
        venue = (await session.execute(select(Venue).where(Venue.name == "Mairie de Saint-Victor"))).scalar_one()
        start = (datetime.now(UTC) + timedelta(hours=hours_ahead)).replace(second=0, microsecond=0)
        workshop = Workshop(
            venue_id=venue.id,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            level=Level.beginner,
            topic="Tablette",
            capacity=capacity,
        )
        session.add(workshop)
        await session.flush()
        return int(workshop.id)

    return int(in_db(db_url, query))


def enrol(db_url: str, workshop_id: int, name: str, phone: str) -> dict[str, Any]:
    result = ok(
        db_url, "enrol", "--name", name, "--phone", phone, "--commune", "st victor", "--workshop", str(workshop_id),
        "--json",
    )  # fmt: skip
    enrolled: dict[str, Any] = as_json(result)
    return enrolled


# ---------------------------------------------------------------------------------------------------------------
# Bad input: one table, nothing changed


BAD_INPUT: list[tuple[str, tuple[str, ...], str]] = [
    ("broadcast: unknown workshop", ("broadcast", "--workshop", "99999", "Bonjour", "--yes"), "n'existe pas"),
    ("broadcast: unknown commune", ("broadcast", "--commune", "Paris", "Bonjour", "--yes"), "commune inconnue"),
    ("broadcast: two audiences", ("broadcast", "--workshop", "{w}", "--upcoming", "Bonjour", "--yes"), "un seul"),
    ("broadcast: no audience", ("broadcast", "Bonjour", "--yes"), "un seul public"),
    ("broadcast: empty text", ("broadcast", "--upcoming", "  ", "--yes"), "vide"),
    ("broadcast: too long", ("broadcast", "--upcoming", "a" * 460, "--yes"), "trop long"),
    ("broadcast: no terminal, no --yes", ("broadcast", "--workshop", "{w}", "Bonjour"), "pas de terminal"),
    ("broadcast report: unknown", ("broadcast", "report", "99999"), "n'existe pas"),
    ("enrol: bad phone", ("enrol", "--name", "A B", "--phone", "12", "--commune", "Domérat", "--workshop", "{w}"),
     "numéro de téléphone invalide"),
    ("enrol: unknown commune", ("enrol", "--name", "A B", "--phone", "0611223344", "--commune", "Lyon",
     "--workshop", "{w}"), "commune inconnue"),
    ("enrol: unknown workshop", ("enrol", "--name", "A B", "--phone", "0611223344", "--commune", "Domérat",
     "--workshop", "99999"), "n'existe pas"),
    ("enrol: unknown adviser", ("enrol", "--name", "A B", "--phone", "0611223344", "--commune", "Domérat",
     "--workshop", "{w}", "--adviser", "Personne"), "conseiller inconnu"),
    ("advisers add: bad phone", ("advisers", "add", "--name", "Julie", "--phone", "abc"), "invalide"),
    ("advisers add: unknown commune", ("advisers", "add", "--name", "Julie", "--commune", "Lyon"), "inconnue"),
    ("advisers add: empty name", ("advisers", "add", "--name", " "), "le nom manque"),
    ("callbacks done: unknown", ("callbacks", "done", "99999"), "n'existe pas"),
    ("residents erase: unknown", ("residents", "erase", "99999", "--yes"), "n'existe pas"),
    ("residents erase: no terminal, no --yes", ("residents", "erase", "{r}"), "pas de terminal"),
    ("workshops cancel: no terminal, no --yes", ("workshops", "cancel", "{w}", "--reason", "pluie"),
     "pas de terminal"),
    ("workshops move: unknown workshop", ("workshops", "move", "99999", "--start", "15:00", "--yes"), "n'existe pas"),
    ("attendance: unknown workshop", ("workshops", "attendance", "99999", "--present", "{r}"), "n'existe pas"),
    ("attendance: no terminal, nobody named", ("workshops", "attendance", "{w}"), "indiquez --present"),
    ("attendance: not started yet", ("workshops", "attendance", "{w}", "--present", "{r}"), "pas encore commencé"),
    ("stats: bad date", ("stats", "--since", "31/02/2026"), "date illisible"),
]  # fmt: skip


def snapshot(db_url: str) -> tuple[int, ...]:
    return (
        count(db_url, Broadcast),
        count(db_url, OutboundMessage),
        count(db_url, Resident, Resident.erased.is_(False)),
        count(db_url, Enrolment, Enrolment.status == EnrolmentStatus.seated),
        count(db_url, Workshop, Workshop.status == "planned"),
        count(db_url, CallbackRequest, CallbackRequest.handled_at.is_(None)),
    )


def test_bad_input_is_refused_kindly_and_changes_nothing(db_url: str) -> None:
    w = planned_workshop(db_url, hours_ahead=72)
    r = enrol(db_url, w, "Jeanne Martin", "06 12 00 00 01")["resident_id"]
    before = snapshot(db_url)
    for label, args, says in BAD_INPUT:
        result = atelier(db_url, *(a.format(w=w, r=r) for a in args))
        assert result.exit_code == 1, (label, result.stdout, result.stderr)
        assert says in " ".join(result.stderr.split()), (label, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr, label
        assert snapshot(db_url) == before, label


# ---------------------------------------------------------------------------------------------------------------
# What advisers do, with the JSON the scripts read


@pytest.mark.both_dialects  # the advisers' register, only reached from here
def test_advisers_add_and_list(db_url: str) -> None:
    added = as_json(
        ok(db_url, "advisers", "add", "--name", "Julie Martin", "--phone", "06 11 22 33 44", "--telegram-id", "4242",
           "--commune", "st victor", "--commune", "Domérat", "--json")
    )  # fmt: skip
    assert set(added) == ADVISER_FIELDS
    assert (added["phone"], added["telegram_user_id"], added["communes"]) == (
        "+33611223344",
        4242,
        ["Saint-Victor", "Domérat"],
    )
    again = as_json(ok(db_url, "advisers", "add", "--name", "julie martin", "--phone", "0611223355", "--json"))
    assert (again["id"], again["phone"], again["communes"]) == (
        added["id"],
        "+33611223355",
        ["Saint-Victor", "Domérat"],
    )
    taken = atelier(db_url, "advisers", "add", "--name", "Marc", "--telegram-id", "4242")
    assert taken.exit_code == 1 and "déjà celui de Julie Martin" in taken.stderr
    [listed] = as_json(ok(db_url, "advisers", "list", "--json"))
    assert listed == again
    assert "Julie Martin" in ok(db_url, "advisers", "list").stdout


@pytest.mark.parametrize(
    ("label", "answer", "terminal", "enrolled"),
    [
        ("answered oui", "oui\n", True, True),
        ("answered non", "non\n", True, False),
        ("interrupted", "", True, False),
        ("no terminal and no --yes", "", False, False),
    ],
)
def test_enrol_with_someone_else_s_number_asks_first(
    db_url: str, monkeypatch: pytest.MonkeyPatch, label: str, answer: str, terminal: bool, enrolled: bool
) -> None:
    w = planned_workshop(db_url, hours_ahead=72)
    paul = enrol(db_url, w, "Paul Durand", "06 12 00 00 01")["resident_id"]
    other = planned_workshop(db_url, hours_ahead=96)
    monkeypatch.setattr(common, "is_terminal", lambda: terminal)
    args = ("enrol", "--name", "Martine Dupont", "--phone", "06 12 00 00 01", "--commune", "st victor",
            "--workshop", str(other))  # fmt: skip
    before = count(db_url, OutboundMessage)
    result = atelier(db_url, *args, stdin=answer)
    output = result.stdout + result.stderr
    if terminal:
        assert f"Le numéro 06 12 00 00 01 est celui de « Paul Durand » (personne n°{paul})." in output, label
    assert (result.exit_code == 0) is enrolled, (label, output)
    seated = count(db_url, Enrolment, Enrolment.workshop_id == other, Enrolment.resident_id == paul)
    assert seated == int(enrolled), label
    if not enrolled:
        assert count(db_url, OutboundMessage) == before and "rien n'a été changé" in output.lower(), label
    with_yes = atelier(db_url, *args, "--yes")
    assert with_yes.exit_code == 0 and "celui de « Paul Durand »" in with_yes.stdout


@pytest.mark.both_dialects  # the residents' register and erasure, only reached from here
def test_enrol_by_phone_then_residents_list_and_erase(db_url: str) -> None:
    w = planned_workshop(db_url, hours_ahead=72, capacity=1)
    ok(db_url, "advisers", "add", "--name", "Julie Martin")
    first = as_json(
        ok(db_url, "enrol", "--name", "Jeanne Martin", "--phone", "06 12 00 00 01", "--commune", "st victor",
           "--workshop", str(w), "--adviser", "julie", "--json")
    )  # fmt: skip
    assert set(first) == ENROL_FIELDS
    assert (first["status"], first["confirmation_channel"], first["new_resident"]) == ("seated", "sms", True)
    second = ok(
        db_url, "enrol", "--name", "Paul Durand", "--phone", "06 12 00 00 02", "--commune", "Domérat",
        "--workshop", str(w), "--level", "débutant",
    ).stdout  # fmt: skip
    assert "liste d'attente, en position 1" in second and "Message de confirmation prévu (par SMS)" in second
    assert count(db_url, OutboundMessage, OutboundMessage.kind == MessageKind.confirmation) == 2

    residents = as_json(ok(db_url, "residents", "list", "--json"))
    assert [set(r) for r in residents] == [RESIDENT_FIELDS, RESIDENT_FIELDS]
    jeanne = residents[0]
    assert {k: v for k, v in jeanne.items() if k != "created_at"} == {
        "id": first["resident_id"],
        "name": "Jeanne Martin",
        "phone": "+33612000001",  # advisers phone people: the full number
        "telegram_chat_id": None,
        "commune": "Saint-Victor",
        "level": "beginner",
        "opted_out_sms": False,
        "opted_out_telegram": False,
    }
    assert datetime.fromisoformat(jeanne["created_at"]).utcoffset() is not None

    erased = ok(db_url, "residents", "erase", str(first["resident_id"]), "--yes").stdout
    assert "effacées" in erased and "1 personne(s) en attente ont reçu sa place" in erased
    assert [r["name"] for r in as_json(ok(db_url, "residents", "list", "--json"))] == ["Paul Durand"]
    assert count(db_url, OutboundMessage, OutboundMessage.kind == MessageKind.promotion) == 1
    refused = atelier(
        db_url, "enrol", "--name", "Jeanne Martin", "--phone", "0612000001", "--commune", "st victor",
        "--workshop", str(w),
    )  # fmt: skip
    assert refused.exit_code == 1 and "--force" in refused.stderr


def test_broadcast_preview_send_and_report(db_url: str) -> None:
    w = planned_workshop(db_url, hours_ahead=72)
    enrol(db_url, w, "Jeanne Martin", "06 12 00 00 01")
    enrol(db_url, w, "Paul Durand", "06 12 00 00 02")
    text = "Leçon annulée, désolé ! " + "a" * 140  # 164 characters, GSM-7 once ç is c: 2 segments
    preview = as_json(ok(db_url, "broadcast", "--workshop", str(w), text, "--dry-run", "--json"))
    assert set(preview) == PREVIEW_FIELDS
    assert (preview["recipients"], preview["segments"], preview["estimated_cost"]) == (2, 2, 0.32)
    assert preview["sms_text"].startswith("Lecon annulée")
    shown = ok(db_url, "broadcast", "--workshop", str(w), text, "--dry-run").stdout
    assert "2 segments" in shown and "0,32 €" in shown and "Rien n'a été envoyé" in shown
    assert count(db_url, Broadcast) == 0

    sent = ok(db_url, "broadcast", "--workshop", str(w), text, "--yes", "--author", "Julie").stdout
    assert "Diffusion n°1" in sent and "atelier broadcast report 1" in sent
    assert "2 partent dès maintenant." in sent  # no quiet hours here, nobody at their daily cap
    ok(db_url, "broadcast", "--commune", "st victor", "--commune", "Domérat", "Bonjour", "--yes")
    ok(db_url, "broadcast", "send", "--upcoming", "Bonjour", "--yes")
    assert count(db_url, Broadcast) == 3
    assert count(db_url, OutboundMessage, OutboundMessage.kind == MessageKind.broadcast) == 6

    report = as_json(ok(db_url, "broadcast", "report", "1", "--json"))
    assert set(report) == REPORT_FIELDS
    assert (report["author"], report["recipients"], report["pending"], report["to_phone"]) == ("Julie", 2, 2, [])
    shown = ok(db_url, "broadcast", "report", "1").stdout
    assert "2 message(s)" in shown and "En attente : 2 partent dès maintenant." in shown
    assert report["waiting"] == [{"count": 2, "leaves_at": None, "reasons": []}]


def test_callbacks_list_and_done(db_url: str) -> None:
    w = planned_workshop(db_url, hours_ahead=72)
    resident = enrol(db_url, w, "Jeanne Martin", "06 12 00 00 01")["resident_id"]

    async def ask(session: Any) -> int:
        request = CallbackRequest(resident_id=resident, created_at=datetime.now(UTC))
        session.add(request)
        await session.flush()
        return int(request.id)

    callback_id = in_db(db_url, ask)
    [item] = as_json(ok(db_url, "callbacks", "list", "--json"))
    assert set(item) == CALLBACK_FIELDS
    assert (item["id"], item["name"], item["phone"], item["commune"]) == (
        callback_id,
        "Jeanne Martin",
        "+33612000001",
        "Saint-Victor",
    )
    assert "Jeanne Martin" in ok(db_url, "callbacks", "list").stdout
    assert "marquée traitée" in ok(db_url, "callbacks", "done", str(callback_id), "--by", "Julie").stdout
    assert "déjà traitée par Julie" in ok(db_url, "callbacks", "done", str(callback_id)).stdout
    assert as_json(ok(db_url, "callbacks", "list", "--json")) == []
    [done] = as_json(ok(db_url, "callbacks", "list", "--all", "--json"))
    assert done["handled_by"] == "Julie" and done["handled_at"] is not None


def test_cancel_and_move_tell_everyone(db_url: str) -> None:
    w = planned_workshop(db_url, hours_ahead=72)
    enrol(db_url, w, "Jeanne Martin", "06 12 00 00 01")
    enrol(db_url, w, "Léon Fixe", "04 70 00 00 02")  # a landline: to phone
    moved = ok(db_url, "workshops", "move", str(w), "--start", "16:30", "--yes").stdout
    assert "déplacé" in moved and "Messages prévus : 1 par SMS" in moved
    assert "À appeler (1)" in moved and "Léon Fixe — 04 70 00 00 02" in moved  # as advisers dial it
    assert "1 part dès maintenant." in moved
    cancelled = ok(db_url, "workshops", "cancel", str(w), "--reason", "conseillère malade", "--yes").stdout
    assert "annulé" in cancelled and "Messages prévus : 1 par SMS" in cancelled
    notices = count(db_url, OutboundMessage, OutboundMessage.kind == MessageKind.change_notice)
    assert notices == 2  # the move notice (it left, or was replaced) and the cancellation


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's input as if typed on a terminal (the interactive attendance)."""
    for wrapper in (click.testing._NamedTextIOWrapper, typer.testing._NamedTextIOWrapper):  # the runners' stdin
        monkeypatch.setattr(wrapper, "isatty", lambda self: True)


def test_attendance_by_options_and_on_a_terminal(db_url: str, terminal: None) -> None:
    w = planned_workshop(db_url, hours_ahead=72)
    anne = enrol(db_url, w, "Anne Martin", "06 12 00 00 01")["resident_id"]
    bruno = enrol(db_url, w, "Bruno Petit", "06 12 00 00 02")["resident_id"]

    async def start_it(session: Any) -> None:  # the workshop began an hour ago
        workshop = await session.get(Workshop, w)
        workshop.starts_at = datetime.now(UTC) - timedelta(hours=1)

    in_db(db_url, start_it)
    marked = ok(db_url, "workshops", "attendance", str(w), "--present", str(anne), "--absent", str(bruno)).stdout
    assert "1 présent(s), 1 absent(s)" in marked
    assert f"n°{anne} Anne Martin : présent" in marked and f"n°{bruno} Bruno Petit : absent" in marked
    table = ok(db_url, "workshops", "roster", str(w)).stdout  # its first column is the number --present takes
    assert [line.split()[0] for line in table.splitlines() if "Martin" in line or "Petit" in line] == [
        str(anne),
        str(bruno),
    ]
    roster = as_json(ok(db_url, "workshops", "roster", str(w), "--json"))
    assert [(e["name"], e["status"]) for e in roster["enrolments"]] == [
        ("Anne Martin", "attended"),
        ("Bruno Petit", "absent"),
    ]
    asked = ok(db_url, "workshops", "attendance", str(w), stdin="n\no\n\n").stdout  # Anne no, Bruno yes, no walk-in
    assert "Anne Martin était là ?" in asked and "1 présent(s), 1 absent(s)" in asked
    assert "présent" in ok(db_url, "workshops", "roster", str(w)).stdout
    stats = as_json(ok(db_url, "stats", "--json"))
    assert set(stats) == {"since", "until", "rows", "total", "people", "messaging"}
    assert all(set(r) == STATS_FIELDS for r in [*stats["rows"], stats["total"]])
    assert (stats["total"]["seated"], stats["total"]["came"]) == (2, 1)
    assert "Saint-Victor" in ok(db_url, "stats").stdout
