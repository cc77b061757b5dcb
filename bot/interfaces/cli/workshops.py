"""``atelier workshops …``: plan, list, import, cancel and move workshops from the command line.

Translation only: options in, ``bot.service.workshops`` and ``bot.service.changes`` operations, a French table or
SPEC §6 JSON out. Every refusal is
one sentence on stderr and a non-zero exit, with nothing changed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from babel.dates import format_date
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from bot.context import Context
from bot.conversation.phones import national
from bot.conversation.texts import LEVEL_NAMES, channel_name, rank_fr, when_fr
from bot.interfaces.cli import common
from bot.interfaces.cli.common import (
    AS_HELP,
    AsOption,
    acting,
    column,
    confirm_or_refuse,
    console,
    errors,
    fail,
    is_wide,
    iso,
    listing,
    owner_confirmed_or_asked,
    print_json,
    run,
)
from bot.interfaces.cli.french import ask_text, ask_yes_no, french_app
from bot.service.changes import (
    MoveRequest,
    WorkshopEdit,
    cancel_workshop_and_notify,
    edit_lines,
    edit_workshop_and_notify,
    move_workshop_and_notify,
    report_lines,
)
from bot.service.exports import roster_csv
from bot.service.labels import CONFIRMED_FR, ENROLMENT_STATUS_FR, WORKSHOP_STATUS_FR
from bot.service.phone_enrolment import NumberOfSomeoneElseError
from bot.service.planning_csv import WorkshopFields
from bot.service.stats import WalkIn, add_walk_in, attendance_sheet, mark_attendance
from bot.service.team import check_phone
from bot.service.workshops import (
    Roster,
    RosterEntry,
    WorkshopError,
    WorkshopSummary,
    add_workshop,
    import_planning,
    list_workshops,
    roster,
)
from storage.enums import WorkshopStatus

T = TypeVar("T")

app = french_app(help="Ateliers : planifier, lister, importer, modifier, annuler, déplacer, présences.")

JsonOption = Annotated[bool, typer.Option("--json", help="Sortie JSON (noms de champs en anglais, heures ISO 8601).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Ne pas demander de confirmation.")]
ListCsvOption = Annotated[
    Path | None,
    typer.Option("--csv", metavar="FICHIER", help="Écrire la liste pour Excel (CSV ; « - » : l'écran)."),
]
# ``--author``: the name this option had before every changing command took ``--as``.
AuthorOption = Annotated[str | None, typer.Option("--as", "--author", help=AS_HELP)]


def act(action: Callable[[Context], Awaitable[T]]) -> T:
    """Run an operation; refusals and an unreachable or outdated database become one sentence, not a traceback."""
    try:
        return run(action)
    except WorkshopError as exc:
        fail(f"{exc} Rien n'a été changé.")
    except BrokenPipeError:
        _quiet_stdout()
        raise typer.Exit(1) from None
    except (DBAPIError, OSError) as exc:
        fail(
            "la base de données ne répond pas ou n'est pas à jour : vérifiez ATELIER_DATABASE_URL et lancez "
            f"« atelier db upgrade » ({type(exc).__name__})."
        )


def _quiet_stdout() -> None:
    """The reader of our output went away (``| head``): stop quietly, as Unix tools do, without Python's own
    complaint when it flushes stdout at exit (https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


# ---------------------------------------------------------------------------------------------------------------
# Rendering


def workshop_json(workshop: WorkshopSummary, ctx: Context) -> dict[str, Any]:
    """SPEC §6 field names; ``confirmed`` and ``adviser`` are additions."""
    return {
        "id": workshop.id,
        "start": iso(workshop.starts_at, ctx),
        "end": iso(workshop.ends_at, ctx),
        "commune": workshop.commune,
        "venue": workshop.venue,
        "address": workshop.address,
        "level": workshop.level.value,
        "topic": workshop.topic,
        "capacity": workshop.capacity,
        "seated": workshop.seated,
        "waiting": workshop.waiting,
        "status": workshop.status.value,
        "confirmed": workshop.confirmed,
        "adviser": workshop.adviser,
    }


def enrolment_json(entry: RosterEntry) -> dict[str, Any]:
    return {
        "resident_id": entry.resident_id,
        "name": entry.name,
        "phone": entry.phone,
        "telegram_chat_id": entry.telegram_chat_id,
        "channel": entry.channel,
        "status": entry.status.value,
        "position": entry.position,
        "interests": list(entry.interests),
        "confirmed": entry.confirmed,
    }


def _day(workshop: WorkshopSummary, ctx: Context) -> str:
    return format_date(workshop.starts_at.astimezone(ctx.tz), "EEE dd/MM/yyyy", locale="fr_FR")


def _hours(workshop: WorkshopSummary, ctx: Context) -> str:
    return f"{workshop.starts_at.astimezone(ctx.tz):%H:%M}–{workshop.ends_at.astimezone(ctx.tz):%H:%M}"


def _describe(workshop: WorkshopSummary, ctx: Context) -> str:
    """atelier n°3 du mardi 14 avril à 14 h, Mairie de Saint-Victor (Saint-Victor), débutant, « Tablette »"""
    return (
        f"atelier n°{workshop.id} du {when_fr(workshop.starts_at, ctx.tz)}, {workshop.venue} ({workshop.commune}), "
        f"{LEVEL_NAMES[workshop.level]}, « {workshop.topic} »"
    )


LEVEL_SHORT = {"beginner": "débutant", "intermediate": "interm.", "advanced": "confirmé"}


def seats(workshop: WorkshopSummary) -> str:
    """ "2/6", or "annulé": the seats of a cancelled workshop mean nothing any more."""
    cancelled = workshop.status == WorkshopStatus.cancelled
    return WORKSHOP_STATUS_FR[workshop.status] if cancelled else f"{workshop.seated}/{workshop.capacity}"


def workshops_table(workshops: list[WorkshopSummary], ctx: Context) -> Table:
    """Fits 80 columns: places "seated/capacity +waiting" (or "annulé"); the venue, the end time and the adviser
    show on wider terminals."""
    wide = is_wide()
    table = listing("Ateliers")
    column(table, "N°", keep=3, right=True)
    column(table, "Date", keep=27 if wide else 15)
    column(table, "Lieu" if wide else "Commune")
    column(table, "Niveau", keep=8)
    column(table, "Places", keep=7)
    column(table, "Thème", share=2)
    if wide:
        column(table, "Conseiller")
    for w in workshops:
        local = w.starts_at.astimezone(ctx.tz)
        when = f"{_day(w, ctx)} {_hours(w, ctx)}" if wide else f"{_day(w, ctx)[:3]} {local:%d/%m %H:%M}"
        place = w.commune
        if wide:
            place = f"{w.commune}, {w.venue}" if plain_text(w.commune) not in plain_text(w.venue) else w.venue
        places = seats(w) + (f" +{w.waiting}" if w.waiting and w.status.value != "cancelled" else "")
        row = [str(w.id), when, place, LEVEL_SHORT[w.level.value], places, w.topic]
        table.add_row(
            *row, *([w.adviser or ""] if wide else []), style="dim" if w.status.value == "cancelled" else None
        )
    return table


def plain_text(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("-", " "))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def roster_table(found: Roster) -> Table:
    """Fits 80 columns: the person's number first (the one ``attendance --present`` and ``residents`` speak of),
    the phone as advisers dial it, what reaches them (SMS, Telegram, a call to a landline, or nothing: « aucun »);
    the Telegram id on wider terminals."""
    wide = is_wide()
    table = listing()
    column(table, "N°", keep=3, right=True)
    column(table, "Nom", share=2)
    column(table, "Téléphone", keep=14)
    if wide:
        column(table, "Telegram", keep=10)
    column(table, "Canal", keep=8)
    column(table, "Statut", keep=13)
    column(table, "Conf.", keep=5)
    column(table, "Souhaits")
    for e in found.enrolments:
        status = ENROLMENT_STATUS_FR[e.status] + (f" {rank_fr(e.position)}" if e.position else "")
        phone = national(e.phone) or ("Telegram" if e.telegram_chat_id else "—")
        extra = [str(e.telegram_chat_id or "")] if wide else []
        channel = channel_name(e.channel) if e.channel else "aucun"
        table.add_row(
            str(e.resident_id), e.name or "(sans nom)", phone, *extra, channel, status, CONFIRMED_FR[e.confirmed],
            ", ".join(e.interests),
        )  # fmt: skip
    return table


# ---------------------------------------------------------------------------------------------------------------
# Commands


@app.command("add")
def add(
    date: Annotated[str, typer.Option(help="Jour : JJ/MM/AAAA ou AAAA-MM-JJ.")],
    start: Annotated[str, typer.Option(help="Heure de début : 14:00, 14h ou 14h30.")],
    end: Annotated[str, typer.Option(help="Heure de fin.")],
    commune: Annotated[str, typer.Option(help="Commune du territoire (« st victor » convient).")],
    level: Annotated[str, typer.Option(help="débutant, intermédiaire, confirmé (ou 1, 2, 3).")],
    topic: Annotated[str, typer.Option(help="Thème, par exemple « Premiers pas sur la tablette ».")],
    venue: Annotated[str, typer.Option(help="Lieu ; par défaut la mairie de la commune.")] = "",
    address: Annotated[str, typer.Option(help="Adresse du lieu, obligatoire pour un lieu nouveau.")] = "",
    capacity: Annotated[str, typer.Option(help="Nombre de places (1 à 30).")] = "6",
    adviser: Annotated[str, typer.Option(help="Conseiller responsable (nom enregistré).")] = "",
    as_json: JsonOption = False,
    as_: AsOption = None,
) -> None:
    """Planifier un atelier."""
    fields = WorkshopFields(
        date=date,
        start=start,
        end=end,
        commune=commune,
        level=level,
        topic=topic,
        venue=venue,
        address=address,
        capacity=capacity,
    )

    async def action(ctx: Context) -> None:
        workshop = await add_workshop(ctx=ctx, fields=fields, adviser=adviser or None, actor=await acting(ctx, as_))
        if as_json:
            print_json(workshop_json(workshop, ctx))
        else:
            console.print(f"Créé : {_describe(workshop, ctx)}, {workshop.capacity} places.", highlight=False)

    act(action)


@app.command("list")
def list_(
    show_all: Annotated[bool, typer.Option("--all", help="Aussi les ateliers passés et annulés.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Les ateliers à venir, avec le nombre d'inscrits et de personnes en attente."""

    async def action(ctx: Context) -> None:
        found = await list_workshops(ctx=ctx, upcoming_only=not show_all, include_cancelled=show_all)
        if as_json:
            print_json([workshop_json(w, ctx) for w in found])
        elif not found:
            console.print("Aucun atelier à venir." if not show_all else "Aucun atelier.")
        else:
            console.print(workshops_table(found, ctx))

    act(action)


@app.command("roster")
def roster_(
    workshop_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro de l'atelier.")],
    as_json: JsonOption = False,
    csv: ListCsvOption = None,
) -> None:
    """Qui est inscrit, qui attend, ce que chacun veut apprendre, qui a confirmé."""

    async def action(ctx: Context) -> None:
        found = await roster(ctx=ctx, workshop_id=workshop_id)
        if csv is not None:
            write_csv(csv, roster_csv(found, tz=ctx.tz))
            return
        if as_json:
            print_json(
                {
                    "workshop": workshop_json(found.workshop, ctx),
                    "enrolments": [enrolment_json(e) for e in found.enrolments],
                }
            )
            return
        w = found.workshop
        console.print(f"{_describe(w, ctx)[0].upper()}{_describe(w, ctx)[1:]}", highlight=False)
        console.print(
            f"{w.seated} inscrit(s) sur {w.capacity} places, {w.waiting} en attente, {w.confirmed} confirmé(s).",
            highlight=False,
        )
        if found.enrolments:
            console.print(roster_table(found))
            if any(e.channel is None for e in found.enrolments):
                console.print("Canal « aucun » : aucun message ne peut atteindre cette personne (atelier calls list).")

    act(action)


COLUMNS_READ = "date, début, fin, commune, lieu, adresse, niveau, thème, places, conseiller"


def write_csv(path: Path, data: bytes) -> None:
    """A spreadsheet for French Excel; ``-`` writes it on standard output."""
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        path.write_bytes(data)
    except OSError as exc:
        fail(f"impossible d'écrire {path} ({exc.strerror}).")
    console.print(f"Fichier écrit : {path} (à ouvrir avec Excel ou LibreOffice).", highlight=False)


def _read(file: Path) -> bytes:
    if str(file) == "-":
        return sys.stdin.buffer.read()
    try:
        return file.read_bytes()
    except FileNotFoundError:
        fail(f"le fichier {file} n'existe pas.")
    except IsADirectoryError:
        fail(f"{file} est un dossier, pas un fichier CSV.")
    except OSError as exc:
        fail(f"impossible de lire {file} ({exc.strerror}).")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(metavar="FICHIER.csv", help="Le planning (CSV ; « - » lit l'entrée).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Vérifier le fichier sans rien enregistrer.")] = False,
    as_: AsOption = None,
) -> None:
    """Importer un planning (tableur CSV) : toutes les lignes, ou aucune si l'une est fausse."""
    data = _read(file)

    async def action(ctx: Context) -> None:
        result = await import_planning(ctx=ctx, data=data, dry_run=dry_run, actor=await acting(ctx, as_))
        if result.ignored_columns:
            console.print(
                f"[yellow]Attention :[/yellow] colonne(s) ignorée(s), non reconnue(s) : "
                f"{', '.join(result.ignored_columns)}. Colonnes lues : {COLUMNS_READ}.",
                highlight=False,
            )
        if not result.ok:
            for error in result.errors:
                errors.print(f"  {error}", highlight=False)
            count = len(result.errors)
            fail(f"rien n'a été importé : {count} erreur{'s' if count > 1 else ''} à corriger dans {file.name}.")
        already = f", {result.already} déjà présent{'s' if result.already > 1 else ''}" if result.already else ""
        if dry_run:
            console.print(
                f"Fichier correct : {result.created} atelier(s) à importer{already}. Rien n'a été enregistré "
                "(--dry-run).",
                highlight=False,
            )
        else:
            ids = f" : n° {', '.join(map(str, result.created_ids))}" if result.created_ids else ""
            console.print(f"{result.created} atelier(s) importé(s){ids}{already}.", highlight=False)

    act(action)


@app.command("cancel")
def cancel(
    workshop_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro de l'atelier.")],
    reason: Annotated[str, typer.Option("--reason", help="La raison, donnée aux personnes inscrites.")],
    author: AuthorOption = None,
    yes: YesOption = False,
) -> None:
    """Annuler un atelier ; chaque inscrit ou personne en attente est prévenu, et d'autres ateliers proposés."""

    async def preview(ctx: Context) -> str:
        report = await cancel_workshop_and_notify(
            ctx=ctx, workshop_id=workshop_id, reason=reason, actor=await acting(ctx, author), preview=True
        )
        w = report.workshop
        return f"Annuler l'{_describe(w, ctx)} ? {_concerned(w)}."

    confirm_or_refuse(act(preview), yes=yes)

    async def action(ctx: Context) -> None:
        actor = await acting(ctx, author)
        report = await cancel_workshop_and_notify(ctx=ctx, workshop_id=workshop_id, reason=reason, actor=actor)
        console.print(f"Atelier n°{workshop_id} annulé. {_concerned(report.workshop)}.", highlight=False)
        for line in report_lines(report, ctx.tz):
            console.print(line, highlight=False)

    act(action)


def _concerned(workshop: WorkshopSummary) -> str:
    people = workshop.seated + workshop.waiting
    if not people:
        return "Personne n'est inscrit"
    return f"Personnes concernées : {workshop.seated} inscrite(s), {workshop.waiting} en attente"


@app.command("move")
def move(
    workshop_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro de l'atelier.")],
    date: Annotated[str | None, typer.Option(help="Nouveau jour : JJ/MM/AAAA ou AAAA-MM-JJ.")] = None,
    start: Annotated[str | None, typer.Option(help="Nouvelle heure de début (la durée est gardée).")] = None,
    end: Annotated[str | None, typer.Option(help="Nouvelle heure de fin.")] = None,
    commune: Annotated[str | None, typer.Option(help="Nouvelle commune (lieu par défaut : la mairie).")] = None,
    venue: Annotated[str | None, typer.Option(help="Nouveau lieu.")] = None,
    address: Annotated[str | None, typer.Option(help="Adresse du nouveau lieu, s'il est nouveau.")] = None,
    author: AuthorOption = None,
    yes: YesOption = False,
) -> None:
    """Déplacer un atelier (date, horaire ou lieu) ; chaque inscrit ou personne en attente est prévenu."""
    change = MoveRequest(date=date, start=start, end=end, commune=commune, venue=venue, address=address)

    async def preview(ctx: Context) -> str:
        report = await move_workshop_and_notify(
            ctx=ctx, workshop_id=workshop_id, change=change, actor=await acting(ctx, author), preview=True
        )
        assert report.new is not None  # noqa: S101 - a move always has a new place and time
        new = f"{when_fr(report.new.starts_at, ctx.tz)} – {report.new.ends_at.astimezone(ctx.tz):%H:%M}"
        return (
            f"Déplacer l'{_describe(report.workshop, ctx)} au {new}, {report.new.venue} "
            f"({report.new.commune}) ? {_concerned(report.workshop)}."
        )

    confirm_or_refuse(act(preview), yes=yes)

    async def action(ctx: Context) -> None:
        actor = await acting(ctx, author)
        report = await move_workshop_and_notify(ctx=ctx, workshop_id=workshop_id, change=change, actor=actor)
        assert report.new is not None  # noqa: S101 - a move always has a new place and time
        console.print(
            f"Atelier n°{workshop_id} déplacé au {when_fr(report.new.starts_at, ctx.tz)}, {report.new.venue} "
            f"({report.new.commune}). {_concerned(report.workshop)}.",
            highlight=False,
        )
        for line in report_lines(report, ctx.tz):
            console.print(line, highlight=False)

    act(action)


@app.command("edit")
def edit(
    workshop_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro de l'atelier.")],
    capacity: Annotated[
        str | None, typer.Option("--capacity", help="Nouveau nombre de places (plus : la liste d'attente en profite).")
    ] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Nouveau thème.")] = None,
    adviser: Annotated[
        str | None, typer.Option("--adviser", help="Conseiller responsable (nom enregistré, ou « aucun »).")
    ] = None,
    as_: AsOption = None,
    yes: YesOption = False,
) -> None:
    """Modifier un atelier sans l'annuler : places (en plus : les personnes en attente ont une place, dans l'ordre,
    et sont prévenues ; en moins : jamais sous le nombre d'inscrits), thème, conseiller responsable."""
    change = WorkshopEdit(capacity=capacity, topic=topic, adviser=adviser)

    async def preview(ctx: Context) -> str:
        actor = await acting(ctx, as_)
        report = await edit_workshop_and_notify(
            ctx=ctx, workshop_id=workshop_id, edit=change, actor=actor, preview=True
        )
        lines = edit_lines(report, ctx.tz)
        return f"Modifier l'{_describe(report.workshop, ctx)} ?\n" + "\n".join(f"  {line}" for line in lines) + "\n"

    confirm_or_refuse(act(preview) + "Confirmer", yes=yes)

    async def action(ctx: Context) -> None:
        actor = await acting(ctx, as_)
        report = await edit_workshop_and_notify(ctx=ctx, workshop_id=workshop_id, edit=change, actor=actor)
        console.print(f"Atelier n°{workshop_id} modifié.", highlight=False)
        for line in edit_lines(report, ctx.tz):
            console.print(line, highlight=False)

    act(action)


@app.command("attendance")
def attendance(
    workshop_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro de l'atelier.")],
    present: Annotated[
        list[int] | None, typer.Option("--present", help="N° de résident venu (répétable ; voir roster).")
    ] = None,
    absent: Annotated[list[int] | None, typer.Option("--absent", help="N° de résident absent (répétable).")] = None,
    as_: AsOption = None,
) -> None:
    """Noter qui est venu (sur un terminal, sans --present ni --absent : une question par personne, puis les
    personnes venues sans inscription)."""
    came, missed = list(present or []), list(absent or [])
    walk_ins: list[WalkInTyped] = []
    if not came and not missed:
        came, missed, walk_ins = _ask_attendance(workshop_id)

    async def action(ctx: Context) -> None:
        actor = await acting(ctx, as_)
        if came or missed:
            done = await mark_attendance(ctx=ctx, workshop_id=workshop_id, present=came, absent=missed, actor=actor)
            counts = Counter(status.value for status in done.marked.values())
            console.print(
                f"Présences de l'atelier n°{workshop_id} : {counts['attended']} présent(s), "
                f"{counts['absent']} absent(s).",
                highlight=False,
            )
            for rid, status in done.marked.items():
                console.print(f"  n°{rid} {done.names[rid]} : {ENROLMENT_STATUS_FR[status]}", highlight=False)
        for typed in walk_ins:
            added = await add_walk_in(
                ctx=ctx, workshop_id=workshop_id, name=typed.name, phone=typed.phone, commune=typed.commune,
                actor=actor, owner_confirmed=True,  # asked when it was typed
            )  # fmt: skip
            console.print(f"  n°{added.resident_id} {added.name} : présent (sans inscription)", highlight=False)

    act(action)


@dataclass(frozen=True)
class WalkInTyped:
    name: str
    phone: str | None
    commune: str | None


def _ask_attendance(workshop_id: int) -> tuple[list[int], list[int], list[WalkInTyped]]:
    """On a terminal: each person holding a seat, one question each; then who came without signing up."""
    if not common.is_terminal():  # looked up at call time: tests answer through standard input
        fail("indiquez --present ID et/ou --absent ID (ou lancez la commande sur un terminal). Rien n'a été changé.")

    async def load(ctx: Context) -> Roster:
        return await attendance_sheet(ctx=ctx, workshop_id=workshop_id)

    found = act(load)  # refused here, before any question, when the workshop has not started
    came: list[int] = []
    missed: list[int] = []
    for entry in found.enrolments:
        already = entry.status.value == "attended" or (entry.status.value == "seated" and entry.confirmed is not False)
        here = ask_yes_no(f"{entry.name or '(sans nom)'} était là ?", default=already)
        (came if here else missed).append(entry.resident_id)
    walk_ins = _ask_walk_ins()
    if not came and not missed and not walk_ins:
        fail(
            "personne n'avait de place dans cet atelier, et personne n'est venu sans inscription. Rien n'a été changé."
        )
    return came, missed, walk_ins


def _ask_walk_ins() -> list[WalkInTyped]:
    walk_ins: list[WalkInTyped] = []
    while True:
        name = ask_text("Quelqu'un est venu sans être inscrit ? Son prénom et son nom (Entrée : personne)").strip()
        if not name:
            return walk_ins
        phone = _ask_phone()
        commune = ask_text("Sa commune (Entrée : inconnue)").strip() or None
        walk_ins.append(WalkInTyped(name, phone, commune))


def _ask_phone() -> str | None:
    while True:
        phone = ask_text("Son téléphone, s'il accepte de recevoir nos messages (Entrée : aucun)").strip()
        if not phone:
            return None
        try:
            return check_phone(phone)
        except WorkshopError as exc:
            console.print(f"{exc} Recommencez.", highlight=False)


@app.command("walk-in")
def walk_in(
    workshop_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro de l'atelier.")],
    name: Annotated[str, typer.Option("--name", help="Prénom et nom de la personne venue.")],
    phone: Annotated[
        str | None, typer.Option("--phone", help="Son numéro, si elle accepte de recevoir nos messages.")
    ] = None,
    commune: Annotated[str | None, typer.Option("--commune", help="Sa commune.")] = None,
    as_: AsOption = None,
    yes: YesOption = False,
) -> None:
    """Noter présente une personne venue sans être inscrite (elle compte dans les chiffres ; avec un numéro, elle
    devient une personne inscrite, son accord donné de vive voix étant noté)."""

    def attempt(owner_confirmed: bool) -> WalkIn | NumberOfSomeoneElseError:
        async def action(ctx: Context) -> WalkIn | NumberOfSomeoneElseError:
            actor = await acting(ctx, as_)
            try:
                return await add_walk_in(
                    ctx=ctx, workshop_id=workshop_id, name=name, phone=phone, commune=commune, actor=actor,
                    owner_confirmed=owner_confirmed,
                )  # fmt: skip
            except NumberOfSomeoneElseError as owner:
                return owner

        return act(action)

    outcome = owner_confirmed_or_asked(
        attempt,
        lambda owner: (
            f"Le numéro {national(owner.phone)} est celui de « {owner.owner_name} » (personne "
            f"n°{owner.owner_id}). La noter présente ?"
        ),
        yes=yes,
    )
    if outcome.already:
        console.print(f"{outcome.name} était déjà notée présente à l'atelier n°{workshop_id}.", highlight=False)
        return
    known = "" if outcome.new_resident else " (personne déjà connue)"
    console.print(
        f"{outcome.name} (personne n°{outcome.resident_id}{known}) est notée présente à l'atelier n°{workshop_id}.",
        highlight=False,
    )
