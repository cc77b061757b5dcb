"""``atelier telegram webhook``: tell Telegram where to post the bot's updates (or stop it, to go back to polling).

The webhook is ``ATELIER_PUBLIC_URL`` + ``/telegram/webhook``, registered with ``ATELIER_TELEGRAM_SECRET`` as its
secret token (https://core.telegram.org/bots/api#setwebhook); ``atelier serve`` does the same at start-up when all
three variables are set. Without a public URL, ``atelier serve`` polls instead — ``--delete`` removes a webhook
registered before, since Telegram refuses polling while one is set.
"""

from __future__ import annotations

from typing import Annotated

import typer
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from bot.commands.common import console, fail, run
from bot.context import Context
from bot.handlers import telegram

app = typer.Typer(help="Telegram : relier le bot au service.", no_args_is_help=True)


@app.command("webhook")
def webhook(
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
