"""Advisers' commands on Telegram, end to end (on SQLite; replays and previews on PostgreSQL too): /ateliers, /inscrits,
/annonce (preview, then a button), /annuler (a button too), /rappels (a button per request) — and who may use them.

Commands are posted to the webhook from the adviser's private chat; the answers are sent straight to the fake Bot
API (they are not resident messages); what reaches residents goes through the outbox and the dispatcher.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.channels import SMS, TELEGRAM, Inbound
from bot.interfaces.telegram_advisers import DRAFT_TTL, chunks, split_id
from bot.service import inbound as service
from bot.service.team import add_adviser
from bot.territory import Territory
from storage.database import Database
from storage.models import (
    Adviser,
    AuditEvent,
    Broadcast,
    CallbackRequest,
    MessageKind,
    OutboundMessage,
    Workshop,
    WorkshopStatus,
)
from tests.helpers.fake_telegram import FakeTelegram, SentMessage, callback_update, command_update, group_update
from tests.helpers.harness import seed
from tests.helpers.telegram_rig import Rig, rig
from tests.helpers.transcripts import SIGNUP, fold
from tests.helpers.world import JULIE

ADVISER = 9_990_001  # a private chat's id is the user's id
OTHER_ADVISER = 9_990_002
MARTINE = 7_770_001  # on Telegram, no number
PAUL = "+33698765432"  # by SMS


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bench(
    db: Database, db_url: str, territory: Territory, now: datetime, fake: FakeTelegram
) -> AsyncIterator[Rig]:
    async with rig(db=db, db_url=db_url, territory=territory, now=now, fake=fake) as built:
        await add_adviser(ctx=built.ctx, actor=JULIE, name="Claire Martin", telegram_id=ADVISER)
        await add_adviser(ctx=built.ctx, actor=JULIE, name="Hugo Bernard", telegram_id=OTHER_ADVISER)
        yield built


async def with_people(bench: Rig, now: datetime) -> dict[str, int]:
    """The default workshops; Martine (Telegram) and Paul (SMS) seated at Saint-Victor's."""
    ids = await seed(bench.ctx.db, "default", now)
    # Through the service directly (their answers recorded as sent): the webhook's own path is tested elsewhere.
    for number, say in enumerate(SIGNUP):
        inbound = Inbound(channel=TELEGRAM, address=str(MARTINE), text=say.text, provider_id=f"tg-{number}")
        await service.handle_inbound(ctx=bench.ctx, inbound=inbound, inline=True)
    for number, text in enumerate(["Bonjour", "Paul Durand", "st victor", "1", "rien", "1", "oui"]):
        inbound = Inbound(channel=SMS, address=PAUL, text=text, provider_id=f"SM{number:032d}")
        await service.handle_inbound(ctx=bench.ctx, inbound=inbound, inline=True)
    return ids


async def command(bench: Rig, text: str, *, user: int = ADVISER) -> list[SentMessage]:
    """An adviser types a command; returns what their chat received."""
    assert await bench.post(command_update(bench.next_update_id(), user, text)) == 200
    return bench.new_messages(user)


async def press(bench: Rig, message: SentMessage, label: str, *, user: int = ADVISER) -> None:
    data = next(b["callback_data"] for row in message.inline_buttons for b in row if b["text"].startswith(label))
    update = callback_update(bench.next_update_id(), user, data, message_id=message.message_id, text=message.text)
    assert await bench.post(update) == 200


def last_answer(bench: Rig) -> str:
    return fold(str(bench.fake.calls_to("answerCallbackQuery")[-1].params.get("text", "")))


def last_edit(bench: Rig) -> dict[str, Any]:
    return bench.fake.calls_to("editMessageText")[-1].params


async def telegram_trail(db: Database) -> list[tuple[str, int | None, str]]:
    """The audit trail's entries made through Telegram: who (name, adviser number) did what."""
    async with db.read() as session:
        query = select(AuditEvent).where(AuditEvent.interface == "telegram").order_by(AuditEvent.id)
        return [(e.actor, e.adviser_id, e.action) for e in (await session.execute(query)).scalars()]


