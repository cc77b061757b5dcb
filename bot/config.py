"""Settings from the environment (SPEC §6), parsed once by the application factory.

Nothing here runs at import time: ``load_settings()`` is called by ``app.py`` / ``cli.py`` (or by a test with an
explicit mapping, so tests never depend on the machine's environment).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.scheduler.planning import QuietHours, ReminderRule, parse_duration, parse_quiet_hours, parse_reminders
from storage.enums import Channel

DEFAULT_TERRITORY = Path(__file__).parent / "territories" / "montlucon-communaute.toml"


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


def _alias(name: str) -> Any:
    return Field(validation_alias=AliasChoices(name))


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

    @field_validator("reminders", mode="before")
    @classmethod
    def _reminders(cls, value: Any) -> Any:
        return parse_reminders(value) if isinstance(value, str) else value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet(cls, value: Any) -> Any:
        return parse_quiet_hours(value) if isinstance(value, str) else value

    @field_validator("sms_rate", "telegram_rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        return parse_rate(value) if isinstance(value, str) else value

    @field_validator("promotion_cutoff", "signup_cutoff", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("retention", mode="before")
    @classmethod
    def _retention(cls, value: Any) -> Any:
        return parse_retention(value) if isinstance(value, str) else value

    @field_validator("public_url", "twilio_api_url", "telegram_api_url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().rstrip("/")
            return value or None
        return value

    def rate_of(self, channel: str) -> float | None:
        """The channel's overall rate limit (messages per second); None for a channel without one."""
        rates: dict[str, float] = {Channel.sms: self.sms_rate, Channel.telegram: self.telegram_rate}
        return rates.get(channel)

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from ``environ`` (a test's mapping) or, when None, from the process environment."""
    if environ is None:
        return Settings()
    # model_validate skips BaseSettings' own environment reading: only the given mapping counts.
    return Settings.model_validate(dict(environ))
