"""What every operation needs, built once by the wiring (``app.py``, ``cli.py``) and passed in explicitly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from zoneinfo import ZoneInfo

from bot.channels import Sender
from bot.config import Settings
from bot.conversation.turns import WorkshopOption
from bot.conversation.understanding.communes import CommuneIndex, FranceIndex
from bot.territory import Territory, load_france
from storage.database import Database


@cache
def france_index() -> FranceIndex:
    """Built once per process and shared by every context (commands and tests open many)."""
    return FranceIndex.build(load_france())


def system_clock() -> datetime:
    return datetime.now(UTC)


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class KeptWorkshops:
    """The workshops open for sign-up as a committed turn last read them (kept by
    ``bot.service.inbound.handle_inbound``), with the world's version they were read at (``storage/world.py``) and
    the moment they were read for (they start after it plus the sign-up cut-off)."""

    version: int | None = None
    read_for: datetime | None = None
    workshops: tuple[WorkshopOption, ...] = ()


@dataclass
class Context:
    settings: Settings
    db: Database
    territory: Territory
    senders: Mapping[str, Sender] = field(default_factory=dict)
    clock: Callable[[], datetime] = system_clock
    # called after new messages are queued so the dispatcher sends them now rather than at its next tick
    wake_dispatcher: Callable[[], None] = _nothing
    # what this process keeps of the workshops open for sign-up between two turns, checked against the database
    kept_workshops: KeptWorkshops = field(default_factory=KeptWorkshops)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    @cached_property
    def commune_index(self) -> CommuneIndex:
        """The territory's communes prepared once for fuzzy matching."""
        return CommuneIndex.build(self.territory)

    @cached_property
    def france_index(self) -> FranceIndex:
        """Every French commune (a place outside the territory is named properly), read from the bundled file once
        per process: a few tenths of a second, before the first request in a server (``build_indexes``), else when
        a message first needs it."""
        return france_index()

    def build_indexes(self) -> None:
        """Build the communes' indexes now (a server, before its first message) rather than when a message first
        needs them."""
        self.commune_index  # noqa: B018 - a cached property, built by being read
        self.france_index  # noqa: B018 - (the same)

    def now(self) -> datetime:
        return self.clock()


@asynccontextmanager
async def open_context(*, settings: Settings, territory: Territory) -> AsyncIterator[Context]:
    """A context with its own database engine, disposed on the way out (one command, one script)."""
    db = Database.from_url(settings.database_url)
    try:
        yield Context(settings=settings, db=db, territory=territory)
    finally:
        await db.dispose()