async def claire_id(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(select(Adviser.id).where(Adviser.name == "Claire Martin"))).scalar_one())


async def count(db: Database, model: type, *where: Any) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


# --- /ateliers and /inscrits ----------------------------------------------------------------------------------


async def test_ateliers_lists_upcoming_workshops_with_their_counts(bench: Rig, now: datetime) -> None:
    ids = await with_people(bench, now)
    [answer] = await command(bench, "/ateliers")
    text = fold(answer.text)
    assert "ateliers a venir (5)" in text
    assert f"n°{ids['sv-beg']}, jeudi 5 mars a 14 h, saint-victor" in text
    assert "2/6 places prises, 0 en attente, 0 confirme(s)" in text
    assert answer.reply_markup is None  # no keyboard pushed on an adviser


async def test_ateliers_with_nothing_planned(bench: Rig) -> None:
    [answer] = await command(bench, "/ateliers")
    assert "aucun atelier a venir" in fold(answer.text)


async def test_inscrits_shows_who_and_what_they_want_to_learn(bench: Rig, now: datetime) -> None:
    ids = await with_people(bench, now)
    [answer] = await command(bench, f"/inscrits {ids['sv-beg']}")
    text = answer.text
    assert "Martine Dupont — Telegram seulement — pas encore confirmé — veut apprendre : Premiers pas, Impôts" in text
    assert "Paul Durand — 06 98 76 54 32 — pas encore confirmé — veut apprendre : rien de précis" in text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/inscrits", "ecrivez /inscrits suivi du numero"),
        ("/inscrits douze", "ecrivez /inscrits suivi du numero"),
        ("/inscrits 999", "je ne trouve pas l'atelier n°999"),
        ("/inscrits n°999", "je ne trouve pas l'atelier n°999"),
        ("/annonce", "ecrivez /annonce"),
        ("/annonce 3", "ecrivez /annonce"),
        ("/annonce 999 Bonjour", "je ne trouve pas l'atelier n°999"),
        ("/annuler", "ecrivez /annuler"),
        ("/annuler 3", "ecrivez /annuler"),
        ("/annuler 999 salle fermée", "je ne trouve pas l'atelier n°999"),
    ],
    ids=lambda value: str(value),
)
async def test_invalid_or_unknown_ids_get_one_kind_sentence(typed: str, expected: str, bench: Rig) -> None:
    answers = await command(bench, typed)
    assert len(answers) == 1 and fold(expected) in fold(answers[0].text)
    assert answers[0].inline_buttons == []


# --- /annonce -------------------------------------------------------------------------------------------------


async def test_annonce_previews_then_sends_on_the_button_only(bench: Rig, now: datetime, db: Database) -> None:
    ids = await with_people(bench, now)
    [preview] = await command(bench, f"/annonce {ids['sv-beg']} La salle change : rendez-vous à la mairie.")
    text = fold(preview.text)
    assert "la salle change : rendez-vous a la mairie." in text
    assert "destinataires : 2 (1 par sms, 1 par telegram)" in text
    assert "1 sms par personne, 0,08 €" in text
    assert [[b["text"] for b in row] for row in preview.inline_buttons] == [["Envoyer", "Ne pas envoyer"]]
    assert await count(db, Broadcast) == 0, "nothing is sent before the button"
    await press(bench, preview, "Envoyer")
    assert "envoye" in last_answer(bench)
    assert "envoye a 2 personne(s)" in fold(last_edit(bench)["text"])
    assert await count(db, Broadcast) == 1
    assert await count(db, OutboundMessage, OutboundMessage.kind == MessageKind.broadcast) == 2
    received = await bench.received(MARTINE)
    assert [m.text for m in received] == ["La salle change : rendez-vous à la mairie."]
    await press(bench, preview, "Envoyer")  # a second tap, or Telegram delivering the press again
    assert "plus en attente" in last_answer(bench)
    assert await count(db, Broadcast) == 1
    assert await telegram_trail(db) == [("Claire Martin", await claire_id(db), "broadcast_sent")]


