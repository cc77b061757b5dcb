"""Drafts: what an adviser previewed and must confirm (an announcement's text, a cancellation's reason).

A draft is kept in the database, not in the process that showed the preview, so that any server instance can take
the confirmation; taking it removes it in the same statement, so that a double tap or two instances act once.
A new draft of the same kind replaces the owner's earlier one: the older preview's confirmation then does nothing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.context import Context
from storage import conversations

_NONCE = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class Draft:
    data: dict[str, Any]
    kept_at: datetime


async def keep_draft(*, ctx: Context, box: str, owner: str, kind: str, data: Mapping[str, Any]) -> str:
    """Keep a draft in ``box`` (one per interface) for ``owner``; returns its nonce, which the confirmation
    carries (a button's data, a form's field)."""
    nonce = secrets.token_hex(4)
    async with ctx.db.write() as session:
        await conversations.replace_draft(
            session=session, channel=box, owner=owner, kind=kind, nonce=nonce, data=dict(data), now=ctx.now()
        )
    return nonce


async def take_draft(*, ctx: Context, box: str, owner: str, kind: str, nonce: str) -> Draft | None:
    """The draft this nonce names, removed; None when it was taken already, replaced, or never was."""
    if not _NONCE.fullmatch(nonce):
        return None
    async with ctx.db.write() as session:
        taken = await conversations.take_draft(session=session, channel=box, owner=owner, kind=kind, nonce=nonce)
    return None if taken is None else Draft(*taken)
