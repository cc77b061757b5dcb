"""``atelier enrol --name … --phone … --commune … --workshop ID [--level …] [--adviser …] [--force] [--yes]``: an
adviser enrols someone who phoned. Translation only: the work is in ``bot.service.phone_enrolment``.

A number that is already someone else's (another name) is said first, and the adviser is asked whether it is that
person they enrol; nothing is done before the answer (without a terminal, only ``--yes`` goes on)."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.context import Context
from bot.conversation.texts import channel_name
from bot.interfaces.cli.common import acting, console, owner_confirmed_or_asked, print_json
from bot.interfaces.cli.workshops import JsonOption, YesOption, act
from bot.service.departures import departure_lines
from bot.service.phone_enrolment import NumberOfSomeoneElseError, PhoneEnrolment, enrol_by_phone


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
    yes: YesOption = False,
) -> None:
    """Inscrire une personne qui a téléphoné (place ou liste d'attente) ; elle reçoit le SMS de confirmation."""

    def attempt(owner_confirmed: bool) -> PhoneEnrolment | NumberOfSomeoneElseError:
        async def action(ctx: Context) -> PhoneEnrolment | NumberOfSomeoneElseError:
            actor = await acting(ctx, adviser, registered=True)
            try:
                done = await enrol_by_phone(
                    ctx=ctx, name=name, phone=phone, commune=commune, workshop_id=workshop, level=level,
                    actor=actor, force=force, owner_confirmed=owner_confirmed,
                )  # fmt: skip
            except NumberOfSomeoneElseError as owner:
                return owner
            if not as_json:
                _report(done, ctx)
            return done

        return act(action)

    outcome = owner_confirmed_or_asked(
        attempt,
        lambda owner: (
            f"Le numéro {phone.strip()} est celui de « {owner.owner_name} » (personne n°{owner.owner_id}). "
            f"Inscrire {owner.owner_name} ?"
        ),
        yes=yes,
    )
    if as_json:
        print_json(
            {
                "resident_id": outcome.resident_id,
                "enrolment_id": outcome.enrolment_id,
                "workshop_id": outcome.workshop_id,
                "status": "seated" if outcome.seated else "waiting",
                "position": outcome.position,
                "already": outcome.already,
                "new_resident": outcome.new_resident,
                "confirmation_channel": outcome.confirmation_channel,
                "notes": list(outcome.notes),
            }
        )


def _report(done: PhoneEnrolment, ctx: Context) -> None:
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
        leaves = " ".join(departure_lines(done.confirmation_leaves, ctx.tz)).removeprefix("1 part ")
        console.print(
            f"Message de confirmation prévu (par {channel_name(done.confirmation_channel)}) : il part {leaves}",
            highlight=False,
        )
    for note in done.notes:
        console.print(f"[yellow]Attention :[/yellow] {note}.", highlight=False)
