"""« Statistiques »: charts of sign-ups per week, people per commune and level, attendance and no-shows,
reminders answered, and the figures in people (signed up, came, came twice, attendance rate), over a period chosen
by the adviser; the spreadsheets for Excel (the figures, La Coop's activity records of a month) as downloads."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from starlette.requests import Request
from starlette.responses import Response

from bot.conversation.texts import LEVEL_NAMES
from bot.interfaces.web.base import Web, csv_download
from bot.interfaces.web.charts import Series, horizontal_bars
from bot.service.accounts import SignedIn
from bot.service.activities import month_activities
from bot.service.exports import activities_csv, people_stats_csv
from bot.service.people_stats import people_stats
from bot.service.stats import weekly_figures, workshop_stats
from bot.service.workshops import WorkshopError

DEFAULT_WEEKS = 12
LONGEST = timedelta(days=400)


def _period(web: Web, request: Request) -> tuple[date, date, list[str]]:
    """The first and last day asked for (the last twelve weeks by default); problems are said, not raised."""
    today = web.ctx.now().astimezone(web.ctx.tz).date()
    problems: list[str] = []
    until = today
    since = today - timedelta(weeks=DEFAULT_WEEKS)
    for name in ("du", "au"):
        raw = request.query_params.get(name, "")
        if not raw:
            continue
        try:
            value = date.fromisoformat(raw)
        except ValueError:
            problems.append(f"Date illisible « {raw[:20]} » : utilisez le calendrier ou AAAA-MM-JJ.")
            continue
        if name == "du":
            since = value
        else:
            until = value
    if until < since:
        problems.append("La fin de la période vient avant son début : période par défaut affichée.")
        since, until = today - timedelta(weeks=DEFAULT_WEEKS), today
    if until - since > LONGEST:
        since = until - LONGEST
        problems.append("Période limitée à 400 jours.")
    return since, until, problems


def _bounds(web: Web, since_day: date, until_day: date) -> tuple[datetime, datetime]:
    """The first day at midnight to the day after the last, local time."""
    tz = web.ctx.tz
    return datetime.combine(since_day, time(0), tzinfo=tz), datetime.combine(
        until_day + timedelta(days=1), time(0), tzinfo=tz
    )


def _last_month(web: Web) -> str:
    """La Coop's records are written at the start of a month for the month before."""
    first = web.ctx.now().astimezone(web.ctx.tz).date().replace(day=1)
    return f"{first - timedelta(days=1):%Y-%m}"


async def page(web: Web, request: Request, user: SignedIn) -> Response:
    since_day, until_day, problems = _period(web, request)
    since, until = _bounds(web, since_day, until_day)
    figures = await workshop_stats(ctx=web.ctx, since=since, until=until)
    weeks = await weekly_figures(ctx=web.ctx, since=since, until=until)
    week_labels = [f"sem. du {w.week:%d/%m}" for w in weeks]
    per_commune: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_level: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in figures.rows:
        for table, key in ((per_commune, row.commune), (per_level, LEVEL_NAMES[row.level] if row.level else "?")):
            table[key][0] += row.signed_up
            table[key][1] += row.seated
            table[key][2] += row.came
    communes = sorted(per_commune)
    levels = [name for name in LEVEL_NAMES.values() if name in per_level] + (["?"] if "?" in per_level else [])
    people = [Series("inscrits", []), Series("places tenues", []), Series("venus", [])]

    def series(table: dict[str, list[int]], keys: list[str]) -> list[Series]:
        return [Series(s.name, [table[k][i] for k in keys]) for i, s in enumerate(people)]

    total = figures.total
    charts = {
        "signups": horizontal_bars(
            "Inscriptions par semaine", week_labels, [Series("inscriptions", [w.signed_up for w in weeks])]
        ),
        "attendance": horizontal_bars(
            "Présences et absences par semaine",
            week_labels,
            [Series("présents", [w.attended for w in weeks]), Series("absents", [w.absent for w in weeks])],
        ),
        "communes": horizontal_bars("Personnes par commune", communes, series(per_commune, communes)),
        "levels": horizontal_bars("Personnes par niveau", levels, series(per_level, levels)),
        "reminders": horizontal_bars(
            "Rappels répondus", ["rappels"], [Series("envoyés", [total.reminded]), Series("répondus", [total.answered])]
        ),
    }
    return web.render(
        request,
        "stats.html",
        user=user,
        since=since_day,
        until=until_day,
        problems=problems,
        charts=charts,
        total=total,
        rows=figures.rows,
        people=await people_stats(ctx=web.ctx, since=since, until=until),
        month=_last_month(web),
    )


async def people_download(web: Web, request: Request, _user: SignedIn) -> Response:
    """The figures in people of the period shown, for Excel."""
    since_day, until_day, _ = _period(web, request)
    since, until = _bounds(web, since_day, until_day)
    data = people_stats_csv(await people_stats(ctx=web.ctx, since=since, until=until), tz=web.ctx.tz)
    return csv_download(data, f"statistiques-{since_day:%Y-%m-%d}-{until_day:%Y-%m-%d}.csv")


async def coop_download(web: Web, request: Request, user: SignedIn) -> Response:
    """La Coop's activity records of a month (``mois``: AAAA-MM), one line per workshop held, for Excel."""
    month = request.query_params.get("mois", "").strip()[:20] or _last_month(web)
    try:
        found = await month_activities(ctx=web.ctx, month=month)
    except WorkshopError as exc:
        return web.render(request, "refused.html", user=user, status=400, errors=exc.problems, back="/statistiques")
    return csv_download(activities_csv(found, tz=web.ctx.tz), f"la-coop-activites-{found.month}.csv")
