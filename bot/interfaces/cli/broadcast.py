"""``atelier broadcast (--workshop ID | --commune NAME… | --upcoming) TEXT [--dry-run] [--yes]`` and
``atelier broadcast report ID [--json]``.

``broadcast`` is a group whose default command sends: anything that is not a sub-command's name is handed to the
hidden ``send`` command, so that ``atelier broadcast --workshop 3 "texte"`` and ``atelier broadcast report 5``
both read naturally. Translation only: the work is in ``bot.service.broadcasts``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.context import Context
from bot.conversation.phones import national
from bot.conversation.texts import channel_name
from bot.interfaces.cli.common import AS_HELP, acting, confirm_or_refuse, console, fail, iso, print_json
from bot.interfaces.cli.french import FrenchGroup, french_app
from bot.interfaces.cli.workshops import JsonOption, YesOption, act
from bot.service.broadcasts import Audience, Preview, Report, broadcast_report, preview_broadcast, send_broadcast
from bot.service.departures import broadcast_departures, departure_lines
from bot.service.recipients import TO_PHONE_REASON_FR
from storage.enums import Channel


class SendByDefault(FrenchGroup):
    """A group that runs ``send`` unless the first word names a sub-command (or asks for help)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # Any: the click context typer vendors
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["send", *args]
        return super().parse_args(ctx, args)


app = french_app(
    cls=SendByDefault,
    no_args_is_help=False,
    help=(
        "Diffuser un message : atelier broadcast (--workshop ID | --commune NOM… | --venue LIEU | --held-in COMMUNE "
        "| --upcoming) TEXTE "
        "[--dry-run] [--yes] ; suivi : atelier broadcast report ID."
    ),
)


def euros(amount: float) -> str:
    return f"{amount:.2f} €".replace(".", ",")


def preview_lines(preview: Preview) -> list[str]:
    channels = ", ".join(f"{count} par {channel_name(ch)}" for ch, count in preview.by_channel.items() if count)
    lines = []
    if preview.venues:
        held = ", ".join(f"n°{w}" for w in preview.workshops) or "aucun atelier à venir"
        lines.append(f"Ateliers à venir à {', '.join(preview.venues)} : {held}.")
    lines.append(f"Destinataires : {preview.recipients} ({channels or 'aucun'}).")
    if preview.skipped_opted_out:
        lines.append(f"Ont demandé STOP, non contactés : {preview.skipped_opted_out}.")
    if preview.unreachable:
        lines.append(f"Sans mobile ni Telegram (à appeler) : {preview.unreachable}.")
    sms = preview.by_channel.get(Channel.sms, 0)
    plural = "s" if preview.segments > 1 else ""
    lines.append(
        f"SMS : {preview.segments} segment{plural} par message ({len(preview.sms_text)} caractères) ; "
        f"coût estimé : {sms} × {preview.segments} × prix du segment = {euros(preview.sms_cost)}."
    )
    if preview.calls:  # residents with a landline: the message read aloud by a call, billed by the minute
        lines.append(
            f"Appels (numéros fixes, message lu au téléphone) : {preview.calls} × {preview.call_minutes} minute(s) "
            f"× prix de la minute = {euros(preview.call_cost)} ; coût total estimé : {euros(preview.estimated_cost)}."
        )
    if preview.sms_text != preview.body:
        lines.append(f"Texte reçu par SMS (sans les caractères spéciaux) : {preview.sms_text}")
    return lines


def preview_json(preview: Preview) -> dict[str, Any]:
    return {
        "recipients": preview.recipients,
        "by_channel": dict(preview.by_channel),
        "skipped_opted_out": preview.skipped_opted_out,
        "unreachable": preview.unreachable,
        "segments": preview.segments,
        "estimated_cost": preview.estimated_cost,
        "sms_cost": preview.sms_cost,
        "calls": preview.calls,
        "call_minutes": preview.call_minutes,
        "call_cost": preview.call_cost,
        "sms_text": preview.sms_text,
        "communes": list(preview.communes),
        "venues": list(preview.venues),
        "workshops": list(preview.workshops),
    }


