"""``atelier advisers list [--json]`` and ``atelier advisers add --name … [--phone …] [--telegram-id …]
[--commune …]``: the team, and who may use the advisers' Telegram commands."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.context import Context
from bot.conversation.phones import national
from bot.interfaces.cli.common import column, console, iso, listing, print_json
from bot.interfaces.cli.french import french_app
from bot.interfaces.cli.workshops import JsonOption, act
from bot.service.team import AdviserSummary, TeamReach, add_adviser, commune_names, list_advisers, team_reach

app = french_app(help="Conseillers : lister, ajouter.")


def adviser_json(adviser: AdviserSummary, ctx: Context) -> dict[str, Any]:
    return {
        "id": adviser.id,
        "name": adviser.name,
        "phone": adviser.phone,
        "telegram_user_id": adviser.telegram_user_id,
        "communes": commune_names(ctx, adviser.communes),
        "role": adviser.role,
        "created_at": iso(adviser.created_at, ctx),
    }


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Les conseillers enregistrés."""

    async def action(ctx: Context) -> None:
        advisers = await list_advisers(ctx=ctx)
        if as_json:
            print_json([adviser_json(a, ctx) for a in advisers])
            return
        if not advisers:
            console.print("Aucun conseiller. Ajoutez-en un : atelier advisers add --name … --phone …")
            reach_warning(await team_reach(ctx=ctx))
            return
        table = listing("Conseillers")
        column(table, "N°", keep=3, right=True)
        column(table, "Nom")
        column(table, "Téléphone", keep=14)
        column(table, "Telegram", keep=10)
        column(table, "Communes", fold=True)
        for a in advisers:
            communes = ", ".join(commune_names(ctx, a.communes)) or "tout le territoire"
            table.add_row(str(a.id), a.name, national(a.phone), str(a.telegram_user_id or ""), communes)
        console.print(table)
        reach_warning(await team_reach(ctx=ctx))

    act(action)


def reach_warning(reach: TeamReach) -> None:
    """Said when nobody (or nobody for some communes) would be told of a CONSEILLER request or a person to call."""
    if reach.nobody:
        console.print(
            "[yellow]Attention :[/yellow] aucun conseiller n'a de téléphone ni de compte Telegram : personne ne sera "
            "prévenu des demandes de rappel (CONSEILLER) ni des personnes à appeler, qui seront seulement listées "
            "(atelier callbacks list, atelier calls list). Ajoutez un numéro : atelier advisers add --name … "
            "--phone …",
            highlight=False,
        )
    elif reach.unreached_communes:
        console.print(
            "[yellow]Attention :[/yellow] aucun conseiller joignable ne suit ces communes : "
            f"{', '.join(reach.unreached_communes)} ; leurs demandes seront seulement listées.",
            highlight=False,
        )


@app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", help="Prénom et nom.")],
    phone: Annotated[str | None, typer.Option("--phone", help="Mobile (reçoit les demandes de rappel).")] = None,
    telegram_id: Annotated[
        int | None, typer.Option("--telegram-id", help="Identifiant du compte Telegram (commandes conseiller).")
    ] = None,
    commune: Annotated[
        list[str] | None, typer.Option("--commune", help="Commune suivie (répétable) ; aucune = tout le territoire.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Enregistrer un conseiller (ou compléter celui qui porte ce nom)."""

    async def action(ctx: Context) -> None:
        adviser = await add_adviser(
            ctx=ctx, name=name, phone=phone, telegram_id=telegram_id, communes=tuple(commune or ())
        )
        if as_json:
            print_json(adviser_json(adviser, ctx))
            return
        communes = ", ".join(commune_names(ctx, adviser.communes)) or "tout le territoire"
        console.print(f"Conseiller n°{adviser.id} : {adviser.name} ({communes}).", highlight=False)

    act(action)
