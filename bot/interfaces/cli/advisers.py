"""``atelier advisers list [--json]``, ``atelier advisers add --name … [--phone …] [--telegram-id …] [--commune …]
[--email …] [--admin]`` and ``atelier advisers password EMAIL``: the team, who may use the advisers' Telegram
commands, and who may sign in to the web console."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from bot.context import Context
from bot.conversation.phones import national
from bot.interfaces.cli.common import AsOption, acting, column, console, fail, is_wide, iso, listing, print_json
from bot.interfaces.cli.french import french_app
from bot.interfaces.cli.workshops import JsonOption, act
from bot.service.accounts import account_by_email, check_password, set_password
from bot.service.team import (
    AdviserSummary,
    TeamError,
    TeamReach,
    add_adviser,
    commune_names,
    list_advisers,
    team_reach,
)

app = french_app(help="Conseillers : lister, ajouter, mot de passe de la console.")


def adviser_json(adviser: AdviserSummary, ctx: Context) -> dict[str, Any]:
    return {
        "id": adviser.id,
        "name": adviser.name,
        "phone": adviser.phone,
        "telegram_user_id": adviser.telegram_user_id,
        "communes": commune_names(ctx, adviser.communes),
        "role": adviser.role,
        "email": adviser.login,
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
        wide = is_wide()  # 80 columns: the Telegram number only in a wide terminal (or --json)
        table = listing("Conseillers")
        column(table, "N°", keep=3, right=True)
        column(table, "Nom")
        column(table, "Téléphone", keep=14)
        if wide:
            column(table, "Telegram", keep=10)
        column(table, "E-mail")
        column(table, "Communes", fold=True)
        for a in advisers:
            communes = ", ".join(commune_names(ctx, a.communes)) or "tout le territoire"
            email = (a.login or "") + (" (admin)" if a.role == "admin" else "")
            telegram = [str(a.telegram_user_id or "")] if wide else []
            table.add_row(str(a.id), a.name, national(a.phone), *telegram, email, communes)
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
    email: Annotated[
        str | None, typer.Option("--email", help="Adresse e-mail : l'identifiant de la console web.")
    ] = None,
    admin: Annotated[
        bool,
        typer.Option("--admin", help="Coordinateur : ajoute des conseillers, change leurs mots de passe."),
    ] = False,
    as_json: JsonOption = False,
    as_: AsOption = None,
) -> None:
    """Enregistrer un conseiller (ou compléter celui qui porte ce nom)."""

    async def action(ctx: Context) -> None:
        adviser = await add_adviser(
            ctx=ctx, name=name, phone=phone, telegram_id=telegram_id, communes=tuple(commune or ()), email=email,
            admin=True if admin else None, actor=await acting(ctx, as_),
        )  # fmt: skip
        if as_json:
            print_json(adviser_json(adviser, ctx))
            return
        communes = ", ".join(commune_names(ctx, adviser.communes)) or "tout le territoire"
        console.print(f"Conseiller n°{adviser.id} : {adviser.name} ({communes}).", highlight=False)

    act(action)


def _read_password() -> str:
    """From standard input when it is not a terminal (scripts); asked twice, hidden, on a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Nouveau mot de passe", hide_input=True)
    second = typer.prompt("Le même, encore une fois", hide_input=True)
    if first != second:
        fail("les deux mots de passe diffèrent. Rien n'a été changé.")
    return str(first)


@app.command("password")
def password(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="L'adresse e-mail du conseiller.")],
    as_: AsOption = None,
) -> None:
    """Définir le mot de passe de la console web (lu sur l'entrée standard hors terminal, demandé deux fois sinon).
    Les sessions ouvertes de ce conseiller sont fermées."""

    async def find(ctx: Context) -> int:
        return (await account_by_email(ctx=ctx, email=email)).adviser_id

    adviser_id = act(find)
    secret = _read_password()
    try:
        check_password(secret)
    except TeamError as exc:
        fail(f"{exc} Rien n'a été changé.")

    async def action(ctx: Context) -> None:
        account = await set_password(ctx=ctx, adviser_id=adviser_id, password=secret, actor=await acting(ctx, as_))
        console.print(f"Mot de passe enregistré pour {account.name} ({account.email}).", highlight=False)

    act(action)
