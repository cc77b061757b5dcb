"""``atelier callbacks list [--all] [--json]`` and ``atelier callbacks done ID``: residents who asked to be called."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.context import Context
from bot.conversation.phones import national
from bot.interfaces.cli.common import AS_HELP, acting, column, console, fail, is_wide, iso, listing, print_json
from bot.interfaces.cli.french import french_app
from bot.interfaces.cli.workshops import JsonOption, act
from bot.service.callbacks import CallbackItem, find_callback, list_callbacks, mark_callback_done

app = french_app(help="Demandes de rappel (CONSEILLER) : lister, marquer traitées.")


def callback_json(item: CallbackItem, ctx: Context) -> dict[str, Any]:
    return {
        "id": item.id,
        "resident_id": item.resident_id,
        "name": item.name,
        "phone": item.phone,
        "telegram_chat_id": item.telegram_chat_id,
        "commune": item.commune,
        "created_at": iso(item.created_at, ctx),
        "handled_at": iso(item.handled_at, ctx),
        "handled_by": item.handled_by,
        "reason": item.reason,
    }


@app.command("list")
def list_(
    show_all: Annotated[bool, typer.Option("--all", help="Aussi les demandes déjà traitées.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Les demandes de rappel à traiter, les plus anciennes d'abord (numéros complets : pour appeler)."""

    async def action(ctx: Context) -> None:
        items = await list_callbacks(ctx=ctx, include_done=show_all)
        if as_json:
            print_json([callback_json(item, ctx) for item in items])
            return
        if not items:
            console.print("Aucune demande de rappel en attente.")
            return
        wide = is_wide()
        table = listing("Demandes de rappel")
        column(table, "N°", keep=3, right=True)
        column(table, "Demandé le", keep=11)
        column(table, "Nom")
        column(table, "Téléphone", keep=14)
        if wide:
            column(table, "Commune")
        column(table, "Motif", fold=True)
        column(table, "Traité", fold=True)
        for item in items:
            done = f"{item.handled_at.astimezone(ctx.tz):%d/%m %H:%M} par {item.handled_by}" if item.handled_at else ""
            table.add_row(
                str(item.id),
                f"{item.created_at.astimezone(ctx.tz):%d/%m %H:%M}",
                item.name or "(sans nom)",
                national(item.phone) or (f"Telegram {item.telegram_chat_id}" if item.telegram_chat_id else "—"),
                *([item.commune or ""] if wide else []),
                item.reason or "",
                done,
            )
        console.print(table)

    act(action)


@app.command("done")
def done(
    callback_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro de la demande.")],
    by: Annotated[str | None, typer.Option("--as", "--by", help=AS_HELP)] = None,
) -> None:
    """Marquer une demande de rappel comme traitée."""

    async def action(ctx: Context) -> None:
        if await mark_callback_done(ctx=ctx, callback_id=callback_id, actor=await acting(ctx, by)):
            console.print(f"Demande n°{callback_id} marquée traitée.", highlight=False)
            return
        found = await find_callback(ctx=ctx, callback_id=callback_id)
        if found is None:
            fail(f"la demande n°{callback_id} n'existe pas (voir « atelier callbacks list »).")
        console.print(f"La demande n°{callback_id} était déjà traitée par {found.handled_by}.", highlight=False)

    act(action)
