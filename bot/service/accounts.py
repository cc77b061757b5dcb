"""Advisers' console accounts: e-mail and password, sign-in with throttling, server-side sessions.

Passwords are hashed with argon2id (``argon2-cffi``, https://argon2-cffi.readthedocs.io/). A session is a random
token in an HttpOnly cookie; the database keeps only its SHA-256, with the adviser, a CSRF token and the moment it
ends (a day after sign-in). Logging out or changing the password deletes the rows: the session ends at once on
every browser. Failed sign-ins are counted per account and per address over a quarter of an hour; past the limit,
sign-in is refused without even checking the password, and the refusal does not say whether the account exists.

Hashing costs tens of milliseconds of CPU: it runs in a worker thread so the event loop keeps serving others.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context
from bot.service.actors import Actor
from bot.service.audit import record
from bot.service.team import ADMIN, TeamError, clean_email
from storage.models import Adviser, ConsoleSession, LoginFailure

log = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(days=1)
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD = 10
MAX_PASSWORD = 200  # argon2 hashes anything, but a megabyte "password" is an attack, not a password
DEMO_EMAIL = "demo@atelier.invalid"
DEMO_NAME = "Compte de démonstration"


@dataclass(frozen=True)
class Account:
    """An adviser as the console knows them."""

    adviser_id: int
    name: str
    email: str | None
    admin: bool
    has_password: bool


@dataclass(frozen=True)
class SignedIn:
    """The adviser behind a live session, and the token every form of theirs must carry."""

    adviser_id: int
    name: str
    email: str
    admin: bool
    csrf_token: str
    session_id: int

    @property
    def actor(self) -> Actor:
        """Who the console's changes are recorded as, in the audit trail."""
        return Actor(self.name, self.adviser_id, interface="console")


@dataclass(frozen=True)
class SignIn:
    outcome: Literal["ok", "refused", "throttled"]
    token: str | None = None  # the cookie's value, only when ok


