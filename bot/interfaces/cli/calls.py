"""``atelier calls list [--all] [--json]`` and ``atelier calls done ID --outcome TEXTE [--as NOM]``: everyone an adviser
should phone today, why, and what to tell them. Translation only: the work is in ``bot.service.calls``."""

from __future__ import annotations

import textwrap
from typing import Annotated, Any

import typer

from bot.context import Context
from bot.conversation.texts import when_fr
from bot.interfaces.cli.common import AsOption, acting, console, iso, print_json
from bot.interfaces.cli.french import french_app
from bot.interfaces.cli.workshops import JsonOption, act
from bot.service.calls import CallItem, FollowUp, list_calls, mark_call_done

app = french_app(help="À appeler : les personnes à téléphoner aujourd'hui, pourquoi, et quoi leur dire.")


def call_json(item: CallItem, ctx: Context) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind.value,
        "reason": item.reason,
        "resident_id": item.resident_id,
        "name": item.name,
        "phone": item.phone,
        "telegram_chat_id": item.telegram_chat_id,
        "commune": item.commune,
        "workshop_id": item.workshop_id,
        "workshop_start": iso(item.workshop_start, ctx),
        "workshop_place": item.workshop_place,
        "adviser": item.adviser,
        "what_to_say": item.what_to_say,
        "created_at": iso(item.created_at, ctx),
        "done_at": iso(item.done_at, ctx),
        "done_by": item.done_by,
        "outcome": item.outcome,
    }


FOLLOW_UP_COMMANDS = {
    FollowUp.unenrol: "si elle ne vient pas : atelier residents unenrol {item.resident_id} "
    "--workshop {item.workshop_id}",
    FollowUp.enrol_elsewhere: "atelier workshops list, puis atelier enrol … --workshop N°",
}


def call_lines(item: CallItem, ctx: Context) -> list[str]:
    """One call as a short block that reads well in an 80-column terminal."""
    phone = item.phone_display or (f"Telegram {item.telegram_chat_id}" if item.telegram_chat_id else "pas de numéro")
    head = f"n°{item.id}  {item.name or '(sans nom)'} — {phone}" + (f" — {item.commune}" if item.commune else "")
    why = item.kind_label[:1].upper() + item.kind_label[1:] + (f" : {item.reason_label}" if item.reason_label else "")
    lines = [head, f"     {why} (personne n°{item.resident_id})"]
    if item.workshop_id is not None and item.workshop_start is not None:
        adviser = f" — {item.adviser}" if item.adviser else ""
        lines.append(
            f"     Atelier n°{item.workshop_id}, {when_fr(item.workshop_start, ctx.tz)}, {item.workshop_place}{adviser}"
        )
    if item.said:
        lines.append(f"     Sa demande : « {item.said} »")
    if item.what_to_say:
        lines.append(f"     À dire : {item.what_to_say}")
    if item.follow_up is not None:
        lines.append(f"     Ensuite : {FOLLOW_UP_COMMANDS[item.follow_up].format(item=item)}")
    if item.done_at is not None:
        lines.append(f"     Fait le {when_fr(item.done_at, ctx.tz)} par {item.done_by} : {item.outcome}")
    return lines


@app.command("list")
def list_(
    show_all: Annotated[bool, typer.Option("--all", help="Aussi les appels déjà faits.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Les personnes à appeler, l'atelier le plus proche d'abord (numéros complets : pour appeler)."""

    async def action(ctx: Context) -> None:
        items = await list_calls(ctx=ctx, include_done=show_all)
        if as_json:
            print_json([call_json(item, ctx) for item in items])
            return
        if not items:
            console.print("Personne à appeler.")
            return
        open_count = sum(1 for item in items if not item.done)
        console.print(f"À appeler : {open_count} personne(s).", highlight=False)
        for item in items:
            console.print()
            for line in call_lines(item, ctx):
                # wrapped under its own text, not under the call's number, in a narrow terminal
                wrapped = textwrap.wrap(line, width=max(console.width, 40), subsequent_indent=" " * 7)
                console.print("\n".join(wrapped), highlight=False, soft_wrap=True)
        console.print()
        console.print('Une fois l\'appel passé : atelier calls done N° --outcome "ce qui a été convenu"')

    act(action)


@app.command("done")
def done(
    call_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro de l'appel (voir atelier calls list).")],
    outcome: Annotated[str, typer.Option("--outcome", help="Ce qui a été convenu, par exemple « vient mardi ».")],
    as_: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Noter qu'un appel est fait : qui a appelé, quand, et ce qui a été convenu."""

    async def action(ctx: Context) -> None:
        actor = await acting(ctx, as_)
        item = await mark_call_done(ctx=ctx, call_id=call_id, outcome=outcome, actor=actor)
        if as_json:
            print_json(call_json(item, ctx))
            return
        console.print(
            f"Appel n°{item.id} noté ({item.name or '(sans nom)'}) : {item.outcome}, par {item.done_by}.",
            highlight=False,
        )

    act(action)
