"""``atelier enrol --name … --phone … --commune … --workshop ID [--level …] [--adviser …] [--force]``: an adviser
enrols someone who phoned. Translation only: the work is in ``bot.service.phone_enrolment``."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.context import Context
from bot.conversation.texts import channel_name
from bot.interfaces.cli.common import acting, console, print_json
from bot.interfaces.cli.workshops import JsonOption, act
from bot.service.phone_enrolment import PhoneEnrolment, enrol_by_phone


def enrol(
    name: Annotated[str, typer.Option("--name", help="Prénom et nom de la personne.")],
    phone: Annotated[str, typer.Option("--phone", help="Son numéro (06 12 34 56 78 ou +33…).")],
    commune: Annotated[str, typer.Option("--commune", help="Sa commune (« st victor » convient).")],
    workshop: Annotated[int, typer.Option("--workshop", help="Numéro de l'atelier.")],
    level: Annotated[str | None, typer.Option("--level", help="débutant, intermédiaire, confirmé.")] = None,
    adviser: Annotated[
        str | None,
        typer.Option(
            "--adviser", "--as", help="Le conseiller qui inscrit (nom ou n°) ; par défaut, l'utilisateur du système."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Inscrire même un numéro effacé autrefois, si la personne le demande.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Inscrire une personne qui a téléphoné (place ou liste d'attente) ; elle reçoit le SMS de confirmation."""

    async def action(ctx: Context) -> PhoneEnrolment:
        actor = await acting(ctx, adviser, registered=True)
        return await enrol_by_phone(
            ctx=ctx,
            name=name,
            phone=phone,
            commune=commune,
            workshop_id=workshop,
            level=level,
            actor=actor,
            force=force,
        )

    done = act(action)
    if as_json:
        print_json(
            {
                "resident_id": done.resident_id,
                "enrolment_id": done.enrolment_id,
                "workshop_id": done.workshop_id,
                "status": "seated" if done.seated else "waiting",
                "position": done.position,
                "already": done.already,
                "new_resident": done.new_resident,
                "confirmation_channel": done.confirmation_channel,
                "notes": list(done.notes),
            }
        )
        return
    if done.already:
        where = "inscrite" if done.seated else f"sur la liste d'attente (n°{done.position})"
        console.print(f"Cette personne était déjà {where} pour l'atelier n°{done.workshop_id} : rien n'a changé.")
    elif done.seated:
        seated = f"Place réservée à l'atelier n°{done.workshop_id} (personne n°{done.resident_id})."
        console.print(seated, highlight=False)
    else:
        console.print(
            f"Atelier n°{done.workshop_id} complet : personne n°{done.resident_id} sur la liste d'attente, "
            f"en position {done.position}.",
            highlight=False,
        )
    if done.confirmation_channel:
        console.print(f"Message de confirmation prévu (par {channel_name(done.confirmation_channel)}).")
    for note in done.notes:
        console.print(f"[yellow]Attention :[/yellow] {note}.", highlight=False)