@app.command("send")
def send(
    text: Annotated[str, typer.Argument(metavar="TEXTE", help="Le message (entre guillemets).")],
    workshop: Annotated[int | None, typer.Option("--workshop", help="Les inscrits de cet atelier.")] = None,
    commune: Annotated[
        list[str] | None, typer.Option("--commune", help="Les habitants de cette commune (répétable).")
    ] = None,
    upcoming: Annotated[bool, typer.Option("--upcoming", help="Tous les inscrits d'un atelier à venir.")] = False,
    venue: Annotated[
        str | None,
        typer.Option("--venue", help="Les inscrits des ateliers à venir dans ce lieu (« salle des fêtes »)."),
    ] = None,
    held_in: Annotated[
        str | None, typer.Option("--held-in", help="Les inscrits des ateliers à venir dans cette commune.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Montrer le coût sans rien envoyer.")] = False,
    author: Annotated[str | None, typer.Option("--as", "--author", help=AS_HELP)] = None,
    as_json: JsonOption = False,
    yes: YesOption = False,
) -> None:
    """Envoyer un message (par défaut : « atelier broadcast --workshop 3 TEXTE » est « atelier broadcast send … »)."""
    chosen = sum((workshop is not None, bool(commune), upcoming, bool(venue or held_in)))
    if chosen != 1:
        fail(
            "choisissez un seul public : --workshop ID, --commune NOM (répétable), --venue LIEU / --held-in COMMUNE "
            "ou --upcoming. Rien n'a été envoyé."
        )
    audience = Audience(
        workshop_id=workshop, communes=tuple(commune or ()), upcoming=upcoming, venue=venue, held_in=held_in
    )

    async def look(ctx: Context) -> Preview:
        return await preview_broadcast(ctx=ctx, audience=audience, body=text)

    preview = act(look)
    if as_json and dry_run:
        print_json(preview_json(preview))
        return
    for line in preview_lines(preview):
        console.print(line, highlight=False)
    if dry_run:
        console.print("Rien n'a été envoyé (--dry-run).")
        return
    if not preview.recipients:
        fail("personne ne peut recevoir ce message. Rien n'a été envoyé.")
    confirm_or_refuse(f"Envoyer ce message à {preview.recipients} personne(s) ?", yes=yes)

    async def go(ctx: Context) -> int:
        broadcast_id = await send_broadcast(ctx=ctx, audience=audience, body=text, actor=await acting(ctx, author))
        if not as_json:
            console.print(f"Diffusion n°{broadcast_id} enregistrée.", highlight=False)
            leaving = departure_lines(await broadcast_departures(ctx=ctx, broadcast_id=broadcast_id), ctx.tz)
            for line in leaving:
                console.print(f"  {line}", highlight=False)
            console.print(f"Suivi : atelier broadcast report {broadcast_id}", highlight=False)
        return broadcast_id

    broadcast_id = act(go)
    if as_json:
        print_json({"id": broadcast_id, **preview_json(preview)})


def report_json(report: Report, ctx: Context) -> dict[str, Any]:
    return {
        "id": report.id,
        "author": report.author,
        "created_at": iso(report.created_at, ctx),
        "body": report.body,
        "audience": dict(report.audience),
        "segments": report.segments,
        "recipients": report.recipients,
        "by_channel": dict(report.by_channel),
        "sent": report.sent,
        "delivered": report.delivered,
        "failed": report.failed,
        "opted_out": report.opted_out,
        "expired": report.expired,
        "pending": report.pending,
        "cancelled": report.cancelled,
        "waiting": [
            {"count": g.count, "leaves_at": iso(g.leaves_at, ctx), "reasons": [r.value for r in g.reasons]}
            for g in report.waiting
        ],
        "to_phone": [
            {"resident_id": p.resident_id, "name": p.name, "phone": p.phone, "reason": p.reason}
            for p in report.to_phone
        ],
    }


@app.command("report")
def report(
    broadcast_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro de la diffusion.")],
    as_json: JsonOption = False,
) -> None:
    """Ce que sont devenus les messages d'une diffusion, et qui appeler à la place."""

    async def action(ctx: Context) -> None:
        found = await broadcast_report(ctx=ctx, broadcast_id=broadcast_id)
        if as_json:
            print_json(report_json(found, ctx))
            return
        when = found.created_at.astimezone(ctx.tz)
        console.print(f"Diffusion n°{found.id} du {when:%d/%m/%Y à %H:%M}, par {found.author}.", highlight=False)
        console.print(
            f"{found.recipients} message(s) : {found.sent} parti(s) dont {found.delivered} reçu(s), "
            f"{found.failed} en échec, {found.expired} expiré(s), {found.pending} en attente, "
            f"{found.cancelled} retiré(s) ; {found.opted_out} personne(s) ont demandé STOP.",
            highlight=False,
        )
        for line in departure_lines(found.waiting, ctx.tz):
            console.print(f"  En attente : {line}", highlight=False)
        if not found.to_phone:
            console.print("Personne à appeler.")
            return
        console.print(f"À appeler ({len(found.to_phone)}) :")
        for person in found.to_phone:
            console.print(
                f"  {person.name or '(sans nom)'} — {national(person.phone) or 'pas de numéro'} "
                f"({TO_PHONE_REASON_FR.get(person.reason, person.reason)})",
                highlight=False,
            )

    act(action)
