"""``atelier stats [--since JJ/MM/AAAA] [--until JJ/MM/AAAA] [--json] [--csv FICHIER]``: the figures of a period,
in people (signed up, came, came twice), workshops (held, cancelled) and attendance, per commune, level and month,
with the enrolments per commune and level and what the messages cost; ``atelier stats activites --mois AAAA-MM``:
La Coop's activity records of a month. Translation only: the work is in ``bot.service``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bot.context import Context
from bot.conversation.texts import when_fr
from bot.interfaces.cli.broadcast import euros
from bot.interfaces.cli.common import column, console, fail, iso, listing, print_json
from bot.interfaces.cli.french import french_app
from bot.interfaces.cli.workshops import LEVEL_SHORT, JsonOption, act, write_csv
from bot.service.activities import ActivityRecord, duration_fr, month_activities
from bot.service.costs import Usage, usage
from bot.service.exports import activities_csv, people_stats_csv
from bot.service.people_stats import PeopleFigures, PeopleRow, PeopleStats, month_label, people_stats
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


# ---------------------------------------------------------------------------------------------------------------
# People


def figures_json(figures: PeopleFigures) -> dict[str, Any]:
    return asdict(figures)


def people_json(found: PeopleStats) -> dict[str, Any]:
    def rows(lines: tuple[PeopleRow, ...]) -> list[dict[str, Any]]:
        return [{"key": line.key, "label": line.label, **figures_json(line.figures)} for line in lines]

    return {
        "total": figures_json(found.total),
        "by_commune": rows(found.by_commune),
        "by_level": rows(found.by_level),
        "by_month": rows(found.by_month),
    }


def _rate(figures: PeopleFigures) -> str:
    return "—" if figures.attendance_rate is None else f"{round(figures.attendance_rate * 100)} %"


def people_lines(found: PeopleStats) -> list[str]:
    total = found.total
    return [
        f"Personnes : {total.signed_up} inscrites à un atelier de la période, dont {total.came} venues au moins une "
        f"fois et {total.came_twice} deux fois ou plus ; {total.new_people} nouvelles personnes.",
        f"Ateliers : {total.workshops_held} tenus, {total.workshops_cancelled} annulés ; présences notées : "
        f"{total.present}, absences : {total.no_shows} (taux de présence : {_rate(total)}).",
    ]


def people_table(title: str, lines: tuple[PeopleRow, ...]) -> Table:
    """One group (commune, level, month) in 80 columns; the headers are explained under the tables."""
    table = listing(title)
    column(table, title.split()[-1].capitalize())
    for header in ("Inscr.", "Venues", "2 fois", "Tenus", "Annulés", "Prés."):
        column(table, header, keep=max(len(header), 5), right=True)
    for line in lines:
        f = line.figures
        table.add_row(
            line.label, str(f.signed_up), str(f.came), str(f.came_twice), str(f.workshops_held),
            str(f.workshops_cancelled), _rate(f),
        )  # fmt: skip
    return table


PEOPLE_LEGEND = (
    "Inscr. : personnes inscrites (place ou attente) ; Venues : personnes venues ; 2 fois : venues deux fois ou "
    "plus ; Tenus / Annulés : ateliers ; Prés. : taux de présence. Par commune et niveau, les personnes comptent "
    "là où elles habitent et à leur niveau, les ateliers là où ils ont lieu et au leur."
)


CsvOption = Annotated[
    Path | None,
    typer.Option("--csv", metavar="FICHIER", help="Écrire un tableur (CSV pour Excel en français ; « - » : l'écran)."),
]


# ---------------------------------------------------------------------------------------------------------------
# Commands

app = french_app(
    help=(
        "Chiffres : personnes inscrites et venues, ateliers tenus, présence, par commune, niveau et mois ; comptes "
        "rendus La Coop : atelier stats activites --mois AAAA-MM."
    ),
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback()
def stats(
    context: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="Depuis ce jour inclus (JJ/MM/AAAA).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Jusqu'à ce jour exclu (JJ/MM/AAAA).")] = None,
    as_json: JsonOption = False,
    csv: CsvOption = None,
) -> None:
    """Les chiffres de la période : personnes, ateliers, présence ; par commune, niveau et mois ; coût des messages."""
    if context.invoked_subcommand is not None:
        return

    async def action(ctx: Context) -> None:
        start, end = _day(since, ctx), _day(until, ctx)
        found = await workshop_stats(ctx=ctx, since=start, until=end)
        people = await people_stats(ctx=ctx, since=start, until=end)
        spent = await usage(ctx=ctx, since=found.since, until=found.until)
        if csv is not None:
            write_csv(csv, people_stats_csv(people, tz=ctx.tz))
            return
        if as_json:
            print_json(
                {
                    "since": iso(found.since, ctx),
                    "until": iso(found.until, ctx),
                    "rows": [row_json(r) for r in found.rows],
                    "total": row_json(found.total),
                    "people": people_json(people),
                    "messaging": usage_json(spent),
                }
            )
            return
        for line in people_lines(people):
            console.print(line, highlight=False)
        for title, lines in (
            ("Par commune", people.by_commune), ("Par niveau", people.by_level), ("Par mois", people.by_month)
        ):  # fmt: skip
            if lines:
                console.print(people_table(title, lines))
        console.print(PEOPLE_LEGEND, highlight=False)
        if not found.rows:
            console.print("Aucune inscription sur cette période.")
        else:
            console.print(_table(found))
            console.print(LEGEND, highlight=False)
        for line in usage_lines(spent):
            console.print(line, highlight=False)

    act(action)


def activity_json(record: ActivityRecord, ctx: Context) -> dict[str, Any]:
    return {
        "workshop_id": record.workshop_id,
        "date": record.starts_at.astimezone(ctx.tz).date().isoformat(),
        "start": iso(record.starts_at, ctx),
        "end": iso(record.ends_at, ctx),
        "duration_minutes": record.duration_minutes,
        "title": record.title,
        "place": record.place,
        "address": record.address,
        "postcode": record.postcode,
        "commune": record.commune,
        "themes": list(record.themes),
        "level": record.level,
        "participants": record.participants,
        "adviser": record.adviser,
        "attendance_marked": record.attendance_marked,
    }


def activity_lines(record: ActivityRecord, ctx: Context) -> list[str]:
    start, end = record.starts_at.astimezone(ctx.tz), record.ends_at.astimezone(ctx.tz)
    participants = str(record.participants) if record.attendance_marked else "présences pas encore notées"
    return [
        f"Atelier n°{record.workshop_id} — {when_fr(record.starts_at, ctx.tz)}, jusqu'à {end:%H:%M} "
        f"(durée : {duration_fr(record.duration_minutes)})",
        f"  Date : {start:%d/%m/%Y} — Titre : {record.title}",
        f"  Lieu : {record.place}, {record.address} ({record.postcode} {record.commune})",
        f"  Thématiques : {', '.join(record.themes)}",
        f"  Niveau : {record.level} — Participants : {participants}"
        + (f" — Conseiller : {record.adviser}" if record.adviser else ""),
    ]


@app.command("activites")
def activites(
    mois: Annotated[str, typer.Option("--mois", metavar="AAAA-MM", help="Le mois, par exemple 2026-12.")],
    as_json: JsonOption = False,
    csv: CsvOption = None,
) -> None:
    """Les comptes rendus d'activité collectifs du mois pour La Coop de la médiation numérique : un par atelier
    tenu, prêt à saisir (date, durée, lieu, thématiques, niveau, nombre de participants)."""

    async def action(ctx: Context) -> None:
        found = await month_activities(ctx=ctx, month=mois)
        if csv is not None:
            write_csv(csv, activities_csv(found, tz=ctx.tz))
            return
        if as_json:
            print_json([activity_json(r, ctx) for r in found.records])
            return
        label = month_label(found.month)
        if not found.records:
            console.print(f"Aucun atelier tenu en {label}.", highlight=False)
            return
        console.print(
            f"Comptes rendus d'activité collectifs, {label} : {len(found.records)} atelier(s) "
            "(La Coop de la médiation numérique).",
            highlight=False,
        )
        for record in found.records:
            console.print()
            for line in activity_lines(record, ctx):
                console.print(line, highlight=False)
        if found.not_marked:
            numbers = ", ".join(f"n°{r.workshop_id}" for r in found.not_marked)
            console.print()
            console.print(
                f"[yellow]Attention :[/yellow] présences pas encore notées pour l'atelier {numbers} : notez-les "
                "(atelier workshops attendance N°) avant de saisir ces comptes rendus.",
                highlight=False,
            )

    act(action)