async def test_annonce_cancelled_with_its_button_sends_nothing(bench: Rig, now: datetime, db: Database) -> None:
    ids = await with_people(bench, now)
    [preview] = await command(bench, f"/annonce {ids['sv-beg']} Message de test")
    await press(bench, preview, "Ne pas envoyer")
    assert "abandonnee" in fold(last_edit(bench)["text"])
    await press(bench, preview, "Envoyer")
    assert await count(db, Broadcast) == 0


@pytest.mark.both_dialects  # previews kept and dropped by key prefix (LIKE)
async def test_only_the_newest_preview_can_be_sent(bench: Rig, now: datetime, db: Database) -> None:
    ids = await with_people(bench, now)
    [first] = await command(bench, f"/annonce {ids['sv-beg']} Premier message")
    [second] = await command(bench, f"/annonce {ids['sv-beg']} Second message")
    await press(bench, first, "Envoyer")
    assert await count(db, Broadcast) == 0
    await press(bench, second, "Envoyer")
    async with db.read() as session:
        bodies = (await session.execute(select(Broadcast.body))).scalars().all()
    assert bodies == ["Second message"]


async def test_a_preview_left_too_long_is_not_sent(bench: Rig, now: datetime, db: Database) -> None:
    ids = await with_people(bench, now)
    [preview] = await command(bench, f"/annonce {ids['sv-beg']} Bonjour")
    bench.clock.advance(DRAFT_TTL + timedelta(minutes=1))
    await press(bench, preview, "Envoyer")
    assert await count(db, Broadcast) == 0


@pytest.mark.both_dialects  # previews kept and dropped by key prefix (LIKE)
async def test_another_adviser_cannot_confirm_someone_else_s_preview(bench: Rig, now: datetime, db: Database) -> None:
    ids = await with_people(bench, now)
    [preview] = await command(bench, f"/annonce {ids['sv-beg']} Bonjour")
    await press(bench, preview, "Envoyer", user=OTHER_ADVISER)
    assert await count(db, Broadcast) == 0
    await press(bench, preview, "Envoyer")
    assert await count(db, Broadcast) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [("x" * 600, "trop long"), ("x" * 1200, "trop long")],
    ids=["over three SMS", "over the command's limit"],
)
async def test_annonce_too_long_is_refused(body: str, expected: str, bench: Rig, now: datetime) -> None:
    ids = await with_people(bench, now)
    [answer] = await command(bench, f"/annonce {ids['sv-beg']} {body}")
    assert expected in fold(answer.text) and answer.inline_buttons == []


async def test_annonce_to_a_workshop_nobody_joined(bench: Rig, now: datetime) -> None:
    ids = await with_people(bench, now)
    [answer] = await command(bench, f"/annonce {ids['mar-adv']} Bonjour")
    assert "personne ne peut recevoir" in fold(answer.text)


# --- /annuler -------------------------------------------------------------------------------------------------


