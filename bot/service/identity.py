"""The keyed hash kept for an erased resident: it recognises their number without storing it.

HMAC-SHA256 keyed with ``ATELIER_SECRET_KEY`` or, when none is configured, with a random key generated once per
installation and kept in the database (so the hash cannot be reversed by hashing every French number).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.models import ErasedIdentity, InstanceSecret

_KEY_NAME = "erasure_hmac_key"


async def _key(*, session: AsyncSession, settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    stored = await session.get(InstanceSecret, _KEY_NAME)
    if stored is None:
        stored = InstanceSecret(name=_KEY_NAME, value=secrets.token_hex(32))
        session.add(stored)
        await session.flush()
    return stored.value.encode()


async def identity_hash(*, session: AsyncSession, settings: Settings, identity: str) -> str:
    key = await _key(session=session, settings=settings)
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()


async def was_erased(*, session: AsyncSession, settings: Settings, identity: str) -> bool:
    """True when this number belonged to someone who asked to be forgotten: never contact it on our own."""
    digest = await identity_hash(session=session, settings=settings, identity=identity)
    result = await session.execute(select(ErasedIdentity.identity_hash).where(ErasedIdentity.identity_hash == digest))
    return result.scalar_one_or_none() is not None
