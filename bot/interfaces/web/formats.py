"""How the console writes dates, phone numbers, levels and statuses: Jinja filters, French throughout."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any

import phonenumbers
from babel.dates import format_date
from jinja2 import Environment

from bot.conversation.texts import CHANNEL_NAMES, LEVEL_NAMES
from bot.service.departures import REASONS_FR, DepartureGroup, departure_lines
from bot.service.labels import CONFIRMED_FR, CONSENT_FR, ENROLMENT_STATUS_FR, MESSAGE_KIND_FR, MESSAGE_STATUS_FR
from bot.service.recipients import TO_PHONE_REASON_FR
from storage.enums import Level

CHANNEL_FR: dict[str | None, str] = {None: "injoignable"} | dict(CHANNEL_NAMES.items())


def phone_fr(number: str | None) -> str:
    """+33470051234 → 04 70 05 12 34: what an adviser dials."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return number
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))


def install(env: Environment, tz: tzinfo) -> None:
    def local(moment: datetime) -> datetime:
        return moment.astimezone(tz)

    def day(moment: datetime | date, pattern: str = "EEEE d MMMM") -> str:
        value = local(moment) if isinstance(moment, datetime) else moment
        return str(format_date(value, pattern, locale="fr_FR"))

    def hm(moment: datetime) -> str:
        value = local(moment)
        return f"{value:%H:%M}"

    def when(moment: datetime | None) -> str:
        if moment is None:
            return ""
        value = local(moment)
        return f"{format_date(value, 'EEE d MMM yyyy', locale='fr_FR')} à {value:%H:%M}"

    def level(value: Level | str | None) -> str:
        return LEVEL_NAMES[Level(value)] if value else ""

    def lookup(table: Mapping[Any, str]) -> Any:
        return lambda value: table.get(value, str(value) if value is not None else "")

    def departures(groups: tuple[DepartureGroup, ...]) -> list[str]:
        """ "1 part dès maintenant." / "2 partent le lundi 7 décembre à 8 h 30 (pas d'envoi le dimanche)." """
        return departure_lines(groups, tz)

    env.filters.update(
        day=day,
        departures=departures,
        wait_reason=lookup(REASONS_FR),
        hm=hm,
        when=when,
        phone=phone_fr,
        level=level,
        enrolment=lookup(ENROLMENT_STATUS_FR),  # StrEnum members and their strings alike
        message_status=lookup(MESSAGE_STATUS_FR),
        kind=lookup(MESSAGE_KIND_FR),
        channel=lookup(CHANNEL_FR),
        reason=lookup(TO_PHONE_REASON_FR),
        confirmed=lookup(CONFIRMED_FR),
        consent=lookup(CONSENT_FR),
        euros=lambda amount: f"{amount:.2f} €".replace(".", ","),
        iso=lambda moment: local(moment).isoformat() if moment else "",
    )
    env.globals["levels"] = [(lvl.value, LEVEL_NAMES[lvl]) for lvl in Level]
