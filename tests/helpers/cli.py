"""The ``atelier`` command run in-process (typer's CliRunner) against a test's database.

The commands read the real clock and run their own ``asyncio.run``: the tests that use them are plain ``def``.
"""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from bot.cli import app

runner = CliRunner()


def atelier(
    db_url: str, *args: str, stdin: str | None = None, quiet_hours: str | None = None, columns: int = 200
) -> Result:
    """``atelier ARGS…`` on ``db_url`` (Paris time, wide tables: ``columns`` 80 for a small terminal);
    ``quiet_hours``: ``ATELIER_QUIET_HOURS``."""
    env = {"ATELIER_DATABASE_URL": db_url, "ATELIER_TIMEZONE": "Europe/Paris", "COLUMNS": str(columns)}
    if quiet_hours is not None:
        env["ATELIER_QUIET_HOURS"] = quiet_hours
    return runner.invoke(app, list(args), env=env, input=stdin)


def ok(db_url: str, *args: str, stdin: str | None = None, quiet_hours: str | None = None) -> Result:
    """``atelier`` that must succeed."""
    result = atelier(db_url, *args, stdin=stdin, quiet_hours=quiet_hours)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)