class PasswordHashing:
    """argon2id with the library's defaults (RFC 9106's second recommended option)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verified against when the e-mail is unknown, so that the answer takes as long as for a real account.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return bool(self._hasher.verify(stored or self._decoy, password)) and stored is not None
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)


_hashing: list[PasswordHashing] = []


def hashing() -> PasswordHashing:
    """One hasher per process, made on first use (not at import time)."""
    if not _hashing:
        _hashing.append(PasswordHashing())
    return _hashing[0]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise TeamError(f"mot de passe trop court ({len(password)} caractères) : {MIN_PASSWORD} au moins")
    if len(password) > MAX_PASSWORD:
        raise TeamError(f"mot de passe trop long : {MAX_PASSWORD} caractères au plus")
    return password


def _account(adviser: Adviser) -> Account:
    return Account(adviser.id, adviser.name, adviser.login, adviser.role == ADMIN, adviser.password_hash is not None)


# ---------------------------------------------------------------------------------------------------------------
# Accounts


async def account_by_email(*, ctx: Context, email: str) -> Account:
    address = clean_email(email)
    async with ctx.db.read() as session:
        adviser = (await session.execute(select(Adviser).where(Adviser.login == address))).scalars().first()
    if adviser is None:
        raise TeamError(f"aucun conseiller n'a l'adresse {address} (voir « atelier advisers list »)")
    return _account(adviser)


async def list_accounts(*, ctx: Context) -> list[Account]:
    async with ctx.db.read() as session:
        advisers = (await session.execute(select(Adviser).order_by(Adviser.name, Adviser.id))).unique().scalars()
        return [_account(a) for a in advisers]


async def set_password(*, ctx: Context, adviser_id: int, password: str, actor: Actor) -> Account:
    """Set the password and end every session of this adviser (a stolen session dies with the old password)."""
    digest = await hashing().hash(check_password(password))
    async with ctx.db.write() as session:
        adviser = await session.get(Adviser, adviser_id)
        if adviser is None:
            raise TeamError(f"le conseiller n°{adviser_id} n'existe pas")
        if adviser.login is None:
            raise TeamError(f"{adviser.name} n'a pas d'adresse e-mail : ajoutez-la d'abord (--email)")
        adviser.password_hash = digest
        await session.execute(delete(ConsoleSession).where(ConsoleSession.adviser_id == adviser_id))
        await session.flush()
        account = _account(adviser)
        await record(
            session=session, actor=actor, action="password_set", at=ctx.now(),
            summary=f"mot de passe de la console du conseiller n°{adviser_id} changé ; ses sessions sont fermées",
        )  # fmt: skip
    log.info("console password set for adviser %s; their sessions were ended", adviser_id)
    return account


def new_password() -> str:
    """A password to hand over once (demo account, reset by the coordinator): 16 letters and digits."""
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I to misread
    return "".join(secrets.choice(alphabet) for _ in range(16))


async def ensure_demo_account(*, ctx: Context, actor: Actor) -> tuple[str, str] | None:
    """The demo adviser (admin), created once with a fresh password; returns (e-mail, password) the first time
    only — the password is shown once and kept nowhere but as its hash."""
    async with ctx.db.read() as session:
        exists = (await session.execute(select(Adviser.id).where(Adviser.login == DEMO_EMAIL))).first()
    if exists is not None:
        return None
    password = new_password()
    digest = await hashing().hash(password)
    async with ctx.db.write() as session:
        adviser = Adviser(
            name=DEMO_NAME, communes=[], login=DEMO_EMAIL, password_hash=digest, role=ADMIN, created_at=ctx.now()
        )
        session.add(adviser)
        await session.flush()
        await record(
            session=session, actor=actor, action="adviser_added", at=ctx.now(),
            summary=f"compte de démonstration créé (conseiller n°{adviser.id}, coordinateur)",
        )  # fmt: skip
    return DEMO_EMAIL, password


# ---------------------------------------------------------------------------------------------------------------
# Signing in and out


async def _failures(session: AsyncSession, key: str, since: datetime) -> int:
    query = select(func.count()).select_from(LoginFailure).where(LoginFailure.key == key, LoginFailure.at >= since)
    return int((await session.execute(query)).scalar_one())


async def sign_in(*, ctx: Context, email: str, password: str, address: str) -> SignIn:
    """Check the e-mail and password; on success, open a session and return its token (for the cookie)."""
    now = ctx.now()
    wanted = email.strip().lower()[:254]
    keys = (f"account:{wanted}", f"address:{address[:200]}")
    async with ctx.db.read() as session:
        since = now - THROTTLE_WINDOW
        account_failures = await _failures(session, keys[0], since)
        address_failures = await _failures(session, keys[1], since)
        adviser = (await session.execute(select(Adviser).where(Adviser.login == wanted))).scalars().first()
    if account_failures >= MAX_FAILURES_PER_ACCOUNT or address_failures >= MAX_FAILURES_PER_ADDRESS:
        log.warning("console sign-in throttled")
        return SignIn("throttled")
    stored = adviser.password_hash if adviser is not None else None
    ok = await hashing().verify(stored, password[:MAX_PASSWORD]) and adviser is not None
    async with ctx.db.write() as session:
        if not ok or adviser is None:
            session.add_all([LoginFailure(key=key, at=now) for key in keys])
            await session.execute(delete(LoginFailure).where(LoginFailure.at < now - THROTTLE_WINDOW))
            log.info("console sign-in refused")
            return SignIn("refused")
        await session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
        await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
        token = secrets.token_urlsafe(32)
        session.add(
            ConsoleSession(
                token_hash=_digest(token),
                adviser_id=adviser.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    log.info("console sign-in for adviser %s", adviser.id)
    return SignIn("ok", token)


async def signed_in(*, ctx: Context, token: str | None) -> SignedIn | None:
    """The adviser of a live session; None for no, an unknown, an ended or an expired session."""
    if not token or len(token) > 100:
        return None
    async with ctx.db.read() as session:
        row = (
            await session.execute(
                select(ConsoleSession, Adviser)
                .join(Adviser, Adviser.id == ConsoleSession.adviser_id)
                .where(ConsoleSession.token_hash == _digest(token), ConsoleSession.expires_at > ctx.now())
            )
        ).first()
    if row is None:
        return None
    console_session, adviser = row
    if adviser.login is None or adviser.password_hash is None:
        return None
    return SignedIn(
        adviser.id, adviser.name, adviser.login, adviser.role == ADMIN, console_session.csrf_token, console_session.id
    )


async def sign_out(*, ctx: Context, token: str | None) -> None:
    if not token:
        return
    async with ctx.db.write() as session:
        await session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _digest(token)))


async def change_own_password(*, ctx: Context, current: str, new: str, actor: Actor) -> bool:
    """The acting adviser changes their own password (their sessions end, this one included); False when
    ``current`` is wrong."""
    adviser_id = actor.adviser_id
    if adviser_id is None:
        return False
    async with ctx.db.read() as session:
        adviser = await session.get(Adviser, adviser_id)
    if adviser is None or not await hashing().verify(adviser.password_hash, current[:MAX_PASSWORD]):
        return False
    await set_password(ctx=ctx, adviser_id=adviser_id, password=new, actor=actor)
    return True
