"""``atelier demo``: load the demo planning (four weeks from next Monday, three advisers)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.context import Context
from bot.interfaces.cli.common import acting, console
from bot.interfaces.cli.workshops import act
from bot.service.accounts import ensure_demo_account
from bot.service.workshops import load_demo


def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Ne rien faire si la base contient déjà des ateliers (make run).")
    ] = False,
) -> None:
    """Charger un planning de démonstration de quatre semaines sur le territoire, et créer le compte de
    démonstration de la console web (son mot de passe n'est affiché qu'une fois)."""

    async def action(ctx: Context) -> None:
        actor = await acting(ctx, None)  # the operating system's user
        result = await load_demo(ctx=ctx, if_empty=if_empty, actor=actor)
        if result.skipped:
            console.print("Des ateliers existent déjà : planning de démonstration non chargé.")
        else:
            already = f" ({result.already} déjà présents)" if result.already else ""
            console.print(f"Planning de démonstration chargé : {result.created} ateliers{already}.", highlight=False)
        account = await ensure_demo_account(ctx=ctx, actor=actor)
        if account is not None:
            email, password = account
            console.print(
                "Console web : http://127.0.0.1:8000/console\n"
                f"  Adresse e-mail : {email}\n"
                f"  Mot de passe : {password}\n"
                "  (affiché une seule fois ; « atelier advisers password " + email + " » pour le changer)",
                highlight=False,
            )

    act(action)
