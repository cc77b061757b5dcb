"""Previews: an operation run whole, then rolled back — what confirming would do, and nothing written.

The console shows it before an adviser confirms a change (a cancellation, a move, an edit, an enrolment, an
unenrolment): the same code as the change itself, in a transaction that is not kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context


class _RolledBack(Exception):  # noqa: N818 - not an error: how a preview leaves its transaction unwritten
    pass


@asynccontextmanager
async def write_or_preview(ctx: Context, *, preview: bool) -> AsyncIterator[AsyncSession]:
    """``ctx.db.write()``; with ``preview``, rolled back once the body has run. A refusal raised in the body rolls
    back and propagates either way."""
    try:
        async with ctx.db.write() as session:
            yield session
            if preview:
                raise _RolledBack
    except _RolledBack:
        return
