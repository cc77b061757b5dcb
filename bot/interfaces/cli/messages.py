"""``atelier messages list [--status S] [--kind K] [--limit N] [--json]``: the outbox, newest first.

Advisers' commands show full numbers (SPEC §6: advisers phone people); logs never do.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import tzinfo
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from bot.context import Context
from bot.conversation.phones import national
from bot.interfaces.cli.common import column, console, fail, is_wide, iso, listing, print_json
from bot.interfaces.cli.french import french_app
from bot.interfaces.cli.workshops import JsonOption, act
from bot.service.labels import FORMER_MESSAGE_KIND_FR, FORMER_MESSAGE_STATUS_FR, MESSAGE_KIND_FR, MESSAGE_STATUS_FR
from bot.service.outbox_views import MessageView, list_messages
from storage.enums import MessageKind, MessageStatus

app = french_app(help="Messages envoyés et à envoyer (la boîte d'envoi).")


def message_json(row: MessageView, ctx: Context) -> dict[str, Any]:
    """SPEC §6 field names, times ISO 8601 with the territory's offset."""
    return {
        "id": row.id,
        "resident_id": row.resident_id,
        "channel": row.channel,
        "to": row.to_address,
        "kind": row.kind.value,
        "body": row.body,
        "choices": list(row.choices),  # shown under the body: numbered in an SMS, buttons on Telegram
        "due_at": iso(row.due_at, ctx),
        "status": row.status.value,
        "attempts": row.attempts,
        "provider_id": row.provider_id,
        "error": row.error,
    }


E = TypeVar("E", MessageStatus, MessageKind)


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", " ".join(text.replace("_", " ").split()).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _label_words(member: E, labels: Mapping[E, str], former: Mapping[E, tuple[str, ...]]) -> set[str]:
    return {_folded(word) for word in (member.value, labels[member], *former.get(member, ()))}


def parse_label(
    kind: type[E], value: str | None, what: str, labels: Mapping[E, str], former: Mapping[E, tuple[str, ...]]
) -> E | None:
    """A status or kind as the table shows it in French (« rappel », « envoyé », accents optional), a word it
    once showed (« annulé »), or its English name (``reminder``, ``sent``)."""
    if value is None:
        return None
    wanted = _folded(value)
    names = {member: _label_words(member, labels, former) for member in kind}
    found = next((member for member, said in names.items() if wanted in said), None)
    if found is None:
        fail(f"{what} inconnu « {value} » : {', '.join(labels.values())}")
    return found


def messages_table(rows: list[MessageView], tz: tzinfo) -> Table:
    """Fits 80 columns: the text is cut with "…"; channel, attempts and error show on wider terminals."""
    wide = is_wide()
    table = listing("Messages")
    column(table, "N°", keep=3, right=True)
    column(table, "Prévu le", keep=11)
    if wide:
        column(table, "Canal")
    column(table, "Pour", keep=14)
    column(table, "Type", keep=13)
    column(table, "Statut", keep=9)
    if wide:
        column(table, "Essais", right=True)
    column(table, "Texte", share=3)
    if wide:
        column(table, "Erreur", share=2)
    for row in rows:
        to = national(row.to_address) if row.channel == "sms" else f"Telegram {row.to_address}"
        cells = [str(row.id), f"{row.due_at.astimezone(tz):%d/%m %H:%M}"]
        cells += [row.channel] if wide else []
        cells += [to, MESSAGE_KIND_FR[row.kind], MESSAGE_STATUS_FR[row.status]]
        cells += [str(row.attempts)] if wide else []
        cells += [" ".join(row.body.split())]
        cells += [row.error or ""] if wide else []
        table.add_row(*cells)
    return table


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option("--status", help=f"{', '.join(MESSAGE_STATUS_FR.values())}.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help=f"{', '.join(MESSAGE_KIND_FR.values())}.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Au plus N messages (0 : tous).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """La boîte d'envoi, les messages les plus récents d'abord."""
    wanted_status = parse_label(MessageStatus, status, "statut", MESSAGE_STATUS_FR, FORMER_MESSAGE_STATUS_FR)
    wanted_kind = parse_label(MessageKind, kind, "type", MESSAGE_KIND_FR, FORMER_MESSAGE_KIND_FR)

    async def action(ctx: Context) -> None:
        rows = await list_messages(ctx=ctx, status=wanted_status, kind=wanted_kind, limit=limit or None)
        if as_json:
            print_json([message_json(row, ctx) for row in rows])
            return
        if not rows:
            console.print("Aucun message.")
            return
        console.print(messages_table(rows, ctx.tz))

    act(action)
