"""The world's version: one number that every change of what a resident can be offered moves on.

A conversation turn offers the workshops open for sign-up with their free seats (``catalogue.open_workshops``).
Reading and preparing them for every message costs more than the rest of the turn, and they change rarely (an
adviser plans or moves a workshop, someone takes or gives up a seat): each process keeps them in memory with the
version they were read at, and reads them again only when the version in the database has moved.

The database moves it itself, by triggers, in the transaction that makes the change — whoever makes it (any
process, the command line, an adviser's console, a statement typed by hand): a workshop planned, moved, changed
or cancelled, a venue or a commune renamed or moved, an enrolment that takes or leaves a seat. A process that reads
the version in a transaction therefore knows whether what it kept is still what the database holds, seats
included. Changes that cannot alter an offer (a waiting-list position, a confirmation, a workshop's adviser) leave
it alone.

On PostgreSQL the version moves when the transaction commits (deferred constraint triggers): concurrent seatings
then hold the version's row lock only for their commit, not from their seat to their commit.
"""

from __future__ import annotations

from storage.enums import EnrolmentStatus

TABLE = "world_version"
ROW_ID = 1  # the table's only row

_SEATED = f"'{EnrolmentStatus.seated.value}'"

# (table, name, event, condition or None) — the same on both databases; the condition in SQL both understand.
_WORKSHOP_COLUMNS = "venue_id, starts_at, ends_at, level, topic, capacity, status"
_TRIGGERS: tuple[tuple[str, str, str, str | None], ...] = (
    ("workshops", "world_workshop_added", "INSERT", None),
    ("workshops", "world_workshop_changed", f"UPDATE OF {_WORKSHOP_COLUMNS}", None),
    ("workshops", "world_workshop_removed", "DELETE", None),
    ("venues", "world_venue_changed", "UPDATE OF name, address, commune_insee, latitude, longitude", None),
    ("communes", "world_commune_changed", "UPDATE OF name", None),
    ("enrolments", "world_seat_taken", "INSERT", f"NEW.status = {_SEATED}"),
    (
        "enrolments",
        "world_seat_changed",
        "UPDATE OF status, workshop_id",
        f"(OLD.status = {_SEATED} OR NEW.status = {_SEATED})"
        " AND (OLD.status <> NEW.status OR OLD.workshop_id <> NEW.workshop_id)",
    ),
    ("enrolments", "world_seat_removed", "DELETE", f"OLD.status = {_SEATED}"),
)

# The SQL below is built from this module's constants only, never from input: S608 does not apply.
_BUMP = f"UPDATE {TABLE} SET version = version + 1 WHERE id = {ROW_ID}"  # noqa: S608
_FUNCTION = "world_version_bump"


def create_statements(dialect: str) -> list[str]:
    """The DDL that fills the version's table with its row and installs the triggers (after the tables)."""
    statements = [f"INSERT INTO {TABLE} (id, version) VALUES ({ROW_ID}, 0)"]  # noqa: S608
    if dialect == "postgresql":
        statements.append(
            f"CREATE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {_BUMP}; RETURN NULL; END $$"
        )
        for table, name, on, condition in _TRIGGERS:
            when = f" WHEN ({condition})" if condition else ""
            statements.append(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER {on} ON {table} DEFERRABLE INITIALLY DEFERRED"
                f" FOR EACH ROW{when} EXECUTE FUNCTION {_FUNCTION}()"
            )
        return statements
    for table, name, on, condition in _TRIGGERS:
        when = f" WHEN {condition}" if condition else ""
        statements.append(f"CREATE TRIGGER {name} AFTER {on} ON {table} FOR EACH ROW{when} BEGIN {_BUMP}; END")
    return statements


def drop_statements(dialect: str) -> list[str]:
    """The reverse of ``create_statements`` (before the tables are dropped)."""
    if dialect == "postgresql":
        statements = [f"DROP TRIGGER {name} ON {table}" for table, name, _, _ in _TRIGGERS]
        return [*statements, f"DROP FUNCTION {_FUNCTION}()", f"DELETE FROM {TABLE}"]  # noqa: S608
    return [*(f"DROP TRIGGER {name}" for _, name, _, _ in _TRIGGERS), f"DELETE FROM {TABLE}"]  # noqa: S608
