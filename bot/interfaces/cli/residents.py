"""``atelier residents list|find|show|unenrol|move|erase``: the people, one person's record, and what an adviser
does for someone who phones. Translation only: the work is in ``bot.service.residents``.

A person is named by their number (``atelier residents list``), or by their name or phone number as typed
(« dupont », « 06 12 34 56 78 »): when that fits several people, they are listed and nothing is done."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Annotated, Any

import typer

from bot.context import Context
from bot.conversation.phones import national
from bot.conversation.texts import LEVEL_NAMES, and_fr, channel_name, rank_fr, when_fr
from bot.interfaces.cli.calls import call_json
from bot.interfaces.cli.common import (
    AsOption,
    acting,
    column,
    confirm_or_refuse,
    console,
    fail,
    is_wide,
    iso,
    listing,
    print_json,
)
from bot.interfaces.cli.french import french_app
from bot.interfaces.cli.workshops import LEVEL_SHORT, JsonOption, ListCsvOption, YesOption, act, write_csv
from bot.service.departures import DepartureGroup, departure_lines
from bot.service.exports import residents_csv
from bot.service.labels import CONSENT_FR, MESSAGE_STATUS_FR
from bot.service.reminders import Promoted
from bot.service.residents import (
    BookingLine,
    MessageLine,
    PersonMoved,
    ResidentRecord,
    ResidentSummary,
    Unenrolled,
    erase_resident_for,
    find_residents,
    get_resident,
    list_residents,
    move_person,
    resident_record,
    unenrol,
    upcoming_bookings,
)

app = french_app(help="Résidents : lister, trouver, fiche, désinscrire, changer d'atelier, effacer.")


def resident_json(resident: ResidentSummary, ctx: Context) -> dict[str, Any]:
    """SPEC §6: exactly these fields."""
    return {
        "id": resident.id,
        "name": resident.name,
        "phone": resident.phone,
        "telegram_chat_id": resident.telegram_chat_id,
        "commune": resident.commune,
        "level": resident.level.value if resident.level else None,
        "opted_out_sms": resident.opted_out_sms,
        "opted_out_telegram": resident.opted_out_telegram,
        "created_at": iso(resident.created_at, ctx),
    }


def _stops(resident: ResidentSummary) -> str:
    stops = [name for name, on in (("SMS", resident.opted_out_sms), ("Telegram", resident.opted_out_telegram)) if on]
    return ", ".join(stops)


@app.command("list")
def list_(
    as_json: JsonOption = False,
    csv: ListCsvOption = None,
) -> None:
    """Les résidents (numéros complets : pour appeler) ; les personnes effacées n'apparaissent pas."""

    async def action(ctx: Context) -> None:
        residents = await list_residents(ctx=ctx)
        if csv is not None:
            write_csv(csv, residents_csv(residents, tz=ctx.tz))
            return
        if as_json:
            print_json([resident_json(r, ctx) for r in residents])
            return
        if not residents:
            console.print("Aucun résident inscrit.")
            return
        wide = is_wide()
        table = listing("Résidents")
        column(table, "N°", keep=3, right=True)
        column(table, "Nom")
        column(table, "Téléphone", keep=14)
        if wide:
            column(table, "Telegram", keep=10)
        column(table, "Commune")
        column(table, "Niveau", keep=8)
        column(table, "STOP", keep=4)
        if wide:
            column(table, "Depuis", keep=10)
        for r in residents:
            since = [str(r.telegram_chat_id or "")] if wide else []
            table.add_row(
                str(r.id), r.name or "(sans nom)", national(r.phone) or ("Telegram" if r.telegram_chat_id else ""),
                *since, r.commune or "", LEVEL_SHORT[r.level.value] if r.level else "", _stops(r),
                *([f"{r.created_at.astimezone(ctx.tz):%d/%m/%Y}"] if wide else []),
            )  # fmt: skip
        console.print(table)

    act(action)