async def test_annuler_cancels_after_the_button_and_everyone_is_told(bench: Rig, now: datetime, db: Database) -> None:
    ids = await with_people(bench, now)
    [question] = await command(bench, f"/annuler {ids['sv-beg']} salle indisponible")
    assert "2 inscrit(s) et 0 en attente seront prevenus" in fold(question.text)
    async with db.read() as session:
        before = await session.get(Workshop, ids["sv-beg"])
    assert before is not None and before.status == WorkshopStatus.planned, "nothing changes before the button"
    await press(bench, question, "Oui")
    assert "messages prevus : 1 par sms, 1 par telegram" in fold(last_edit(bench)["text"])
    async with db.read() as session:
        workshop = await session.get(Workshop, ids["sv-beg"])
    assert workshop is not None and workshop.status == WorkshopStatus.cancelled
    assert workshop.cancel_reason == "salle indisponible"
    assert await count(db, OutboundMessage, OutboundMessage.kind == MessageKind.change_notice) == 2
    notice = await bench.received(MARTINE)
    assert len(notice) == 1 and "salle indisponible" in notice[0].text
    await press(bench, question, "Oui")  # again: nothing more
    assert await count(db, OutboundMessage, OutboundMessage.kind == MessageKind.change_notice) == 2
    assert await telegram_trail(db) == [("Claire Martin", await claire_id(db), "workshop_cancelled")]


async def test_annuler_answered_no_keeps_the_workshop(bench: Rig, now: datetime, db: Database) -> None:
    ids = await with_people(bench, now)
    [question] = await command(bench, f"/annuler {ids['sv-beg']} salle indisponible")
    await press(bench, question, "Non")
    assert "gardé" in last_edit(bench)["text"]
    async with db.read() as session:
        workshop = await session.get(Workshop, ids["sv-beg"])
    assert workshop is not None and workshop.status == WorkshopStatus.planned


async def test_annuler_a_workshop_already_cancelled(bench: Rig, now: datetime) -> None:
    ids = await with_people(bench, now)
    [question] = await command(bench, f"/annuler {ids['sv-beg']} salle indisponible")
    await press(bench, question, "Oui")
    [answer] = await command(bench, f"/annuler {ids['sv-beg']} encore")
    assert "deja annule" in fold(answer.text) and answer.inline_buttons == []


# --- /rappels -------------------------------------------------------------------------------------------------


async def test_rappels_lists_requests_with_a_button_each(bench: Rig, now: datetime, db: Database) -> None:
    await with_people(bench, now)
    await bench.say(MARTINE, "CONSEILLER")
    await bench.say(MARTINE, "06 12 34 56 78")
    await service.handle_inbound(
        ctx=bench.ctx, inbound=Inbound(channel=SMS, address=PAUL, text="CONSEILLER", provider_id="SMcb"), inline=True
    )
    bench.new_messages(ADVISER)  # the notices advisers get when a request arrives
    [listing] = await command(bench, "/rappels")
    assert "demandes de rappel (2)" in fold(listing.text)
    assert "Martine Dupont — 06 12 34 56 78" in listing.text and "Paul Durand — 06 98 76 54 32" in listing.text
    labels = [row[0]["text"] for row in listing.inline_buttons]
    assert len(labels) == 2 and "Martine" in labels[0]
    await press(bench, listing, labels[0])
    assert "note" in last_answer(bench)
    edited = last_edit(bench)
    assert "demandes de rappel (1)" in fold(edited["text"]) and "Martine" not in edited["text"]
    assert len(edited["reply_markup"]["inline_keyboard"]) == 1
    await press(bench, listing, labels[0])  # the old button again
    assert "deja traitee" in last_answer(bench)
    assert await count(db, CallbackRequest, CallbackRequest.handled_at.is_not(None)) == 1
    async with db.read() as session:
        handled_by = (await session.execute(select(CallbackRequest.handled_by))).scalars().all()
    assert "Claire Martin" in handled_by
    assert await telegram_trail(db) == [("Claire Martin", await claire_id(db), "callback_done")]


async def test_rappels_with_nobody_to_call(bench: Rig) -> None:
    [answer] = await command(bench, "/rappels")
    assert "aucune demande" in fold(answer.text) and answer.inline_buttons == []


# --- /appels --------------------------------------------------------------------------------------------------


