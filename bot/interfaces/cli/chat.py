"""``atelier chat``: talk to the assistant in the terminal, exactly as a resident would by SMS."""

from __future__ import annotations

import asyncio

import typer

from bot.channels import Inbound
from bot.conversation.gsm7 import render_sms
from bot.conversation.phones import to_e164
from bot.interfaces.cli.common import console, fail, open_context
from bot.service.inbound import handle_inbound
from storage.enums import Channel

DEFAULT_PHONE = "+33612345678"


def chat(
    phone: str = typer.Option(DEFAULT_PHONE, "--phone", help="Le numéro du résident simulé (+33…)."),
) -> None:
    """Parler à l'assistant comme un résident par SMS (Ctrl-D ou « quitter » pour sortir)."""
    number = to_e164(phone)
    if number is None:
        fail(f"numéro de téléphone invalide : {phone}")
    asyncio.run(_loop(number))


async def _loop(number: str) -> None:
    async with open_context() as ctx:
        console.print(f"[dim]Vous écrivez depuis le {number}. Tapez 'quitter' pour sortir.[/dim]")
        while True:
            try:
                text = await asyncio.to_thread(input, "Vous > ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                return
            if text.strip().lower() in {"quitter", "exit", "quit"}:
                return
            handled = await handle_inbound(
                ctx=ctx, inbound=Inbound(channel=Channel.sms, address=number, text=text), inline=True
            )
            for reply in handled.replies:
                console.print(
                    f"[bold green]Atelier >[/bold green] {render_sms(reply.text, reply.choices)}", highlight=False
                )
            if not handled.replies:
                console.print("[dim](pas de réponse)[/dim]")
