"""Alembic operations of our own, so that the migration regenerated from the models keeps what autogenerate does
not see: the world version's row and triggers (``storage/world.py``), written per dialect when the migration runs.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import MigrateOperation, Operations

from storage import world


@Operations.register_operation("create_world_version_triggers")
class CreateWorldVersionTriggers(MigrateOperation):
    """``op.create_world_version_triggers()``: the version's row and the triggers that move it."""

    @classmethod
    def create_world_version_triggers(cls, operations: Operations) -> Any:
        return operations.invoke(cls())

    def reverse(self) -> DropWorldVersionTriggers:
        return DropWorldVersionTriggers()


@Operations.register_operation("drop_world_version_triggers")
class DropWorldVersionTriggers(MigrateOperation):
    """``op.drop_world_version_triggers()``: the reverse."""

    @classmethod
    def drop_world_version_triggers(cls, operations: Operations) -> Any:
        return operations.invoke(cls())

    def reverse(self) -> CreateWorldVersionTriggers:
        return CreateWorldVersionTriggers()


@Operations.implementation_for(CreateWorldVersionTriggers)
def _create(operations: Operations, _operation: CreateWorldVersionTriggers) -> None:
    for statement in world.create_statements(operations.get_bind().dialect.name):
        operations.execute(statement)


@Operations.implementation_for(DropWorldVersionTriggers)
def _drop(operations: Operations, _operation: DropWorldVersionTriggers) -> None:
    for statement in world.drop_statements(operations.get_bind().dialect.name):
        operations.execute(statement)


@renderers.dispatch_for(CreateWorldVersionTriggers)
def _render_create(_context: AutogenContext, _operation: CreateWorldVersionTriggers) -> str:
    return "op.create_world_version_triggers()"


@renderers.dispatch_for(DropWorldVersionTriggers)
def _render_drop(_context: AutogenContext, _operation: DropWorldVersionTriggers) -> str:
    return "op.drop_world_version_triggers()"


def add_world_version_triggers(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """Autogenerate's ``process_revision_directives``: the triggers after the tables are made, dropped before
    they are. Only a migration that creates the version's table gets them (the initial one)."""
    script = directives[0]
    upgrade, downgrade = script.upgrade_ops, script.downgrade_ops
    if not any(getattr(op, "table_name", None) == world.TABLE for op in upgrade.ops):
        return
    upgrade.ops.append(CreateWorldVersionTriggers())
    downgrade.ops.insert(0, DropWorldVersionTriggers())
