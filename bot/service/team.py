"""The advisers' team: who they are, which communes they cover, who may use the advisers' Telegram commands.

Refusals are ``TeamError`` (a ``WorkshopError``: French sentence fragments for the adviser, raised before anything
is written), so every interface reports them the same way. What advisers do for residents is elsewhere:
``bot.service.residents`` (list, erase) and ``bot.service.phone_enrolment`` (enrol someone who phoned).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.context import Context
from bot.conversation.phones import to_e164
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.planning_csv import WorkshopFieldsError, find_commune, plain
from bot.service.reach import adviser_address, advisers_for
from bot.service.workshops import WorkshopError
from storage.models import Adviser

log = logging.getLogger(__name__)

ADMIN, ADVISER = "admin", "adviser"  # an adviser's role; the admin (coordinator) manages the console accounts
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")

MAX_NAME = 200


class TeamError(WorkshopError):
    """A refusal for the adviser (nothing was changed)."""


class AmbiguousAdviserError(TeamError):
    """The name given fits several advisers."""


@dataclass(frozen=True)
class AdviserSummary:
    """An adviser as the interfaces show them (full numbers: advisers phone each other)."""

    id: int
    name: str
    phone: str | None
    telegram_user_id: int | None
    communes: tuple[str, ...]  # INSEE codes of the communes they cover; empty: the whole territory
    role: str
    login: str | None
    created_at: datetime


def _summary(adviser: Adviser) -> AdviserSummary:
    return AdviserSummary(
        id=adviser.id,
        name=adviser.name,
        phone=adviser.phone,
        telegram_user_id=adviser.telegram_user_id,
        communes=tuple(adviser.communes or ()),
        role=adviser.role,
        login=adviser.login,
        created_at=adviser.created_at,
    )


# ---------------------------------------------------------------------------------------------------------------
# Advisers


def check_phone(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    number = to_e164(raw)
    if number is None:
        raise TeamError(f"numéro de téléphone invalide « {raw.strip()} » (exemple : 06 12 34 56 78)")
    return number


def check_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise TeamError("le nom manque")
    if len(name) > MAX_NAME:
        raise TeamError(f"le nom est trop long ({len(name)} caractères, {MAX_NAME} au plus)")
    return name


def commune_codes(ctx: Context, names: Sequence[str]) -> list[str]:
    """INSEE codes of communes written as advisers write them ("st victor", "03410"…); refuses unknown ones."""
    codes: list[str] = []
    problems: list[str] = []
    for name in names:
        try:
            code = find_commune(name, ctx.territory).insee
        except WorkshopFieldsError as exc:
            problems.extend(exc.problems)
            continue
        if code not in codes:
            codes.append(code)
    if problems:
        raise TeamError(*problems)
    return codes


def commune_names(ctx: Context, codes: Sequence[str]) -> list[str]:
    return [(c.name if (c := ctx.territory.commune(code)) else code) for code in codes]


def clean_email(raw: str) -> str:
    """An adviser's console login: the e-mail address, trimmed and lower-cased; refuses what is not one."""
    email = raw.strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise TeamError(f"adresse e-mail invalide « {raw.strip()[:80]} » (exemple : prenom.nom@example.fr)")
    return email


