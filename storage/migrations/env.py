"""Alembic environment. Migrations run on a connection handed in by ``storage.migrate`` (async engines run
them through ``run_sync``), following https://alembic.sqlalchemy.org/en/latest/cookbook.html#connection-sharing
"""

from alembic import context

from storage.migrations.operations import add_world_version_triggers
from storage.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
    process_revision_directives=add_world_version_triggers,  # what autogenerate does not see (storage/world.py)
)
with context.begin_transaction():
    context.run_migrations()
