"""What every command shares: building the context, running async code, printing, refusing kindly."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.table import Table

from bot.config import load_settings
from bot.context import Context
from bot.context import open_context as context_for
from bot.interfaces.cli.french import ask_yes_no
from bot.service.actors import Actor
from bot.service.phone_enrolment import NumberOfSomeoneElseError
from bot.service.team import AmbiguousAdviserError, TeamError, find_adviser
from bot.territory import TerritoryError, load_territory

T = TypeVar("T")
console = Console()
errors = Console(stderr=True)


WIDE = 120  # columns from which listings show every column; below, the columns that matter, to fit 80


def is_wide() -> bool:
    return console.width >= WIDE


def listing(title: str | None = None) -> Table:
    """A listing that reads in an 80-column terminal: fixed columns (numbers, dates, phone numbers) keep their
    width; the text columns share what is left, their text cut with "…" rather than wrapped."""
    return Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, expand=True
    )


def column(
    table: Table, header: str, *, keep: int = 0, share: int = 1, fold: bool = False, right: bool = False
) -> None:
    """``keep``: a fixed width, never narrowed (a number, a date, a phone number stays whole). Otherwise the
    column takes ``share`` parts of the width left, its text cut with "…" (or folded at spaces when ``fold``)."""
    table.add_column(
        header,
        no_wrap=not fold,
        overflow="fold" if fold else "ellipsis",
        width=keep or None,
        ratio=None if keep else share,
        justify="right" if right else "left",
    )


def fail(message: str, code: int = 1) -> NoReturn:
    """One clear sentence and a non-zero exit; never a traceback."""
    errors.print(f"[red]Erreur :[/red] {message}", highlight=False)
    raise typer.Exit(code)


@asynccontextmanager
async def open_context() -> AsyncIterator[Context]:
    try:
        settings = load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"configuration invalide ({first['loc'][0] if first['loc'] else ''}) : {first['msg']}")
    try:
        territory = load_territory(settings.territory)
    except TerritoryError as exc:
        fail(str(exc))
    async with context_for(settings=settings, territory=territory) as ctx:
        yield ctx


def run(action: Callable[[Context], Awaitable[T]]) -> T:
    """Run ``action`` with a fresh context in a new event loop."""

    async def main() -> T:
        async with open_context() as ctx:
            return await action(ctx)

    return asyncio.run(main())


AS_HELP = "Qui agit, pour le journal : votre nom ou votre n° de conseiller (par défaut, l'utilisateur du système)."
AsOption = Annotated[str | None, typer.Option("--as", help=AS_HELP)]


def system_user() -> str:
    """The operating system's login name: who ran the command, when no adviser is named."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (some containers)
        return "ligne de commande"


async def acting(ctx: Context, name: str | None, *, registered: bool = False) -> Actor:
    """Who the command line records as acting: the registered adviser written by name or number; any other name
    as written (or refused with ``registered``); without a name, the operating system's user."""
    if name is None or not name.strip():
        return Actor(system_user(), interface="cli")
    try:
        adviser = await find_adviser(ctx=ctx, name_or_id=name)
    except AmbiguousAdviserError:
        raise
    except TeamError:
        if registered:
            raise
        return Actor(name, interface="cli")
    return Actor(adviser.name, adviser.id, interface="cli")


def iso(moment: datetime | None, ctx: Context) -> str | None:
    """ISO 8601 with the territory's offset, as every ``--json`` field is written."""
    return moment.astimezone(ctx.tz).isoformat() if moment else None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def is_terminal() -> bool:
    """Someone can answer a question (tests replace this to answer through standard input)."""
    return sys.stdin.isatty()


def confirm_or_refuse(question: str, *, yes: bool) -> None:
    """Commands that change or send ask first; ``--yes`` skips it; no terminal and no ``--yes`` refuses."""
    if yes:
        return
    if not is_terminal():
        fail("pas de terminal pour confirmer : relancez avec --yes pour confirmer. Rien n'a été changé.")
    if not ask_yes_no(question, default=False):
        fail("annulé, rien n'a été changé.")


def owner_confirmed_or_asked(
    attempt: Callable[[bool], T | NumberOfSomeoneElseError],
    question: Callable[[NumberOfSomeoneElseError], str],
    *,
    yes: bool,
) -> T:
    """Run ``attempt``; when the number given is already someone else's, ask ``question`` first (nothing is done
    before the answer) and run it again, the owner confirmed."""
    outcome = attempt(yes)
    if isinstance(outcome, NumberOfSomeoneElseError):
        confirm_or_refuse(question(outcome), yes=yes)
        outcome = attempt(True)
    if isinstance(outcome, NumberOfSomeoneElseError):  # cannot happen once confirmed; a clear end all the same
        raise typer.Exit(1)
    return outcome
