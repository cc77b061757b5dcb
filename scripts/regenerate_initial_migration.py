"""Regenerate migration 0001 from the models (only while no database has been deployed).

.venv/bin/python scripts/regenerate_initial_migration.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from alembic import command

from storage.database import create_engine
from storage.migrate import MIGRATIONS, alembic_config


async def main() -> None:
    for old in (MIGRATIONS / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(directory) / 'gen.db'}")
        async with engine.begin() as conn:
            await conn.run_sync(
                lambda c: command.revision(
                    alembic_config(c), message="initial schema", autogenerate=True, rev_id="0001"
                )
            )
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
