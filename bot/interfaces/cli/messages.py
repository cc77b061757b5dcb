"""``atelier messages list [--status S] [--kind K] [--limit N] [--json]``: the outbox, newest first.

Advisers' commands show full numbers (SPEC §6: advisers phone people); logs never do.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from bot.context import Context
from bot.interfaces.cli.common import console, fail, iso, print_json
from bot.interfaces.cli.french import french_app
from bot.interfaces.cli.workshops import JsonOption, act
from storage.models import MessageKind, MessageStatus, OutboundMessage
from storage.outbox import list_messages

app = french_app(help="Messages envoyés et à envoyer (la boîte d'envoi).")

STATUS_FR = {
    "pending": "à envoyer",
    "sending": "en cours",
    "sent": "envoyé",
    "delivered": "reçu",
    "failed": "échec",
    "cancelled": "annulé",
    "expired": "expiré",
}
KIND_FR = {
    "reply": "réponse",
    "reminder": "rappel",
    "change_notice": "changement",
    "broadcast": "diffusion",
    "promotion": "place libérée",
    "confirmation": "confirmation",
    "adviser_notice": "conseiller",
}


def message_json(row: OutboundMessage, ctx: Context) -> dict[str, Any]:
    """SPEC §6 field names, times ISO 8601 with the territory's offset."""
    return {
        "id": row.id,
        "resident_id": row.resident_id,
        "channel": row.channel,
        "to": row.to_address,
        "kind": MessageKind(row.kind).value,
        "body": row.body,
        "choices": list(row.choices or []),  # shown under the body: numbered in an SMS, buttons on Telegram
        "due_at": iso(row.due_at, ctx),
        "status": MessageStatus(row.status).value,
        "attempts": row.attempts,
        "provider_id": row.provider_id,
        "error": row.error,
    }


E = TypeVar("E", MessageStatus, MessageKind)


def _parse(kind: type[E], value: str | None, what: str) -> E | None:
    if value is None:
        return None
    try:
        return kind(value.strip().lower())
    except ValueError:
        fail(f"{what} inconnu « {value} » : {', '.join(member.value for member in kind)}.")


def messages_table(rows: list[OutboundMessage], ctx: Context) -> Table:
    table = Table(title="Messages", title_justify="left")
    for header in ("N°", "Prévu le", "Canal", "Destinataire", "Type", "Statut", "Essais", "Texte", "Erreur"):
        table.add_column(header, overflow="fold")
    for row in rows:
        text = row.body if len(row.body) <= 60 else row.body[:59] + "…"
        table.add_row(
            str(row.id),
            f"{row.due_at.astimezone(ctx.tz):%d/%m/%Y %H:%M}",
            row.channel,
            row.to_address,
            KIND_FR.get(row.kind, row.kind),
            STATUS_FR.get(row.status, row.status),
            str(row.attempts),
            text,
            row.error or "",
        )
    return table


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option("--status", help="pending, sending, sent, delivered, failed…")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="reply, reminder, change_notice, broadcast…")] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Au plus N messages (0 : tous).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """La boîte d'envoi, les messages les plus récents d'abord."""
    wanted_status = _parse(MessageStatus, status, "statut")
    wanted_kind = _parse(MessageKind, kind, "type")

    async def action(ctx: Context) -> None:
        async with ctx.db.read() as session:
            rows = await list_messages(session=session, status=wanted_status, kind=wanted_kind, limit=limit or None)
        if as_json:
            print_json([message_json(row, ctx) for row in rows])
            return
        if not rows:
            console.print("Aucun message.")
            return
        console.print(messages_table(rows, ctx))

    act(action)
