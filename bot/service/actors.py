"""Who is acting: the adviser behind an operation that changes something, and the interface they used. Every such
operation takes an ``Actor`` and writes its audit entry in the same transaction as the change (``bot.service.audit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Interface = Literal["console", "cli", "telegram"]


@dataclass(frozen=True)
class Actor:
    """An adviser by name, with their number when they are a registered adviser (``atelier advisers list``), and the
    interface they acted through (the command line names the operating system's user when no adviser is given)."""

    name: str
    adviser_id: int | None = None
    interface: Interface = field(kw_only=True)

    @property
    def label(self) -> str:
        """The name as recorded: one line, 200 characters at most, never empty."""
        return " ".join(self.name.split())[:200] or "conseiller"
