"""A broadcast to the participants of the workshops held at a venue or in a commune (issue 14, item 11): "la salle
de Saint-Victor est fermée" reaches the people of the upcoming workshops held there, wherever they live — on both
databases through the service, and from the command line."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import update

from bot.config import Settings
from bot.context import Context
from bot.service.actors import Actor
from bot.service.broadcasts import Audience, BroadcastError, preview_broadcast, send_broadcast
from bot.service.changes import cancel_workshop_and_notify
from bot.territory import Territory
from storage.database import Database
from storage.models import MessageKind, Workshop
from tests.helpers.cli import as_json
from tests.helpers.clock import Clock
from tests.helpers.world import JULIE, Town, in_2026
from tests.test_advisers_cli import enrol, ok, planned_workshop

pytestmark = pytest.mark.both_dialects  # the audience is one query of the service's own


@pytest.fixture
def town(settings: Settings, db: Database, territory: Territory) -> Town:
    clock = Clock(in_2026(2, 9))
    return Town(Context(settings=settings, db=db, territory=territory, clock=clock), clock)


@dataclass(frozen=True)
class World:
    people: dict[str, int]
    workshops: dict[str, int]


@pytest.fixture
async def world(town: Town) -> World:
    """Saint-Victor's town hall holds two upcoming workshops, one cancelled and one past; Domérat one."""
    workshops = {
        "sv": await town.workshop("Saint-Victor", in_2026(5, 14)),
        "sv later": await town.workshop("Saint-Victor", in_2026(12, 14), capacity=1),
        "sv cancelled": await town.workshop("Saint-Victor", in_2026(6, 14)),
        "sv past": await town.workshop("Saint-Victor", in_2026(3, 14)),
        "domerat": await town.workshop("Domérat", in_2026(5, 9)),
    }
    people = {
        "anne": await town.resident("Anne", phone="+33611000001", commune="Domérat"),  # lives elsewhere
        "bruno": await town.resident("Bruno", phone="+33611000002"),
        "chantal": await town.resident("Chantal", phone="+33611000003"),  # waiting at Saint-Victor
        "denis": await town.resident("Denis", phone="+33611000004"),  # lives in Saint-Victor, goes to Domérat
        "eve": await town.resident("Eve", phone="+33611000005"),  # only in the cancelled one
        "fred": await town.resident("Fred", phone="+33611000006"),  # only in the past one
    }
    for person, workshop in [
        ("anne", "sv"), ("bruno", "sv later"), ("chantal", "sv later"), ("denis", "domerat"),
        ("eve", "sv cancelled"), ("fred", "sv past"),
    ]:  # fmt: skip
        await town.seat(people[person], workshops[workshop])
    await cancel_workshop_and_notify(
        ctx=town.ctx, workshop_id=workshops["sv cancelled"], reason="x", actor=Actor("t", interface="cli")
    )
    async with town.ctx.db.write() as session:  # the past one took place last week
        await session.execute(
            update(Workshop).where(Workshop.id == workshops["sv past"]).values(starts_at=in_2026(1, 14, month=2))
        )
    return World(people, workshops)


AUDIENCES = [
    ("the workshops held in a commune", Audience(held_in="st victor"), ["anne", "bruno", "chantal"]),
    ("the workshops held at a venue", Audience(venue="mairie de saint victor"), ["anne", "bruno", "chantal"]),
    ("a venue and its commune", Audience(venue="Mairie", held_in="Domérat"), ["denis"]),
    ("held there, living here", Audience(held_in="Saint-Victor", communes=("Domérat",)), ["anne"]),
]


@pytest.mark.parametrize(("label", "audience", "expected"), AUDIENCES, ids=[row[0] for row in AUDIENCES])
async def test_who_a_venue_broadcast_reaches(
    town: Town, world: World, label: str, audience: Audience, expected: list[str]
) -> None:
    preview = await preview_broadcast(ctx=town.ctx, audience=audience, body="La salle est fermée.")
    assert preview.recipients == len(expected), label
    broadcast = await send_broadcast(ctx=town.ctx, audience=audience, body="La salle est fermée.", actor=JULIE)
    sent = await town.messages(broadcast_id=broadcast, kind=MessageKind.broadcast)
    assert sorted(m.resident_id or 0 for m in sent) == sorted(world.people[p] for p in expected), label


async def test_the_preview_names_the_venues_and_workshops(town: Town, world: World) -> None:
    preview = await preview_broadcast(ctx=town.ctx, audience=Audience(held_in="St Victor"), body="Bonjour")
    assert preview.venues == ("Mairie de Saint-Victor",)
    assert preview.workshops == (world.workshops["sv"], world.workshops["sv later"])


@pytest.mark.parametrize(
    ("label", "audience", "says"),
    [
        ("a venue name several communes have", Audience(venue="mairie"), "plusieurs lieux s'appellent « mairie »"),
        ("an unknown venue", Audience(venue="Gymnase", held_in="Domérat"), "lieu inconnu « Gymnase » à Domérat"),
        ("an unknown commune", Audience(held_in="Paris"), "commune inconnue « Paris »"),
    ],
)
async def test_venue_audiences_refused_kindly(
    town: Town, world: World, label: str, audience: Audience, says: str
) -> None:
    with pytest.raises(BroadcastError, match=says):
        await preview_broadcast(ctx=town.ctx, audience=audience, body="Bonjour")
    del world, label


def test_broadcast_held_in_from_the_command_line(db_url: str) -> None:
    workshop = planned_workshop(db_url, hours_ahead=72)
    enrol(db_url, workshop, "Anne Martin", "06 12 00 00 01")
    shown = ok(db_url, "broadcast", "--held-in", "st victor", "La salle est fermée.", "--dry-run").stdout
    assert f"Ateliers à venir à Mairie de Saint-Victor : n°{workshop}." in shown and "Destinataires : 1" in shown
    preview = as_json(ok(db_url, "broadcast", "--venue", "mairie de saint-victor", "Bonjour", "--dry-run", "--json"))
    assert (preview["recipients"], preview["workshops"]) == (1, [workshop])
