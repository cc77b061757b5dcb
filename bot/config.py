"""Settings from the environment (SPEC §6), parsed once by the application factory.

Nothing here runs at import time: ``load_settings()`` is called by ``app.py`` / ``cli.py`` (or by a test with an
explicit mapping, so tests never depend on the machine's environment).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, quote_plus

import phonenumbers
from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.conversation.phones import SERVED_BY_DEFAULT
from bot.scheduler.planning import (
    CallHours,
    QuietHours,
    ReminderRule,
    parse_call_hours,
    parse_duration,
    parse_quiet_hours,
    parse_reminders,
)
from storage.enums import Channel

DEFAULT_TERRITORY = Path(__file__).parent / "territories" / "montlucon-communaute.toml"
MIN_SECRET_PART = 16  # a part of a secret shorter than this is no secret on its own (and would blank common words)


def parse_rate(value: str) -> float:
    """``10/s``, ``600/m`` or a bare number (per second) → messages per second."""
    number, _, unit = value.strip().partition("/")
    per = {"": 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}.get(unit.strip().lower())
    if per is None:
        raise ValueError(f"a rate is written 10/s, not {value!r}")
    rate = float(number) / per
    if rate <= 0:
        raise ValueError("a rate must be positive")
    return rate


def parse_retention(value: str) -> timedelta:
    match = re.match(r"^\s*(\d+)\s*(months?|mois|days?|jours?|years?|ans?)\s*$", value, re.IGNORECASE)
    if not match:
        return parse_duration(value)
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit.startswith(("month", "mois")):
        return timedelta(days=30 * count)
    if unit.startswith(("year", "an")):
        return timedelta(days=365 * count)
    return timedelta(days=count)


def parse_countries(value: str) -> tuple[str, ...]:
    """``FR,GP,MQ`` → ("FR", "GP", "MQ"): ISO 3166 codes as phonenumbers knows them."""
    codes = tuple(code.strip().upper() for code in value.split(",") if code.strip())
    unknown = [code for code in codes if code not in phonenumbers.SUPPORTED_REGIONS]
    if unknown or not codes:
        raise ValueError(f"ATELIER_SERVED_COUNTRIES lists country codes such as FR,GP,MQ, not {value!r}")
    return codes


@dataclass(frozen=True)
class ReplyLimit:
    """At most ``count`` replies to one number or chat within ``window``; then one notice, then silence."""

    count: int
    window: timedelta


def parse_reply_limit(value: str) -> ReplyLimit:
    """``20/10m``: 20 replies in 10 minutes."""
    count, _, window = value.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or not window.strip():
        raise ValueError(f"ATELIER_REPLY_LIMIT is written 20/10m, not {value!r}")
    return ReplyLimit(int(count), parse_duration(window.strip()))


def parse_delays(value: str) -> tuple[float, ...]:
    """``0.05,0.1,0.2`` (seconds) → the delays between tries; empty for a single try."""
    delays = tuple(float(item) for item in value.split(",") if item.strip())
    if any(delay < 0 for delay in delays):
        raise ValueError("a delay cannot be negative")
    return delays


# The settings written in the environment as text that a parser reads (a value given in Python is kept as it is).
_PARSED_FROM_TEXT: Mapping[str, Callable[[str], Any]] = {
    "reminders": parse_reminders,
    "served_countries": parse_countries,
    "reply_limit": parse_reply_limit,
    "quiet_hours": parse_quiet_hours,
    "call_hours": parse_call_hours,
    "sms_rate": parse_rate,
    "telegram_rate": parse_rate,
    "call_rate": parse_rate,
    "promotion_cutoff": parse_duration,
    "signup_cutoff": parse_duration,
    "call_retry": parse_duration,
    "status_lookup_delays": parse_delays,
    "retention": parse_retention,
}


class Settings(BaseSettings):
    """Every variable of SPEC §6; all optional."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field("sqlite+aiosqlite:///./atelier.db", validation_alias="ATELIER_DATABASE_URL")
    territory: Path = Field(DEFAULT_TERRITORY, validation_alias="ATELIER_TERRITORY")
    timezone: str = Field("Europe/Paris", validation_alias="ATELIER_TIMEZONE")
    public_url: str | None = Field(None, validation_alias="ATELIER_PUBLIC_URL")
    # NoDecode: these are our own notation, not JSON (pydantic-settings would try JSON for complex types)
    reminders: Annotated[tuple[ReminderRule, ...], NoDecode] = Field(
        parse_reminders("-1d@10:00,-3h"), validation_alias="ATELIER_REMINDERS"
    )
    quiet_hours: Annotated[QuietHours | None, NoDecode] = Field(
        parse_quiet_hours("20:00-08:30"), validation_alias="ATELIER_QUIET_HOURS"
    )
    twilio_account_sid: str | None = Field(None, validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(None, validation_alias="TWILIO_AUTH_TOKEN")
    twilio_from: str | None = Field(None, validation_alias="TWILIO_FROM")
    twilio_api_url: str | None = Field(None, validation_alias="ATELIER_TWILIO_API_URL")
    sms_rate: float = Field(10.0, validation_alias="ATELIER_SMS_RATE")
    telegram_bot_token: str | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str | None = Field(None, validation_alias="ATELIER_TELEGRAM_API_URL")
    telegram_secret: str | None = Field(None, validation_alias="ATELIER_TELEGRAM_SECRET")
    telegram_rate: float = Field(30.0, validation_alias="ATELIER_TELEGRAM_RATE")
    promotion_cutoff: timedelta = Field(timedelta(hours=3), validation_alias="ATELIER_PROMOTION_CUTOFF")
    retention: timedelta = Field(timedelta(days=720), validation_alias="ATELIER_RETENTION")
    sms_price: float = Field(0.08, validation_alias="ATELIER_SMS_PRICE")
    signup_cutoff: timedelta = Field(timedelta(hours=2), validation_alias="ATELIER_SIGNUP_CUTOFF")
    # Additions beyond SPEC §6 (documented in the README):
    daily_cap: int = Field(4, validation_alias="ATELIER_DAILY_CAP")  # non-urgent messages per resident per day
    dispatch_interval: float = Field(2.0, validation_alias="ATELIER_DISPATCH_INTERVAL")  # seconds between ticks
    # Seconds a claimed message stays reserved for its sender before it is "in doubt". Longer than SQLite's
    # busy_timeout (30 s) plus a send (10 s), so a result waiting for the write lock is still written under its own
    # claim and nobody else picks the row up meanwhile.
    dispatch_lease: float = Field(60.0, ge=15.0, validation_alias="ATELIER_DISPATCH_LEASE")
    secret_key: str | None = Field(None, validation_alias="ATELIER_SECRET_KEY")  # keys the erased-number hash
    # A public URL without a Twilio auth token lets anyone post to the SMS webhook as any resident: `atelier serve`
    # refuses that unless this says it is a local trial (a tunnel to a laptop, say).
    allow_unsigned: bool = Field(False, validation_alias="ATELIER_ALLOW_UNSIGNED")
    # Numbers of other countries are not signed up, reminded or passed to advisers (SMS pumping costs money).
    served_countries: Annotated[tuple[str, ...], NoDecode] = Field(
        SERVED_BY_DEFAULT, validation_alias="ATELIER_SERVED_COUNTRIES"
    )
    reply_limit: Annotated[ReplyLimit, NoDecode] = Field(
        ReplyLimit(20, timedelta(minutes=10)), validation_alias="ATELIER_REPLY_LIMIT"
    )
    # Calls to landlines (bot/handlers/voice.py): placed through Twilio when its account and a public URL (Twilio
    # fetches what to say from us) are configured, unless switched off here.
    voice: bool = Field(True, validation_alias="ATELIER_VOICE")
    call_rate: float = Field(1.0, validation_alias="ATELIER_CALL_RATE")  # Twilio's default: 1 call per second
    call_price: float = Field(0.03, validation_alias="ATELIER_CALL_PRICE")  # euros per started minute
    # when a call may ring (local time, open days); narrower than the SMS window: a call is more intrusive
    call_hours: Annotated[CallHours, NoDecode] = Field(
        parse_call_hours("09:30-12:00,14:00-19:00"), validation_alias="ATELIER_CALL_HOURS"
    )
    call_retry: timedelta = Field(timedelta(hours=2), validation_alias="ATELIER_CALL_RETRY")  # after no answer
    tts_voice: str = Field("Polly.Lea", validation_alias="ATELIER_TTS_VOICE")  # Twilio <Say voice="…">
    # Seconds between the lookups of a delivery report's unknown sid: a report can overtake the dispatcher's own
    # record of the sid, and Twilio does not retry status callbacks (bot/handlers/sms.py).
    status_lookup_delays: Annotated[tuple[float, ...], NoDecode] = Field(
        (0.05, 0.1, 0.2, 0.4, 0.8), validation_alias="ATELIER_STATUS_LOOKUP_DELAYS"
    )

    @field_validator(*_PARSED_FROM_TEXT, mode="before")
    @classmethod
    def _parsed(cls, value: Any, info: ValidationInfo) -> Any:
        return _PARSED_FROM_TEXT[info.field_name or ""](value) if isinstance(value, str) else value

    @field_validator("public_url", "twilio_api_url", "telegram_api_url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().rstrip("/")
            return value or None
        return value

    @field_validator("twilio_auth_token", "telegram_bot_token", "telegram_secret", "secret_key", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        """A blank secret is no secret: treated as not set."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def secrets(self) -> set[str]:
        """Every secret here, as the logs must never show it: any field named like a token, secret, key or password
        (one added later, a console session key say, is covered by its name), with the forms it takes in URLs and
        headers."""
        found: set[str] = set()
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, str) and value and name.endswith(("_token", "_secret", "_key", "_password")):
                found.add(value)
        token_secret = (self.telegram_bot_token or "").partition(":")[2]
        if len(token_secret) >= MIN_SECRET_PART:  # "123456789:AAH…": the part after the bot's id is the secret one
            found.add(token_secret)
        if self.twilio_account_sid and self.twilio_auth_token:  # the HTTP Basic authentication of Twilio's API
            pair = f"{self.twilio_account_sid}:{self.twilio_auth_token}"
            found.add(base64.b64encode(pair.encode()).decode("ascii"))
        encoded = {form for secret in found for form in (quote(secret, safe=""), quote_plus(secret), quote(secret))}
        return found | encoded

    def unprotected_webhooks(self) -> str | None:
        """Why ``atelier serve`` must not start as configured, in one sentence for the operator; None when it may."""
        if self.public_url and not self.twilio_auth_token and not self.allow_unsigned:
            return (
                "ATELIER_PUBLIC_URL est défini mais pas TWILIO_AUTH_TOKEN : n'importe qui pourrait écrire au service "
                "au nom de n'importe quel habitant ; donnez le jeton d'authentification Twilio (ou, pour un essai "
                "local seulement, ATELIER_ALLOW_UNSIGNED=1)."
            )
        return None

    def rate_of(self, channel: str) -> float | None:
        """The channel's overall rate limit (messages per second); None for a channel without one."""
        rates: dict[str, float] = {
            Channel.sms: self.sms_rate,
            Channel.telegram: self.telegram_rate,
            Channel.voice: self.call_rate,
        }
        return rates.get(channel)

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @property
    def calls_enabled(self) -> bool:
        """Residents with a landline are phoned: Twilio is configured and can reach us for what to say."""
        return self.voice and self.twilio_enabled and self.public_url is not None

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from ``environ`` (a test's mapping) or, when None, from the process environment."""
    if environ is None:
        return Settings()
    # model_validate skips BaseSettings' own environment reading: only the given mapping counts.
    return Settings.model_validate(dict(environ))
