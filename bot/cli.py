"""The ``atelier`` command: assembles the sub-commands. Wiring only; the work lives in the service modules."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from starlette.applications import Starlette
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from bot.config import load_settings
from bot.context import Context
from bot.handlers import telegram
from bot.interfaces.cli import (
    advisers,
    broadcast,
    callbacks,
    calls,
    chat,
    demo,
    enrol,
    messages,
    residents,
    stats,
    workshops,
)
from bot.interfaces.cli.common import console, fail, open_context, run
from bot.interfaces.cli.french import french_app
from bot.logs import protect_logs

# ``atelier telegram webhook`` lives here, in the wiring, because it drives the Telegram channel itself: it tells
# Telegram where to post the bot's updates (or stop it, to go back to polling).
#
# The webhook is ``ATELIER_PUBLIC_URL`` + ``/telegram/webhook``, registered with ``ATELIER_TELEGRAM_SECRET`` as its
# secret token (https://core.telegram.org/bots/api#setwebhook); ``atelier serve`` does the same at start-up when all
# three variables are set. Without a public URL, ``atelier serve`` polls instead — ``--delete`` removes a webhook
# registered before, since Telegram refuses polling while one is set.
telegram_app = french_app(help="Telegram : relier le bot au service.")


@telegram_app.command("webhook")
def telegram_webhook(
    delete: Annotated[
        bool, typer.Option("--delete", help="Retirer le webhook (pour revenir à l'interrogation régulière).")
    ] = False,
) -> None:
    """Déclarer ATELIER_PUBLIC_URL/telegram/webhook à Telegram, avec le secret ATELIER_TELEGRAM_SECRET."""

    async def action(ctx: Context) -> str:
        settings = ctx.settings
        if not settings.telegram_bot_token:
            fail(
                "TELEGRAM_BOT_TOKEN n'est pas défini : créez le bot avec @BotFather et donnez son jeton "
                "(voir le README). Rien n'a été changé."
            )
        if not delete:
            try:
                telegram.webhook_url(settings)
            except ValueError as exc:
                fail(f"{exc}. Rien n'a été changé.")
        protect_logs(settings.secrets())  # httpx logs the Bot API URLs, token included
        bot = telegram.build_application(settings).bot
        try:
            async with bot:  # getMe first: a wrong token is reported as such
                if delete:
                    await bot.delete_webhook(drop_pending_updates=False)
                    return (
                        f"Webhook retiré pour @{bot.username} : sans ATELIER_PUBLIC_URL, « atelier serve » interroge "
                        "Telegram lui-même."
                    )
                url = await telegram.register_webhook(bot=bot, settings=settings)
                return f"Webhook enregistré pour @{bot.username} : {url}"
        except InvalidToken:
            fail("Telegram refuse le jeton TELEGRAM_BOT_TOKEN : vérifiez-le auprès de @BotFather. Rien n'a été changé.")
        except BadRequest as exc:
            fail(f"Telegram refuse ce webhook : {exc.message}. Rien n'a été changé.")
        except NetworkError as exc:
            fail(f"Telegram ne répond pas ({type(exc).__name__}) : réessayez plus tard. Rien n'a été changé.")
        except TelegramError as exc:
            fail(f"Telegram a répondu une erreur ({type(exc).__name__}). Rien n'a été changé.")

    console.print(run(action), highlight=False)


app = french_app(
    help="Atelier : inscriptions aux ateliers numériques par SMS et Telegram.", pretty_exceptions_enable=False
)
db_app = french_app(help="Base de données.")
app.add_typer(db_app, name="db")
app.add_typer(workshops.app, name="workshops")
app.add_typer(messages.app, name="messages")
app.command("demo")(demo.demo)
app.command("chat")(chat.chat)
app.add_typer(broadcast.app, name="broadcast")
app.add_typer(callbacks.app, name="callbacks")
app.add_typer(calls.app, name="calls")
app.add_typer(advisers.app, name="advisers")
app.add_typer(residents.app, name="residents")
app.command("enrol")(enrol.enrol)
app.add_typer(stats.app, name="stats")
app.add_typer(telegram_app, name="telegram")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Créer ou mettre à jour la base de données (migrations Alembic) et charger le territoire."""
    from bot.service.places import sync_territory
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


# How uvicorn serves (https://www.uvicorn.org/settings/#implementation); the benchmarks' servers (bench/) run the same.
# httptools parses HTTP in C where h11 is pure Python: 0.1 ms of CPU less per request (bench/turn_profile.py). It is a
# dependency with wheels for every platform, so it is named here rather than left to "auto", which would fall back to
# h11 without a word. uvloop (0.05 ms less), a dependency too, is taken where it exists ("auto"), asyncio's own loop
# elsewhere: it has no Windows build, and the service must still run there.
SERVER_STACK: dict[str, Any] = {"http": "httptools", "loop": "auto", "proxy_headers": True}


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Adresse d'écoute."),
    port: int = typer.Option(8000, help="Port d'écoute."),
    workers: int = typer.Option(
        1, min=1, help="Nombre de processus derrière le même port (PostgreSQL ; uvicorn --workers)."
    ),
) -> None:
    """Lancer le service web : webhooks, envois programmés, Telegram, /healthz."""
    import uvicorn

    from bot.app import create_app

    try:
        settings = load_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"configuration invalide ({first['loc'][0] if first['loc'] else ''}) : {first['msg']}")
    if (problem := settings.unprotected_webhooks()) is not None:
        fail(problem)
    _serving_logs(settings.secrets())
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", **SERVER_STACK}
    if workers == 1:
        application = create_app(settings)
        ready_to_serve(application)
        uvicorn.run(application, **options)
        return
    # uvicorn's workers (https://www.uvicorn.org/deployment/#built-in): each process imports the application by
    # name and builds it from the environment, with its own engine, dispatcher and caches; the database is what
    # they share (seats, the outbox, the sending pace, the world's version).
    uvicorn.run("bot.cli:worker_app", factory=True, workers=workers, **options)


def _serving_logs(secrets: Iterable[str]) -> None:
    """Our own logs at INFO (never numbers in full, nor bodies); the database drivers stay quiet, since at DEBUG
    they print statement parameters, which hold phone numbers; no secret in any record (bot/logs.py)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    protect_logs(secrets)


def worker_app() -> Starlette:
    """The application of one of ``atelier serve --workers N``'s processes."""
    from bot.app import create_app

    settings = load_settings()
    _serving_logs(settings.secrets())
    application = create_app(settings)
    ready_to_serve(application)
    return application


def ready_to_serve(application: Starlette) -> None:
    """The indexes of communes built now (else by the first message that names a place: a few tenths of a
    second), then everything start-up made, which lives as long as the process (the modules, the territory, the
    application, the 35,000 communes of France: some 230,000 objects), put out of the cyclic collector's reach
    (https://docs.python.org/3/library/gc.html#gc.freeze). A full collection walked them all, 60 to 120 ms during
    which every request in flight waited: the turns' p99 in bench/inbound_sms.py. The serving process only:
    tests build many applications in one process."""
    ctx: Context = application.state.ctx
    ctx.build_indexes()
    gc.collect()
    gc.freeze()


def main() -> None:
    app()