@app.command("erase")
def erase(
    resident_id: Annotated[int, typer.Argument(metavar="ID", help="Numéro du résident.")],
    yes: YesOption = False,
    as_: AsOption = None,
) -> None:
    """Effacer les données d'une personne à sa demande (comme OUBLIER) ; ses places vont aux personnes en attente."""

    async def look(ctx: Context) -> ResidentSummary:
        return await get_resident(ctx=ctx, resident_id=resident_id)

    resident = act(look)
    who = f"{resident.name or '(sans nom)'}, {national(resident.phone) or 'pas de numéro'}"
    confirm_or_refuse(f"Effacer définitivement les données de {who} ?", yes=yes)

    async def action(ctx: Context) -> None:
        erased = await erase_resident_for(ctx=ctx, resident_id=resident_id, actor=await acting(ctx, as_))
        promoted = f" {erased.promoted} personne(s) en attente ont reçu sa place." if erased.promoted else ""
        console.print(f"Données de la personne n°{resident_id} effacées.{promoted}", highlight=False)

    act(action)


# ---------------------------------------------------------------------------------------------------------------
# Finding someone, and their record

PersonArgument = Annotated[
    str, typer.Argument(metavar="PERSONNE", help="Son numéro de personne, son nom ou son téléphone.")
]


async def person(ctx: Context, text: str, *, changes: bool = True) -> ResidentSummary:
    """The one person ``text`` names: a person number, else a name or a phone number that fits only them.
    ``changes``: the command would change something (the refusal says nothing was)."""
    typed = text.strip()
    if typed.isdigit() and len(typed) <= 6:
        return await get_resident(ctx=ctx, resident_id=int(typed))
    found = await find_residents(ctx=ctx, text=typed)
    if len(found) != 1:
        fail(_not_one(typed, found) + (" Rien n'a été changé." if changes else ""))
    return found[0]


def _not_one(typed: str, found: list[ResidentSummary]) -> str:
    if not found:
        return f"personne ne correspond à « {typed} » (voir « atelier residents find »)."
    some = " ; ".join(f"n°{r.id} {r.name or '(sans nom)'} {national(r.phone)}".strip() for r in found[:5])
    return f"{len(found)} personnes correspondent à « {typed} » : {some}. Donnez son numéro."


