"""The groups SQLite's writer runs (``Database.grouped_transaction``), counted for the tests that check them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.sqlite_writer import Outcome, SQLiteWriter


def counted_groups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every group the writer runs from now on, in order."""
    groups: list[int] = []
    run_together = SQLiteWriter.run_together

    async def counted(self: SQLiteWriter, works: Sequence[Callable[[AsyncSession], Awaitable[Any]]]) -> list[Outcome]:
        groups.append(len(works))
        return await run_together(self, works)

    monkeypatch.setattr(SQLiteWriter, "run_together", counted)
    return groups
