"""Spreadsheets advisers open in Excel (issue 14, item 12): rosters, residents, statistics, La Coop's activity
records, as CSV in the form French Excel opens directly with a double click — ``;`` between cells, UTF-8 with a
byte order mark (without it Excel reads the accents as Windows-1252), CRLF line ends, decimal commas, dates
JJ/MM/AAAA and phone numbers as they are dialled.

Pure functions of the service's read views: the command line writes the bytes to a file, the web console serves
them as a download.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo

from bot.conversation.phones import national
from bot.conversation.texts import LEVEL_NAMES, channel_name
from bot.service.activities import MonthActivities, duration_fr
from bot.service.labels import ENROLMENT_STATUS_FR
from bot.service.people_stats import PeopleFigures, PeopleStats
from bot.service.residents import ResidentSummary
from bot.service.workshops import Roster

Cell = str | int | float | bool | date | datetime | None


def cell(value: Cell, tz: tzinfo) -> str:
    """A value as French Excel reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, datetime):
        return f"{value.astimezone(tz):%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def excel_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]], *, tz: tzinfo) -> bytes:
    """The bytes of a CSV file French Excel opens as a table."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value, tz) for value in row])
    return out.getvalue().encode("utf-8-sig")


def roster_csv(found: Roster, *, tz: tzinfo) -> bytes:
    """One workshop's roster: who is seated, who waits, what each wants to learn, who confirmed."""
    header = ["N° personne", "Nom", "Téléphone", "Telegram", "Canal", "Statut", "Place en attente", "Souhaits"]
    header += ["A confirmé"]
    rows = [
        [
            e.resident_id,
            e.name,
            national(e.phone),
            e.telegram_chat_id,
            channel_name(e.channel) if e.channel else "aucun",
            ENROLMENT_STATUS_FR[e.status],
            e.position,
            ", ".join(e.interests),
            e.confirmed,
        ]
        for e in found.enrolments
    ]
    return excel_csv(header, rows, tz=tz)


def residents_csv(residents: Sequence[ResidentSummary], *, tz: tzinfo) -> bytes:
    header = ["N° personne", "Nom", "Téléphone", "Telegram", "Commune", "Niveau", "Souhaits", "STOP SMS"]
    header += ["STOP Telegram", "Numéro fixe", "Accord donné le", "Inscrit le"]
    rows = [
        [
            r.id,
            r.name,
            national(r.phone),
            r.telegram_chat_id,
            r.commune,
            LEVEL_NAMES[r.level] if r.level else None,
            ", ".join(r.interests),
            r.opted_out_sms,
            r.opted_out_telegram,
            r.sms_unreachable,
            r.consent_at,
            r.created_at,
        ]
        for r in residents
    ]
    return excel_csv(header, rows, tz=tz)


FIGURES_HEADER = [
    "Nouvelles personnes", "Personnes inscrites", "Personnes venues", "Venues 2 fois ou plus", "Ateliers tenus",
    "Ateliers annulés", "Présences", "Absences", "Taux de présence",
]  # fmt: skip


def figures_cells(figures: PeopleFigures) -> list[Cell]:
    return [
        figures.new_people, figures.signed_up, figures.came, figures.came_twice, figures.workshops_held,
        figures.workshops_cancelled, figures.present, figures.no_shows, figures.attendance_rate,
    ]  # fmt: skip


def people_stats_csv(stats: PeopleStats, *, tz: tzinfo) -> bytes:
    """One line for the total, then one per commune, level and month: the group in the first two columns."""
    rows: list[list[Cell]] = [["Total", "", *figures_cells(stats.total)]]
    for group, lines in (("Commune", stats.by_commune), ("Niveau", stats.by_level), ("Mois", stats.by_month)):
        rows += [[group, line.label, *figures_cells(line.figures)] for line in lines]
    return excel_csv(["Regroupement", "Valeur", *FIGURES_HEADER], rows, tz=tz)


def activities_csv(activities: MonthActivities, *, tz: tzinfo) -> bytes:
    """La Coop's records of a month, one line per workshop held, in the order of its form."""
    header = ["Date", "Début", "Fin", "Durée", "Titre de l'atelier", "Lieu", "Adresse", "Code postal", "Commune"]
    header += ["Thématiques", "Niveau", "Participants", "Conseiller", "Présences notées", "N° atelier"]
    rows = [
        [
            r.starts_at.astimezone(tz).date(),
            f"{r.starts_at.astimezone(tz):%H:%M}",
            f"{r.ends_at.astimezone(tz):%H:%M}",
            duration_fr(r.duration_minutes),
            r.title,
            r.place,
            r.address,
            r.postcode,
            r.commune,
            ", ".join(r.themes),
            r.level,
            r.participants,
            r.adviser,
            r.attendance_marked,
            r.workshop_id,
        ]
        for r in activities.records
    ]
    return excel_csv(header, rows, tz=tz)


__all__ = ["activities_csv", "cell", "excel_csv", "people_stats_csv", "residents_csv", "roster_csv"]