@app.command("find")
def find(
    text: Annotated[
        str, typer.Argument(metavar="TEXTE", help="Un nom (« dupont ») ou un numéro (« 06 12 34 56 78 »).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Trouver une personne par son nom ou son numéro (accents, majuscules et espaces n'ont pas d'importance)."""

    async def action(ctx: Context) -> None:
        found = await find_residents(ctx=ctx, text=text)
        if as_json:
            print_json([resident_json(r, ctx) for r in found])
            return
        if not found:
            console.print(f"Personne ne correspond à « {text.strip()} ».", highlight=False)
            return
        table = listing(f"Personnes correspondant à « {text.strip()} »")
        column(table, "N°", keep=3, right=True)
        column(table, "Nom")
        column(table, "Téléphone", keep=14)
        column(table, "Commune")
        column(table, "Niveau", keep=8)
        for r in found:
            phone = national(r.phone) or ("Telegram" if r.telegram_chat_id else "")
            level = LEVEL_SHORT[r.level.value] if r.level else ""
            table.add_row(str(r.id), r.name or "(sans nom)", phone, r.commune or "", level)
        console.print(table)
        console.print("La fiche d'une personne : atelier residents show N°", highlight=False)

    act(action)


# Deliberately not bot.service.labels.ENROLMENT_STATUS_FR (« inscrit », « en attente »): phrased for the line of a
# person's history, « n°12 lundi 7 décembre…, Mairie : une place (2e position) ».
HISTORY_STATUS_FR = {
    "seated": "une place",
    "waiting": "liste d'attente",
    "cancelled": "désinscription",
    "attended": "présence",
    "absent": "absence",
}


def booking_json(line: BookingLine, ctx: Context) -> dict[str, Any]:
    return {
        "enrolment_id": line.enrolment_id,
        "workshop_id": line.workshop_id,
        "start": iso(line.starts_at, ctx),
        "end": iso(line.ends_at, ctx),
        "place": line.place,
        "level": line.level.value,
        "topic": line.topic,
        "workshop_status": "cancelled" if line.workshop_cancelled else "planned",
        "status": line.status.value,
        "position": line.position,
        "confirmed": line.confirmed,
        "by_adviser": line.by_adviser,
    }


def message_line_json(line: MessageLine, ctx: Context) -> dict[str, Any]:
    return {
        "id": line.id,
        "kind": line.kind.value,
        "channel": line.channel,
        "body": line.body,
        "due_at": iso(line.due_at, ctx),
        "sent_at": iso(line.sent_at, ctx),
        "status": line.status.value,
        "error": line.error,
        "workshop_id": line.workshop_id,
    }


def _booking_text(line: BookingLine, ctx: Context) -> str:
    status = HISTORY_STATUS_FR[line.status.value] + (f" ({rank_fr(line.position)} position)" if line.position else "")
    if line.status.value == "seated" and line.confirmed is not None:
        status += ", a répondu OUI au rappel" if line.confirmed else ", a répondu NON au rappel"
    cancelled = " — atelier annulé" if line.workshop_cancelled else ""
    return f"  n°{line.workshop_id} {when_fr(line.starts_at, ctx.tz)}, {line.place} : {status}{cancelled}"


def message_line(line: MessageLine, tz: tzinfo) -> str:
    """One line, cut to the terminal's width: when, what became of it, the start of the text."""
    when = f"{(line.sent_at or line.due_at).astimezone(tz):%d/%m %H:%M}"
    status = MESSAGE_STATUS_FR[line.status]
    head = f"  {when} {status} ({channel_name(line.channel)}) : "
    body = " ".join(line.body.split())
    room = max(console.width - len(head) - 1, 20)
    return head + (body if len(body) <= room else body[: room - 1] + "…")


def print_record(record: ResidentRecord, ctx: Context) -> None:
    r = record.resident
    console.print(f"Personne n°{r.id} : {r.name or '(sans nom)'}", highlight=False)
    reach = [national(r.phone) if r.phone else "pas de numéro"]
    if r.telegram_chat_id:
        reach.append(f"Telegram {r.telegram_chat_id}")
    stops = _stops(r)
    reach += [f"a demandé STOP ({stops})"] if stops else []
    reach += ["numéro fixe : pas de SMS"] if r.sms_unreachable else []
    console.print(f"  {' — '.join(reach)}", highlight=False)
    level = say_level(r)
    console.print(f"  {r.commune or 'commune inconnue'}{level} ; souhaits : {', '.join(r.interests) or '—'}")
    if r.consent_at:
        consent = CONSENT_FR.get(r.consent_channel or "", r.consent_channel or "")
        console.print(f"  Accord donné le {r.consent_at.astimezone(ctx.tz):%d/%m/%Y} ({consent})", highlight=False)
    for title, lines in (("Ateliers à venir", record.upcoming), ("Ateliers passés", record.past)):
        console.print(f"{title} :" if lines else f"{title} : aucun", highlight=False)
        for line in lines:
            console.print(_booking_text(line, ctx), highlight=False)
    console.print("Messages :" if record.messages else "Messages : aucun", highlight=False)
    for message in record.messages:
        console.print(message_line(message, ctx.tz), highlight=False)
    console.print("Appels :" if record.calls else "Appels : aucun", highlight=False)
    for call in record.calls:
        done = (
            f"fait le {call.done_at.astimezone(ctx.tz):%d/%m} par {call.done_by} : {call.outcome}"
            if call.done_at
            else "à faire"
        )
        console.print(f"  n°{call.id} {call.kind_label} — {done}", highlight=False)


def say_level(resident: ResidentSummary) -> str:
    return f", niveau {LEVEL_NAMES[resident.level]}" if resident.level else ""


@app.command("show")
def show(who: PersonArgument, as_json: JsonOption = False) -> None:
    """La fiche d'une personne : ses ateliers passés et à venir, ses messages et ce qu'ils sont devenus, ses appels."""

    async def action(ctx: Context) -> None:
        found = await person(ctx, who, changes=False)
        record = await resident_record(ctx=ctx, resident_id=found.id)
        if as_json:
            print_json(
                {
                    "resident": resident_json(record.resident, ctx)
                    | {
                        "commune_insee": record.resident.commune_insee,
                        "interests": list(record.resident.interests),
                        "sms_unreachable": record.resident.sms_unreachable,
                        "consent_at": iso(record.resident.consent_at, ctx),
                        "consent_channel": record.resident.consent_channel,
                    },
                    "upcoming": [booking_json(b, ctx) for b in record.upcoming],
                    "past": [booking_json(b, ctx) for b in record.past],
                    "messages": [message_line_json(m, ctx) for m in record.messages],
                    "calls": [call_json(c, ctx) for c in record.calls],
                }
            )
            return
        print_record(record, ctx)

    act(action)


# ---------------------------------------------------------------------------------------------------------------
# Someone phones to cancel, or to change workshop


async def _booking(ctx: Context, who: str, workshop_id: int | None) -> tuple[ResidentSummary, BookingLine, str]:
    """The person, and their booking named by ``--workshop`` / ``--from`` or their only one, with its date in French."""
    resident = await person(ctx, who)
    bookings = await upcoming_bookings(ctx=ctx, resident_id=resident.id)
    name = resident.name or "cette personne"
    chosen = [b for b in bookings if workshop_id is None or b.workshop_id == workshop_id]
    if len(chosen) != 1:
        if workshop_id is not None:
            fail(f"{name} n'a pas de place à l'atelier n°{workshop_id}. Rien n'a été changé.")
        if not chosen:
            fail(f"{name} n'est inscrite à aucun atelier à venir. Rien n'a été changé.")
        listed = " ; ".join(f"n°{b.workshop_id} {when_fr(b.starts_at, ctx.tz)}" for b in chosen)
        fail(f"plusieurs ateliers ({listed}) : indiquez lequel avec --workshop. Rien n'a été changé.")
    return resident, chosen[0], when_fr(chosen[0].starts_at, ctx.tz)


def given_line(promoted: Sequence[Promoted]) -> str | None:
    """Who gets the seat given up — one person, or the people who share a phone — and how each one learns it:
    "Sa place va à Colette Martin (personne n°3) et Bernard Martin (personne n°4), prévenues par message." """
    if not promoted:
        return None
    groups = []
    for told in (True, False):  # the people a message tells, then the ones to phone
        people = [p for p in promoted if p.told is told]
        if not people:
            continue
        named = and_fr([f"{p.name or '(sans nom)'} (personne n°{p.resident_id})" for p in people])
        how = "à appeler (atelier calls list)"
        if told:
            how = f"{'prévenue' if len(people) == 1 else 'prévenues'} par message"
        groups.append(f"{named}, {how}")
    return f"Sa place va à {', et à '.join(groups)}."


def _told_lines(
    told: bool, promoted: Sequence[Promoted], departures: Sequence[DepartureGroup], ctx: Context
) -> list[str]:
    lines = [] if told else ["Aucun message ne peut lui parvenir : c'est à vous de le lui dire."]
    given = given_line(promoted)
    lines += [given] if given else []
    lines += [f"Messages : {line}" for line in departure_lines(departures, ctx.tz)]
    return lines


def _told_json(done: Unenrolled | PersonMoved, ctx: Context) -> dict[str, Any]:
    """What ``unenrol --json`` and ``move --json`` share: the person's message, who got the seat (every person of
    the party), when the messages leave."""
    return {
        "told": done.told,
        "channel": done.channel,
        "message": done.message,
        "promoted": [{"resident_id": p.resident_id, "name": p.name, "told": p.told} for p in done.promoted],
        "departures": [
            {"count": g.count, "leaves_at": iso(g.leaves_at, ctx), "reasons": [r.value for r in g.reasons]}
            for g in done.departures
        ],
    }


@app.command("unenrol")
def unenrol_(
    who: PersonArgument,
    workshop: Annotated[int | None, typer.Option("--workshop", help="L'atelier (s'il y en a plusieurs).")] = None,
    as_: AsOption = None,
    as_json: JsonOption = False,
    yes: YesOption = False,
) -> None:
    """Désinscrire une personne qui a appelé pour annuler : sa place va à la première personne en attente."""

    resident, booking, when = act(lambda ctx: _booking(ctx, who, workshop))
    confirm_or_refuse(
        f"Désinscrire {resident.name or '(sans nom)'} de l'atelier n°{booking.workshop_id} du {when} ?", yes=yes
    )

    async def action(ctx: Context) -> None:
        actor = await acting(ctx, as_)
        done = await unenrol(ctx=ctx, resident_id=resident.id, workshop_id=booking.workshop_id, actor=actor)
        if as_json:
            print_json(
                {
                    "resident_id": done.resident_id,
                    "workshop_id": done.workshop_id,
                    "was": done.was.value,
                    **_told_json(done, ctx),
                }
            )
            return
        console.print(
            f"C'est fait : {resident.name or 'la personne'} ne vient plus à l'atelier n°{done.workshop_id}.",
            highlight=False,
        )
        for line in _told_lines(done.told, done.promoted, done.departures, ctx):
            console.print(line, highlight=False)

    act(action)


@app.command("move")
def move(
    who: PersonArgument,
    to: Annotated[int, typer.Option("--to", help="Le nouvel atelier.")],
    from_: Annotated[
        int | None, typer.Option("--from", help="L'atelier qu'elle quitte (s'il y en a plusieurs).")
    ] = None,
    waiting: Annotated[
        bool, typer.Option("--waiting", help="Si le nouvel atelier est complet, la mettre sur sa liste d'attente.")
    ] = False,
    as_: AsOption = None,
    as_json: JsonOption = False,
    yes: YesOption = False,
) -> None:
    """Changer une personne d'atelier en une fois : une place dans le nouveau, la sienne à la personne en attente."""

    resident, booking, _ = act(lambda ctx: _booking(ctx, who, from_))
    confirm_or_refuse(
        f"Passer {resident.name or '(sans nom)'} de l'atelier n°{booking.workshop_id} à l'atelier n°{to} ?", yes=yes
    )

    async def action(ctx: Context) -> None:
        actor = await acting(ctx, as_)
        done = await move_person(
            ctx=ctx, resident_id=resident.id, from_workshop_id=booking.workshop_id, to_workshop_id=to, actor=actor,
            allow_waiting=waiting,
        )  # fmt: skip
        if as_json:
            print_json(
                {
                    "resident_id": done.resident_id,
                    "from_workshop_id": done.from_workshop_id,
                    "to_workshop_id": done.to_workshop_id,
                    "status": "seated" if done.seated else "waiting",
                    "position": done.position,
                    **_told_json(done, ctx),
                }
            )
            return
        where = (
            "a une place" if done.seated else f"est en {rank_fr(done.position or 1)} position sur la liste d'attente"
        )
        console.print(
            f"{resident.name or 'La personne'} quitte l'atelier n°{done.from_workshop_id} et {where} à l'atelier "
            f"n°{done.to_workshop_id}.",
            highlight=False,
        )
        for line in _told_lines(done.told, done.promoted, done.departures, ctx):
            console.print(line, highlight=False)

    act(action)