async def test_appels_lists_the_calls_with_a_button_each(bench: Rig, now: datetime, db: Database) -> None:
    await with_people(bench, now)
    await service.handle_inbound(
        ctx=bench.ctx, inbound=Inbound(channel=SMS, address=PAUL, text="CONSEILLER", provider_id="SMcb"), inline=True
    )
    bench.new_messages(ADVISER)  # the notice advisers get when a request arrives
    [listing] = await command(bench, "/appels")
    assert "a appeler (1)" in fold(listing.text)
    assert "Paul Durand — 06 98 76 54 32 — demande de rappel" in listing.text
    assert "À dire : A demandé à être rappelé(e) (CONSEILLER)" in listing.text
    [[button]] = listing.inline_buttons
    await press(bench, listing, button["text"])
    assert "note" in last_answer(bench)
    assert "personne a appeler" in fold(last_edit(bench)["text"])
    await press(bench, listing, button["text"])  # the old button again
    assert "deja note" in last_answer(bench)
    async with db.read() as session:
        handled_by = (await session.execute(select(CallbackRequest.handled_by))).scalars().all()
    assert handled_by == ["Claire Martin"]  # the call was the request: both are done


async def test_appels_is_for_advisers_only(bench: Rig, now: datetime) -> None:
    await with_people(bench, now)
    await service.handle_inbound(
        ctx=bench.ctx, inbound=Inbound(channel=SMS, address=PAUL, text="CONSEILLER", provider_id="SMcb"), inline=True
    )
    answers = await bench.say(MARTINE, "/appels")  # a resident: the residents' answer, not the list
    assert answers and all("paul" not in fold(m.text) for m in answers)


# --- Who may use them -----------------------------------------------------------------------------------------


@pytest.mark.both_dialects  # the update_id's unique key (ON CONFLICT)
async def test_a_replayed_adviser_command_is_answered_once(bench: Rig, now: datetime) -> None:
    ids = await with_people(bench, now)
    update = command_update(bench.next_update_id(), ADVISER, f"/annonce {ids['sv-beg']} Bonjour")
    for _ in range(2):
        assert await bench.post(update) == 200
    assert len(bench.new_messages(ADVISER)) == 1


async def test_adviser_commands_in_a_group_are_ignored(bench: Rig, now: datetime, db: Database) -> None:
    ids = await with_people(bench, now)
    assert await bench.post(group_update(bench.next_update_id(), -100555, ADVISER, f"/inscrits {ids['sv-beg']}")) == 200
    await bench.deliver()
    assert bench.fake.sent(-100555) == [] and bench.new_messages(ADVISER) == []


async def test_an_adviser_writing_plain_text_talks_to_the_assistant(bench: Rig) -> None:
    received = await bench.say(ADVISER, "Bonjour")
    assert "prenom" in fold(received[0].text)


async def test_an_unregistered_user_trying_annonce_gets_the_resident_answer(
    bench: Rig, now: datetime, db: Database
) -> None:
    ids = await with_people(bench, now)
    stranger = 4_440_001
    received = await bench.say(stranger, f"/annonce {ids['sv-beg']} Venez tous")
    assert len(received) == 1 and "prenom" in fold(received[0].text)
    assert received[0].inline_buttons == [] and "destinataires" not in fold(received[0].text)
    assert await count(db, Broadcast) == 0


# --- Pure helpers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("12 Salle fermée", (12, "Salle fermée")),
        ("n°12 Salle fermée", (12, "Salle fermée")),
        ("#12", (12, "")),
        ("  7  ", (7, "")),
        ("12\nDeux lignes", (12, "Deux lignes")),
        ("douze", None),
        ("", None),
        ("12abc", None),
    ],
    ids=lambda value: repr(value),
)
def test_split_id(argument: str, expected: tuple[int, str] | None) -> None:
    assert split_id(argument) == expected


def test_long_answers_are_split_at_line_ends() -> None:
    lines = [f"ligne {n} " + "x" * 90 for n in range(100)]
    pieces = chunks(lines)
    assert len(pieces) == 3 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces).split("\n") == lines
    assert chunks(["y" * 5000]) == ["y" * 4095 + "…"]
