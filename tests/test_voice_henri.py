"""Issue 17, done when: an adviser enrols "Henri Bouchet, 04 70 05 12 34" by phone; Henri's phone rings the day
before his workshop with a French sentence he understands; he presses 2; his seat goes to the next person on the
list, who gets an SMS.

End to end over real HTTP: the ``atelier enrol`` command, the application served on loopback with calls on, the
fake Twilio API placing the calls (and sending the SMS), Henri's phone fetching our TwiML and pressing its keys,
Twilio's signed status callbacks. The command reads the wall clock, so the workshop is set a few open days ahead.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app as atelier
from bot.conversation import texts as say
from bot.scheduler.planning import is_closed_day, next_call_at
from bot.service.residents import list_residents
from storage.models import Enrolment, EnrolmentStatus, MessageKind, MessageStatus, OutboundMessage
from tests.helpers.voice_rig import PARIS, voice_environ, voice_site

pytestmark = pytest.mark.both_dialects  # the service's statements of calls (FOR UPDATE on PostgreSQL)

HENRI = "+33470051234"  # 04 70 05 12 34: a fixed line in the Allier
MARTINE = "+33612345678"
NUMBERS_AND_ABBREVIATIONS = re.compile(r"\d\s?h\b|\d:\d|\bSt\b|\bn°|\d{2}/\d{2}")


def workshop_day(now: datetime) -> datetime:
    """14:00 on the first day at least three days ahead that is open, with an open day before it (the reminder)."""
    day = now.astimezone(PARIS).date() + timedelta(days=3)
    while is_closed_day(day) or is_closed_day(day - timedelta(days=1)):
        day += timedelta(days=1)
    return datetime.combine(day, time(14, 0), tzinfo=PARIS)


async def test_henri_presses_2_and_his_seat_goes_to_martine_by_sms(db_url: str) -> None:
    wall = datetime.now(UTC)
    start = workshop_day(wall)
    async with voice_site(db_url, wall) as site:
        settings = site.ctx.settings
        site.clock.now = next_call_at(wall, hours=settings.call_hours, quiet_hours=settings.quiet_hours, tz=PARIS)
        town = site.town
        workshop = await town.workshop("Saint-Victor", start, capacity=1)

        # The adviser enrols Henri, who phoned: the command, as an adviser types it.
        environ = voice_environ(db_url, site.public, site.fake.url)
        enrolled = await asyncio.to_thread(
            CliRunner().invoke,
            atelier,
            ["enrol", "--name", "Henri Bouchet", "--phone", "04 70 05 12 34", "--commune", "st victor",
             "--workshop", str(workshop)],
            env=environ | {"COLUMNS": "200"},
        )  # fmt: skip
        assert enrolled.exit_code == 0, enrolled.output
        assert "Place réservée" in enrolled.output and "numéro fixe" in enrolled.output, enrolled.output
        roster = await asyncio.to_thread(
            CliRunner().invoke, atelier, ["workshops", "roster", str(workshop)], env=environ | {"COLUMNS": "200"}
        )
        [henri_line] = [line for line in roster.output.splitlines() if "Henri Bouchet" in line]
        assert "appel" in henri_line, roster.output  # his channel, as the advisers read it
        henri = (await list_residents(ctx=site.ctx))[0]
        assert (henri.name, henri.channel) == ("Henri Bouchet", "voice")  # his record says how he is reached
        martine = await town.resident("Martine Dupont", phone=MARTINE)
        await town.seat(martine, workshop)  # the workshop is full: Martine waits, first in line

        # The confirmation of the enrolment is a call (a landline gets no SMS): Henri listens and hangs up.
        site.clock.now = max(site.clock.now, datetime.now(UTC))  # the command queued it by the wall clock
        await site.dispatch()
        [confirmation] = site.fake.voice.calls_to(HENRI)
        heard = await site.phone(site.fake.voice.answer, confirmation.sid)
        assert any("Votre place est réservée" in text for text in heard.says), heard.says
        await site.phone(site.fake.voice.hang_up, confirmation.sid)

        # The day before at 10:00 his phone rings again: the reminder, said twice, then the keys.
        site.clock.now = datetime.combine(start.date() - timedelta(days=1), time(10, 0), tzinfo=PARIS)
        await site.dispatch()
        reminder = site.fake.voice.calls_to(HENRI)[-1]
        assert reminder.sid != confirmation.sid and reminder.machine_detection == "DetectMessageEnd"
        heard = await site.phone(site.fake.voice.answer, reminder.sid)
        sentence = (
            f"Nous vous rappelons votre atelier numérique : le {say.when_spoken(start, PARIS)}, "
            "à la mairie de Saint-Victor."
        )
        assert heard.says[0] == "Bonjour. Ici les ateliers numériques de Montluçon Communauté."
        assert heard.says[1] == sentence and heard.says[2] == f"Je répète. {sentence}"
        assert heard.says[3] == "Si vous venez, tapez 1. Si vous ne pouvez pas venir, tapez 2. Pour réécouter, tapez 3."
        assert re.search(r"le (lundi|mardi|mercredi|jeudi|vendredi|samedi) \d+ \w+, à 14 heures", sentence)
        assert not any(NUMBERS_AND_ABBREVIATIONS.search(text) for text in heard.says), heard.says

        # He presses 2, and hears what was done.
        answer = await site.phone(site.fake.voice.press, reminder.sid, "2")
        assert answer.hangup and "vous ne venez pas" in answer.says[0]
        assert "Votre place est donnée à une personne qui attendait" in answer.says[0]
        await site.phone(site.fake.voice.hang_up, reminder.sid, seconds=35)

        # His seat went to Martine, who gets the SMS of a freed seat.
        async with site.ctx.db.read() as session:
            seats = {
                e.resident.name: e.status
                for e in (await session.execute(select(Enrolment).where(Enrolment.workshop_id == workshop))).scalars()
            }
            call_row = await session.get(OutboundMessage, int(reminder.url.rsplit("=", 1)[1]))
        assert seats == {"Henri Bouchet": EnrolmentStatus.cancelled, "Martine Dupont": EnrolmentStatus.seated}
        assert call_row is not None and (call_row.kind, call_row.status) == (
            MessageKind.reminder,
            MessageStatus.delivered,
        )
        await site.dispatch()
        freed, reminded = site.fake.sent_to(MARTINE)  # it is 10:00 the day before: her own reminder leaves too
        assert "une place s'est libérée, elle est pour vous" in freed and "Répondez OUI ou NON" in freed, freed
        assert reminded.startswith("Rappel : atelier numérique"), reminded
        assert site.fake.sent_to(HENRI) == []  # never an SMS to a landline
        assert [status for status, _ in reminder.callbacks] == ["in-progress", "completed"]
        assert all(answer == 204 for _, answer in reminder.callbacks)
