"""Who is acting: the adviser behind an operation that changes something (recorded with the change, and what an
audit trail of the web console is built from)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """An adviser by name, with their number when they are a registered adviser (``atelier advisers list``)."""

    name: str
    adviser_id: int | None = None

    @property
    def label(self) -> str:
        """The name as recorded: one line, 200 characters at most, never empty."""
        return " ".join(self.name.split())[:200] or "conseiller"


COMMAND_LINE = Actor("ligne de commande")  # an operation run from a script or a terminal without a name
SYSTEM = Actor("Atelier")  # what the service does on its own (a call closed because its reason went away)
