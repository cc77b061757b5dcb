"""The hot path's Core statements run straight on pysqlite, compiled once.

A resident's message runs about six statements (``storage/turns.py``). Through SQLAlchemy's ``Connection.execute``
each one costs about 25 µs of CPU on SQLite's writer thread (execution context, events, the asyncio adapter's
round trip, the result object) where pysqlite itself takes 1–10 µs: a fifth of a turn. Here a statement is compiled
once for the dialect into its SQL, the order of its parameters with their types' bind processors, the Python-side
column defaults an INSERT needs, and its result columns' processors; it then runs as one ``cursor.execute`` on the
writer's pysqlite connection (pysqlite keeps the prepared statement in its own cache), inside the transaction
SQLAlchemy began there. The values stored and read are SQLAlchemy's own: the same processors, the same defaults
(``tests/test_prepared.py`` compares both ways statement by statement). Any other connection (PostgreSQL, through
asyncpg; aiosqlite) runs the statement through SQLAlchemy as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, or_
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

from storage.sqlite_writer import InlineConnection

Processor = Callable[[Any], Any]
FROM_CALL: Any = object()  # a placeholder whose value the call gives (or a column default), not the statement


@dataclass(frozen=True)
class Prepared:
    """A statement as pysqlite runs it: ``sql`` with ``?`` placeholders filled from ``parameters`` in order."""

    sql: str
    # Each placeholder: its name, its type's bind processor, and the value the statement itself binds there
    # (a constant, an enum: processed once, here) or FROM_CALL.
    parameters: tuple[tuple[str, Processor | None, Any], ...]
    defaults: Mapping[str, Any]  # columns whose Python-side default (or onupdate) fills a value not given
    results: tuple[tuple[int, Processor], ...]  # the result columns that have a processor, by position

    def values(self, given: Mapping[str, Any]) -> tuple[Any, ...]:
        """The placeholders' values, processed as SQLAlchemy would bind them (a value given wins)."""
        values = []
        for name, bind, constant in self.parameters:
            if name in given:
                value = given[name]
            elif constant is not FROM_CALL:
                values.append(constant)
                continue
            else:
                value = _value_of(self.defaults[name])
            values.append(value if bind is None else bind(value))
        return tuple(values)

    def rows(self, raw: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The driver's rows, each column through its type's result processor."""
        if not self.results:
            return [tuple(row) for row in raw]
        rows = []
        for row in raw:
            values = list(row)
            for position, process in self.results:
                values[position] = process(values[position])
            rows.append(tuple(values))
        return rows


def one_of(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` for a statement built once: equalities rendered with it (``in_`` binds a list
    expanded at each run, which ``prepare`` refuses). No values: nothing matches, as ``IN ()``."""
    equalities = [column == value for value in values]
    return or_(*equalities) if equalities else false()


def execute(connection: Connection, statement: Executable, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Run ``statement`` with ``parameters`` on ``connection``; its rows (none for a statement that returns none).

    On SQLite's writer connection, straight on pysqlite (compiled once per statement, set of parameter names and
    dialect); elsewhere through SQLAlchemy."""
    raw = _pysqlite_of(connection)
    if raw is None:
        result = connection.execute(statement, parameters)
        return [tuple(row) for row in result] if result.returns_rows else []
    prepared = _prepared(statement, frozenset(parameters), connection.dialect)
    cursor = raw.execute(prepared.sql, prepared.values(parameters))
    return prepared.rows(cursor.fetchall()) if cursor.description is not None else []


async def execute_in(
    session: AsyncSession, statement: Executable, parameters: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """``execute`` on the session's transaction, its pending ORM changes flushed first (as ``session.execute``
    does): for the statements the service runs for most seats and messages, outside the turn's two blocks."""
    await session.flush()
    return await session.run_sync(lambda sync: execute(sync.connection(), statement, parameters))


async def reread_held(*, session: AsyncSession, model: type[Any], row_id: int) -> None:
    """After a Core write to the row: the ORM copy the session holds of it, if any, read again (never left saying
    what the row no longer says). Nothing is read when the session holds none, the usual case."""
    held = session.identity_map.get(identity_key(model, row_id))
    if held is not None:
        await session.refresh(held)


def _pysqlite_of(connection: Connection) -> sqlite3.Connection | None:
    """The writer's pysqlite connection under ``connection``; None for any other driver."""
    driver = connection.connection.driver_connection
    return driver.raw if isinstance(driver, InlineConnection) else None


# Keyed by the statement object itself: the hot path's statements are built once (functools.cache) and live as long
# as the process, so the entries are few and never stale. Bounded all the same, should a caller build its
# statement at each call: it would then be compiled each time, never hoarded.
_COMPILED: dict[tuple[int, frozenset[str], str], tuple[Executable, Prepared]] = {}
_MOST_COMPILED = 256


def _prepared(statement: Executable, names: frozenset[str], dialect: Dialect) -> Prepared:
    key = (id(statement), names, dialect.name)
    known = _COMPILED.get(key)
    if known is not None and known[0] is statement:
        return known[1]
    prepared = prepare(statement, names, dialect)
    if len(_COMPILED) >= _MOST_COMPILED:
        _COMPILED.clear()
    _COMPILED[key] = (statement, prepared)  # the statement is held: its id cannot be reused by another
    return prepared


def prepare(statement: Executable, names: Iterable[str], dialect: Dialect) -> Prepared:
    """Compile ``statement`` for ``dialect`` (a qmark one: SQLite), for a call giving the parameters ``names``."""
    if not isinstance(statement, ClauseElement):
        raise TypeError(f"not a Core statement: {statement!r}")
    compiled = statement.compile(dialect=dialect, column_keys=sorted(names))
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        raise TypeError(f"not a statement of a positional dialect: {statement}")
    if compiled.escaped_bind_names or any(bind.expanding or bind.callable for bind in compiled.binds.values()):
        raise TypeError(f"parameters renamed, expanded or computed at each run are not prepared once: {statement}")
    defaults = {
        **{column.key: column.default for column in compiled.insert_prefetch},
        **{column.key: column.onupdate for column in compiled.update_prefetch},
    }
    # The type processors SQLAlchemy's own execution uses, memoised per dialect (``_cached_*``: SQLAlchemy's
    # internal accessors, the only ones that apply the dialect's adaptation of each type, as execution does).
    parameters = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        process = bind.type._cached_bind_processor(dialect)
        constant = FROM_CALL
        if not bind.required and name not in defaults:
            constant = bind.effective_value if process is None else process(bind.effective_value)
        parameters.append((name, process, constant))
    # each result column is (key, name, objects, type)
    processors = (column[3]._cached_result_processor(dialect, None) for column in compiled._result_columns)
    results = tuple((position, process) for position, process in enumerate(processors) if process is not None)
    return Prepared(str(compiled), tuple(parameters), defaults, results)


def _value_of(default: Any) -> Any:
    """A column's Python-side default (``default=utcnow``, ``default=list``, ``default=0``) as SQLAlchemy computes
    it for a statement that leaves the column out (it wraps a callable to take the execution context)."""
    arg = getattr(default, "arg", None)
    return arg(None) if callable(arg) else arg
