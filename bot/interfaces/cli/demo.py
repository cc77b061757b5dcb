"""``atelier demo``: load the demo planning (four weeks from next Monday, three advisers)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.context import Context
from bot.interfaces.cli.common import console
from bot.interfaces.cli.workshops import act
from bot.service.workshops import load_demo


def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Ne rien faire si la base contient déjà des ateliers (make run).")
    ] = False,
) -> None:
    """Charger un planning de démonstration de quatre semaines sur le territoire."""

    async def action(ctx: Context) -> None:
        result = await load_demo(ctx=ctx, if_empty=if_empty)
        if result.skipped:
            console.print("Des ateliers existent déjà : planning de démonstration non chargé.")
            return
        already = f" ({result.already} déjà présents)" if result.already else ""
        console.print(f"Planning de démonstration chargé : {result.created} ateliers{already}.", highlight=False)

    act(action)
