"""``atelier stats [--since JJ/MM/AAAA] [--until JJ/MM/AAAA] [--json]``: the quarterly figures, per commune and
level."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, time
from typing import Annotated, Any

import typer
from rich.table import Table

from bot.context import Context
from bot.interfaces.cli.broadcast import euros
from bot.interfaces.cli.common import column, console, fail, iso, listing, print_json
from bot.interfaces.cli.workshops import LEVEL_SHORT, JsonOption, act
from bot.service.costs import Usage, usage
from bot.service.planning_csv import WorkshopFieldsError, parse_date
from bot.service.stats import Stats, StatsRow, workshop_stats


def row_json(row: StatsRow) -> dict[str, Any]:
    return {
        "commune": row.commune,
        "commune_insee": row.commune_insee,
        "level": row.level.value if row.level else None,
        "signed_up": row.signed_up,
        "waiting": row.waiting,
        "seated": row.seated,
        "confirmed": row.confirmed,
        "came": row.came,
        "reminded": row.reminded,
        "answered": row.answered,
        "answered_share": row.answered_share,
    }


def _share(row: StatsRow) -> str:
    return "—" if row.answered_share is None else f"{round(row.answered_share * 100)} %"


def _table(stats: Stats) -> Table:
    """Fits 80 columns; the headers are explained under the table."""
    table = listing("Inscriptions par commune et niveau")
    column(table, "Commune")
    column(table, "Niveau", keep=8)
    for header in ("Inscrits", "Attente", "Places", "Conf.", "Venus", "Rép."):
        column(table, header, keep=max(len(header), 5), right=True)
    for row in (*stats.rows, stats.total):
        table.add_row(
            row.commune,
            LEVEL_SHORT[row.level.value] if row.level else "",
            str(row.signed_up),
            str(row.waiting),
            str(row.seated),
            str(row.confirmed),
            str(row.came),
            _share(row),
            style="bold" if row is stats.total else None,
        )
    return table


LEGEND = (
    "Attente : sur liste d'attente ; Places : avec une place ; Conf. : ont confirmé (OUI au rappel) ; "
    "Rép. : part des rappels auxquels les gens ont répondu."
)


def usage_json(spent: Usage) -> dict[str, Any]:
    return {
        "sms": spent.sms,
        "sms_segments": spent.sms_segments,
        "sms_cost": spent.sms_cost,
        "calls": asdict(spent.calls),
        "call_cost": spent.call_cost,
        "total_cost": spent.total_cost,
    }


def usage_lines(spent: Usage) -> list[str]:
    """SMS and calls counted apart, each with its cost."""
    calls = spent.calls
    return [
        f"SMS envoyés : {spent.sms} ({spent.sms_segments} segments), {euros(spent.sms_cost)}.",
        f"Appels passés aux numéros fixes : {calls.placed} (répondus : {calls.answered}, messagerie : "
        f"{calls.voicemail}, sans réponse ou occupé : {calls.unanswered}, en échec : {calls.failed}) ; appels reçus "
        f"sur le numéro du territoire : {calls.received} ; {calls.minutes} minute(s) facturée(s), "
        f"{euros(spent.call_cost)}.",
        f"Coût total des messages : {euros(spent.total_cost)}.",
    ]


def _day(text: str | None, ctx: Context) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(parse_date(text), time(0, 0), tzinfo=ctx.tz)
    except WorkshopFieldsError as exc:
        fail(f"{'; '.join(exc.problems)}.")


def stats(
    since: Annotated[str | None, typer.Option("--since", help="Depuis ce jour inclus (JJ/MM/AAAA).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Jusqu'à ce jour exclu (JJ/MM/AAAA).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Par commune et niveau : inscrits, en attente, places, confirmés, venus, part des rappels répondus."""

    async def action(ctx: Context) -> None:
        found = await workshop_stats(ctx=ctx, since=_day(since, ctx), until=_day(until, ctx))
        spent = await usage(ctx=ctx, since=found.since, until=found.until)
        if as_json:
            print_json(
                {
                    "since": iso(found.since, ctx),
                    "until": iso(found.until, ctx),
                    "rows": [row_json(r) for r in found.rows],
                    "total": row_json(found.total),
                    "messaging": usage_json(spent),
                }
            )
            return
        if not found.rows:
            console.print("Aucune inscription sur cette période.")
        else:
            console.print(_table(found))
            console.print(LEGEND, highlight=False)
        for line in usage_lines(spent):
            console.print(line, highlight=False)

    act(action)