async def add_adviser(
    *,
    ctx: Context,
    name: str,
    actor: Actor,
    phone: str | None = None,
    telegram_id: int | None = None,
    communes: Sequence[str] = (),
    email: str | None = None,
    admin: bool | None = None,
) -> AdviserSummary:
    """Register an adviser, or complete the one of that name (the demo creates advisers without a phone).

    ``communes``: names or INSEE codes of the communes they cover; none means the whole territory. Only a
    registered Telegram account may use the advisers' Telegram commands. ``email`` is their web console login,
    ``admin`` makes them (or no longer) the coordinator who manages the console accounts.
    """
    clean = check_name(name)
    number = check_phone(phone)
    codes = commune_codes(ctx, communes)
    login = clean_email(email) if email is not None else None
    if telegram_id is not None and telegram_id <= 0:
        raise TeamError(f"identifiant Telegram invalide « {telegram_id} » (un nombre positif)")
    async with ctx.db.write() as session:
        advisers = list((await session.execute(select(Adviser).order_by(Adviser.id))).unique().scalars())
        same = next((a for a in advisers if plain(a.name) == plain(clean)), None)
        if telegram_id is not None:
            holder = next((a for a in advisers if a.telegram_user_id == telegram_id), None)
            if holder is not None and holder is not same:
                raise TeamError(f"ce compte Telegram est déjà celui de {holder.name}")
        if login is not None:
            holder = next((a for a in advisers if a.login == login), None)
            if holder is not None and holder is not same:
                raise TeamError(f"l'adresse {login} est déjà celle de {holder.name}")
        adviser = same or Adviser(name=clean, communes=[], created_at=ctx.now())
        if same is None:
            session.add(adviser)
        changed = [
            what
            for what, given in (
                ("téléphone", number), ("Telegram", telegram_id), ("communes", codes), ("e-mail de console", login)
            )
            if given
        ]  # fmt: skip
        if number is not None:
            adviser.phone = number
        if telegram_id is not None:
            adviser.telegram_user_id = telegram_id
        if codes:
            adviser.communes = codes
        if login is not None:
            adviser.login = login
        if admin is not None:
            adviser.role = ADMIN if admin else ADVISER
            changed.append("coordinateur" if admin else "plus coordinateur")
        await session.flush()
        added = _summary(adviser)
        done = f"conseiller n°{added.id} « {added.name} » " + ("complété" if same is not None else "ajouté")
        await record(
            session=session, actor=actor, action="adviser_updated" if same is not None else "adviser_added",
            summary=done + (f" ({', '.join(changed)})" if changed else ""), at=ctx.now(),
        )  # fmt: skip
    log.info("adviser %s %s", added.id, "updated" if same is not None else "added")
    return added


async def list_advisers(*, ctx: Context) -> list[AdviserSummary]:
    async with ctx.db.read() as session:
        advisers = (await session.execute(select(Adviser).order_by(Adviser.name, Adviser.id))).unique().scalars()
        return [_summary(a) for a in advisers]


@dataclass(frozen=True)
class TeamReach:
    """Whether the advisers can be told of what needs them (CONSEILLER requests, people to call): an adviser is
    reachable with a phone or a Telegram account."""

    advisers: int
    reachable: int
    unreached_communes: tuple[str, ...]  # communes whose requests reach no adviser (by name)

    @property
    def nobody(self) -> bool:
        return self.reachable == 0


async def team_reach(*, ctx: Context) -> TeamReach:
    """Who can be told: when nobody, CONSEILLER requests and the people to call are only listed (``atelier
    callbacks list``, ``atelier calls list``); per commune, the advisers its requests go to (``advisers_for``)."""
    async with ctx.db.read() as session:
        advisers = list((await session.execute(select(Adviser).order_by(Adviser.id))).unique().scalars())
        unreached = []
        for commune in ctx.territory.communes:
            told = await advisers_for(session=session, commune_insee=commune.insee)
            if not any(adviser_address(a) for a in told):
                unreached.append(commune.name)
    reachable = sum(1 for a in advisers if adviser_address(a) is not None)
    return TeamReach(len(advisers), reachable, tuple(unreached) if reachable else ())


async def adviser_by_telegram_id(*, ctx: Context, telegram_user_id: int) -> AdviserSummary | None:
    """The adviser owning this Telegram account; None for anyone else (who may not use adviser commands)."""
    async with ctx.db.read() as session:
        result = await session.execute(select(Adviser).where(Adviser.telegram_user_id == telegram_user_id))
        adviser = result.unique().scalar_one_or_none()
        return _summary(adviser) if adviser is not None else None


async def find_adviser(*, ctx: Context, name_or_id: str) -> AdviserSummary:
    """The adviser written by number or name (accents and case forgiven)."""
    wanted = name_or_id.strip()
    advisers = await list_advisers(ctx=ctx)
    for adviser in advisers:
        if wanted == str(adviser.id) or plain(adviser.name) == plain(wanted):
            return adviser
    # "julie" for Julie Martin, when only one adviser is called that
    words = plain(wanted).split()
    matching = [a for a in advisers if words and all(w in plain(a.name).split() for w in words)]
    if len(matching) == 1:
        return matching[0]
    if matching:
        names = ", ".join(a.name for a in matching)
        raise AmbiguousAdviserError(
            f"plusieurs conseillers s'appellent « {wanted} » ({names}) : écrivez le nom complet"
        )
    raise TeamError(f"conseiller inconnu « {wanted} » (voir « atelier advisers list »)")
