"""``atelier residents list [--json]`` and ``atelier residents erase ID [--yes]``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.context import Context
from bot.conversation.phones import national
from bot.interfaces.cli.common import column, confirm_or_refuse, console, is_wide, iso, listing, print_json
from bot.interfaces.cli.french import french_app
from bot.interfaces.cli.workshops import LEVEL_SHORT, JsonOption, YesOption, act
from bot.service.residents import ResidentSummary, erase_resident_for, get_resident, list_residents

app = french_app(help="Résidents : lister, effacer à leur demande.")


def resident_json(resident: ResidentSummary, ctx: Context) -> dict[str, Any]:
    """SPEC §6: exactly these fields."""
    return {
        "id": resident.id,
        "name": resident.name,
        "phone": resident.phone,
        "telegram_chat_id": resident.telegram_chat_id,
        "commune": resident.commune,
        "level": resident.level.value if resident.level else None,
        "opted_out_sms": resident.opted_out_sms,
        "opted_out_telegram": resident.opted_out_telegram,
        "created_at": iso(resident.created_at, ctx),
    }


def _stops(resident: ResidentSummary) -> str:
    stops = [name for name, on in (("SMS", resident.opted_out_sms), ("Telegram", resident.opted_out_telegram)) if on]
    return ", ".join(stops)


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Les résidents (numéros complets : pour appeler) ; les personnes effacées n'apparaissent pas."""

    async def action(ctx: Context) -> None:
        residents = await list_residents(ctx=ctx)
        if as_json:
            print_json([resident_json(r, ctx) for r in residents])
            return
        if not residents:
            console.print("Aucun résident inscrit.")
            return
        wide = is_wide()
        table = listing("Résidents")
        column(table, "N°", keep=3, right=True)
        column(table, "Nom")
        column(table, "Téléphone", keep=14)
        if wide:
            column(table, "Telegram", keep=10)
        column(table, "Commune")
        column(table, "Niveau", keep=8)
        column(table, "STOP", keep=4)
        if wide:
            column(table, "Depuis", keep=10)
        for r in residents:
            since = [str(r.telegram_chat_id or "")] if wide else []
            table.add_row(
                str(r.id), r.name or "(sans nom)", national(r.phone) or ("Telegram" if r.telegram_chat_id else ""),
                *since, r.commune or "", LEVEL_SHORT[r.level.value] if r.level else "", _stops(r),
                *([f"{r.created_at.astimezone(ctx.tz):%d/%m/%Y}"] if wide else []),
            )  # fmt: skip
        console.print(table)

    act(action)


@app.command("erase")
def erase(
    resident_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro du résident.")],
    yes: YesOption = False,
) -> None:
    """Effacer les données d'une personne à sa demande (comme OUBLIER) ; ses places vont aux personnes en attente."""

    async def look(ctx: Context) -> ResidentSummary:
        return await get_resident(ctx=ctx, resident_id=resident_id)

    resident = act(look)
    who = f"{resident.name or '(sans nom)'}, {national(resident.phone) or 'pas de numéro'}"
    confirm_or_refuse(f"Effacer définitivement les données de {who} ?", yes=yes)

    async def action(ctx: Context) -> None:
        erased = await erase_resident_for(ctx=ctx, resident_id=resident_id)
        promoted = f" {erased.promoted} personne(s) en attente ont reçu sa place." if erased.promoted else ""
        console.print(f"Données de la personne n°{resident_id} effacées.{promoted}", highlight=False)

    act(action)
