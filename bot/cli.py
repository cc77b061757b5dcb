"""The ``atelier`` command: assembles the sub-commands. Wiring only; the work lives in the service modules."""

from __future__ import annotations

import asyncio
import logging

import typer

from bot.commands import advisers, broadcast, callbacks, chat, demo, enrol, messages, residents, stats, workshops
from bot.commands import telegram as telegram_commands
from bot.commands.common import fail, open_context

app = typer.Typer(
    help="Atelier : inscriptions aux ateliers numériques par SMS et Telegram.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Base de données.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(workshops.app, name="workshops")
app.add_typer(messages.app, name="messages")
app.command("demo")(demo.demo)
app.command("chat")(chat.chat)
app.add_typer(broadcast.app, name="broadcast")
app.add_typer(callbacks.app, name="callbacks")
app.add_typer(advisers.app, name="advisers")
app.add_typer(residents.app, name="residents")
app.command("enrol")(enrol.enrol)
app.command("stats")(stats.stats)
app.add_typer(telegram_commands.app, name="telegram")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Créer ou mettre à jour la base de données (migrations Alembic) et charger le territoire."""
    from bot.places import sync_territory
    from storage.migrate import upgrade

    async def main() -> None:
        async with open_context() as ctx:
            try:
                await upgrade(ctx.db.engine)
            except OSError as exc:
                fail(f"base de données injoignable : {exc}")
            await sync_territory(db=ctx.db, territory=ctx.territory)

    asyncio.run(main())
    typer.echo("Base de données à jour.")


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Adresse d'écoute."),
    port: int = typer.Option(8000, help="Port d'écoute."),
) -> None:
    """Lancer le service web : webhooks, envois programmés, Telegram, /healthz."""
    import uvicorn

    from bot.app import create_app

    # Our own logs at INFO (never numbers in full, nor bodies); the database driver stays quiet, since at DEBUG
    # it prints statement parameters, which hold phone numbers.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    uvicorn.run(create_app(), host=host, port=port, log_level="info", proxy_headers=True)


def main() -> None:
    app()
